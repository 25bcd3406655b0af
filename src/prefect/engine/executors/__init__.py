"""The 1.x import path of the executors, kept for old code.

The classes here subclass those of `prefect.executors` and warn when constructed. The Dask
ones are bound on first access, so that importing this package does not import Dask.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from prefect.engine.executors.local import LocalExecutor
from prefect.executors.base import Executor

__all__ = ["DaskExecutor", "Executor", "LocalDaskExecutor", "LocalExecutor"]

_DASK_EXECUTORS = ("DaskExecutor", "LocalDaskExecutor")


def __getattr__(name: str) -> Any:
    if name in _DASK_EXECUTORS:
        value = getattr(importlib.import_module(f"{__name__}.dask"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if TYPE_CHECKING:
    from prefect.engine.executors.dask import DaskExecutor, LocalDaskExecutor
