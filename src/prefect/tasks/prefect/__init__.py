"""Tasks that drive other flow runs through the backend ("flow of flows"): create a flow run,
wait for it, read a task result from it, rename or cancel a run."""

from __future__ import annotations

from prefect.tasks.prefect.flow_run import (
    StartFlowRun,
    create_flow_run,
    get_task_run_result,
    wait_for_flow_run,
)
from prefect.tasks.prefect.flow_run_cancel import CancelFlowRun
from prefect.tasks.prefect.flow_run_rename import RenameFlowRun

__all__ = [
    "CancelFlowRun",
    "RenameFlowRun",
    "StartFlowRun",
    "create_flow_run",
    "get_task_run_result",
    "wait_for_flow_run",
]
