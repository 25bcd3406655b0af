"""Marshmallow schemas giving the 1.x JSON form of states, results, flows and the rest.

Every submodule is bound on first access: the schemas need marshmallow, which `import prefect`
does not load.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from prefect.serialization import edge, flow, result, state, task  # noqa: F401

_SUBMODULES = frozenset(
    {"schedule", "task", "edge", "flow", "state", "storage", "run_config", "result"}
)


def __getattr__(name: str) -> ModuleType:
    if name in _SUBMODULES:
        # Importing a submodule binds it on this package, so this runs once per name.
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _SUBMODULES)
