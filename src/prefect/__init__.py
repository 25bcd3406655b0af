"""Prefect Core 1.x: build, run and orchestrate data workflows.

Names whose modules are heavy or built later (`Client`, `schedules`, `storage`, `executors`,
`serialization`, `agent`, `backend`, `artifacts`) are bound on first access.
"""

from __future__ import annotations

import importlib
from typing import Any

# The order matters: configuration before context, both before anything that reads them.
from prefect._version import __version__
import prefect.utilities
from prefect.configuration import config
from prefect.utilities.context import context
import prefect.utilities.logging
from prefect.utilities.plugins import API as api, PLUGINS as plugins, MODELS as models

import prefect.triggers
from prefect.core import Task, Flow, Parameter
import prefect.engine
import prefect.tasks
from prefect.tasks.control_flow import case
from prefect.tasks.core.resource_manager import resource_manager
from prefect.utilities.tasks import task, tags, apply_map
from prefect.utilities.edges import mapped, unmapped, flatten

__all__ = [
    "Client",
    "Flow",
    "Parameter",
    "Task",
    "api",
    "apply_map",
    "case",
    "config",
    "context",
    "flatten",
    "mapped",
    "models",
    "plugins",
    "resource_manager",
    "tags",
    "task",
    "unmapped",
]

_LAZY_SUBMODULES = {
    "schedules",
    "storage",
    "executors",
    "serialization",
    "agent",
    "backend",
    "artifacts",
    "client",
    "run_configs",
    "cli",
    "hello_world",
}


def __getattr__(name: str) -> Any:
    if name == "Client":
        from prefect.client import Client

        globals()["Client"] = Client
        return Client
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
