"""The generated types of the table surface: names, fields and operators (protocol §2, §8)."""

from __future__ import annotations

import graphql
from tests.server.graphql._hasura_factories import SCHEMA

from prefect.server.database import models
from prefect.server.graphql.hasura import table_query_fields


def type_named(name: str):
    found = SCHEMA.get_type(name)
    assert found is not None, name
    return found


def test_every_table_has_its_root_fields():
    fields = table_query_fields()
    for name in models.TABLES:
        for root in (name, f"{name}_by_pk", f"{name}_aggregate"):
            assert root in fields
        assert str(fields[name].type) == f"[{name}!]!"
        assert set(fields[name].args) == {"where", "order_by", "limit", "offset", "distinct_on"}
        assert str(fields[name].args["order_by"].type) == f"[{name}_order_by!]"
        assert str(fields[f"{name}_by_pk"].args["id"].type) == "uuid!"
    assert fields is not table_query_fields()
    assert fields["flow"] is table_query_fields()["flow"]


def test_columns_have_hasura_scalars_and_relationships():
    flow_run = type_named("flow_run").fields
    assert str(flow_run["id"].type) == "uuid!"
    assert str(flow_run["agent_id"].type) == "uuid"
    assert str(flow_run["scheduled_start_time"].type) == "timestamptz!"
    assert str(flow_run["parameters"].type) == "jsonb"
    assert str(flow_run["version"].type) == "Int!"
    assert str(flow_run["auto_scheduled"].type) == "Boolean!"
    assert str(flow_run["name"].type) == "String"
    assert str(type_named("task").fields["retry_delay"].type) == "interval"
    assert str(flow_run["flow"].type) == "flow"
    assert str(flow_run["task_runs"].type) == "[task_run!]!"
    assert str(flow_run["task_runs_aggregate"].type) == "task_run_aggregate!"
    assert set(flow_run["logs"].args) == {"where", "order_by", "limit", "offset", "distinct_on"}


def test_comparison_and_ordering_types():
    common = {"_eq", "_neq", "_in", "_nin", "_gt", "_gte", "_lt", "_lte", "_is_null"}
    for scalar in ("uuid", "Int", "Boolean", "timestamptz", "interval"):
        assert set(type_named(f"{scalar}_comparison_exp").fields) == common
    assert set(type_named("String_comparison_exp").fields) == common | {
        "_like",
        "_ilike",
        "_nlike",
        "_nilike",
    }
    assert set(type_named("jsonb_comparison_exp").fields) >= common | {
        "_contains",
        "_contained_in",
        "_has_key",
        "_has_keys_any",
        "_has_keys_all",
    }
    bool_exp = type_named("flow_run_bool_exp").fields
    assert str(bool_exp["_and"].type) == "[flow_run_bool_exp!]"
    assert str(bool_exp["_not"].type) == "flow_run_bool_exp"
    assert str(bool_exp["task_runs"].type) == "task_run_bool_exp"
    assert str(bool_exp["flow"].type) == "flow_bool_exp"
    assert str(bool_exp["id"].type) == "uuid_comparison_exp"
    order_by = type_named("order_by")
    assert isinstance(order_by, graphql.GraphQLEnumType)
    assert set(order_by.values) == {
        "asc",
        "asc_nulls_first",
        "asc_nulls_last",
        "desc",
        "desc_nulls_first",
        "desc_nulls_last",
    }
    flow_order = type_named("flow_run_order_by").fields
    assert str(flow_order["flow"].type) == "flow_order_by"
    assert str(flow_order["name"].type) == "order_by"
    assert set(type_named("flow_select_column").values) == set(models.flow.c.keys())


def test_aggregate_types():
    fields = type_named("flow_run_aggregate_fields").fields
    assert str(fields["count"].type) == "Int!"
    assert set(fields["count"].args) == {"columns", "distinct"}
    maximum = type_named("flow_run_max_fields").fields
    assert {"scheduled_start_time", "version", "name"} <= set(maximum)
    assert "parameters" not in maximum
    assert set(type_named("flow_run_aggregate").fields) == {"aggregate", "nodes"}
