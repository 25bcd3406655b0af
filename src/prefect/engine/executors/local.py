"""The 1.x import path of `LocalExecutor`, kept for old code; it warns on construction."""

from __future__ import annotations

import warnings
from typing import Any

from prefect.executors import LocalExecutor as _LocalExecutor

__all__ = ["LocalExecutor"]


class LocalExecutor(_LocalExecutor):
    """Deprecated: use `prefect.executors.LocalExecutor`, which this subclasses."""

    def __new__(cls, *args: Any, **kwargs: Any) -> LocalExecutor:
        warnings.warn(
            "prefect.engine.executors.LocalExecutor has been moved to "
            "`prefect.executors.LocalExecutor`, please update your imports",
            stacklevel=2,
        )
        return super().__new__(cls)
