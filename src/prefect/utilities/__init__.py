"""Utilities shared across the package. Heavier or later submodules load on first access."""

from __future__ import annotations

import importlib
from typing import Any

from prefect.utilities import collections  # noqa: F401

# `prefect/__init__.py` imports configuration, logging and tasks in the order they need.
_LAZY_SUBMODULES = {
    "configuration",
    "logging",
    "tasks",
    "agent",
    "aws",
    "backend",
    "datetimes",
    "debug",
    "diagnostics",
    "edges",
    "executors",
    "graphql",
    "notifications",
    "plugins",
    "serialization",
    "storage",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
