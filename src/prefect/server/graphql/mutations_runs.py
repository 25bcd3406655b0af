"""Mutations for flow runs, task runs, state writes, logs and the agent queue (protocol §3.2,
semantics §6.3 to §6.8).

These carry the hot path of every flow run (`set_flow_run_states`, `set_task_run_states`,
`get_or_create_task_run_info`, `write_run_logs`, `update_flow_run_heartbeat`), so the resolvers
do no more than reshape their input for one `prefect.server.api` call.
"""

from __future__ import annotations

import logging
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLString,
)

from prefect.server.graphql.mutations import (
    api,
    id_payload,
    input_object,
    json_value,
    mutation,
    success,
    success_payload,
)
from prefect.server.graphql.scalars import JSON, UUID, DateTime

__all__ = ["run_mutation_fields"]

logger = logging.getLogger(__name__)

_uuid = GraphQLNonNull(UUID)
_str = GraphQLNonNull(GraphQLString)
_labels = GraphQLList(GraphQLNonNull(GraphQLString))
_SUCCESS = {"success": True, "error": None}


# Flow runs ----------------------------------------------------------------------------------


async def create_flow_run(ctx: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
    """Create a flow run of a flow (or of the newest flow of a version group)."""
    flow_run_id = await api("runs").create_flow_run(
        ctx["db"],
        flow_id=inp.get("flow_id"),
        version_group_id=inp.get("version_group_id"),
        parameters=json_value(inp.get("parameters"), "parameters"),
        context=json_value(inp.get("context"), "context"),
        labels=inp.get("labels"),
        run_config=json_value(inp.get("run_config"), "run_config"),
        scheduled_start_time=inp.get("scheduled_start_time"),
        idempotency_key=inp.get("idempotency_key"),
        flow_run_name=inp.get("flow_run_name"),
    )
    return {"id": flow_run_id}


async def delete_flow_run(ctx: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
    """Delete a flow run with its task runs, states and logs."""
    return success(await api("runs").delete_flow_run(ctx["db"], inp["flow_run_id"]))


async def cancel_flow_run(ctx: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
    """Cancel a flow run (a running one goes to Cancelling first)."""
    return {"state": await api("runs").cancel_flow_run(ctx["db"], inp["flow_run_id"])}


async def set_flow_run_name(ctx: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
    """Rename a flow run."""
    runs = api("runs")
    return success(await runs.set_flow_run_name(ctx["db"], inp["flow_run_id"], inp["name"]))


async def set_flow_run_labels(ctx: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
    """Replace a flow run's labels."""
    runs = api("runs")
    return success(await runs.set_flow_run_labels(ctx["db"], inp["flow_run_id"], inp["labels"]))


async def update_flow_run_heartbeat(ctx: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
    """Record that a flow run is alive; always answers success (protocol §6.8)."""
    try:
        await api("runs").update_flow_run_heartbeat(ctx["db"], inp["flow_run_id"])
    except Exception:
        # The heartbeat child process has no use for an error, and the zombie killer and
        # Lazarus only need heartbeats that did land.
        logger.exception("Heartbeat of flow run %s was not recorded", inp["flow_run_id"])
    return _SUCCESS


# Task runs ----------------------------------------------------------------------------------


async def get_or_create_task_run(ctx: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
    """The id of the task run of (flow run, task, map index), created when missing."""
    task_run_id = await api("runs").get_or_create_task_run(
        ctx["db"], inp["flow_run_id"], inp["task_id"], inp.get("map_index")
    )
    return {"id": task_run_id}


async def get_or_create_task_run_info(ctx: dict[str, Any], inp: dict[str, Any]) -> Any:
    """Id, version and state of the task run of (flow run, task, map index), created when
    missing."""
    return await api("runs").get_or_create_task_run_info(
        ctx["db"], inp["flow_run_id"], inp["task_id"], inp.get("map_index")
    )


async def set_task_run_name(ctx: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
    """Rename a task run."""
    runs = api("runs")
    return success(await runs.set_task_run_name(ctx["db"], inp["task_run_id"], inp["name"]))


async def update_task_run_heartbeat(ctx: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
    """Record that a task run is alive."""
    await api("runs").update_task_run_heartbeat(ctx["db"], inp["task_run_id"])
    return _SUCCESS


# States -------------------------------------------------------------------------------------


async def set_flow_run_states(ctx: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
    """Write a new state for each flow run given."""
    states = [
        {
            "flow_run_id": item["flow_run_id"],
            "version": item.get("version"),
            "state": json_value(item["state"], "state"),
        }
        for item in inp["states"]
    ]
    written = await api("states").set_flow_run_states(
        ctx["db"], states, agent_id=ctx.get("agent_id")
    )
    return {"states": written}


async def set_task_run_states(ctx: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
    """Write a new state for each task run given."""
    states = [
        {
            "task_run_id": item["task_run_id"],
            "version": item.get("version"),
            "state": json_value(item["state"], "state"),
            "flow_run_version": item.get("flow_run_version"),
        }
        for item in inp["states"]
    ]
    return {"states": await api("states").set_task_run_states(ctx["db"], states)}


# Logs and the queue -------------------------------------------------------------------------


async def write_run_logs(ctx: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
    """Store log records of flow and task runs."""
    await api("logs").write_run_logs(ctx["db"], inp["logs"])
    return _SUCCESS


async def get_runs_in_queue(ctx: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
    """The ids of flow runs ready for an agent with these labels."""
    flow_run_ids = await api("queue").get_runs_in_queue(
        ctx["db"],
        inp["tenant_id"],
        before=inp.get("before"),
        labels=inp.get("labels"),
        agent_id=ctx.get("agent_id"),
    )
    return {"flow_run_ids": flow_run_ids}


# Types and fields ---------------------------------------------------------------------------

log_level = GraphQLEnumType(
    "log_level", {name: name for name in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")}
)


def _state_payload(name: str) -> GraphQLObjectType:
    return GraphQLObjectType(
        name,
        {
            "id": GraphQLField(UUID),
            "status": GraphQLField(GraphQLString),
            "message": GraphQLField(GraphQLString),
        },
    )


def run_mutation_fields() -> dict[str, GraphQLField]:
    """The mutation fields of this module, by name."""
    flow_run = {"flow_run_id": _uuid}
    task_run = {"task_run_id": _uuid}
    task_run_key = {"flow_run_id": _uuid, "task_id": _uuid, "map_index": GraphQLInt}
    set_flow_run_state_input = input_object(
        "set_flow_run_state_input",
        {"flow_run_id": _uuid, "version": GraphQLInt, "state": GraphQLNonNull(JSON)},
    )
    set_task_run_state_input = input_object(
        "set_task_run_state_input",
        {
            "task_run_id": _uuid,
            "version": GraphQLInt,
            "state": GraphQLNonNull(JSON),
            "flow_run_version": GraphQLInt,
        },
    )
    write_run_log_input = input_object(
        "write_run_log_input",
        {
            "flow_run_id": _uuid,
            "task_run_id": UUID,
            "timestamp": DateTime,
            "message": GraphQLString,
            "name": GraphQLString,
            "level": log_level,
            "info": JSON,
        },
    )
    task_run_info_payload = GraphQLObjectType(
        "get_or_create_task_run_info_payload",
        {
            "id": GraphQLField(UUID),
            "version": GraphQLField(GraphQLInt),
            "state": GraphQLField(GraphQLString),
            "serialized_state": GraphQLField(JSON),
        },
    )
    return {
        "create_flow_run": mutation(
            input_object(
                "create_flow_run_input",
                {
                    "flow_id": UUID,
                    "version_group_id": GraphQLString,
                    "parameters": JSON,
                    "context": JSON,
                    "labels": _labels,
                    "run_config": JSON,
                    "scheduled_start_time": DateTime,
                    "idempotency_key": GraphQLString,
                    "flow_run_name": GraphQLString,
                },
            ),
            id_payload["flow_run"],
            create_flow_run,
        ),
        "set_flow_run_name": mutation(
            input_object("set_flow_run_name_input", {**flow_run, "name": _str}),
            success_payload,
            set_flow_run_name,
        ),
        "set_flow_run_labels": mutation(
            input_object(
                "set_flow_run_labels_input", {**flow_run, "labels": GraphQLNonNull(_labels)}
            ),
            success_payload,
            set_flow_run_labels,
        ),
        "set_task_run_name": mutation(
            input_object("set_task_run_name_input", {**task_run, "name": _str}),
            success_payload,
            set_task_run_name,
        ),
        "delete_flow_run": mutation(
            input_object("delete_flow_run_input", flow_run), success_payload, delete_flow_run
        ),
        "get_or_create_task_run": mutation(
            input_object("get_or_create_task_run_input", task_run_key),
            id_payload["task_run"],
            get_or_create_task_run,
        ),
        "get_or_create_task_run_info": mutation(
            input_object("get_or_create_task_run_info_input", task_run_key),
            task_run_info_payload,
            get_or_create_task_run_info,
        ),
        "update_flow_run_heartbeat": mutation(
            input_object("update_flow_run_heartbeat_input", flow_run),
            success_payload,
            update_flow_run_heartbeat,
        ),
        "update_task_run_heartbeat": mutation(
            input_object("update_task_run_heartbeat_input", task_run),
            success_payload,
            update_task_run_heartbeat,
        ),
        "get_runs_in_queue": mutation(
            input_object(
                "get_runs_in_queue_input",
                {"tenant_id": _uuid, "before": DateTime, "labels": _labels},
            ),
            GraphQLObjectType(
                "runs_in_queue_payload",
                {"flow_run_ids": GraphQLField(GraphQLList(GraphQLNonNull(GraphQLString)))},
            ),
            get_runs_in_queue,
        ),
        "set_flow_run_states": mutation(
            input_object(
                "set_flow_run_states_input",
                {"states": GraphQLNonNull(GraphQLList(GraphQLNonNull(set_flow_run_state_input)))},
            ),
            GraphQLObjectType(
                "set_flow_run_states_payload",
                {
                    "states": GraphQLField(
                        GraphQLList(GraphQLNonNull(_state_payload("set_flow_run_state_payload")))
                    )
                },
            ),
            set_flow_run_states,
        ),
        "set_task_run_states": mutation(
            input_object(
                "set_task_run_states_input",
                {"states": GraphQLNonNull(GraphQLList(GraphQLNonNull(set_task_run_state_input)))},
            ),
            GraphQLObjectType(
                "set_task_run_states_payload",
                {
                    "states": GraphQLField(
                        GraphQLList(GraphQLNonNull(_state_payload("set_task_run_state_payload")))
                    )
                },
            ),
            set_task_run_states,
        ),
        "cancel_flow_run": mutation(
            input_object("cancel_flow_run_input", flow_run),
            GraphQLObjectType("cancel_flow_run_payload", {"state": GraphQLField(GraphQLString)}),
            cancel_flow_run,
        ),
        "write_run_logs": mutation(
            input_object(
                "write_run_logs_input",
                {"logs": GraphQLNonNull(GraphQLList(GraphQLNonNull(write_run_log_input)))},
            ),
            success_payload,
            write_run_logs,
        ),
    }
