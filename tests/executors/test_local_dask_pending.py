"""LocalDaskExecutor runs recorded calls before `wait` once many are waiting (large maps do not
hold every child's arguments until the end), with the same results."""

from __future__ import annotations

import pytest

import prefect
from prefect import Flow, task
from prefect.executors import LocalDaskExecutor
from prefect.executors import dask as dask_executors


@task
def inc(x: int) -> int:
    return x + 1


@task
def total(xs: list) -> int:
    return sum(xs)


@pytest.mark.parametrize("scheduler", ["threads", "sync"])
def test_a_map_larger_than_the_pending_limit_gives_every_result(
    scheduler: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dask_executors, "_MAX_PENDING_CALLS", 7)
    runs: list[int] = []
    original = LocalDaskExecutor._run_pending

    def counting(self: LocalDaskExecutor) -> None:
        runs.append(len(self._pending))
        original(self)

    monkeypatch.setattr(LocalDaskExecutor, "_run_pending", counting)
    with Flow("many") as flow:
        doubled = inc.map(inc.map(list(range(30))))
        result = total(doubled)
    state = flow.run(executor=LocalDaskExecutor(scheduler=scheduler))
    assert state.is_successful()
    assert state.result[result].result == sum(x + 2 for x in range(30))
    assert [s.result for s in state.result[doubled].map_states] == [x + 2 for x in range(30)]
    # Calls ran in groups of the limit before the flow runner waited on them.
    assert runs.count(7) >= 8
    assert max(runs) <= 7


def test_a_submission_that_reaches_the_limit_runs_what_is_recorded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(dask_executors, "_MAX_PENDING_CALLS", 3)
    executor = LocalDaskExecutor(scheduler="sync")
    calls: list[int] = []
    with executor.start():
        futures = [executor.submit(calls.append, i) for i in range(2)]
        assert calls == []  # below the limit: recorded only
        futures.append(executor.submit(calls.append, 2))
        assert sorted(calls) == [0, 1, 2]  # independent calls: any order
        assert executor.wait(futures) == [None, None, None]
    assert prefect.context.get("map_index") is None


@pytest.mark.parametrize("scheduler", ["threads", "sync"])
def test_a_submission_computed_on_its_own_waits_on_the_executor(scheduler: str) -> None:
    import dask

    executor = LocalDaskExecutor(scheduler=scheduler)
    with executor.start():
        first = executor.submit(lambda: 41, extra_context={"task_name": "first"})
        second = executor.submit(lambda x: x + 1, first, extra_context={"task_name": "second"})
        assert first.key.startswith("first-")
        assert dask.compute(second) == (42,)
        assert first.compute() == 41
        assert executor.wait([first, second]) == [41, 42]
