"""Hasura semantics of the table surface: null collapse, boolean logic, relationship filters,
ordering, distinct_on, limits, nested arguments, aggregates, jsonb/text/interval operators, errors,
and how many statements a nested query costs."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from tests.server.graphql._hasura_factories import (
    World,
    at,
    iso,
    make_world,
    query,
    query_errors,
)

from prefect.server.database import models


@pytest.fixture
async def world(db, tenant_id) -> World:
    return await make_world(db, tenant_id)


async def names(db, arguments: str, table: str = "flow", field: str = "name") -> list:
    data = await query(db, f"query {{ {table}({arguments}) {{ {field} }} }}")
    return [row[field] for row in data[table]]


async def flow_names(db, where: str) -> list[str]:
    return sorted(await names(db, f"where: {where}"), key=str)


ALL_FLOWS = ["etl", "etl", "other", "report"]


async def test_null_operands_and_arguments_are_no_condition(db, world):
    assert await flow_names(db, "null") == ALL_FLOWS
    assert await flow_names(db, "{name: {_eq: null}}") == ALL_FLOWS
    assert (
        await flow_names(db, "{name: {_eq: null, _in: null, _like: null}, _and: null}") == ALL_FLOWS
    )
    assert await flow_names(db, "{project: null, _not: null, _or: null}") == ALL_FLOWS
    args = "distinct_on: null, order_by: null, limit: null, offset: null"
    assert sorted(await names(db, args), key=str) == ALL_FLOWS


async def test_boolean_logic(db, world):
    assert await flow_names(db, "{}") == ALL_FLOWS
    assert await flow_names(db, '{name: {_eq: "etl"}, version: {_eq: 2}}') == ["etl"]
    assert await flow_names(db, '{_and: {name: {_eq: "etl"}, version: {_eq: 2}}}') == ["etl"]
    assert await flow_names(db, '{_and: [{name: {_eq: "etl"}}, {version: {_eq: 1}}]}') == ["etl"]
    assert await flow_names(db, '{_or: [{name: {_eq: "report"}}, {version: {_eq: 2}}]}') == [
        "etl",
        "report",
    ]
    # A branch that collapses to true makes the whole _or true.
    assert (
        await flow_names(db, '{_or: [{name: {_eq: "report"}}, {name: {_eq: null}}]}') == ALL_FLOWS
    )
    assert await flow_names(db, "{_or: []}") == []
    assert await flow_names(db, '{_not: {name: {_eq: "etl"}}}') == ["other", "report"]
    assert await flow_names(db, "{_not: {}}") == []
    assert await flow_names(db, '{name: {_in: ["etl", "report"]}, version: {_neq: 2}}') == [
        "etl",
        "report",
    ]
    assert await flow_names(db, "{name: {_in: []}}") == []
    assert await flow_names(db, "{name: {_nin: []}}") == ALL_FLOWS
    assert await flow_names(db, '{name: {_nin: ["etl"]}}') == ["other", "report"]
    assert await flow_names(db, "{version: {_is_null: true}}") == ["other"]
    assert await flow_names(db, "{version: {_is_null: false, _gt: 1}}") == ["etl"]
    assert await flow_names(db, "{version: {_gte: 1, _lt: 2}}") == ["etl", "report"]
    assert await flow_names(db, "{version: {_lte: 1}}") == ["etl", "report"]


async def test_relationship_filters(db, world):
    assert await flow_names(db, '{project: {name: {_eq: "beta"}}}') == ["report"]
    # Array relationship: at least one related row matches.
    assert await flow_names(db, '{flow_runs: {state: {_eq: "Running"}}}') == ["etl"]
    assert await flow_names(db, "{flow_runs: {}}") == ["etl", "report"]
    assert await flow_names(db, "{_not: {flow_runs: {}}}") == ["etl", "other"]
    assert await flow_names(
        db, '{tasks: {upstream_edges: {upstream_task: {slug: {_eq: "a-1"}}}}}'
    ) == ["etl"]
    data = await query(
        db,
        'query { task_run(where: {flow_run: {flow: {project: {name: {_eq: "alpha"}}}}, '
        'task: {slug: {_eq: "a-1"}}}) { id } }',
    )
    assert sorted(tr["id"] for tr in data["task_run"]) == sorted([world.tr_a, world.tr_done])


async def test_ordering_directions_nulls_and_key_order(db, world):
    assert await names(db, "order_by: {version: asc, name: asc}", field="version") == [
        1,
        1,
        2,
        None,
    ]
    assert await names(db, "order_by: {version: asc_nulls_first}", field="version") == [
        None,
        1,
        1,
        2,
    ]
    assert await names(db, "order_by: {version: desc}", field="version") == [None, 2, 1, 1]
    assert await names(db, "order_by: {version: desc_nulls_last}", field="version") == [
        2,
        1,
        1,
        None,
    ]
    # Keys apply in the order the text writes them, not the column order.
    assert await names(db, "order_by: {version: desc, name: desc}") == [
        "other",
        "etl",
        "report",
        "etl",
    ]
    assert await names(db, "order_by: {name: desc, version: desc}") == [
        "report",
        "other",
        "etl",
        "etl",
    ]
    assert await names(db, "order_by: [{version: desc}, {name: asc}]") == [
        "other",
        "etl",
        "etl",
        "report",
    ]
    # Ordering through an object relationship.
    runs = await names(db, "order_by: [{flow: {name: desc}}, {name: asc}]", table="flow_run")
    assert runs == ["report-run", "done", "running", "sched"]
    runs = await names(
        db, "order_by: [{flow: {project: {name: desc}}}, {created: asc}]", table="flow_run"
    )
    assert runs == ["report-run", "sched", "running", "done"]


async def test_ordering_by_an_array_relationship_aggregate(db, world):
    by_count = "order_by: [{flow_runs_aggregate: {count: desc}}, {created: asc}]"
    data = await query(db, f"query {{ flow({by_count}) {{ id }} }}")
    assert [flow["id"] for flow in data["flow"]] == [
        world.etl_v2,
        world.report,
        world.etl_v1,
        world.other,
    ]
    by_max = "order_by: [{flow_runs_aggregate: {max: {scheduled_start_time: asc}}}, {created: asc}]"
    assert await names(db, by_max) == ["report", "etl", "etl", "other"]


async def test_limit_offset_and_distinct_on(db, world):
    assert await names(db, "order_by: {created: asc}, limit: 2, offset: 1") == ["etl", "report"]
    assert await names(db, "order_by: {created: asc}, offset: 3") == ["other"]
    # distinct_on keeps the first row of each name in the requested order, and the result
    # keeps that order even when it does not start with the distinct column.
    data = await query(
        db, "query { flow(distinct_on: name, order_by: {created: desc}) { name version } }"
    )
    assert data["flow"] == [
        {"name": "other", "version": None},
        {"name": "report", "version": 1},
        {"name": "etl", "version": 2},
    ]
    data = await query(
        db, "query { flow(distinct_on: [name], order_by: {version: asc}) { version } }"
    )
    assert data["flow"] == [{"version": 1}, {"version": 1}, {"version": None}]
    data = await query(db, "query { flow(distinct_on: name) { name } }")
    assert data["flow"] == [{"name": "etl"}, {"name": "other"}, {"name": "report"}]
    data = await query(
        db, "query { flow(distinct_on: name, order_by: {name: asc}, limit: 1, offset: 1) { name } }"
    )
    assert data["flow"] == [{"name": "other"}]


async def test_nested_arguments_apply_per_parent(db, world):
    data = await query(
        db,
        "query { flow(order_by: {created: asc}) { name version "
        "flow_runs(order_by: {scheduled_start_time: asc}, limit: 1, offset: 1) { name } "
        "first: flow_runs(order_by: {scheduled_start_time: asc}, limit: 1) { name } } }",
    )
    assert data["flow"] == [
        {"name": "etl", "version": 1, "flow_runs": [], "first": []},
        {
            "name": "etl",
            "version": 2,
            "flow_runs": [{"name": "running"}],
            "first": [{"name": "done"}],
        },
        {"name": "report", "version": 1, "flow_runs": [], "first": [{"name": "report-run"}]},
        {"name": "other", "version": None, "flow_runs": [], "first": []},
    ]
    data = await query(
        db,
        f'query {{ flow_run(where: {{id: {{_eq: "{world.running_run}"}}}}) {{ '
        "last: task_runs(distinct_on: task_id, order_by: [{task_id: asc}, {map_index: desc}]) { map_index } "
        "top: task_runs(distinct_on: task_id, order_by: {map_index: desc}, limit: 1) { map_index } "
        "children: task_runs(where: {map_index: {_gte: 0}}, order_by: {map_index: desc}, offset: 1) { map_index } "
        "} }",
    )
    (run,) = data["flow_run"]
    assert sorted(tr["map_index"] for tr in run["last"]) == [-1, 2]
    assert run["top"] == [{"map_index": 2}]
    assert run["children"] == [{"map_index": 1}, {"map_index": 0}]


async def test_nested_relationship_filters_and_ordering(db, world):
    data = await query(
        db,
        "query { flow_run(order_by: {created: asc}) { name "
        "task_runs(order_by: [{task: {slug: desc}}, {map_index: asc}], limit: 2) "
        "{ map_index task { slug } } } }",
    )
    assert {run["name"]: run["task_runs"] for run in data["flow_run"]} == {
        "sched": [],
        "running": [
            {"map_index": -1, "task": {"slug": "b-1"}},
            {"map_index": 0, "task": {"slug": "b-1"}},
        ],
        "done": [{"map_index": -1, "task": {"slug": "a-1"}}],
        "report-run": [],
    }
    data = await query(
        db,
        "query { flow(order_by: {created: asc}) { "
        'flow_runs(where: {task_runs: {state: {_eq: "Cached"}}}) { name } } }',
    )
    assert [flow["flow_runs"] for flow in data["flow"]] == [[], [{"name": "running"}], [], []]


async def test_root_aggregates(db, world):
    data = await query(
        db,
        f'query {{ task_run_aggregate(where: {{flow_run_id: {{_eq: "{world.running_run}"}}}}) {{ aggregate {{ '
        "count tasks: count(columns: [task_id], distinct: true) "
        "started: count(columns: [state_start_time]) "
        "both: count(columns: [cache_key, state_start_time]) "
        "pairs: count(columns: [task_id, state_start_time], distinct: true) "
        "max { map_index state_start_time state } min { map_index state } "
        "sum { map_index } avg { map_index } } nodes { map_index } } }",
    )
    result = data["task_run_aggregate"]
    assert result["aggregate"] == {
        "count": 5,
        "tasks": 2,
        "started": 2,
        "both": 0,
        "pairs": 2,
        "max": {
            "map_index": 2,
            "state_start_time": iso(at(hours=2, minutes=1)),
            "state": "Success",
        },
        "min": {"map_index": -1, "state": "Cached"},
        "sum": {"map_index": 1},
        "avg": {"map_index": pytest.approx(0.2)},
    }
    assert sorted(node["map_index"] for node in result["nodes"]) == [-1, -1, 0, 1, 2]
    data = await query(
        db,
        'query { flow_run_aggregate(where: {name: {_eq: "nope"}}) { aggregate { count '
        "max { scheduled_start_time } } nodes { id } } }",
    )
    assert data["flow_run_aggregate"] == {
        "aggregate": {"count": 0, "max": {"scheduled_start_time": None}},
        "nodes": [],
    }
    data = await query(
        db,
        "query { task_run_aggregate(order_by: {map_index: desc}, limit: 2) "
        "{ aggregate { count sum { map_index } } } }",
    )
    assert data["task_run_aggregate"]["aggregate"] == {"count": 2, "sum": {"map_index": 3}}
    data = await query(db, "query { flow_aggregate(distinct_on: name) { aggregate { count } } }")
    assert data["flow_aggregate"]["aggregate"]["count"] == 3


async def test_nested_aggregates_with_aliases_and_nodes(db, world):
    data = await query(
        db,
        "query { flow_run(order_by: {created: asc}) { name "
        'retry_count: states_aggregate(where: {state: {_eq: "Scheduled"}}) { aggregate { count } } '
        "states_aggregate { aggregate { count max { timestamp } } } } }",
    )
    assert data["flow_run"] == [
        {
            "name": "sched",
            "retry_count": {"aggregate": {"count": 1}},
            "states_aggregate": {
                "aggregate": {"count": 1, "max": {"timestamp": iso(at(minutes=1))}}
            },
        },
        {
            "name": "running",
            "retry_count": {"aggregate": {"count": 1}},
            "states_aggregate": {"aggregate": {"count": 3, "max": {"timestamp": iso(at(hours=2))}}},
        },
        {
            "name": "done",
            "retry_count": {"aggregate": {"count": 0}},
            "states_aggregate": {"aggregate": {"count": 0, "max": {"timestamp": None}}},
        },
        {
            "name": "report-run",
            "retry_count": {"aggregate": {"count": 0}},
            "states_aggregate": {"aggregate": {"count": 0, "max": {"timestamp": None}}},
        },
    ]
    data = await query(
        db,
        "query { project(order_by: {name: asc}) { name flows_aggregate(order_by: {created: desc}, limit: 2) "
        "{ aggregate { count distinct: count(columns: [name], distinct: true) } nodes { name } } } }",
    )
    assert data["project"] == [
        {
            "name": "alpha",
            "flows_aggregate": {
                "aggregate": {"count": 2, "distinct": 2},
                "nodes": [{"name": "other"}, {"name": "etl"}],
            },
        },
        {
            "name": "beta",
            "flows_aggregate": {
                "aggregate": {"count": 1, "distinct": 1},
                "nodes": [{"name": "report"}],
            },
        },
    ]


async def test_jsonb_operators(db, world):
    async def groups(where: str) -> list[str]:
        data = await query(db, f"query {{ flow_group(where: {where}) {{ id }} }}")
        return sorted(row["id"] for row in data["flow_group"])

    etl, report = world.etl_group, world.report_group
    assert await groups("{settings: {_contains: {heartbeat_enabled: false}}}") == [etl]
    assert await groups("{settings: {_contains: {heartbeat_enabled: true}}}") == [report]
    assert await groups('{settings: {_contains: {tags: ["y"]}}}') == [etl]
    assert await groups("{settings: {_contains: {nested: {k: 1}}}}") == [etl]
    assert await groups("{settings: {_contains: {nested: {k: 2}}}}") == []
    assert await groups('{settings: {_has_key: "tags"}}') == [etl]
    assert await groups(
        '{settings: {_has_keys_any: ["zz", "tags", "heartbeat_enabled"]}}'
    ) == sorted([etl, report])
    assert await groups('{settings: {_has_keys_all: ["tags", "zz"]}}') == []
    # The third group's settings are {}, which every object contains.
    contained = "{settings: {_contained_in: {heartbeat_enabled: true, extra: 1}, _neq: {}}}"
    assert await groups(contained) == [report]
    assert await groups('{labels: {_eq: ["a"]}}') == [etl]
    assert await groups('{labels: {_contains: "a"}}') == [etl]
    assert await groups("{settings: {_eq: {heartbeat_enabled: true}}}") == [report]
    data = await query(
        db,
        "query($s: jsonb) { flow_group(where: {settings: {_contains: $s}}) { id } }",
        {"s": {"heartbeat_enabled": False}},
    )
    assert data == {"flow_group": [{"id": etl}]}


async def test_text_interval_uuid_and_timestamp_operators(db, world):
    assert await flow_names(db, '{name: {_like: "e%"}}') == ["etl", "etl"]
    assert await flow_names(db, '{name: {_like: "et_"}}') == ["etl", "etl"]
    assert await flow_names(db, '{name: {_like: "O%"}}') == []
    assert await flow_names(db, '{name: {_ilike: "O%"}}') == ["other"]
    assert await flow_names(db, '{name: {_nlike: "%t%"}}') == []
    assert await flow_names(db, '{name: {_nilike: "OTHER"}}') == ["etl", "etl", "report"]
    data = await query(db, 'query { task(where: {retry_delay: {_gte: "0:00:01"}}) { slug } }')
    assert data == {"task": [{"slug": "a-1"}]}
    data = await query(db, 'query { task(where: {retry_delay: {_eq: "0:00:02"}}) { slug } }')
    assert data == {"task": [{"slug": "a-1"}]}
    upper = world.etl_v2.upper()
    assert await flow_names(db, f'{{id: {{_in: ["{upper}"]}}}}') == ["etl"]
    # The same instant written with another offset.
    assert await flow_names(db, '{created: {_gte: "2024-01-02T06:00:00+01:00"}}') == [
        "other",
        "report",
    ]
    assert await flow_names(db, '{created: {_lt: "2024-01-02T04:00:00Z"}}') == ["etl"]


async def test_variables_fragments_directives_and_aliases(db, world):
    data = await query(
        db,
        "query($w: flow_bool_exp, $o: [flow_order_by!], $l: Int, $d: [flow_select_column!], $yes: Boolean!) "
        "{ flow(where: $w, order_by: $o, limit: $l, distinct_on: $d) { ...F "
        "project @include(if: $yes) { name } tasks @skip(if: $yes) { id } } } "
        "fragment F on flow { name ... on flow { v: version } __typename }",
        {
            "w": {"project": {"name": {"_eq": "alpha"}}},
            "o": [{"name": "asc"}, {"version": "desc"}],
            "l": 5,
            "d": ["name"],
            "yes": True,
        },
    )
    assert data["flow"] == [
        {"name": "etl", "v": 2, "__typename": "flow", "project": {"name": "alpha"}},
        {"name": "other", "v": None, "__typename": "flow", "project": {"name": "alpha"}},
    ]
    data = await query(
        db,
        f'query {{ run: flow_run_by_pk(id: "{world.running_run}") {{ '
        "parents: task_runs(where: {map_index: {_eq: -1}}) { id } "
        "children: task_runs(where: {map_index: {_gte: 0}}, order_by: {map_index: asc}) { i: map_index } "
        "f1: flow { name } f2: flow { version } } }",
    )
    run = data["run"]
    assert sorted(tr["id"] for tr in run["parents"]) == sorted([world.tr_a, world.tr_b])
    assert run["children"] == [{"i": 0}, {"i": 1}, {"i": 2}]
    assert run["f1"] == {"name": "etl"} and run["f2"] == {"version": 2}


async def test_invalid_values_are_graphql_errors(db, world):
    assert "Invalid UUID" in await query_errors(
        db, 'query { flow(where: {id: {_eq: "not-a-uuid"}}) { id } }'
    )
    assert "Invalid UUID" in await query_errors(
        db, "query($id: uuid) { flow(where: {id: {_eq: $id}}) { id } }", {"id": "nope"}
    )
    assert "Invalid UUID" in await query_errors(db, 'query { flow_by_pk(id: "x") { id } }')
    assert "Invalid DateTime" in await query_errors(
        db, 'query { flow(where: {created: {_gte: "yesterday-ish"}}) { id } }'
    )
    assert "Invalid interval" in await query_errors(
        db, 'query { task(where: {retry_delay: {_gt: "soon"}}) { id } }'
    )
    assert "negative" in await query_errors(db, "query { flow(limit: -1) { id } }")
    assert "nope" in await query_errors(db, "query { flow(where: {nope: {_eq: 1}}) { id } }")


async def test_one_statement_per_level_and_only_requested_columns(db, world):
    statements: list[str] = []

    def record(_conn, _cursor, statement, _parameters, _context, _many) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    for engine in db.sync_engines:
        sa.event.listen(engine, "before_cursor_execute", record)
    try:
        data = await query(
            db,
            "query { flow_run { id flow { name project { name } } "
            "task_runs(order_by: {map_index: asc}, limit: 2) { task { slug } } "
            "states_aggregate { aggregate { count } } } }",
        )
    finally:
        for engine in db.sync_engines:
            sa.event.remove(engine, "before_cursor_execute", record)
    assert len(data["flow_run"]) == 4
    # flow_run, flow, project, task_run, task, flow_run_state: six levels, six statements.
    assert len(statements) == 6, statements
    root = statements[0]
    assert "parameters" not in root and "serialized_state" not in root


async def test_parent_keys_are_sent_in_chunks(db, world, monkeypatch):
    from prefect.server.graphql import hasura

    monkeypatch.setattr(hasura, "_CHUNK", 1)
    data = await query(
        db,
        "query { flow_run(order_by: {created: asc}) { name flow { name } "
        "task_runs(order_by: {map_index: desc}, limit: 1) { map_index } "
        "states_aggregate { aggregate { count } nodes { state } } } }",
    )
    assert [
        (r["name"], r["flow"]["name"], r["task_runs"], r["states_aggregate"]["aggregate"]["count"])
        for r in data["flow_run"]
    ] == [
        ("sched", "etl", [], 1),
        ("running", "etl", [{"map_index": 2}], 3),
        ("done", "etl", [{"map_index": -1}], 0),
        ("report-run", "report", [], 0),
    ]
    assert data["flow_run"][0]["states_aggregate"]["nodes"] == [{"state": "Scheduled"}]


async def test_repeated_queries_see_new_rows(db, world):
    text = (
        f'query {{ flow_by_pk(id: "{world.report}") {{ '
        "flow_runs(order_by: {name: asc}) { name } flow_runs_aggregate { aggregate { count } } } }"
    )
    first = await query(db, text)
    assert first["flow_by_pk"]["flow_runs"] == [{"name": "report-run"}]
    async with db.write() as conn:
        await conn.execute(
            sa.insert(models.flow_run).values(
                tenant_id=world.tenant, flow_id=world.report, name="another"
            )
        )
    second = await query(db, text)
    assert second["flow_by_pk"] == {
        "flow_runs": [{"name": "another"}, {"name": "report-run"}],
        "flow_runs_aggregate": {"aggregate": {"count": 2}},
    }


async def test_root_aggregate_nodes_follow_order_and_limit(db, world):
    data = await query(
        db,
        "query { flow_run_aggregate(order_by: {created: desc}, limit: 2, offset: 1) "
        "{ nodes { name } aggregate { count max { created } } } }",
    )
    assert data["flow_run_aggregate"] == {
        "nodes": [{"name": "done"}, {"name": "running"}],
        "aggregate": {"count": 2, "max": {"created": iso(at(minutes=3))}},
    }


async def test_a_database_failure_is_a_graphql_error(db, world, monkeypatch):
    from prefect.server.graphql import _hasura_sql, hasura

    def broken_where(self, name, source, exp):
        return sa.text("no_such_column = 1")

    # A statement cache of its own, so the broken statement is forgotten after this test.
    monkeypatch.setattr(hasura, "_STATEMENTS", {})
    monkeypatch.setattr(_hasura_sql.QueryBuilder, "where", broken_where)
    message = await query_errors(db, 'query { flow(where: {name: {_eq: "etl"}}) { id } }')
    assert message.startswith("The database refused the query:")
    assert "no_such_column" in message


async def test_nested_distinct_counts_over_several_columns(db, world):
    data = await query(
        db,
        "query { flow_run(order_by: {created: asc}) { states_aggregate { aggregate { "
        "pairs: count(columns: [state, version], distinct: true) "
        "names: count(columns: [state], distinct: true) } } } }",
    )
    assert [run["states_aggregate"]["aggregate"] for run in data["flow_run"]] == [
        {"pairs": 1, "names": 1},
        {"pairs": 3, "names": 3},
        {"pairs": 0, "names": 0},
        {"pairs": 0, "names": 0},
    ]
