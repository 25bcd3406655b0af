"""DaskExecutor's "should run" event (`disable_cancellation_event`): set while a flow run goes on,
cleared when it ends, so work still queued on a shared cluster does not start afterwards."""

from __future__ import annotations

import time
from typing import Any

import dask_tasks as t  # importable by the workers (see test_dask.py)
import pytest

from prefect import Flow
from prefect.executors import DaskExecutor
from prefect.executors import dask as dask_executors

pytestmark = pytest.mark.integration


def test_the_event_is_set_during_the_run_and_cleared_after(dask_cluster: Any) -> None:
    from distributed import Event

    executor = DaskExecutor(address=dask_cluster.scheduler_address)
    with executor.start():
        name = executor._should_run_event
        assert name is not None and name.startswith("prefect-")
        assert Event(name, client=executor.client).is_set()
        assert executor.wait(executor.submit(t.inc.run, 1)) == 2
        client = executor.client
        # Queued work of this run checks the event on the worker before it starts.
        assert client.submit(dask_executors._event_is_set, name).result() is True
    assert executor._should_run_event is None
    from distributed import Client

    with Client(dask_cluster.scheduler_address) as other:
        assert not Event(name, client=other).is_set()
        # Work that starts after the run ended does not run (a worker trusts an event it found
        # set for a second: wait that long).
        time.sleep(dask_executors._EVENT_RECHECK + 0.2)
        calls = other.submit(dask_executors._MaybeRun(name, t.inc.run), 1)
        assert calls.result() is None
        batch = other.submit(dask_executors._run_dask_batch, None, {}, name)
        assert batch.result() is None


def test_a_flow_runs_with_the_event_and_without_it(dask_cluster: Any) -> None:
    for disable in (False, True):
        executor = DaskExecutor(
            address=dask_cluster.scheduler_address, disable_cancellation_event=disable
        )
        with Flow("with or without the event") as flow:
            total = t.total(t.inc.map(list(range(20))))
        state = flow.run(executor=executor)
        assert state.is_successful()
        assert state.result[total].result == sum(range(1, 21))


def test_no_event_when_disabled(dask_cluster: Any) -> None:
    executor = DaskExecutor(address=dask_cluster.scheduler_address, disable_cancellation_event=True)
    with executor.start():
        assert executor._should_run_event is None
        assert executor.wait(executor.submit(t.inc.run, 2)) == 3
