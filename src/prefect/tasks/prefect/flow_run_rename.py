"""`RenameFlowRun`: a task that renames a flow run (by default the one it runs in)."""

from __future__ import annotations

from typing import Any

import prefect
from prefect import Task
from prefect.utilities.tasks import defaults_from_attrs

__all__ = ["RenameFlowRun"]


class RenameFlowRun(Task):
    """Rename a flow run.

    Args:
        flow_run_id: the flow run (default: the flow run this task runs in).
        flow_run_name: the new name.
        **kwargs: passed to `Task`.
    """

    def __init__(
        self, flow_run_id: str | None = None, flow_run_name: str | None = None, **kwargs: Any
    ) -> None:
        self.flow_run_id = flow_run_id
        self.flow_run_name = flow_run_name
        super().__init__(**kwargs)

    @defaults_from_attrs("flow_run_id", "flow_run_name")
    def run(self, flow_run_id: str, flow_run_name: str) -> bool:  # type: ignore[override]
        """Rename the flow run.

        Args:
            flow_run_id: the flow run (default: the task's, else ``context.flow_run_id``).
            flow_run_name: the new name.

        Returns:
            whether the backend renamed it.

        Raises:
            ValueError: there is no flow run id or no name.
        """
        flow_run_id = flow_run_id or prefect.context.get("flow_run_id")
        if not flow_run_id:
            raise ValueError("`flow_run_id` must be passed or be available in `prefect.context`.")
        if flow_run_name is None:
            raise ValueError("Pass the new `flow_run_name` of the flow run.")
        return bool(prefect.Client().set_flow_run_name(flow_run_id, flow_run_name))
