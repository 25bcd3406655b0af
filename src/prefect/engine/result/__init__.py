"""The `Result` interface for persisting task outputs, and the `NoResult` sentinel.

Concrete storage (local files, S3, GCS, ...) lives in `prefect.engine.results`.
"""

from __future__ import annotations

import prefect  # noqa: F401  (1.x binds `prefect` in this package)
from prefect.engine.result.base import NoResult, NoResultType, Result

__all__ = ["NoResult", "NoResultType", "Result"]
