"""The Python schema's names, exactly as protocol §3 lists them: the 1.4.1 client writes input
type names literally (`mutation($input: create_flow_run_input!)`), and an input field the schema
does not declare is a validation error even when the client sends it as null."""

from __future__ import annotations

import pytest
from graphql import GraphQLInputObjectType, GraphQLObjectType

from prefect.server.graphql.schema import build_schema, get_schema

FLOW_INPUT = {
    "project_id": "UUID!",
    "version_group_id": "String",
    "set_schedule_active": "Boolean",
    "description": "String",
    "idempotency_key": "String",
}
TASK_RUN_KEY = {"flow_run_id": "UUID!", "task_id": "UUID!", "map_index": "Int"}

# mutation -> (input fields, payload type)
MUTATIONS: dict[str, tuple[dict[str, str], str]] = {
    "create_tenant": ({"name": "String!", "slug": "String!"}, "tenant_id_payload"),
    "delete_tenant": ({"confirm": "Boolean!", "tenant_id": "UUID!"}, "success_payload"),
    "update_tenant_name": ({"tenant_id": "UUID!", "name": "String!"}, "tenant_id_payload"),
    "update_tenant_slug": ({"tenant_id": "UUID!", "slug": "String!"}, "tenant_id_payload"),
    "update_tenant_settings": ({"tenant_id": "UUID!", "settings": "JSON"}, "tenant_id_payload"),
    "create_project": (
        {"tenant_id": "UUID!", "name": "String!", "description": "String"},
        "project_id_payload",
    ),
    "delete_project": ({"project_id": "UUID!"}, "success_payload"),
    "set_project_name": ({"project_id": "UUID!", "name": "String!"}, "project_id_payload"),
    "set_project_description": (
        {"project_id": "UUID!", "description": "String"},
        "project_id_payload",
    ),
    "create_flow": ({"serialized_flow": "JSON!", **FLOW_INPUT}, "flow_id_payload"),
    "create_flow_from_compressed_string": (
        {"serialized_flow": "String!", **FLOW_INPUT},
        "flow_id_payload",
    ),
    "register_tasks": ({"flow_id": "UUID!", "serialized_tasks": "JSON!"}, "success_payload"),
    "register_edges": ({"flow_id": "UUID!", "serialized_edges": "JSON!"}, "success_payload"),
    "delete_flow": ({"flow_id": "UUID!"}, "success_payload"),
    "archive_flow": ({"flow_id": "UUID!"}, "success_payload"),
    "update_flow_project": ({"flow_id": "UUID!", "project_id": "UUID!"}, "flow_id_payload"),
    "enable_flow_heartbeat": ({"flow_id": "UUID!"}, "success_payload"),
    "disable_flow_heartbeat": ({"flow_id": "UUID!"}, "success_payload"),
    "enable_flow_lazarus_process": ({"flow_id": "UUID!"}, "success_payload"),
    "disable_flow_lazarus_process": ({"flow_id": "UUID!"}, "success_payload"),
    "set_schedule_active": ({"flow_id": "UUID!"}, "success_payload"),
    "set_schedule_inactive": ({"flow_id": "UUID!"}, "success_payload"),
    "delete_flow_group": ({"flow_group_id": "UUID!"}, "success_payload"),
    "set_flow_group_default_parameters": (
        {"flow_group_id": "UUID!", "parameters": "JSON!"},
        "success_payload",
    ),
    "set_flow_group_labels": ({"flow_group_id": "UUID!", "labels": "[String!]"}, "success_payload"),
    "set_flow_group_description": (
        {"flow_group_id": "UUID!", "description": "String"},
        "success_payload",
    ),
    "set_flow_group_run_config": (
        {"flow_group_id": "UUID!", "run_config": "JSON"},
        "success_payload",
    ),
    "set_flow_group_schedule": (
        {
            "flow_group_id": "UUID!",
            "cron_clocks": "[cron_clock_input!]",
            "interval_clocks": "[interval_clock_input!]",
            "timezone": "String",
        },
        "success_payload",
    ),
    "delete_flow_group_schedule": ({"flow_group_id": "UUID!"}, "success_payload"),
    "create_flow_run": (
        {
            "flow_id": "UUID",
            "version_group_id": "String",
            "parameters": "JSON",
            "context": "JSON",
            "labels": "[String!]",
            "run_config": "JSON",
            "scheduled_start_time": "DateTime",
            "idempotency_key": "String",
            "flow_run_name": "String",
        },
        "flow_run_id_payload",
    ),
    "set_flow_run_name": ({"flow_run_id": "UUID!", "name": "String!"}, "success_payload"),
    "set_flow_run_labels": ({"flow_run_id": "UUID!", "labels": "[String!]!"}, "success_payload"),
    "set_task_run_name": ({"task_run_id": "UUID!", "name": "String!"}, "success_payload"),
    "delete_flow_run": ({"flow_run_id": "UUID!"}, "success_payload"),
    "get_or_create_task_run": (TASK_RUN_KEY, "task_run_id_payload"),
    "get_or_create_task_run_info": (TASK_RUN_KEY, "get_or_create_task_run_info_payload"),
    "update_flow_run_heartbeat": ({"flow_run_id": "UUID!"}, "success_payload"),
    "update_task_run_heartbeat": ({"task_run_id": "UUID!"}, "success_payload"),
    "get_runs_in_queue": (
        {"tenant_id": "UUID!", "before": "DateTime", "labels": "[String!]"},
        "runs_in_queue_payload",
    ),
    "set_flow_run_states": (
        {"states": "[set_flow_run_state_input!]!"},
        "set_flow_run_states_payload",
    ),
    "set_task_run_states": (
        {"states": "[set_task_run_state_input!]!"},
        "set_task_run_states_payload",
    ),
    "cancel_flow_run": ({"flow_run_id": "UUID!"}, "cancel_flow_run_payload"),
    "write_run_logs": ({"logs": "[write_run_log_input!]!"}, "success_payload"),
    "register_agent": (
        {
            "tenant_id": "UUID",
            "labels": "[String!]",
            "agent_config_id": "UUID",
            "type": "String!",
            "name": "String",
        },
        "agent_id_payload",
    ),
    "delete_agent": ({"agent_id": "UUID!"}, "success_payload"),
    "create_agent_config": (
        {"tenant_id": "UUID!", "name": "String", "settings": "JSON"},
        "agent_config_id_payload",
    ),
    "update_agent_config": (
        {"agent_config_id": "UUID!", "name": "String", "settings": "JSON"},
        "success_payload",
    ),
    "delete_agent_config": ({"agent_config_id": "UUID!"}, "success_payload"),
    "create_task_run_artifact": (
        {"task_run_id": "UUID!", "kind": "String!", "data": "JSON!", "tenant_id": "UUID"},
        "task_run_artifact_id_payload",
    ),
    "update_task_run_artifact": (
        {"task_run_artifact_id": "UUID!", "data": "JSON!"},
        "success_payload",
    ),
    "delete_task_run_artifact": ({"task_run_artifact_id": "UUID!"}, "success_payload"),
    "create_cloud_hook": (
        {
            "tenant_id": "UUID!",
            "type": "cloud_hook_type!",
            "name": "String",
            "version_group_id": "String",
            "states": "[String!]!",
            "config": "JSON",
        },
        "cloud_hook_id_payload",
    ),
    "test_cloud_hook": (
        {
            "cloud_hook_id": "UUID!",
            "flow_run_id": "UUID",
            "state_type": "test_cloud_hook_state_type",
        },
        "success_payload",
    ),
    "delete_cloud_hook": ({"cloud_hook_id": "UUID!"}, "success_payload"),
    "set_cloud_hook_active": ({"cloud_hook_id": "UUID!"}, "success_payload"),
    "set_cloud_hook_inactive": ({"cloud_hook_id": "UUID!"}, "success_payload"),
    "mark_message_as_read": ({"message_id": "UUID!"}, "success_payload"),
    "mark_message_as_unread": ({"message_id": "UUID!"}, "success_payload"),
    "delete_message": ({"message_id": "UUID!"}, "success_payload"),
}

