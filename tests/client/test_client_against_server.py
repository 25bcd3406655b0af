"""`prefect.Client` (the 1.x client's requests, protocol §4.1) against our own server process."""

from __future__ import annotations

import pendulum
import pytest

import prefect
from prefect import Flow, Parameter, task
from prefect.engine.state import Running, Scheduled, Submitted, Success
from prefect.exceptions import ClientError
from prefect.storage import Local


@task
def double(x):
    return 2 * x


def _flow() -> Flow:
    with Flow("client-e2e") as flow:
        n = Parameter("n", default=2)
        double(n)
    return flow


@pytest.fixture
def registered(prefect_server, tmp_path):
    client = prefect.Client()
    client.create_project("proj")
    flow = _flow()
    flow.storage = Local(directory=str(tmp_path / "flows"))
    flow_id = flow.register(project_name="proj", no_url=True)
    return client, flow, flow_id


def test_create_project_twice_returns_the_same_id(prefect_server):
    client = prefect.Client()
    first = client.create_project("twice")
    assert client.create_project("twice") == first


def test_register_then_run_a_flow_run_through_its_states(registered):
    client, flow, flow_id = registered
    run_id = client.create_flow_run(flow_id=flow_id, parameters={"n": 3})
    info = client.get_flow_run_info(run_id)
    assert info.parameters == {"n": 3}
    assert isinstance(info.state, Scheduled)
    assert sorted(task_run.task_slug for task_run in info.task_runs) == sorted(
        flow.slugs[t] for t in flow.tasks
    )

    client.set_flow_run_state(run_id, Submitted("Submitted for execution", state=info.state))
    client.set_flow_run_state(run_id, Running("Running"), version=info.version + 1)
    task_id = next(t.task_id for t in info.task_runs if t.task_slug.startswith("double"))
    task_info = client.get_task_run_info(run_id, task_id)
    client.set_task_run_state(task_info.id, Running("go"), version=task_info.version)
    client.set_task_run_state(task_info.id, Success("done"))
    client.write_run_logs(
        [
            {
                "flow_run_id": run_id,
                "task_run_id": task_info.id,
                "name": "prefect.test",
                "level": "INFO",
                "message": "hello",
                "timestamp": pendulum.now("UTC").isoformat(),
            }
        ]
    )
    client.set_flow_run_state(run_id, Success("All reference tasks succeeded."))

    assert isinstance(client.get_flow_run_state(run_id), Success)
    assert isinstance(client.get_task_run_state(task_info.id), Success)
    answer = client.graphql(
        {
            "query": {
                f'flow_run_by_pk(id: "{run_id}")': {
                    "states(order_by: {version: asc})": {"state", "version"},
                    "logs": {"message", "level"},
                }
            }
        }
    )
    run = answer["data"]["flow_run_by_pk"]
    assert [s["state"] for s in run["states"]] == ["Scheduled", "Submitted", "Running", "Success"]
    assert [s["version"] for s in run["states"]] == [1, 2, 3, 4]
    assert run["logs"] == [{"message": "hello", "level": "INFO"}]


def test_mapped_children_are_created_by_map_index(registered):
    client, _flow_obj, flow_id = registered
    run_id = client.create_flow_run(flow_id=flow_id)
    info = client.get_flow_run_info(run_id)
    task_id = info.task_runs[0].task_id
    children = [client.get_task_run_info(run_id, task_id, map_index=i) for i in range(3)]
    assert len({child.id for child in children}) == 3
    assert client.get_task_run_info(run_id, task_id, map_index=1).id == children[1].id


def test_a_second_submitted_state_is_refused_with_the_text_agents_match(registered):
    client, _flow_obj, flow_id = registered
    run_id = client.create_flow_run(flow_id=flow_id)
    scheduled = client.get_flow_run_info(run_id).state
    client.set_flow_run_state(run_id, Submitted("Submitted for execution", state=scheduled))
    with pytest.raises(ClientError, match="State update failed"):
        client.set_flow_run_state(run_id, Submitted("Submitted for execution", state=scheduled))


def test_cancel_and_idempotency_key(registered):
    client, _flow_obj, flow_id = registered
    first = client.create_flow_run(flow_id=flow_id, idempotency_key="same")
    assert client.create_flow_run(flow_id=flow_id, idempotency_key="same") == first
    assert client.cancel_flow_run(first)
    assert type(client.get_flow_run_state(first)).__name__ == "Cancelled"


def test_register_agent_is_deduplicated(prefect_server):
    client = prefect.Client()
    first = client.register_agent(agent_type="LocalAgent", name="a", labels=["x"])
    assert client.register_agent(agent_type="LocalAgent", name="a", labels=["x"]) == first
