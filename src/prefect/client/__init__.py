"""The client of a Prefect 1 backend: `Client` (the GraphQL API) and `Secret`.

`Secret` is bound on first access (from `prefect.client.secrets`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from prefect.client.client import Client

if TYPE_CHECKING:
    from prefect.client.secrets import Secret

__all__ = ["Client", "Secret"]


def __getattr__(name: str) -> Any:
    if name == "Secret":
        from prefect.client.secrets import Secret

        globals()["Secret"] = Secret
        return Secret
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | {"Secret"})
