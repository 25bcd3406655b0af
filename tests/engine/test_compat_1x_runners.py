"""Runner behaviours of Prefect 1.4.1 that this implementation does not match yet.

Each test asserts what 1.4.1 does and is marked `xfail(strict=True)`; drop the mark once the
runner is fixed.
"""

from __future__ import annotations

import datetime
import warnings
from typing import Any

import pytest

import prefect
from prefect import Flow, Task, task
from prefect.core import Edge
from prefect.engine.flow_runner import FlowRunner, run_task
from prefect.engine.result import Result
from prefect.engine.runner import ENDRUN
from prefect.engine.state import Mapped, Pending, Success
from prefect.engine.task_runner import TaskRunner
from prefect.executors import LocalExecutor


def test_flow_runner_with_return_tasks_not_in_flow_returns_failed_state():
    flow = Flow("f")
    flow.add_task(Task())
    state = FlowRunner(flow=flow).run(return_tasks=[Task()])
    assert state.is_failed()


def test_flow_runner_keeps_a_snapshot_of_the_context():
    with prefect.context(marker="yes"):
        runner = FlowRunner(flow=Flow("f"))
    assert runner.context["marker"] == "yes"


def test_flow_run_rejects_return_tasks_keyword():
    flow = Flow("f")
    t = Task()
    flow.add_task(t)
    with pytest.raises(ValueError, match="return_tasks"):
        flow.run(return_tasks=[t])


def test_flow_run_while_loading_flow_warns_and_returns_none():
    calls: list[int] = []

    @task
    def record() -> None:
        calls.append(1)

    with Flow("f") as flow:
        record()
    with prefect.context(loading_flow=True), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        state = flow.run()
    assert state is None
    assert calls == []
    assert any("flow.run" in str(w.message) for w in caught)


class _ExtraContextExecutor(LocalExecutor):
    def __init__(self) -> None:
        super().__init__()
        self.extra_contexts: list[dict | None] = []

    def submit(self, fn: Any, *args: Any, extra_context: dict | None = None, **kwargs: Any) -> Any:
        self.extra_contexts.append(extra_context)
        return fn(*args, **kwargs)


def test_executor_extra_context_has_task_name_tags_and_index():
    @task(tags=["dask-resource:GPU=1"])
    def inc(x: int) -> int:
        return x + 1

    with Flow("f") as flow:
        inc.map([1, 2])
    executor = _ExtraContextExecutor()
    flow.run(executor=executor)
    task_contexts = [c for c in executor.extra_contexts if c and c.get("task_name") == "inc"]
    assert [c["task_index"] for c in task_contexts] == [None, 0, 1]
    assert all(c["task_tags"] == {"dask-resource:GPU=1"} for c in task_contexts)


def test_run_task_builds_the_task_runner_inside_the_task_context():
    seen: dict[str, Any] = {}

    class RecordingTaskRunner(TaskRunner):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            seen["map_index"] = prefect.context.get("map_index")
            super().__init__(*args, **kwargs)
            seen["snapshot"] = self.context.get("task_slug")

    t = Task()
    run_task(
        task=t,
        state=Pending(),
        upstream_states={},
        context={"map_index": 3, "task_slug": "t-1"},
        flow_result=Result(),
        task_runner_cls=RecordingTaskRunner,
        task_runner_state_handlers=[],
        upstream_mapped_states={},
    )
    assert seen == {"map_index": 3, "snapshot": "t-1"}


def test_check_task_ready_to_map_on_mapped_state_with_children_sets_cached_inputs():
    upstream, downstream = Task(), Task()
    edge = Edge(upstream, downstream, key="x", mapped=True)
    upstream_state = Success(result=[1, 2])
    runner = TaskRunner(downstream)
    with pytest.raises(ENDRUN) as exc:
        runner.check_task_ready_to_map(
            Mapped(map_states=[Success(), Success()]), upstream_states={edge: upstream_state}
        )
    assert exc.value.state.is_mapped()
    assert exc.value.state.cached_inputs == {"x": upstream_state._result}


def test_cached_mapped_children_are_reused_by_the_next_flow_run():
    calls: list[int] = []

    @task(cache_for=datetime.timedelta(hours=1))
    def double(x: int) -> int:
        calls.append(x)
        return 2 * x

    with Flow("f") as flow:
        result = double.map([1, 2])
    with prefect.context(caches={}):
        first = flow.run()
        second = flow.run()
    assert first.is_successful() and second.is_successful()
    assert calls == [1, 2]
    assert all(child.is_cached() for child in second.result[result].map_states)
