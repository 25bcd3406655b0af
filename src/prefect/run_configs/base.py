"""`RunConfig`, the base of every run config, and `UniversalRun`, which any agent accepts."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["RunConfig", "UniversalRun"]


def _label_set(labels: Iterable[str] | None) -> set[str]:
    if isinstance(labels, str):
        raise TypeError(
            f"Labels should be an iterable of strings, not a string: got {labels!r}; "
            f"pass labels=[{labels!r}]."
        )
    return set(labels) if labels else set()


class RunConfig:
    """What an agent needs to know to start a flow run (base class).

    Args:
        env: extra environment variables for the flow-run process.
        labels: labels the agent must have to pick up runs of this flow.
    """

    def __init__(self, env: dict | None = None, labels: Iterable[str] | None = None) -> None:
        self.env = env
        self.labels = _label_set(labels)

    def serialize(self) -> dict:
        """The run config in the 1.x wire format (`RunConfigSchema`).

        Returns:
            a JSON-compatible dict with `type`, `__version__`, `env`, `labels` (sorted) and the
            fields of the concrete class.
        """
        from prefect.serialization.run_config import RunConfigSchema

        return RunConfigSchema().dump(self)  # type: ignore[no-any-return]

    def __eq__(self, other: Any) -> Any:
        if not isinstance(other, RunConfig):
            return NotImplemented
        return type(self) is type(other) and vars(self) == vars(other)

    # Run configs are mutable (flows add labels to them): not hashable, like dicts.
    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{key}={value!r}"
            for key, value in vars(self).items()
            if value is not None and value != set()
        )
        return f"{type(self).__name__}({fields})"


class UniversalRun(RunConfig):
    """A run config that any agent accepts: only environment variables and labels.

    Each agent starts the run with its own defaults.

    Args:
        env: extra environment variables for the flow-run process.
        labels: labels the agent must have to pick up runs of this flow.
    """
