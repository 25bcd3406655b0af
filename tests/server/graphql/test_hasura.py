"""The table surface answers every table query the 1.4.1 client sends (protocol §4.7), written as
the client writes them: inline literals, objects where lists are expected, null filters."""

from __future__ import annotations

import pytest
from tests.server.graphql._hasura_factories import World, at, iso, make_world, query


@pytest.fixture
async def world(db, tenant_id) -> World:
    return await make_world(db, tenant_id)


async def test_tenant_queries_list_order_and_filter_tenants(db, world):
    assert await query(db, "query { tenant { id } }") == {"tenant": [{"id": world.tenant}]}
    data = await query(db, "query { tenant(order_by: {slug: asc}) { id slug name } }")
    assert data == {"tenant": [{"id": world.tenant, "slug": "default", "name": "default"}]}
    data = await query(db, f'query {{ tenant(where: {{id: {{_eq: "{world.tenant}"}}}}) {{ id }} }}')
    assert data == {"tenant": [{"id": world.tenant}]}
    data = await query(db, 'query { tenant(where: {slug: {_eq: "nope"}}) { id } }')
    assert data == {"tenant": []}


async def test_project_by_name_for_register_and_create_project(db, world):
    data = await query(
        db, 'query {\n    project(where: {name: {_eq: "alpha"}}) {\n        id\n    }\n}'
    )
    assert data == {"project": [{"id": world.alpha}]}


async def test_get_projects_counts_distinct_flow_names_with_null_collapse(db, world):
    data = await query(
        db,
        "query { project(where: {_and: {name: {_eq: null}}}, order_by: {name: asc}) "
        "{ name created description flows_aggregate(distinct_on: name) { aggregate { count } } } }",
    )
    assert data == {
        "project": [
            {
                "name": "alpha",
                "created": iso(at()),
                "description": "first",
                # etl v1, etl v2 and other: two distinct names.
                "flows_aggregate": {"aggregate": {"count": 2}},
            },
            {
                "name": "beta",
                "created": iso(at(minutes=1)),
                "description": None,
                "flows_aggregate": {"aggregate": {"count": 1}},
            },
        ]
    }


async def test_register_finds_the_latest_version_with_an_and_object(db, world):
    data = await query(
        db,
        f'query {{ flow(where: {{_and: {{name: {{_eq: "etl"}}, project: {{id: {{_eq: "{world.alpha}"}}}}}}}}, '
        "order_by: {version: desc}, limit: 1) { id version } }",
    )
    assert data == {"flow": [{"id": world.etl_v2, "version": 2}]}


async def test_get_flows_keeps_the_newest_version_per_name(db, world):
    text = (
        "query { flow(where: {_and: {name: {_eq: null}, version: {_eq: null}, "
        "project: {name: {_eq: null}}}}, order_by: {name: asc, version: desc}, "
        "distinct_on: %s, limit: 10) { name version created id project { name } } }"
    )
    data = await query(db, text % "name")
    assert data == {
        "flow": [
            {
                "name": "etl",
                "version": 2,
                "created": iso(at(hours=1)),
                "id": world.etl_v2,
                "project": {"name": "alpha"},
            },
            {
                "name": "other",
                "version": None,
                "created": iso(at(hours=3)),
                "id": world.other,
                "project": {"name": "alpha"},
            },
            {
                "name": "report",
                "version": 1,
                "created": iso(at(hours=2)),
                "id": world.report,
                "project": {"name": "beta"},
            },
        ]
    }
    # --all-versions sends distinct_on: null.
    data = await query(db, text % "null")
    assert [(f["name"], f["version"]) for f in data["flow"]] == [
        ("etl", 2),
        ("etl", 1),
        ("other", None),
        ("report", 1),
    ]


async def test_get_flows_with_a_project_filter(db, world):
    data = await query(
        db,
        'query { flow(where: {_and: {name: {_eq: "etl"}, version: {_eq: 1}, '
        'project: {name: {_eq: "alpha"}}}}, order_by: {name: asc, version: desc}, '
        "distinct_on: name, limit: 10) { id } }",
    )
    assert data == {"flow": [{"id": world.etl_v1}]}