NESTED_INPUTS = {
    "cron_clock_input": {"cron": "String!", "parameter_defaults": "JSON"},
    "interval_clock_input": {"interval": "Int!", "parameter_defaults": "JSON"},
    "set_flow_run_state_input": {"flow_run_id": "UUID!", "version": "Int", "state": "JSON!"},
    "set_task_run_state_input": {
        "task_run_id": "UUID!",
        "version": "Int",
        "state": "JSON!",
        "flow_run_version": "Int",
    },
    "write_run_log_input": {
        "flow_run_id": "UUID!",
        "task_run_id": "UUID",
        "timestamp": "DateTime",
        "message": "String",
        "name": "String",
        "level": "log_level",
        "info": "JSON",
    },
}

PAYLOADS = {
    "success_payload": {"success": "Boolean", "error": "String"},
    "get_or_create_task_run_info_payload": {
        "id": "UUID",
        "version": "Int",
        "state": "String",
        "serialized_state": "JSON",
    },
    "runs_in_queue_payload": {"flow_run_ids": "[String!]"},
    "set_flow_run_states_payload": {"states": "[set_flow_run_state_payload!]"},
    "set_task_run_states_payload": {"states": "[set_task_run_state_payload!]"},
    "set_flow_run_state_payload": {"id": "UUID", "status": "String", "message": "String"},
    "set_task_run_state_payload": {"id": "UUID", "status": "String", "message": "String"},
    "cancel_flow_run_payload": {"state": "String"},
    "task_run_info_payload": {
        "id": "UUID",
        "version": "Int",
        "serialized_state": "JSON",
        "state": "String",
    },
    "mapped_children_payload": {
        "min_start_time": "DateTime",
        "max_end_time": "DateTime",
        "state_counts": "JSON",
    },
    "api_info": {
        "backend": "String",
        "mode": "String",
        "version": "String",
        "core_version": "String",
        "release_timestamp": "String",
    },
    "reference_data": {"state_hierarchy": "JSON!", "state_info": "JSON!"},
    **{
        f"{name}_id_payload": {"id": "UUID"}
        for name in (
            "flow",
            "flow_run",
            "task_run",
            "project",
            "tenant",
            "agent",
            "agent_config",
            "task_run_artifact",
            "cloud_hook",
        )
    },
}

