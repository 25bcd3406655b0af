"""Fixtures of the executor tests: one real Dask `LocalCluster` per test session (per xdist
worker), and an `executor` fixture running a test on every executor.

Task runs on process-based executors happen in spawned processes, which unpickle the tasks and
import what they refer to by module name. The tasks those tests use live in the plain module
`dask_tasks` next to this file; this directory goes on `sys.path` here, before any cluster or
process pool is started, and spawned children copy the parent's `sys.path`, so they import
`dask_tasks` as the parent does. (Test modules are imported by pytest under names that child
processes cannot import, so what they define at module level cannot be unpickled there.)
Without this directory on `sys.path`, a run on `LocalDaskExecutor(scheduler="processes")` of
`dask_tasks.Multiply` fails with `ModuleNotFoundError: No module named 'dask_tasks'`.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)


def require(module: str) -> ModuleType:
    """Import `module`; without it the test is skipped, but under `CI=true` it fails."""
    if os.environ.get("CI", "").lower() == "true":
        return importlib.import_module(module)
    return pytest.importorskip(module)


@pytest.fixture(scope="session")
def dask_cluster() -> Iterator[Any]:
    """A real `distributed.LocalCluster`: two worker processes with two threads each."""
    distributed = require("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=2, processes=True, dashboard_address=":0"
    )
    try:
        yield cluster
    finally:
        cluster.close()


EXECUTORS = [
    pytest.param("local", id="LocalExecutor"),
    pytest.param("threads", id="LocalDaskExecutor-threads"),
    pytest.param("processes", id="LocalDaskExecutor-processes", marks=pytest.mark.integration),
    pytest.param("sync", id="LocalDaskExecutor-sync"),
    pytest.param("cluster", id="DaskExecutor", marks=pytest.mark.integration),
]


@pytest.fixture(params=EXECUTORS)
def executor_kind(request: pytest.FixtureRequest) -> str:
    """Which executor the test runs on: one of the ids of `EXECUTORS`' values."""
    return str(request.param)


@pytest.fixture
def executor(executor_kind: str, request: pytest.FixtureRequest) -> Any:
    """A fresh executor of each kind; the `DaskExecutor` uses the session's cluster."""
    from prefect.executors import LocalExecutor

    if executor_kind == "local":
        return LocalExecutor()
    require("dask")
    from prefect.executors import DaskExecutor, LocalDaskExecutor

    if executor_kind == "processes":
        return LocalDaskExecutor(scheduler="processes", num_workers=2)
    if executor_kind in ("threads", "sync"):
        return LocalDaskExecutor(scheduler=executor_kind)
    cluster = request.getfixturevalue("dask_cluster")
    return DaskExecutor(address=cluster.scheduler_address)
