"""Read-only views of what the backend stores (flows, flow runs, task runs, tenants), the
Cloud key-value store, and artifacts.

Submodules load on first use of a name, so `import prefect.backend` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prefect.backend.artifacts import (
        create_link_artifact,
        create_markdown_artifact,
        delete_artifact,
        update_link_artifact,
        update_markdown_artifact,
    )
    from prefect.backend.flow import FlowView
    from prefect.backend.flow_run import FlowRunView
    from prefect.backend.kv_store import delete_key, get_key_value, list_keys, set_key_value
    from prefect.backend.task_run import TaskRunView
    from prefect.backend.tenant import TenantView

__all__ = [
    "FlowRunView",
    "FlowView",
    "TaskRunView",
    "TenantView",
    "create_link_artifact",
    "create_markdown_artifact",
    "delete_artifact",
    "delete_key",
    "get_key_value",
    "list_keys",
    "set_key_value",
    "update_link_artifact",
    "update_markdown_artifact",
]

_HOMES = {
    "TaskRunView": "task_run",
    "FlowRunView": "flow_run",
    "FlowView": "flow",
    "TenantView": "tenant",
    "set_key_value": "kv_store",
    "get_key_value": "kv_store",
    "delete_key": "kv_store",
    "list_keys": "kv_store",
    "create_link_artifact": "artifacts",
    "create_markdown_artifact": "artifacts",
    "delete_artifact": "artifacts",
    "update_link_artifact": "artifacts",
    "update_markdown_artifact": "artifacts",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOMES))