async def test_flow_view_queries(db, world):
    selection = (
        "{ id settings run_config serialized_flow name archived project { name } core_version "
        "storage flow_group { labels } }"
    )
    data = await query(
        db, f'query {{ flow(where: {{id: {{_eq: "{world.etl_v2}"}}}}) {selection} }}'
    )
    assert data["flow"] == [
        {
            "id": world.etl_v2,
            "settings": {"heartbeat_enabled": True},
            "run_config": None,
            "serialized_flow": None,
            "name": "etl",
            "archived": False,
            "project": {"name": "alpha"},
            "core_version": "1.4.1",
            "storage": {"type": "Local"},
            "flow_group": {"labels": ["a"]},
        }
    ]
    data = await query(
        db,
        f'query {{ flow(where: {{flow_group_id: {{_eq: "{world.etl_group}"}}}}, '
        "order_by: {created: desc}) { id } }",
    )
    assert data == {"flow": [{"id": world.etl_v2}, {"id": world.etl_v1}]}
    data = await query(
        db,
        'query { flow(where: {name: {_eq: "etl"}, archived: {_eq: false}, '
        'project: {name: {_eq: "alpha"}}}, order_by: {created: desc}) { id } }',
    )
    assert data == {"flow": [{"id": world.etl_v2}]}
    # No project given: the client asks for a project without a name, which never exists.
    data = await query(
        db,
        'query { flow(where: {name: {_eq: "etl"}, archived: {_eq: false}, '
        "project: {name: {_is_null: true}}}, order_by: {created: desc}) { id } }",
    )
    assert data == {"flow": []}


async def test_flow_by_pk_gives_the_row_or_null(db, world):
    data = await query(db, f'query {{ flow_by_pk(id: "{world.etl_v2}") {{ flow_group_id }} }}')
    assert data == {"flow_by_pk": {"flow_group_id": world.etl_group}}
    missing = "6f1e8a3c-0000-4000-8000-000000000000"
    data = await query(db, f'query {{ flow_by_pk(id: "{missing}") {{ id }} }}')
    assert data == {"flow_by_pk": None}


async def test_get_flow_run_info(db, world):
    data = await query(
        db,
        f'query {{ flow_run_by_pk(id: "{world.running_run}") {{ id name flow_id parameters '
        "context version scheduled_start_time serialized_state "
        "task_runs(where: {map_index: {_eq: -1}}) { id task { id slug } version serialized_state } "
        "flow { project { name id } } } }",
    )
    run = data["flow_run_by_pk"]
    assert run["id"] == world.running_run
    assert run["flow_id"] == world.etl_v2
    assert run["parameters"] == {}
    assert run["context"] is None
    assert run["version"] == 3
    assert run["scheduled_start_time"] == iso(at(hours=2))
    assert run["serialized_state"]["type"] == "Running"
    assert run["flow"] == {"project": {"name": "alpha", "id": world.alpha}}
    task_runs = sorted(run["task_runs"], key=lambda tr: tr["task"]["slug"])
    assert [(tr["id"], tr["task"]) for tr in task_runs] == [
        (world.tr_a, {"id": world.task_a, "slug": "a-1"}),
        (world.tr_b, {"id": world.task_b, "slug": "b-1"}),
    ]
    assert task_runs[0]["serialized_state"]["type"] == "Running"


async def test_flow_run_state_and_settings_by_pk(db, world):
    data = await query(
        db,
        f'query {{ flow_run_by_pk(id: "{world.done_run}") {{ serialized_state flow {{ settings }} }} }}',
    )
    assert data["flow_run_by_pk"]["serialized_state"]["type"] == "Success"
    assert data["flow_run_by_pk"]["flow"] == {"settings": {"heartbeat_enabled": True}}


async def test_execute_flow_run_query(db, world):
    data = await query(
        db,
        f'query {{ flow_run(where: {{id: {{_eq: "{world.running_run}"}}}}) '
        "{ flow { name storage run_config } version } }",
    )
    assert data == {
        "flow_run": [
            {
                "flow": {"name": "etl", "storage": {"type": "Local"}, "run_config": None},
                "version": 3,
            }
        ]
    }


