"""The 1.x import path of the Dask executors, kept for old code; they warn on construction."""

from __future__ import annotations

import warnings
from typing import Any

from prefect.executors.dask import DaskExecutor as _DaskExecutor
from prefect.executors.dask import LocalDaskExecutor as _LocalDaskExecutor

__all__ = ["DaskExecutor", "LocalDaskExecutor"]


class DaskExecutor(_DaskExecutor):
    """Deprecated: use `prefect.executors.DaskExecutor`, which this subclasses."""

    def __new__(cls, *args: Any, **kwargs: Any) -> DaskExecutor:
        warnings.warn(
            "prefect.engine.executors.DaskExecutor has been moved to "
            "`prefect.executors.DaskExecutor`, please update your imports",
            stacklevel=2,
        )
        return super().__new__(cls)


class LocalDaskExecutor(_LocalDaskExecutor):
    """Deprecated: use `prefect.executors.LocalDaskExecutor`, which this subclasses."""

    def __new__(cls, *args: Any, **kwargs: Any) -> LocalDaskExecutor:
        warnings.warn(
            "prefect.engine.executors.LocalDaskExecutor has been moved to "
            "`prefect.executors.LocalDaskExecutor`, please update your imports",
            stacklevel=2,
        )
        return super().__new__(cls)
