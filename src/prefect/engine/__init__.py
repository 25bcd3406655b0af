"""Running flows and tasks: runners, states, signals and results.

`FlowRunner`, `TaskRunner`, `prefect.engine.cloud` and `prefect.engine.executors` are bound on
first access, so importing the engine's states does not import the runners.
"""

from __future__ import annotations

import importlib
import warnings
from typing import Any

import prefect
from prefect.engine import result, signals, state  # noqa: F401

__all__ = ["FlowRunner", "TaskRunner"]

_LAZY_ATTRIBUTES = {
    "FlowRunner": ("prefect.engine.flow_runner", "FlowRunner"),
    "TaskRunner": ("prefect.engine.task_runner", "TaskRunner"),
}
_LAZY_SUBMODULES = {
    "cloud",
    "executors",
    "flow_runner",
    "task_runner",
    "runner",
    "cache_validators",
}


def __getattr__(name: str) -> Any:
    if name == "config":
        return prefect.config
    if name in _LAZY_ATTRIBUTES:
        module_name, attribute = _LAZY_ATTRIBUTES[name]
        value = getattr(importlib.import_module(module_name), attribute)
        globals()[name] = value
        return value
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _resolve_default(config_key: str, fallback_module: str, fallback_name: str) -> type:
    """The class named by a `default_class` config key, or the fallback with a warning."""
    from prefect.utilities.serialization import from_qualified_name

    section: Any = prefect.config
    for part in config_key.split("."):
        section = section.get(part) if section is not None else None
    value = section
    if isinstance(value, str):
        try:
            return from_qualified_name(value)
        except (ValueError, ImportError, AttributeError):
            warnings.warn(
                f'Could not import {value!r} (config key "{config_key}"); using the default '
                f"{fallback_module}.{fallback_name} instead.",
                stacklevel=3,
            )
    elif value is not None:
        return value
    return getattr(importlib.import_module(fallback_module), fallback_name)


def get_default_executor_class() -> type:
    """The executor class of `config.engine.executor.default_class`."""
    return _resolve_default("engine.executor.default_class", "prefect.executors", "LocalExecutor")


def get_default_flow_runner_class() -> type:
    """The flow runner class of `config.engine.flow_runner.default_class`."""
    return _resolve_default(
        "engine.flow_runner.default_class", "prefect.engine.flow_runner", "FlowRunner"
    )


def get_default_task_runner_class() -> type:
    """The task runner class of `config.engine.task_runner.default_class`."""
    return _resolve_default(
        "engine.task_runner.default_class", "prefect.engine.task_runner", "TaskRunner"
    )