async def test_agent_flow_run_metadata_query(db, world):
    now_minus_3s = iso(at(hours=2, seconds=30))
    ids = ", ".join(
        f'"{i}"' for i in (world.scheduled_run, world.running_run, world.done_run, world.report_run)
    )
    data = await query(
        db,
        f'query {{\n    flow_run(where: {{id: {{_in: [{ids}]}}, _or: [{{state: {{_eq: "Scheduled"}}}}, '
        f'{{state: {{_eq: "Running"}}, task_runs: {{state_start_time: {{_lte: "{now_minus_3s}"}}}}}}]}}) {{\n'
        "        id\n        version\n        state\n        serialized_state\n        parameters\n"
        "        scheduled_start_time\n        run_config\n        name\n"
        "        flow {\n            id\n            name\n            environment\n"
        "            storage\n            version\n            core_version\n        }\n"
        f'        task_runs(where: {{state_start_time: {{_lte: "{now_minus_3s}"}}}}) {{\n'
        "            id\n            version\n            task_id\n            serialized_state\n"
        "        }\n    }\n}",
    )
    runs = {run["id"]: run for run in data["flow_run"]}
    assert set(runs) == {world.scheduled_run, world.running_run, world.report_run}
    scheduled = runs[world.scheduled_run]
    assert scheduled["parameters"] == {"x": 1}
    assert scheduled["serialized_state"]["start_time"] == iso(at(days=1))
    assert scheduled["flow"] == {
        "id": world.etl_v2,
        "name": "etl",
        "environment": None,
        "storage": {"type": "Local"},
        "version": 2,
        "core_version": "1.4.1",
    }
    assert scheduled["task_runs"] == []
    running = runs[world.running_run]
    # Only the task runs that started by the cutoff (2h 30s): tr_a (2h), not tr_b0 (2h 1m).
    assert [tr["id"] for tr in running["task_runs"]] == [world.tr_a]
    assert running["task_runs"][0]["task_id"] == world.task_a
    assert running["task_runs"][0]["version"] == 2


async def test_flow_run_view_query_with_states(db, world):
    data = await query(
        db,
        f'query {{ flow_run(where: {{id: {{_eq: "{world.running_run}"}}}}) {{ id name flow_id '
        "serialized_state states { timestamp serialized_state } labels parameters context updated "
        "run_config } }",
    )
    (run,) = data["flow_run"]
    assert run["labels"] == []
    assert sorted(s["timestamp"] for s in run["states"]) == [
        iso(at(minutes=2)),
        iso(at(minutes=3)),
        iso(at(hours=2)),
    ]


async def test_flow_run_view_get_logs(db, world):
    end = iso(at(hours=2, seconds=2))
    template = (
        f'query {{ flow_run(where: {{id: {{_eq: "{world.running_run}"}}}}) {{ '
        'logs(order_by: {timestamp: asc}, where: {_and: [{timestamp: {_lte: "%s"}}, %s]}) '
        "{ timestamp message level } } }"
    )
    data = await query(db, template % (end, "{}"))
    assert data["flow_run"][0]["logs"] == [
        {"timestamp": iso(at(hours=2, seconds=1)), "message": "m1", "level": "INFO"},
        {"timestamp": iso(at(hours=2, seconds=2)), "message": "m2", "level": "INFO"},
    ]
    start = iso(at(hours=2, seconds=1))
    data = await query(db, template % (end, f'{{timestamp: {{_gt: "{start}"}}}}'))
    assert [log["message"] for log in data["flow_run"][0]["logs"]] == ["m2"]


async def test_task_run_view_queries(db, world):
    data = await query(
        db,
        f'query {{ task_run(where: {{map_index: {{_eq: -1}}, flow_run_id: {{_eq: "{world.running_run}"}}, '
        f'id: {{_nin: ["{world.tr_a}"]}}}}) {{ id name task {{ id slug }} map_index serialized_state flow_run_id }} }}',
    )
    assert [tr["id"] for tr in data["task_run"]] == [world.tr_b]
    assert data["task_run"][0]["task"] == {"id": world.task_b, "slug": "b-1"}
    # An empty _nin is no restriction.
    data = await query(
        db,
        f'query {{ task_run(where: {{flow_run_id: {{_eq: "{world.running_run}"}}, id: {{_nin: []}}}}) {{ id }} }}',
    )
    assert len(data["task_run"]) == 5
    data = await query(db, "query { task_run(where: {id: {_nin: []}}) { id } }")
    assert len(data["task_run"]) == 6
    # Mapped children by slug, ordered by map_index.
    data = await query(
        db,
        f'query {{ task_run(where: {{task: {{slug: {{_eq: "b-1"}}}}, flow_run_id: {{_eq: "{world.running_run}"}}, '
        "map_index: {_neq: -1}}, order_by: {map_index: asc}) { id map_index } }",
    )
    assert data["task_run"] == [
        {"id": world.tr_b0, "map_index": 0},
        {"id": world.tr_b1, "map_index": 1},
        {"id": world.tr_b2, "map_index": 2},
    ]


