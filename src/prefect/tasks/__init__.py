"""The task library: ready-made `Task` classes, from constants and operators to integrations.

`prefect.tasks.core` and `prefect.tasks.control_flow` are imported with the package. The
integration packages (`shell`, `secrets`, `notifications`, ...) are imported on first attribute
access, so that `import prefect` does not pay for them.
"""

from __future__ import annotations

import importlib
from types import ModuleType

import prefect.tasks.control_flow
import prefect.tasks.core  # noqa: F401
from prefect.core.task import Task

__all__ = ["Task"]

# Bound in the package namespace in 1.x; here imported when first used.
_LAZY_SUBPACKAGES = frozenset(
    {"files", "database", "docker", "github", "notifications", "secrets", "shell"}
)


def __getattr__(name: str) -> ModuleType:
    if name in _LAZY_SUBPACKAGES:
        module_name = f"{__name__}.{name}"
        try:
            # Importing binds the submodule on this package, so this runs once per name.
            return importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            raise AttributeError(
                f"module {__name__!r} has no attribute {name!r}: {module_name} is not available"
            ) from exc
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _LAZY_SUBPACKAGES)
