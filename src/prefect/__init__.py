"""Prefect Core 1.x: build, run and orchestrate data workflows.

`config` and `context`, and names whose modules are heavy or built later (`Client`,
`schedules`, `storage`, `executors`, `serialization`, `agent`, `backend`, `artifacts`), are
bound on first access.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# The order matters: configuration before context, both before anything that reads them.
from prefect._version import __version__
import prefect.utilities
import prefect.configuration
import prefect.utilities.context
import prefect.utilities.logging
import prefect.utilities.plugins

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
    # `config`, `context` and the plugin registries are built on first use: building them
    # loads python-box, which costs more than the rest of `import prefect`. Once built they
    # are plain module attributes.
    value: Any
    if name == "config":
        value = prefect.configuration.config
    elif name == "context":
        value = prefect.utilities.context.context
    elif name in ("api", "plugins", "models"):
        value = getattr(prefect.utilities.plugins, name.upper())
    elif name == "Client":
        from prefect.client import Client

        value = Client
    elif name in _LAZY_SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    lazy = {"config", "context", "api", "plugins", "models", "Client", *_LAZY_SUBMODULES}
    return sorted(set(globals()) | lazy)


if TYPE_CHECKING:
    from box import Box

    from prefect.client import Client
    from prefect.configuration import Config
    from prefect.utilities.context import Context

    config: Config
    context: Context
    api: Box
    plugins: Box
    models: Box