async def test_get_latest_cached_states(db, world):
    since = iso(at(hours=1))
    for key_filter in ('cache_key: {_eq: "k"}', f'task_id: {{_eq: "{world.task_b}"}}'):
        data = await query(
            db,
            f'query {{ task_run(where: {{state: {{_eq: "Cached"}}, state_timestamp: {{_gte: "{since}"}}, '
            f"{key_filter}}}, order_by: {{state_timestamp: desc}}, limit: 100) {{ serialized_state }} }}",
        )
        assert data == {
            "task_run": [
                {
                    "serialized_state": {
                        "type": "Cached",
                        "message": None,
                        "start_time": None,
                        "__version__": "1.4.1",
                    }
                }
            ]
        }
    later = iso(at(hours=3))
    data = await query(
        db,
        f'query {{ task_run(where: {{state: {{_eq: "Cached"}}, state_timestamp: {{_gte: "{later}"}}}}) {{ id }} }}',
    )
    assert data == {"task_run": []}


async def test_backend_execution_queries(db, world):
    data = await query(
        db,
        f'query {{ flow_run(where: {{id: {{_eq: "{world.running_run}"}}}}) {{ '
        'states(where: {state: {_eq: "Scheduled"}}) { start_time created } scheduled_start_time } }',
    )
    (run,) = data["flow_run"]
    assert run["scheduled_start_time"] == iso(at(hours=2))
    assert [s["start_time"] for s in run["states"]] == [iso(at(days=1))]
    data = await query(
        db,
        f'query {{ task_run(where: {{state_start_time: {{_is_null: false}}, flow_run_id: {{_eq: "{world.running_run}"}}, '
        'flow_run: {state: {_eq: "Running"}}}) { state_start_time } }',
    )
    assert sorted(tr["state_start_time"] for tr in data["task_run"]) == [
        iso(at(hours=2)),
        iso(at(hours=2, minutes=1)),
    ]
    data = await query(
        db,
        f'query {{ task_run(where: {{state_start_time: {{_is_null: false}}, flow_run_id: {{_eq: "{world.done_run}"}}, '
        'flow_run: {state: {_eq: "Running"}}}) { state_start_time } }',
    )
    assert data == {"task_run": []}


async def test_get_flow_runs_default_and_started(db, world):
    data = await query(
        db,
        "query { flow_run(where: {flow: {_and: {name: {_eq: null}, project: {name: {_eq: null}}}}}, "
        "limit: 10, order_by: {created: desc}) { flow { name } id created state name start_time } }",
    )
    assert [run["name"] for run in data["flow_run"]] == ["report-run", "done", "running", "sched"]
    assert data["flow_run"][0]["flow"] == {"name": "report"}
    data = await query(
        db,
        'query { flow_run(where: {_and: {flow: {_and: {name: {_eq: "etl"}, project: {name: {_eq: null}}}}, '
        "start_time: {_is_null: false}}}, limit: 10, order_by: {start_time: desc}) { name start_time } }",
    )
    assert data == {
        "flow_run": [
            {"name": "running", "start_time": iso(at(hours=2))},
            {"name": "done", "start_time": iso(at(hours=1))},
        ]
    }
    data = await query(
        db,
        'query { flow_run(where: {flow: {_and: {name: {_eq: null}, project: {name: {_eq: "beta"}}}}}, '
        "limit: 1, order_by: {created: desc}) { name } }",
    )
    assert data == {"flow_run": [{"name": "report-run"}]}


