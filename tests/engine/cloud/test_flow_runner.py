"""`CloudFlowRunner` runs a flow locally exactly like `FlowRunner`, with `CloudTaskRunner`s."""

from __future__ import annotations

import datetime

import pytest

import prefect
from prefect import Flow, Parameter, task
from prefect.client import Client
from prefect.engine.cloud import CloudFlowRunner, CloudTaskRunner
from prefect.engine.flow_runner import FlowRunner
from prefect.engine.signals import LOOP
from prefect.engine.state import Failed, Mapped, Retrying, Success
from prefect.utilities.configuration import set_temporary_config


@task
def inc(x: int) -> int:
    return x + 1


@task
def total(xs: list) -> int:
    return sum(xs)


@task
def boom() -> None:
    raise ValueError("no")


def mapped_flow() -> Flow:
    with Flow("cloud-local") as flow:
        n = Parameter("n", default=3)
        numbers = inc.map(list(range(3)))
        total(numbers)
        inc(n)
    return flow


def results(state: prefect.engine.state.State) -> list[tuple[str, str]]:
    """(task name, result) of every unmapped task, sorted."""
    return sorted(
        (task.name, repr(s.result)) for task, s in state.result.items() if not isinstance(s, Mapped)
    )


def test_cloud_flow_runner_is_a_flow_runner_with_a_client_and_cloud_task_runners():
    runner = CloudFlowRunner(flow=mapped_flow())
    assert isinstance(runner, FlowRunner)
    assert isinstance(runner.client, Client)
    assert runner.task_runner_cls is CloudTaskRunner
    assert repr(runner) == "<CloudFlowRunner: cloud-local>"


def test_it_gives_the_same_states_as_the_flow_runner(executor):
    flow = mapped_flow()
    cloud = CloudFlowRunner(flow=flow).run(
        return_tasks=flow.tasks, parameters={"n": 10}, executor=executor
    )
    local = FlowRunner(flow=flow).run(return_tasks=flow.tasks, parameters={"n": 10})
    assert isinstance(cloud, Success) and cloud.message == local.message
    assert results(cloud) == results(local)
    assert sorted((t.name, type(s).__name__) for t, s in cloud.result.items()) == sorted(
        (t.name, type(s).__name__) for t, s in local.result.items()
    )
    assert results(cloud) == [
        ("Constant[list]", "[0, 1, 2]"),
        ("inc", "11"),
        ("n", "10"),
        ("total", "6"),
    ]


def test_every_task_run_is_made_by_a_cloud_task_runner():
    flow = mapped_flow()
    runners: list[object] = []

    def record(runner, old, new):
        runners.append(runner)

    state = CloudFlowRunner(flow=flow).run(
        return_tasks=flow.tasks, task_runner_state_handlers=[record]
    )
    assert state.is_successful()
    # Parameter, 3 children + their parent, the list constant feeding the map, total, inc.
    assert runners and all(isinstance(r, CloudTaskRunner) for r in runners)
    assert {r.task.name for r in runners} >= {"n", "inc", "total"}


def test_flow_state_handlers_see_the_cloud_runner_transitions():
    seen: list[tuple[str, str]] = []

    def handler(runner, old, new):
        assert isinstance(runner, CloudFlowRunner)
        seen.append((type(old).__name__, type(new).__name__))

    with Flow("h") as flow:
        inc(1)
    CloudFlowRunner(flow=flow, state_handlers=[handler]).run()
    assert seen == [("Pending", "Running"), ("Running", "Success")]


def test_failures_and_retries_end_the_same_way():
    with Flow("f") as flow:
        boom()
    state = CloudFlowRunner(flow=flow).run(return_tasks=flow.tasks)
    assert isinstance(state, Failed)
    (task_state,) = state.result.values()
    assert isinstance(task_state, Failed) and "ValueError('no')" in task_state.message

    @task(max_retries=1, retry_delay=datetime.timedelta(minutes=5))
    def flaky() -> None:
        raise RuntimeError("again")

    with Flow("r") as retry_flow:
        flaky()
    state = CloudFlowRunner(flow=retry_flow).run(return_tasks=retry_flow.tasks)
    assert state.is_running()
    assert isinstance(next(iter(state.result.values())), Retrying)


def test_looping_tasks_run_every_iteration():
    @task
    def count_to_three() -> int:
        loop = prefect.context.get("task_loop_result", 0)
        if loop < 3:
            raise LOOP(result=loop + 1)
        return loop

    with Flow("loop") as flow:
        count_to_three()
    state = CloudFlowRunner(flow=flow).run(return_tasks=flow.tasks)
    assert next(iter(state.result.values())).result == 3


def test_flow_run_uses_it_as_runner_class_and_from_config():
    flow = mapped_flow()
    state = flow.run(runner_cls=CloudFlowRunner)
    assert state.is_successful()
    with set_temporary_config(
        {"engine.flow_runner.default_class": "prefect.engine.cloud.CloudFlowRunner"}
    ):
        assert prefect.engine.get_default_flow_runner_class() is CloudFlowRunner
        assert flow.run().is_successful()


@pytest.mark.parametrize("name", ["CloudFlowRunner", "CloudTaskRunner"])
def test_runners_log_under_their_own_names(name, caplog):
    with Flow("logs") as flow:
        inc(1)
    with caplog.at_level("DEBUG", logger="prefect"):
        CloudFlowRunner(flow=flow).run()
    assert any(record.name == f"prefect.{name}" for record in caplog.records)
