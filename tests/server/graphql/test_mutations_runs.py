"""Mutations of flow runs, task runs, states, logs and the agent queue, sent as the 1.4.1 client,
agent and runners send them."""

from __future__ import annotations

import datetime
from typing import Any

import sqlalchemy as sa
from tests.server.graphql._world import (
    STATES_SELECTION,
    create_flow,
    create_flow_run,
    create_project,
    input_mutation,
    make_world,
    state,
    task_run_info_mutation,
)

from prefect.server.database import models

SET_FLOW_RUN_STATES = input_mutation("set_flow_run_states", STATES_SELECTION)
SET_TASK_RUN_STATES = input_mutation("set_task_run_states", STATES_SELECTION)


def data(answer: dict[str, Any], field: str) -> Any:
    assert "errors" not in answer, answer
    return answer["data"][field]


async def row(db, table: sa.Table, id: str) -> Any:
    async with db.read() as conn:
        return (await conn.execute(sa.select(table).where(table.c.id == id))).one_or_none()


async def set_flow_run_state(graphql, flow_run_id, new_state, version=None, headers=None):
    return await graphql(
        SET_FLOW_RUN_STATES,
        {
            "input": {
                "states": [{"flow_run_id": flow_run_id, "version": version, "state": new_state}]
            }
        },
        headers=headers,
    )


async def test_create_flow_run_with_every_option(graphql, tenant_id, db):
    project_id = await create_project(graphql, tenant_id)
    flow_id = await create_flow(graphql, project_id)
    start = "2030-01-02T03:04:05.123456+01:00"
    flow_run_id = await create_flow_run(
        graphql,
        flow_id,
        parameters={"greeting": "hi", "n": 2},
        context={"answer": 42},
        labels=["b", "a"],
        run_config={"type": "UniversalRun", "labels": [], "env": None, "__version__": "1.4.1"},
        scheduled_start_time=start,
        idempotency_key="key",
        flow_run_name="my-run",
    )
    stored = await row(db, models.flow_run, flow_run_id)
    assert stored.name == "my-run"
    assert stored.parameters == {"greeting": "hi", "n": 2}
    assert stored.context == {"answer": 42}
    assert stored.labels == ["a", "b"]
    assert stored.run_config["type"] == "UniversalRun"
    assert stored.scheduled_start_time == datetime.datetime.fromisoformat(start)
    assert stored.state == "Scheduled"
    # Same key, same flow: the same run.
    assert await create_flow_run(graphql, flow_id, idempotency_key="key") == flow_run_id


async def test_create_flow_run_refusals_carry_the_server_text(graphql, tenant_id):
    project_id = await create_project(graphql, tenant_id)
    flow_id = await create_flow(graphql, project_id)
    create = input_mutation("create_flow_run", "id")
    answer = await graphql(create, {"input": {"parameters": {}}})
    assert answer["data"] == {"create_flow_run": None}
    assert answer["errors"][0]["message"] == "A flow id or version group ID must be provided."
    answer = await graphql(create, {"input": {"flow_id": flow_id, "parameters": {}}})
    assert answer["errors"][0]["message"].startswith("Required parameters were not supplied")


async def test_names_labels_cancel_and_delete(graphql, tenant_id, db):
    world = await make_world(graphql, tenant_id, db)
    flow_run_id = world["flow_run_id"]
    task_run_id = world["task_runs"][("report-1", -1)]
    answer = await graphql(
        input_mutation("set_flow_run_name", "success"),
        {"input": {"flow_run_id": flow_run_id, "name": "renamed"}},
    )
    assert data(answer, "set_flow_run_name") == {"success": True}
    answer = await graphql(
        input_mutation("set_task_run_name", "success"),
        {"input": {"task_run_id": task_run_id, "name": "report of day"}},
    )
    assert data(answer, "set_task_run_name") == {"success": True}
    answer = await graphql(
        input_mutation("set_flow_run_labels", "success"),
        {"input": {"flow_run_id": flow_run_id, "labels": ["z", "y"]}},
    )
    assert data(answer, "set_flow_run_labels") == {"success": True}
    stored = await row(db, models.flow_run, flow_run_id)
    assert (stored.name, stored.labels) == ("renamed", ["y", "z"])
    assert (await row(db, models.task_run, task_run_id)).name == "report of day"

    answer = await graphql(
        input_mutation("set_flow_run_name", "success"),
        {"input": {"flow_run_id": flow_run_id, "name": ""}},
    )
    assert answer["errors"][0]["message"] == "Invalid name"

    answer = await graphql(
        input_mutation("cancel_flow_run", "state"), {"input": {"flow_run_id": flow_run_id}}
    )
    assert data(answer, "cancel_flow_run") == {"state": "Cancelled"}
    answer = await graphql(
        input_mutation("delete_flow_run", "success"), {"input": {"flow_run_id": flow_run_id}}
    )
    assert data(answer, "delete_flow_run") == {"success": True}
    assert await row(db, models.flow_run, flow_run_id) is None


