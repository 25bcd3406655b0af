"""`CancelFlowRun`: a task that cancels a flow run (by default the one it runs in)."""

from __future__ import annotations

from typing import Any

import prefect
from prefect import Task
from prefect.utilities.tasks import defaults_from_attrs

__all__ = ["CancelFlowRun"]


class CancelFlowRun(Task):
    """Cancel a flow run.

    Args:
        flow_run_id: the flow run (default: the flow run this task runs in).
        **kwargs: passed to `Task`.
    """

    def __init__(self, flow_run_id: str | None = None, **kwargs: Any) -> None:
        self.flow_run_id = flow_run_id
        super().__init__(**kwargs)

    @defaults_from_attrs("flow_run_id")
    def run(self, flow_run_id: str | None = None) -> bool:  # type: ignore[override]
        """Cancel the flow run.

        Args:
            flow_run_id: the flow run (default: the task's, else ``context.flow_run_id``).

        Returns:
            whether the backend accepted the cancellation.

        Raises:
            ValueError: there is no flow run id.
        """
        flow_run_id = flow_run_id or prefect.context.get("flow_run_id")
        if not flow_run_id:
            raise ValueError("Can't cancel a flow run without flow run ID.")
        return bool(prefect.Client().cancel_flow_run(flow_run_id))
