"""The non-table query fields: hello, api, reference_data, get_task_run_info, mapped_children."""

from __future__ import annotations

from tests.server.graphql._world import (
    STATES_SELECTION,
    input_mutation,
    make_world,
    state,
    task_run_info_mutation,
)

import prefect


async def test_hello_answers_a_non_null_greeting(graphql):
    assert await graphql("query { hello }") == {"data": {"hello": "👋"}}
    assert await graphql("query{hello}") == {"data": {"hello": "👋"}}


async def test_api_describes_this_server(graphql):
    answer = await graphql(
        "query {\n    api {\n        backend\n        mode\n        version\n"
        "        core_version\n        release_timestamp\n    }\n}"
    )
    assert answer == {
        "data": {
            "api": {
                "backend": "SERVER",
                "mode": "normal",
                "version": prefect.__version__,
                "core_version": prefect.__version__,
                "release_timestamp": None,
            }
        }
    }


async def test_reference_data_lists_descendants_and_colors(graphql):
    answer = await graphql("query { reference_data { state_hierarchy state_info } }")
    data = answer["data"]["reference_data"]
    hierarchy, info = data["state_hierarchy"], data["state_info"]
    assert hierarchy["Failed"] == ["Failed", "TimedOut", "TriggerFailed", "ValidationFailed"]
    assert hierarchy["Scheduled"] == ["Scheduled", "Paused", "Resume", "Retrying"]
    assert hierarchy["TimedOut"] == ["TimedOut"]
    assert set(hierarchy["Finished"]) >= {"Success", "Cached", "Mapped", "Skipped", "Cancelled"}
    assert "State" not in hierarchy
    assert info["Success"] == {"color": "#28a745"}
    assert set(info) == set(hierarchy)


async def test_get_task_run_info_reads_a_task_run(graphql, tenant_id, db):
    world = await make_world(graphql, tenant_id, db)
    task_run_id = world["task_runs"][("make_list-1", -1)]
    query = (
        'query {\n    get_task_run_info(task_run_id: "TASK_RUN") {\n        id\n        version\n'
        "        state\n        serialized_state\n    }\n}"
    ).replace("TASK_RUN", task_run_id)
    info = (await graphql(query))["data"]["get_task_run_info"]
    assert info["id"] == task_run_id
    assert info["version"] == 0
    assert info["state"] == "Pending"
    assert info["serialized_state"]["type"] == "Pending"


async def test_get_task_run_info_of_an_unknown_run_is_an_error(graphql):
    answer = await graphql(
        'query { get_task_run_info(task_run_id: "00000000-0000-0000-0000-000000000001") { id } }'
    )
    assert answer["data"] == {"get_task_run_info": None}
    assert answer["errors"][0]["message"] == "Invalid task run ID"


async def test_mapped_children_summarises_the_children_of_a_parent(graphql, tenant_id, db):
    world = await make_world(graphql, tenant_id, db)
    flow_run_id = world["flow_run_id"]
    await graphql(
        input_mutation("set_flow_run_states", STATES_SELECTION),
        {
            "input": {
                "states": [{"flow_run_id": flow_run_id, "version": None, "state": state("Running")}]
            }
        },
    )
    children = []
    for index in range(3):
        mutation = task_run_info_mutation(flow_run_id, world["tasks"]["square-1"], index)
        answer = await graphql(mutation)
        children.append(answer["data"]["get_or_create_task_run_info"]["id"])
    for child, final in zip(children, ["Success", "Success", "Failed"]):
        for new_state in (state("Running"), state(final)):
            answer = await graphql(
                input_mutation("set_task_run_states", STATES_SELECTION),
                {
                    "input": {
                        "states": [{"task_run_id": child, "version": None, "state": new_state}]
                    }
                },
            )
            assert "errors" not in answer, answer
    parent = world["task_runs"][("square-1", -1)]
    answer = await graphql(
        'query { mapped_children(task_run_id: "PARENT") { min_start_time max_end_time '
        "state_counts } }".replace("PARENT", parent)
    )
    summary = answer["data"]["mapped_children"]
    assert summary["state_counts"] == {"Success": 2, "Failed": 1}
    assert summary["min_start_time"] is not None
    assert summary["max_end_time"] >= summary["min_start_time"]