async def test_get_tasks(db, world):
    data = await query(
        db,
        'query { task(where: {_and: {name: {_eq: null}, flow: {name: {_eq: "etl"}, version: {_eq: null}, '
        "project: {name: {_eq: null}}}}}, limit: 10, order_by: {created: desc}) "
        "{ name created flow { name version } mapped type } }",
    )
    assert data == {
        "task": [
            {
                "name": "b",
                "created": iso(at(minutes=6)),
                "flow": {"name": "etl", "version": 2},
                "mapped": True,
                "type": "prefect.Task",
            },
            {
                "name": "a",
                "created": iso(at(minutes=5)),
                "flow": {"name": "etl", "version": 2},
                "mapped": False,
                "type": "prefect.Task",
            },
        ]
    }


async def test_get_logs_by_run_name(db, world):
    data = await query(
        db,
        'query { flow_run(where: {name: {_eq: "running"}, id: {_eq: null}}, order_by: {start_time: desc}) '
        "{ logs(order_by: {timestamp: asc}) { timestamp info } start_time } }",
    )
    (run,) = data["flow_run"]
    assert [log["info"] for log in run["logs"]] == [{"n": 2}, {"n": 1}, {"n": 0}]


async def test_describe_flows_and_tasks(db, world):
    data = await query(
        db,
        'query { flow(where: {_and: {name: {_eq: "etl"}, version: {_eq: null}, project: {name: {_eq: null}}}}, '
        "order_by: {name: asc, version: desc}, distinct_on: name) { name version project { name } "
        "created description parameters archived storage environment "
        "tasks(order_by: {slug: asc}) { name created slug description type max_retries retry_delay mapped } } }",
    )
    (flow,) = data["flow"]
    assert flow["version"] == 2
    assert flow["parameters"] == [{"name": "x", "required": False}]
    assert flow["tasks"] == [
        {
            "name": "a",
            "created": iso(at(minutes=5)),
            "slug": "a-1",
            "description": None,
            "type": "prefect.Task",
            "max_retries": 1,
            "retry_delay": "0:00:02",
            "mapped": False,
        },
        {
            "name": "b",
            "created": iso(at(minutes=6)),
            "slug": "b-1",
            "description": None,
            "type": "prefect.Task",
            "max_retries": None,
            "retry_delay": None,
            "mapped": True,
        },
    ]


async def test_describe_flow_runs(db, world):
    data = await query(
        db,
        'query { flow_run(where: {_and: {name: {_eq: "done"}, flow: {name: {_eq: "etl"}}}}) { name flow { name } '
        "created parameters auto_scheduled scheduled_start_time start_time end_time serialized_state } }",
    )
    (run,) = data["flow_run"]
    assert run["end_time"] == iso(at(hours=1, minutes=5))
    assert run["auto_scheduled"] is False


async def test_agent_and_agent_config_queries(db, world):
    data = await query(db, "query { agent { last_queried labels name id } }")
    assert data == {
        "agent": [
            {"last_queried": iso(at()), "labels": ["a"], "name": "agent-1", "id": world.agent}
        ]
    }
    data = await query(
        db,
        f'query {{ agent_config(where: {{id: {{_eq: "{world.agent_config}"}}}}) {{ settings }} }}',
    )
    assert data == {"agent_config": [{"settings": {"s": 1}}]}


async def test_start_flow_run_task_lookup(db, world):
    data = await query(
        db,
        'query { flow(where: {name: {_eq: "etl"}, archived: {_eq: false}, project: {name: {_eq: "alpha"}}}, '
        "order_by: {version: desc}, limit: 1) { id } }",
    )
    assert data == {"flow": [{"id": world.etl_v2}]}


async def test_scheduler_max_scheduled_start_time_aggregate(db, world):
    data = await query(
        db,
        f'query {{ flow(where: {{id: {{_eq: "{world.etl_v2}"}}}}) {{ '
        'flow_runs_aggregate(where: {state: {_eq: "Scheduled"}}) { aggregate { max { scheduled_start_time } count } } } }',
    )
    assert data == {
        "flow": [
            {
                "flow_runs_aggregate": {
                    "aggregate": {"max": {"scheduled_start_time": iso(at(days=1))}, "count": 1}
                }
            }
        ]
    }
