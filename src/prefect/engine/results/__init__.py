"""Concrete `Result` types: where task outputs are stored.

`LocalResult` (files), `PrefectResult` (the JSON text of the value, kept by the backend),
`ConstantResult` (a value known in advance) and `SecretResult` (read through a secret task)
are light and imported with the package. The cloud result types (`S3Result`, `GCSResult`,
`AzureResult`) are bound on first access; their SDKs (boto3, google-cloud-storage,
azure-storage-blob) are imported only when a result first talks to its store, so all three
can be built and deserialized without them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from prefect.engine.results.constant_result import ConstantResult
from prefect.engine.results.local_result import LocalResult
from prefect.engine.results.prefect_result import PrefectResult
from prefect.engine.results.secret_result import SecretResult

if TYPE_CHECKING:
    from prefect.engine.results.azure_result import AzureResult
    from prefect.engine.results.gcs_result import GCSResult
    from prefect.engine.results.s3_result import S3Result

__all__ = [
    "AzureResult",
    "ConstantResult",
    "GCSResult",
    "LocalResult",
    "PrefectResult",
    "S3Result",
    "SecretResult",
]

_LAZY_RESULTS = {
    "AzureResult": "prefect.engine.results.azure_result",
    "GCSResult": "prefect.engine.results.gcs_result",
    "S3Result": "prefect.engine.results.s3_result",
}


def __getattr__(name: str) -> Any:
    module_name = _LAZY_RESULTS.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY_RESULTS))
