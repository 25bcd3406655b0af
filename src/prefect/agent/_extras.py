"""What the agents that run flows elsewhere (Docker, Kubernetes, ECS, Vertex) share until they
are built: the check for their SDK, and the error their deployment raises."""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["not_built", "require_sdk"]


def require_sdk(module: str, extra: str, agent: str) -> ModuleType:
    """Import an agent's SDK.

    Raises:
        ImportError: the SDK is missing; the message names the extra that installs it.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"{agent} needs the `{module}` package of the `{extra}` extra, which is not "
            f'installed: pip install "prefect[{extra}]"'
        ) from exc


def not_built(agent: str) -> NotImplementedError:
    """The error raised when an agent that is not built yet is asked to run."""
    return NotImplementedError(
        f"{agent} cannot deploy flow runs yet in this Prefect implementation; use the local "
        "agent (`prefect agent local start`) meanwhile."
    )
