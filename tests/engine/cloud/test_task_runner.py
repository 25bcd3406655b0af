"""`CloudTaskRunner` runs a task locally exactly like `TaskRunner`, holding a `Client`."""

from __future__ import annotations

import prefect
from prefect import task
from prefect.client import Client
from prefect.core import Edge
from prefect.engine.cloud import CloudTaskRunner
from prefect.engine.result import Result
from prefect.engine.signals import LOOP
from prefect.engine.state import Failed, Success, TriggerFailed
from prefect.engine.task_runner import TaskRunner


@task
def double(x: int) -> int:
    return 2 * x


def test_it_is_a_task_runner_with_a_client_and_the_flow_result():
    result = Result()
    runner = CloudTaskRunner(task=double, flow_result=result)
    assert isinstance(runner, TaskRunner)
    assert isinstance(runner.client, Client)
    assert runner.result is result
    assert repr(runner) == "<CloudTaskRunner: double>"


def test_runs_a_task_with_upstream_states_like_the_task_runner():
    upstream = task(lambda: 21)
    edge = Edge(upstream, double, key="x")
    states = {edge: Success(result=21)}
    cloud = CloudTaskRunner(task=double).run(upstream_states=states)
    local = TaskRunner(task=double).run(upstream_states=states)
    assert isinstance(cloud, Success) and cloud.result == local.result == 42
    assert cloud.message == local.message


def test_trigger_and_errors_give_the_task_runner_states():
    upstream = task(lambda: 1)
    failed = {Edge(upstream, double, key="x"): Failed("upstream broke")}
    assert isinstance(CloudTaskRunner(task=double).run(upstream_states=failed), TriggerFailed)

    @task
    def broken() -> None:
        raise KeyError("k")

    state = CloudTaskRunner(task=broken).run()
    assert isinstance(state, Failed) and isinstance(state.result, KeyError)


def test_state_handlers_receive_the_cloud_runner():
    calls: list[str] = []

    def handler(runner, old, new):
        assert isinstance(runner, CloudTaskRunner)
        calls.append(type(new).__name__)

    CloudTaskRunner(task=double, state_handlers=[handler]).run(
        upstream_states={Edge(task(lambda: 1), double, key="x"): Success(result=1)}
    )
    assert calls == ["Running", "Success"]


def test_loops_recurse_through_the_subclass():
    @task
    def loop_twice() -> int:
        count = prefect.context.get("task_loop_count", 1)
        if count < 3:
            raise LOOP(result=count)
        return count

    state = CloudTaskRunner(task=loop_twice).run()
    assert isinstance(state, Success) and state.result == 3