ENUMS = {
    "log_level": ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"],
    "cloud_hook_type": ["PAGERDUTY", "SLACK_WEBHOOK", "TWILIO", "WEBHOOK", "PREFECT_MESSAGE"],
    "test_cloud_hook_state_type": ["SCHEDULED", "SUBMITTED", "SUCCESS", "RUNNING", "FAILED"],
}


def _fields(type_name: str) -> dict[str, str]:
    found = get_schema().get_type(type_name)
    assert isinstance(found, (GraphQLInputObjectType, GraphQLObjectType)), type_name
    return {name: str(field.type) for name, field in found.fields.items()}


def test_the_mutation_root_has_exactly_the_protocol_mutations():
    mutation_type = get_schema().mutation_type
    assert mutation_type is not None
    assert set(mutation_type.fields) == set(MUTATIONS)


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_mutation_input_and_payload_match_the_protocol(name):
    expected_input, expected_payload = MUTATIONS[name]
    field = get_schema().mutation_type.fields[name]
    assert list(field.args) == ["input"]
    assert str(field.args["input"].type) == f"{name}_input!"
    assert _fields(f"{name}_input") == expected_input
    assert str(field.type) == expected_payload


@pytest.mark.parametrize("name", sorted(NESTED_INPUTS))
def test_nested_inputs_match_the_protocol(name):
    assert _fields(name) == NESTED_INPUTS[name]


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_payload_types_match_the_protocol(name):
    assert _fields(name) == PAYLOADS[name]


@pytest.mark.parametrize("name", sorted(ENUMS))
def test_enums_match_the_protocol(name):
    assert list(get_schema().get_type(name).values) == ENUMS[name]


def test_root_query_fields_of_the_python_schema():
    fields = get_schema().query_type.fields
    assert str(fields["hello"].type) == "String!"
    assert str(fields["api"].type) == "api_info"
    assert str(fields["reference_data"].type) == "reference_data"
    assert {name: str(arg.type) for name, arg in fields["get_task_run_info"].args.items()} == {
        "task_run_id": "UUID!"
    }
    assert str(fields["get_task_run_info"].type) == "task_run_info_payload"
    assert str(fields["mapped_children"].type) == "mapped_children_payload"


def test_the_schema_is_built_once_and_holds_the_table_surface():
    assert get_schema() is get_schema()
    fields = get_schema().query_type.fields
    for table in ("tenant", "project", "flow", "flow_run", "task_run", "agent", "agent_config"):
        assert {table, f"{table}_by_pk", f"{table}_aggregate"} <= set(fields)
    # A fresh build is independent and valid (build_schema validates it).
    assert build_schema() is not get_schema()
