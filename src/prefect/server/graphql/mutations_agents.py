"""Mutations for agents, agent configs, task run artifacts, cloud hooks and messages
(protocol §3.2, semantics §6.8).
"""

from __future__ import annotations

from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
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
from prefect.server.graphql.scalars import JSON, UUID

__all__ = ["agent_mutation_fields"]

_uuid = GraphQLNonNull(UUID)
_str = GraphQLNonNull(GraphQLString)


# Agents -------------------------------------------------------------------------------------


async def register_agent(ctx: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
    """Register an agent (an identical registration gets the existing id back)."""
    agent_id = await api("agents").register_agent(
        ctx["db"],
        type=inp["type"],
        tenant_id=inp.get("tenant_id"),
        name=inp.get("name"),
        labels=inp.get("labels"),
        agent_config_id=inp.get("agent_config_id"),
        core_version=ctx.get("core_version"),
    )
    return {"id": agent_id}


async def delete_agent(ctx: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
    """Forget an agent."""
    return success(await api("agents").delete_agent(ctx["db"], inp["agent_id"]))


async def create_agent_config(ctx: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
    """Store settings agents can load by id."""
    agent_config_id = await api("agents").create_agent_config(
        ctx["db"],
        tenant_id=inp["tenant_id"],
        name=inp.get("name"),
        settings=json_value(inp.get("settings"), "settings"),
    )
    return {"id": agent_config_id}


async def update_agent_config(ctx: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
    """Change an agent config's name or settings."""
    updated = await api("agents").update_agent_config(
        ctx["db"],
        inp["agent_config_id"],
        name=inp.get("name"),
        settings=json_value(inp.get("settings"), "settings"),
    )
    return success(updated)


async def delete_agent_config(ctx: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
    """Delete an agent config."""
    return success(await api("agents").delete_agent_config(ctx["db"], inp["agent_config_id"]))


# Artifacts ----------------------------------------------------------------------------------


async def create_task_run_artifact(ctx: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
    """Attach an artifact (a link, some markdown) to a task run."""
    artifact_id = await api("artifacts").create_task_run_artifact(
        ctx["db"],
        task_run_id=inp["task_run_id"],
        kind=inp["kind"],
        data=json_value(inp["data"], "data"),
        tenant_id=inp.get("tenant_id"),
    )
    return {"id": artifact_id}


async def update_task_run_artifact(ctx: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
    """Replace an artifact's data."""
    updated = await api("artifacts").update_task_run_artifact(
        ctx["db"], inp["task_run_artifact_id"], json_value(inp["data"], "data")
    )
    return success(updated)


async def delete_task_run_artifact(ctx: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
    """Delete an artifact."""
    artifacts = api("artifacts")
    return success(await artifacts.delete_task_run_artifact(ctx["db"], inp["task_run_artifact_id"]))


# Cloud hooks and messages -------------------------------------------------------------------


async def create_cloud_hook(ctx: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
    """Create a hook fired when runs enter the given states."""
    cloud_hook_id = await api("cloud_hooks").create_cloud_hook(
        ctx["db"],
        tenant_id=inp["tenant_id"],
        type=inp["type"],
        states=inp["states"],
        name=inp.get("name"),
        version_group_id=inp.get("version_group_id"),
        config=json_value(inp.get("config"), "config"),
    )
    return {"id": cloud_hook_id}


async def test_cloud_hook(ctx: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
    """Fire a hook once with a sample state."""
    fired = await api("cloud_hooks").test_cloud_hook(
        ctx["db"],
        inp["cloud_hook_id"],
        flow_run_id=inp.get("flow_run_id"),
        state_type=inp.get("state_type"),
    )
    return success(fired)


def _by_id(module: str, function: str, key: str, doc: str) -> Any:
    """A resolver for the mutations that take one id and answer success."""

    async def resolve(ctx: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
        return success(await getattr(api(module), function)(ctx["db"], inp[key]))

    resolve.__doc__ = doc
    return resolve


_BY_ID = {
    "delete_cloud_hook": ("cloud_hooks", "cloud_hook_id", "Delete a cloud hook."),
    "set_cloud_hook_active": ("cloud_hooks", "cloud_hook_id", "Turn a cloud hook on."),
    "set_cloud_hook_inactive": ("cloud_hooks", "cloud_hook_id", "Turn a cloud hook off."),
    "mark_message_as_read": ("messages", "message_id", "Mark a message read."),
    "mark_message_as_unread": ("messages", "message_id", "Mark a message unread."),
    "delete_message": ("messages", "message_id", "Delete a message."),
}


# Types and fields ---------------------------------------------------------------------------

cloud_hook_type = GraphQLEnumType(
    "cloud_hook_type",
    {name: name for name in ("PAGERDUTY", "SLACK_WEBHOOK", "TWILIO", "WEBHOOK", "PREFECT_MESSAGE")},
)
test_cloud_hook_state_type = GraphQLEnumType(
    "test_cloud_hook_state_type",
    {name: name for name in ("SCHEDULED", "SUBMITTED", "SUCCESS", "RUNNING", "FAILED")},
)


def agent_mutation_fields() -> dict[str, GraphQLField]:
    """The mutation fields of this module, by name."""
    fields: dict[str, GraphQLField] = {
        "register_agent": mutation(
            input_object(
                "register_agent_input",
                {
                    "tenant_id": UUID,
                    "labels": GraphQLList(GraphQLNonNull(GraphQLString)),
                    "agent_config_id": UUID,
                    "type": _str,
                    "name": GraphQLString,
                },
            ),
            id_payload["agent"],
            register_agent,
        ),
        "delete_agent": mutation(
            input_object("delete_agent_input", {"agent_id": _uuid}),
            success_payload,
            delete_agent,
        ),
        "create_agent_config": mutation(
            input_object(
                "create_agent_config_input",
                {"tenant_id": _uuid, "name": GraphQLString, "settings": JSON},
            ),
            id_payload["agent_config"],
            create_agent_config,
        ),
        "update_agent_config": mutation(
            input_object(
                "update_agent_config_input",
                {"agent_config_id": _uuid, "name": GraphQLString, "settings": JSON},
            ),
            success_payload,
            update_agent_config,
        ),
        "delete_agent_config": mutation(
            input_object("delete_agent_config_input", {"agent_config_id": _uuid}),
            success_payload,
            delete_agent_config,
        ),
        "create_task_run_artifact": mutation(
            input_object(
                "create_task_run_artifact_input",
                {
                    "task_run_id": _uuid,
                    "kind": _str,
                    "data": GraphQLNonNull(JSON),
                    "tenant_id": UUID,
                },
            ),
            id_payload["task_run_artifact"],
            create_task_run_artifact,
        ),
        "update_task_run_artifact": mutation(
            input_object(
                "update_task_run_artifact_input",
                {"task_run_artifact_id": _uuid, "data": GraphQLNonNull(JSON)},
            ),
            success_payload,
            update_task_run_artifact,
        ),
        "delete_task_run_artifact": mutation(
            input_object("delete_task_run_artifact_input", {"task_run_artifact_id": _uuid}),
            success_payload,
            delete_task_run_artifact,
        ),
        "create_cloud_hook": mutation(
            input_object(
                "create_cloud_hook_input",
                {
                    "tenant_id": _uuid,
                    "type": GraphQLNonNull(cloud_hook_type),
                    "name": GraphQLString,
                    "version_group_id": GraphQLString,
                    "states": GraphQLNonNull(GraphQLList(GraphQLNonNull(GraphQLString))),
                    "config": JSON,
                },
            ),
            id_payload["cloud_hook"],
            create_cloud_hook,
        ),
        "test_cloud_hook": mutation(
            input_object(
                "test_cloud_hook_input",
                {
                    "cloud_hook_id": _uuid,
                    "flow_run_id": UUID,
                    "state_type": test_cloud_hook_state_type,
                },
            ),
            success_payload,
            test_cloud_hook,
        ),
    }
    for name, (module, key, doc) in _BY_ID.items():
        fields[name] = mutation(
            input_object(f"{name}_input", {key: _uuid}),
            success_payload,
            _by_id(module, name, key, doc),
        )
    return fields
