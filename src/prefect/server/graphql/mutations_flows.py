"""Mutations for tenants, projects, flows and flow groups (protocol §3.2, semantics §6.1, §6.2, §6.9).

Each resolver turns its input into one call of `prefect.server.api.tenants`, `.projects`,
`.flows` or `.flow_groups` and shapes the answer as a payload.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLField,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLString,
)

from prefect.server.errors import ServerError
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

__all__ = ["flow_mutation_fields"]

_uuid = GraphQLNonNull(UUID)
_str = GraphQLNonNull(GraphQLString)
_labels = GraphQLList(GraphQLNonNull(GraphQLString))


# Tenants ------------------------------------------------------------------------------------


async def create_tenant(ctx: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
    """Create a tenant; its slug must be unique and slug-shaped."""
    return {"id": await api("tenants").create_tenant(ctx["db"], inp["name"], inp["slug"])}


async def delete_tenant(ctx: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
    """Delete a tenant and everything in it (requires `confirm: true`)."""
    if not inp["confirm"]:
        raise ServerError("Deleting a tenant must be confirmed: pass `confirm: true`.")
    return success(await api("tenants").delete_tenant(ctx["db"], inp["tenant_id"]))


async def update_tenant_name(ctx: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
    """Rename a tenant."""
    tenants = api("tenants")
    return {"id": await tenants.update_tenant_name(ctx["db"], inp["tenant_id"], inp["name"])}


async def update_tenant_slug(ctx: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
    """Change a tenant's slug."""
    tenants = api("tenants")
    return {"id": await tenants.update_tenant_slug(ctx["db"], inp["tenant_id"], inp["slug"])}


