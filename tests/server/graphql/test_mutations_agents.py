"""Mutations of agents, agent configs, artifacts, cloud hooks and messages."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from tests.server.graphql._world import input_mutation, make_world

from prefect.server.database import models


def data(answer: dict[str, Any], field: str) -> Any:
    assert "errors" not in answer, answer
    return answer["data"][field]


async def row(db, table: sa.Table, id: str) -> Any:
    async with db.read() as conn:
        return (await conn.execute(sa.select(table).where(table.c.id == id))).one_or_none()


async def test_registering_the_same_agent_twice_gives_one_id(graphql, tenant_id, db):
    register = input_mutation("register_agent", "id")
    variables = {
        "input": {
            "type": "LocalAgent",
            "name": "agent",
            "labels": ["b", "a"],
            "tenant_id": tenant_id,
            "agent_config_id": None,
        }
    }
    first = data(await graphql(register, variables), "register_agent")["id"]
    second = data(await graphql(register, variables), "register_agent")["id"]
    assert first == second
    stored = await row(db, models.agent, first)
    assert (stored.type, stored.labels, stored.core_version) == ("LocalAgent", ["a", "b"], "1.4.1")
    answer = await graphql(
        input_mutation("delete_agent", "success"), {"input": {"agent_id": first}}
    )
    assert data(answer, "delete_agent") == {"success": True}
    assert await row(db, models.agent, first) is None


async def test_agent_config_lifecycle(graphql, tenant_id, db):
    config_id = data(
        await graphql(
            input_mutation("create_agent_config", "id"),
            {"input": {"tenant_id": tenant_id, "name": "cfg", "settings": {"a": 1}}},
        ),
        "create_agent_config",
    )["id"]
    answer = await graphql(
        input_mutation("update_agent_config", "success"),
        {"input": {"agent_config_id": config_id, "settings": {"a": 2}}},
    )
    assert data(answer, "update_agent_config") == {"success": True}
    assert (await row(db, models.agent_config, config_id)).settings == {"a": 2}
    answer = await graphql(
        input_mutation("delete_agent_config", "success"), {"input": {"agent_config_id": config_id}}
    )
    assert data(answer, "delete_agent_config") == {"success": True}
    assert await row(db, models.agent_config, config_id) is None


async def test_artifact_lifecycle(graphql, tenant_id, db):
    world = await make_world(graphql, tenant_id, db)
    task_run_id = world["task_runs"][("report-1", -1)]
    create = input_mutation("create_task_run_artifact", "id")
    artifact_id = data(
        await graphql(
            create,
            {
                "input": {
                    "task_run_id": task_run_id,
                    "kind": "link",
                    "data": {"link": "https://example.com"},
                    "tenant_id": None,
                }
            },
        ),
        "create_task_run_artifact",
    )["id"]
    stored = await row(db, models.task_run_artifact, artifact_id)
    assert (stored.kind, stored.data, str(stored.tenant_id)) == (
        "link",
        {"link": "https://example.com"},
        tenant_id,
    )
    answer = await graphql(
        input_mutation("update_task_run_artifact", "success"),
        {"input": {"task_run_artifact_id": artifact_id, "data": {"markdown": "# hi"}}},
    )
    assert data(answer, "update_task_run_artifact") == {"success": True}
    assert (await row(db, models.task_run_artifact, artifact_id)).data == {"markdown": "# hi"}
    answer = await graphql(
        input_mutation("delete_task_run_artifact", "success"),
        {"input": {"task_run_artifact_id": artifact_id}},
    )
    assert data(answer, "delete_task_run_artifact") == {"success": True}
    missing = await graphql(
        create,
        {
            "input": {
                "task_run_id": "00000000-0000-0000-0000-000000000001",
                "kind": "link",
                "data": {},
            }
        },
    )
    assert missing["errors"][0]["message"] == (
        "Task run 00000000-0000-0000-0000-000000000001 not found"
    )


async def test_cloud_hook_lifecycle(graphql, tenant_id, db):
    hook_id = data(
        await graphql(
            input_mutation("create_cloud_hook", "id"),
            {
                "input": {
                    "tenant_id": tenant_id,
                    "type": "WEBHOOK",
                    "name": "hook",
                    "states": ["Failed"],
                    "config": {"url": "http://127.0.0.1:9/nowhere"},
                }
            },
        ),
        "create_cloud_hook",
    )["id"]
    for name, active in [("set_cloud_hook_inactive", False), ("set_cloud_hook_active", True)]:
        answer = await graphql(
            input_mutation(name, "success"), {"input": {"cloud_hook_id": hook_id}}
        )
        assert data(answer, name) == {"success": True}
        assert (await row(db, models.cloud_hook, hook_id)).active is active
    answer = await graphql(
        input_mutation("delete_cloud_hook", "success"), {"input": {"cloud_hook_id": hook_id}}
    )
    assert data(answer, "delete_cloud_hook") == {"success": True}
    assert await row(db, models.cloud_hook, hook_id) is None
    wrong_type = await graphql(
        input_mutation("create_cloud_hook", "id"),
        {"input": {"tenant_id": tenant_id, "type": "CARRIER_PIGEON", "states": []}},
        status=400,
    )
    assert wrong_type["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_message_mutations(graphql, tenant_id, db):
    async with db.write() as conn:
        message_id = str(
            (
                await conn.execute(
                    sa.insert(models.message)
                    .values(tenant_id=tenant_id, type="note", text="hi", content={})
                    .returning(models.message.c.id)
                )
            ).scalar_one()
        )
    for name, read in [("mark_message_as_read", True), ("mark_message_as_unread", False)]:
        answer = await graphql(
            input_mutation(name, "success"), {"input": {"message_id": message_id}}
        )
        assert data(answer, name) == {"success": True}
        assert (await row(db, models.message, message_id)).read is read
    answer = await graphql(
        input_mutation("delete_message", "success"), {"input": {"message_id": message_id}}
    )
    assert data(answer, "delete_message") == {"success": True}
    assert await row(db, models.message, message_id) is None


async def test_testing_an_unknown_cloud_hook_is_refused(graphql):
    hook_id = "00000000-0000-0000-0000-000000000001"
    answer = await graphql(
        input_mutation("test_cloud_hook", "success"),
        {"input": {"cloud_hook_id": hook_id, "flow_run_id": None, "state_type": "FAILED"}},
    )
    assert answer["data"] == {"test_cloud_hook": None}
    assert answer["errors"][0]["message"] == f"Cloud hook {hook_id} not found"
