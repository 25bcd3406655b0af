"""`LocalRun`: runs started by a local agent as processes on its machine."""

from __future__ import annotations

from collections.abc import Iterable

from prefect.run_configs.base import RunConfig

__all__ = ["LocalRun"]


class LocalRun(RunConfig):
    """Run the flow as a process on the local agent's machine.

    Args:
        env: extra environment variables for the flow-run process.
        working_dir: the process's working directory (default: the agent's).
        labels: labels the agent must have to pick up runs of this flow.
    """

    def __init__(
        self,
        *,
        env: dict | None = None,
        working_dir: str | None = None,
        labels: Iterable[str] | None = None,
    ) -> None:
        super().__init__(env=env, labels=labels)
        self.working_dir = working_dir