async def update_tenant_settings(ctx: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
    """Replace a tenant's settings."""
    settings = json_value(inp.get("settings"), "settings")
    tenants = api("tenants")
    return {"id": await tenants.update_tenant_settings(ctx["db"], inp["tenant_id"], settings)}


# Projects -----------------------------------------------------------------------------------


async def create_project(ctx: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
    """Create a project; a duplicate name in the tenant is a `Uniqueness violation.`"""
    project_id = await api("projects").create_project(
        ctx["db"], inp["tenant_id"], inp["name"], inp.get("description")
    )
    return {"id": project_id}


async def delete_project(ctx: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
    """Delete a project with its flows and runs."""
    return success(await api("projects").delete_project(ctx["db"], inp["project_id"]))


async def set_project_name(ctx: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
    """Rename a project."""
    projects = api("projects")
    return {"id": await projects.set_project_name(ctx["db"], inp["project_id"], inp["name"])}


async def set_project_description(ctx: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
    """Change a project's description."""
    project_id = await api("projects").set_project_description(
        ctx["db"], inp["project_id"], inp.get("description")
    )
    return {"id": project_id}


# Flows --------------------------------------------------------------------------------------


def _flow_options(inp: dict[str, Any]) -> dict[str, Any]:
    set_schedule_active = inp.get("set_schedule_active")
    return {
        "project_id": inp["project_id"],
        "version_group_id": inp.get("version_group_id"),
        # An explicit null means the default, as when the field is left out.
        "set_schedule_active": True if set_schedule_active is None else set_schedule_active,
        "description": inp.get("description"),
        "idempotency_key": inp.get("idempotency_key"),
    }


async def create_flow(ctx: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
    """Register a flow from its serialized JSON."""
    serialized_flow = json_value(inp["serialized_flow"], "serialized_flow")
    flow_id = await api("flows").create_flow(
        ctx["db"], serialized_flow=serialized_flow, **_flow_options(inp)
    )
    return {"id": flow_id}


async def create_flow_from_compressed_string(
    ctx: dict[str, Any], inp: dict[str, Any]
) -> dict[str, Any]:
    """Register a flow from base64 text of its gzipped JSON."""
    flow_id = await api("flows").create_flow_from_compressed_string(
        ctx["db"], serialized_flow=inp["serialized_flow"], **_flow_options(inp)
    )
    return {"id": flow_id}


async def register_tasks(ctx: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
    """Add tasks to a registered flow."""
    tasks = json_value(inp["serialized_tasks"], "serialized_tasks")
    return success(await api("flows").register_tasks(ctx["db"], inp["flow_id"], tasks))


async def register_edges(ctx: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
    """Add edges to a registered flow."""
    edges = json_value(inp["serialized_edges"], "serialized_edges")
    return success(await api("flows").register_edges(ctx["db"], inp["flow_id"], edges))


def _flow_switch(module: str, doc: str, function: str) -> Any:
    """A resolver for the mutations that take only a flow id and answer success."""

    async def resolve(ctx: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
        return success(await getattr(api(module), function)(ctx["db"], inp["flow_id"]))

    resolve.__doc__ = doc
    return resolve


async def update_flow_project(ctx: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
    """Move a flow to another project."""
    flow_id = await api("flows").update_flow_project(ctx["db"], inp["flow_id"], inp["project_id"])
    return {"id": flow_id}


# Flow groups --------------------------------------------------------------------------------


async def delete_flow_group(ctx: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
    """Delete a flow group with all its flows."""
    groups = api("flow_groups")
    return success(await groups.delete_flow_group(ctx["db"], inp["flow_group_id"]))


async def set_flow_group_default_parameters(
    ctx: dict[str, Any], inp: dict[str, Any]
) -> dict[str, Any]:
    """Set the parameters every run of the group starts from."""
    parameters = json_value(inp["parameters"], "parameters")
    groups = api("flow_groups")
    return success(
        await groups.set_flow_group_default_parameters(ctx["db"], inp["flow_group_id"], parameters)
    )


async def set_flow_group_labels(ctx: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
    """Set the group's labels (null clears them)."""
    groups = api("flow_groups")
    return success(
        await groups.set_flow_group_labels(ctx["db"], inp["flow_group_id"], inp.get("labels"))
    )


async def set_flow_group_description(ctx: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
    """Set the group's description."""
    groups = api("flow_groups")
    return success(
        await groups.set_flow_group_description(
            ctx["db"], inp["flow_group_id"], inp.get("description")
        )
    )


async def set_flow_group_run_config(ctx: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
    """Set the run config runs of the group get by default."""
    run_config = json_value(inp.get("run_config"), "run_config")
    groups = api("flow_groups")
    return success(
        await groups.set_flow_group_run_config(ctx["db"], inp["flow_group_id"], run_config)
    )


async def set_flow_group_schedule(ctx: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
    """Give the group a schedule of cron and interval clocks."""
    groups = api("flow_groups")
    return success(
        await groups.set_flow_group_schedule(
            ctx["db"],
            inp["flow_group_id"],
            cron_clocks=inp.get("cron_clocks"),
            interval_clocks=inp.get("interval_clocks"),
            timezone=inp.get("timezone"),
        )
    )


async def delete_flow_group_schedule(ctx: dict[str, Any], inp: dict[str, Any]) -> dict[str, Any]:
    """Remove the group's schedule."""
    groups = api("flow_groups")
    return success(await groups.delete_flow_group_schedule(ctx["db"], inp["flow_group_id"]))


# Types and fields ---------------------------------------------------------------------------

_flow_input_fields = {
    "project_id": _uuid,
    "version_group_id": GraphQLString,
    "set_schedule_active": GraphQLBoolean,
    "description": GraphQLString,
    "idempotency_key": GraphQLString,
}

_cron_clock_input = input_object("cron_clock_input", {"cron": _str, "parameter_defaults": JSON})
_interval_clock_input = input_object(
    "interval_clock_input", {"interval": GraphQLNonNull(GraphQLInt), "parameter_defaults": JSON}
)

# Mutation name -> (api module, description); the api function has the mutation's name.
_FLOW_SWITCHES = {
    "delete_flow": ("flows", "Delete a flow with its runs."),
    "archive_flow": ("flows", "Archive a flow: it gets no new runs."),
    "enable_flow_heartbeat": ("flows", "Turn heartbeats on for the flow's group."),
    "disable_flow_heartbeat": ("flows", "Turn heartbeats off for the flow's group."),
    "enable_flow_lazarus_process": ("flows", "Let Lazarus reschedule the group's stuck runs."),
    "disable_flow_lazarus_process": ("flows", "Keep Lazarus away from the group's runs."),
    "set_schedule_active": ("schedules", "Turn the flow's schedule on and schedule runs."),
    "set_schedule_inactive": ("schedules", "Turn the flow's schedule off."),
}


def flow_mutation_fields() -> dict[str, GraphQLField]:
    """The mutation fields of this module, by name."""
    flow_id = id_payload["flow"]
    tenant_id = id_payload["tenant"]
    project_id = id_payload["project"]
    group = {"flow_group_id": _uuid}
    fields: dict[str, GraphQLField] = {
        "create_tenant": mutation(
            input_object("create_tenant_input", {"name": _str, "slug": _str}),
            tenant_id,
            create_tenant,
        ),
        "delete_tenant": mutation(
            input_object(
                "delete_tenant_input",
                {"confirm": GraphQLNonNull(GraphQLBoolean), "tenant_id": _uuid},
            ),
            success_payload,
            delete_tenant,
        ),
        "update_tenant_name": mutation(
            input_object("update_tenant_name_input", {"tenant_id": _uuid, "name": _str}),
            tenant_id,
            update_tenant_name,
        ),
        "update_tenant_slug": mutation(
            input_object("update_tenant_slug_input", {"tenant_id": _uuid, "slug": _str}),
            tenant_id,
            update_tenant_slug,
        ),
        "update_tenant_settings": mutation(
            input_object("update_tenant_settings_input", {"tenant_id": _uuid, "settings": JSON}),
            tenant_id,
            update_tenant_settings,
        ),
        "create_project": mutation(
            input_object(
                "create_project_input",
                {"tenant_id": _uuid, "name": _str, "description": GraphQLString},
            ),
            project_id,
            create_project,
        ),
        "delete_project": mutation(
            input_object("delete_project_input", {"project_id": _uuid}),
            success_payload,
            delete_project,
        ),
        "set_project_name": mutation(
            input_object("set_project_name_input", {"project_id": _uuid, "name": _str}),
            project_id,
            set_project_name,
        ),
        "set_project_description": mutation(
            input_object(
                "set_project_description_input",
                {"project_id": _uuid, "description": GraphQLString},
            ),
            project_id,
            set_project_description,
        ),
        "create_flow": mutation(
            input_object(
                "create_flow_input",
                {"serialized_flow": GraphQLNonNull(JSON), **_flow_input_fields},
            ),
            flow_id,
            create_flow,
        ),
        "create_flow_from_compressed_string": mutation(
            input_object(
                "create_flow_from_compressed_string_input",
                {"serialized_flow": _str, **_flow_input_fields},
            ),
            flow_id,
            create_flow_from_compressed_string,
        ),
        "register_tasks": mutation(
            input_object(
                "register_tasks_input",
                {"flow_id": _uuid, "serialized_tasks": GraphQLNonNull(JSON)},
            ),
            success_payload,
            register_tasks,
        ),
        "register_edges": mutation(
            input_object(
                "register_edges_input",
                {"flow_id": _uuid, "serialized_edges": GraphQLNonNull(JSON)},
            ),
            success_payload,
            register_edges,
        ),
        "update_flow_project": mutation(
            input_object("update_flow_project_input", {"flow_id": _uuid, "project_id": _uuid}),
            flow_id,
            update_flow_project,
        ),
        "delete_flow_group": mutation(
            input_object("delete_flow_group_input", group),
            success_payload,
            delete_flow_group,
        ),
        "set_flow_group_default_parameters": mutation(
            input_object(
                "set_flow_group_default_parameters_input",
                {**group, "parameters": GraphQLNonNull(JSON)},
            ),
            success_payload,
            set_flow_group_default_parameters,
        ),
        "set_flow_group_labels": mutation(
            input_object("set_flow_group_labels_input", {**group, "labels": _labels}),
            success_payload,
            set_flow_group_labels,
        ),
        "set_flow_group_description": mutation(
            input_object(
                "set_flow_group_description_input", {**group, "description": GraphQLString}
            ),
            success_payload,
            set_flow_group_description,
        ),
        "set_flow_group_run_config": mutation(
            input_object("set_flow_group_run_config_input", {**group, "run_config": JSON}),
            success_payload,
            set_flow_group_run_config,
        ),
        "set_flow_group_schedule": mutation(
            input_object(
                "set_flow_group_schedule_input",
                {
                    **group,
                    "cron_clocks": GraphQLList(GraphQLNonNull(_cron_clock_input)),
                    "interval_clocks": GraphQLList(GraphQLNonNull(_interval_clock_input)),
                    "timezone": GraphQLString,
                },
            ),
            success_payload,
            set_flow_group_schedule,
        ),
        "delete_flow_group_schedule": mutation(
            input_object("delete_flow_group_schedule_input", group),
            success_payload,
            delete_flow_group_schedule,
        ),
    }
    for name, (module, doc) in _FLOW_SWITCHES.items():
        fields[name] = mutation(
            input_object(f"{name}_input", {"flow_id": _uuid}),
            success_payload,
            _flow_switch(module, doc, name),
        )
    return fields