async def test_states_heartbeats_and_task_runs_of_a_run(graphql, tenant_id, db):
    world = await make_world(graphql, tenant_id, db)
    flow_run_id = world["flow_run_id"]
    agent_headers = {"X-PREFECT-AGENT-ID": "00000000-0000-0000-0000-0000000000aa"}
    submitted = state("Submitted", "Submitted for execution", state=state("Scheduled"))
    answer = await set_flow_run_state(graphql, flow_run_id, submitted, 1, agent_headers)
    assert data(answer, "set_flow_run_states") == {
        "states": [{"id": flow_run_id, "status": "SUCCESS", "message": None}]
    }
    again = await set_flow_run_state(graphql, flow_run_id, submitted, 2, agent_headers)
    assert again["data"] == {"set_flow_run_states": None}
    assert "State update failed" in again["errors"][0]["message"]

    task_id = world["tasks"]["make_list-1"]
    parent = data(
        await graphql(task_run_info_mutation(flow_run_id, task_id, -1)),
        "get_or_create_task_run_info",
    )
    assert parent["id"] == world["task_runs"][("make_list-1", -1)]
    running = await graphql(
        SET_TASK_RUN_STATES,
        {
            "input": {
                "states": [{"task_run_id": parent["id"], "version": 0, "state": state("Running")}]
            }
        },
    )
    assert "is not in a running state" in running["errors"][0]["message"]

    answer = await set_flow_run_state(graphql, flow_run_id, state("Running", "Running flow."), 2)
    assert data(answer, "set_flow_run_states")["states"][0]["status"] == "SUCCESS"
    heartbeat = (
        'mutation {\n    update_flow_run_heartbeat(input: { flow_run_id: "RUN" }) {\n'
        "        success\n    }\n}"
    ).replace("RUN", flow_run_id)
    assert data(await graphql(heartbeat), "update_flow_run_heartbeat") == {"success": True}
    assert (await row(db, models.flow_run, flow_run_id)).heartbeat is not None
    answer = await graphql(
        input_mutation("update_task_run_heartbeat", "success"),
        {"input": {"task_run_id": parent["id"]}},
    )
    assert data(answer, "update_task_run_heartbeat") == {"success": True}

    for new_state in (state("Running"), state("Success", "Task run succeeded.")):
        answer = await graphql(
            SET_TASK_RUN_STATES,
            {
                "input": {
                    "states": [{"task_run_id": parent["id"], "version": None, "state": new_state}]
                }
            },
        )
        assert data(answer, "set_task_run_states") == {
            "states": [{"id": parent["id"], "status": "SUCCESS", "message": None}]
        }
    stored = await row(db, models.task_run, parent["id"])
    assert (stored.state, stored.version) == ("Success", 2)

    child = data(
        await graphql(task_run_info_mutation(flow_run_id, world["tasks"]["square-1"], 3)),
        "get_or_create_task_run_info",
    )
    assert child["version"] == 0
    assert child["serialized_state"]["type"] == "Pending"
    answer = await graphql(
        input_mutation("get_or_create_task_run", "id"),
        {
            "input": {
                "flow_run_id": flow_run_id,
                "task_id": world["tasks"]["square-1"],
                "map_index": 3,
            }
        },
    )
    assert data(answer, "get_or_create_task_run") == {"id": child["id"]}


async def test_a_state_may_arrive_as_json_text(graphql, tenant_id, db):
    import json

    world = await make_world(graphql, tenant_id, db)
    answer = await set_flow_run_state(
        graphql, world["flow_run_id"], json.dumps(state("Running", "Running flow."))
    )
    assert data(answer, "set_flow_run_states")["states"][0]["status"] == "SUCCESS"
    assert (await row(db, models.flow_run, world["flow_run_id"])).state == "Running"


async def test_write_run_logs_accepts_a_single_entry_and_a_list(graphql, tenant_id, db):
    world = await make_world(graphql, tenant_id, db)
    write = input_mutation("write_run_logs", "success")
    # `prefect execute flow-run` sends one dict where a list is expected (protocol §3.2).
    single = {
        "flow_run_id": world["flow_run_id"],
        "name": "execute flow-run",
        "message": "Failed to load and execute flow run",
        "level": "ERROR",
    }
    assert data(await graphql(write, {"input": {"logs": single}}), "write_run_logs") == {
        "success": True
    }
    entries = [
        {
            "flow_run_id": world["flow_run_id"],
            "task_run_id": world["task_runs"][("n", -1)],
            "timestamp": "2024-01-02T03:04:05.123456+00:00",
            "name": "prefect.CloudTaskRunner",
            "message": "Task 'n': Starting task run...",
            "level": "INFO",
            "info": {"k": 1},
        },
        {
            "flow_run_id": world["flow_run_id"],
            "name": "agent",
            "message": "Submitted",
            "level": "INFO",
        },
    ]
    assert data(await graphql(write, {"input": {"logs": entries}}), "write_run_logs") == {
        "success": True
    }
    async with db.read() as conn:
        logs = (await conn.execute(sa.select(models.log).order_by(models.log.c.timestamp))).all()
    assert len(logs) == 3
    assert {log.level for log in logs} == {"ERROR", "INFO"}
    bad_level = await graphql(write, {"input": {"logs": [{**single, "level": "LOUD"}]}}, status=400)
    assert bad_level["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_get_runs_in_queue_returns_ready_runs_and_touches_the_agent(graphql, tenant_id, db):
    world = await make_world(graphql, tenant_id, db)
    register = input_mutation("register_agent", "id")
    agent_id = data(
        await graphql(
            register,
            {
                "input": {
                    "type": "LocalAgent",
                    "name": "agent",
                    "labels": [],
                    "tenant_id": tenant_id,
                    "agent_config_id": None,
                }
            },
        ),
        "register_agent",
    )["id"]
    before = (
        datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=10)
    ).isoformat()
    answer = await graphql(
        input_mutation("get_runs_in_queue", "flow_run_ids"),
        {"input": {"before": before, "labels": [], "tenant_id": tenant_id}},
        headers={"X-PREFECT-AGENT-ID": agent_id},
    )
    # The sample flow's run config carries no labels, so an unlabeled agent gets the run.
    assert data(answer, "get_runs_in_queue") == {"flow_run_ids": [world["flow_run_id"]]}
    assert (await row(db, models.agent, agent_id)).last_queried is not None
