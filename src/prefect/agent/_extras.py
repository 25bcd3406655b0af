"""What the agents that run flows elsewhere (Docker, Kubernetes, ECS, Vertex) share until they
are built: the check for their SDK, and the error their deployment raises."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

__all__ = ["deploy_flow_not_built", "not_built", "require_sdk", "start_not_built"]


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


# The `start` and `deploy_flow` of each agent class that is not built yet (assigned in its class
# body, so the classes keep `Agent` as their only base, as in 1.4.1).


def start_not_built(self: Any) -> None:
    """Not built yet.

    Raises:
        NotImplementedError: always.
    """
    raise not_built(type(self).__name__)


def deploy_flow_not_built(self: Any, flow_run: Any) -> str:
    """Not built yet.

    Raises:
        NotImplementedError: always.
    """
    raise not_built(type(self).__name__)
