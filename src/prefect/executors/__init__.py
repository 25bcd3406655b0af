"""Executors run the task runs of a flow run.

`LocalExecutor` (the default) runs them one after the other in the current thread.
`LocalDaskExecutor` and `DaskExecutor` run them in parallel with Dask; they are bound on first
access, so that `import prefect.executors` does not import Dask.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from prefect.executors.base import Executor
from prefect.executors.local import LocalExecutor

__all__ = ["DaskExecutor", "Executor", "LocalDaskExecutor", "LocalExecutor"]

_DASK_EXECUTORS = ("DaskExecutor", "LocalDaskExecutor")


def __getattr__(name: str) -> Any:
    if name in _DASK_EXECUTORS:
        value = getattr(importlib.import_module(f"{__name__}.dask"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if TYPE_CHECKING:
    from prefect.executors.dask import DaskExecutor, LocalDaskExecutor
