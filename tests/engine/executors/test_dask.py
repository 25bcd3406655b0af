"""The 1.x import path `prefect.engine.executors` of the Dask executors: subclasses of the new
classes that warn when constructed, and still work."""

from __future__ import annotations

import os

import pytest

if os.environ.get("CI", "").lower() != "true":  # under CI a missing Dask is a failure
    pytest.importorskip("distributed")

import prefect.executors  # noqa: E402
from prefect import Flow, task  # noqa: E402
from prefect.engine.executors import DaskExecutor, LocalDaskExecutor  # noqa: E402

pytestmark = pytest.mark.timeout(120)  # generous: Dask starts slowly on a loaded machine


def test_the_deprecated_classes_subclass_the_new_ones():
    assert issubclass(DaskExecutor, prefect.executors.DaskExecutor)
    assert issubclass(LocalDaskExecutor, prefect.executors.LocalDaskExecutor)
    assert DaskExecutor is not prefect.executors.DaskExecutor
    assert LocalDaskExecutor is not prefect.executors.LocalDaskExecutor


def test_the_deprecated_dask_executor_warns_on_construction_and_keeps_its_arguments():
    with pytest.warns(UserWarning, match=r"prefect\.executors\.DaskExecutor"):
        executor = DaskExecutor(address="tcp://127.0.0.1:8786", client_kwargs={"timeout": 3})

    assert executor.address == "tcp://127.0.0.1:8786"
    assert executor.client_kwargs["timeout"] == 3


def test_the_deprecated_local_dask_executor_warns_on_construction_and_keeps_its_arguments():
    with pytest.warns(UserWarning, match=r"prefect\.executors\.LocalDaskExecutor"):
        executor = LocalDaskExecutor(scheduler="sync", num_workers=2)

    assert executor.scheduler == "synchronous"
    assert executor.dask_config == {"num_workers": 2}


def test_the_new_classes_do_not_warn(recwarn):
    prefect.executors.LocalDaskExecutor()
    prefect.executors.DaskExecutor(address="tcp://127.0.0.1:8786")
    assert [w for w in recwarn if "moved" in str(w.message)] == []


def test_a_flow_runs_on_the_deprecated_local_dask_executor():
    @task
    def double(x):
        return 2 * x

    with Flow("deprecated") as flow:
        doubled = double.map([1, 2, 3])
    with pytest.warns(UserWarning):
        executor = LocalDaskExecutor(scheduler="threads")

    state = flow.run(executor=executor)

    assert state.is_successful()
    assert [child.result for child in state.result[doubled].map_states] == [2, 4, 6]
