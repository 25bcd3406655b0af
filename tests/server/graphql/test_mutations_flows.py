"""Mutations of tenants, projects, flows and flow groups, sent as the 1.4.1 client sends them."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from tests.server.graphql._world import (
    compressed_flow,
    create_flow,
    create_project,
    input_mutation,
    sample_flow,
    task_ids,
)

from prefect.server.database import models


def data(answer: dict[str, Any], field: str) -> Any:
    assert "errors" not in answer, answer
    return answer["data"][field]


async def row(db, table: sa.Table, id: str) -> Any:
    async with db.read() as conn:
        return (await conn.execute(sa.select(table).where(table.c.id == id))).one_or_none()


async def test_tenant_lifecycle(graphql, db):
    create = input_mutation("create_tenant", "id")
    tenant_id = data(
        await graphql(create, {"input": {"name": "Team A", "slug": "team-a"}}), "create_tenant"
    )["id"]
    duplicate = await graphql(create, {"input": {"name": "Other", "slug": "team-a"}})
    assert duplicate["data"] == {"create_tenant": None}
    assert duplicate["errors"][0]["message"] == "Uniqueness violation."

    for name, value in [("name", "Team B"), ("slug", "team-b"), ("settings", {"a": 1})]:
        answer = await graphql(
            input_mutation(f"update_tenant_{name}", "id"),
            {"input": {"tenant_id": tenant_id, name: value}},
        )
        assert data(answer, f"update_tenant_{name}") == {"id": tenant_id}
    stored = await row(db, models.tenant, tenant_id)
    assert (stored.name, stored.slug, stored.settings) == ("Team B", "team-b", {"a": 1})

    delete = input_mutation("delete_tenant", "success")
    refused = await graphql(delete, {"input": {"tenant_id": tenant_id, "confirm": False}})
    assert refused["data"] == {"delete_tenant": None}
    assert "confirm" in refused["errors"][0]["message"]
    assert await row(db, models.tenant, tenant_id) is not None
    answer = await graphql(delete, {"input": {"tenant_id": tenant_id, "confirm": True}})
    assert data(answer, "delete_tenant") == {"success": True}
    assert await row(db, models.tenant, tenant_id) is None


async def test_project_lifecycle(graphql, tenant_id, db):
    project_id = await create_project(graphql, tenant_id, "etl")
    duplicate = await graphql(
        input_mutation("create_project", "id"),
        {"input": {"name": "etl", "description": None, "tenant_id": tenant_id}},
    )
    # Client.create_project looks for this exact text in the repr of the errors (protocol §1.5).
    assert "'Uniqueness violation.'" in repr(duplicate["errors"])

    answer = await graphql(
        input_mutation("set_project_name", "id"),
        {"input": {"project_id": project_id, "name": "elt"}},
    )
    assert data(answer, "set_project_name") == {"id": project_id}
    answer = await graphql(
        input_mutation("set_project_description", "id"),
        {"input": {"project_id": project_id, "description": "moves data"}},
    )
    assert data(answer, "set_project_description") == {"id": project_id}
    stored = await row(db, models.project, project_id)
    assert (stored.name, stored.description) == ("elt", "moves data")

    answer = await graphql(
        input_mutation("delete_project", "success"), {"input": {"project_id": project_id}}
    )
    assert data(answer, "delete_project") == {"success": True}
    assert await row(db, models.project, project_id) is None


async def test_flow_register_sequence_of_the_python_api(graphql, tenant_id, db):
    """`Flow.register()`: the flow without tasks/edges, then register_tasks and register_edges."""
    project_id = await create_project(graphql, tenant_id)
    serialized = sample_flow().serialize()
    tasks, edges = serialized.pop("tasks"), serialized.pop("edges")
    flow_id = data(
        await graphql(
            input_mutation("create_flow", "id"),
            {
                "input": {
                    "project_id": project_id,
                    "serialized_flow": serialized,
                    "set_schedule_active": False,
                    "version_group_id": None,
                }
            },
        ),
        "create_flow",
    )["id"]
    answer = await graphql(
        input_mutation("register_tasks", "success"),
        {"input": {"flow_id": flow_id, "serialized_tasks": tasks}},
    )
    assert data(answer, "register_tasks") == {"success": True}
    # The client sends a trailing empty batch when the count is a multiple of 500.
    answer = await graphql(
        input_mutation("register_tasks", "success"),
        {"input": {"flow_id": flow_id, "serialized_tasks": []}},
    )
    assert data(answer, "register_tasks") == {"success": True}
    answer = await graphql(
        input_mutation("register_edges", "success"),
        {"input": {"flow_id": flow_id, "serialized_edges": edges}},
    )
    assert data(answer, "register_edges") == {"success": True}
    assert set(await task_ids(db, flow_id)) == {task["slug"] for task in tasks}
    async with db.read() as conn:
        count = (
            await conn.execute(
                sa.select(sa.func.count())
                .select_from(models.edge)
                .where(models.edge.c.flow_id == flow_id)
            )
        ).scalar()
    assert count == len(edges)
    # No schedule: set_schedule_active answers false and changes nothing.
    answer = await graphql(
        input_mutation("set_schedule_active", "success"), {"input": {"flow_id": flow_id}}
    )
    assert data(answer, "set_schedule_active") == {"success": False}


async def test_compressed_registration_is_idempotent_by_key(graphql, tenant_id, db):
    project_id = await create_project(graphql, tenant_id)
    first = await create_flow(graphql, project_id, idempotency_key="abc")
    again = await create_flow(graphql, project_id, idempotency_key="abc")
    newer = await create_flow(graphql, project_id, idempotency_key="def")
    assert first == again != newer
    assert (await row(db, models.flow, newer)).version == 2
    assert (await row(db, models.flow, first)).archived is True


async def test_a_flow_string_that_does_not_decompress_is_refused(graphql, tenant_id):
    project_id = await create_project(graphql, tenant_id)
    answer = await graphql(
        input_mutation("create_flow_from_compressed_string", "id"),
        {"input": {"project_id": project_id, "serialized_flow": "not base64 gzip"}},
    )
    assert answer["data"] == {"create_flow_from_compressed_string": None}
    assert answer["errors"][0]["message"] == "Unable to decompress serialized flow"


async def test_flow_switches_and_moves(graphql, tenant_id, db):
    project_id = await create_project(graphql, tenant_id)
    other_project = await create_project(graphql, tenant_id, "other")
    flow_id = await create_flow(graphql, project_id)
    answer = await graphql(
        input_mutation("update_flow_project", "id"),
        {"input": {"flow_id": flow_id, "project_id": other_project}},
    )
    assert data(answer, "update_flow_project") == {"id": flow_id}
    assert str((await row(db, models.flow, flow_id)).project_id) == other_project

    group_id = str((await row(db, models.flow, flow_id)).flow_group_id)
    expected = {
        "disable_flow_heartbeat": ("heartbeat_enabled", False),
        "enable_flow_heartbeat": ("heartbeat_enabled", True),
        "disable_flow_lazarus_process": ("lazarus_enabled", False),
        "enable_flow_lazarus_process": ("lazarus_enabled", True),
    }
    for name, (key, value) in expected.items():
        answer = await graphql(input_mutation(name, "success"), {"input": {"flow_id": flow_id}})
        assert data(answer, name) == {"success": True}
        assert (await row(db, models.flow_group, group_id)).settings[key] is value

    answer = await graphql(
        input_mutation("set_schedule_inactive", "success"), {"input": {"flow_id": flow_id}}
    )
    assert data(answer, "set_schedule_inactive")["success"] is True
    answer = await graphql(
        input_mutation("archive_flow", "success"), {"input": {"flow_id": flow_id}}
    )
    assert data(answer, "archive_flow") == {"success": True}
    assert (await row(db, models.flow, flow_id)).archived is True
    answer = await graphql(
        input_mutation("delete_flow", "success"), {"input": {"flow_id": flow_id}}
    )
    assert data(answer, "delete_flow") == {"success": True}
    assert await row(db, models.flow, flow_id) is None


async def test_flow_group_settings(graphql, tenant_id, db):
    project_id = await create_project(graphql, tenant_id)
    flow_id = await create_flow(graphql, project_id)
    group_id = str((await row(db, models.flow, flow_id)).flow_group_id)
    group = {"flow_group_id": group_id}
    changes = {
        "set_flow_group_default_parameters": {"parameters": {"greeting": "hi"}},
        "set_flow_group_labels": {"labels": ["b", "a", "b"]},
        "set_flow_group_description": {"description": "the group"},
        "set_flow_group_run_config": {
            "run_config": {"type": "LocalRun", "labels": ["x"], "__version__": "1.4.1"}
        },
        "set_flow_group_schedule": {
            "cron_clocks": [{"cron": "0 * * * *", "parameter_defaults": {"greeting": "cron"}}],
            "interval_clocks": [{"interval": 3600}],
            "timezone": "Europe/Berlin",
        },
    }
    for name, values in changes.items():
        answer = await graphql(
            input_mutation(name, "success\nerror"), {"input": {**group, **values}}
        )
        assert data(answer, name) == {"success": True, "error": None}
    stored = await row(db, models.flow_group, group_id)
    assert stored.default_parameters == {"greeting": "hi"}
    assert sorted(stored.labels) == ["a", "b"]
    assert stored.description == "the group"
    assert stored.run_config["type"] == "LocalRun"
    assert [clock["type"] for clock in stored.schedule["clocks"]] == ["CronClock", "IntervalClock"]

    answer = await graphql(input_mutation("set_flow_group_labels", "success"), {"input": group})
    assert data(answer, "set_flow_group_labels") == {"success": True}
    assert (await row(db, models.flow_group, group_id)).labels is None
    answer = await graphql(
        input_mutation("delete_flow_group_schedule", "success"), {"input": group}
    )
    assert data(answer, "delete_flow_group_schedule") == {"success": True}
    assert (await row(db, models.flow_group, group_id)).schedule is None
    answer = await graphql(input_mutation("delete_flow_group", "success"), {"input": group})
    assert data(answer, "delete_flow_group") == {"success": True}
    assert await row(db, models.flow, flow_id) is None


async def test_an_interval_clock_needs_its_interval(graphql):
    answer = await graphql(
        input_mutation("set_flow_group_schedule", "success"),
        {
            "input": {
                "flow_group_id": "00000000-0000-0000-0000-000000000001",
                "interval_clocks": [{"parameter_defaults": {}}],
            }
        },
        status=400,
    )
    assert answer["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


def test_compressed_flow_is_the_full_flow():
    from prefect.utilities.graphql import decompress

    flow = decompress(compressed_flow())
    assert {task["slug"] for task in flow["tasks"]} >= {"n", "greeting", "square-1"}
