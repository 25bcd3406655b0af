"""`CloudTaskRunner`: the task runner of backend flow runs."""

from __future__ import annotations

from typing import Callable, Iterable

from prefect.client import Client
from prefect.core import Task
from prefect.engine.result import Result
from prefect.engine.task_runner import TaskRunner

__all__ = ["CloudTaskRunner"]


class CloudTaskRunner(TaskRunner):
    """A `TaskRunner` that holds a `Client` for the backend its flow run belongs to.

    It runs a task exactly as `TaskRunner` does; the backend reporting of task-run states is
    added on top of the same steps.

    Args:
        task: the task to run.
        state_handlers: callables `(task_runner, old_state, new_state) -> state | None`.
        flow_result: the flow's result, used when the task has none of its own.
    """

    def __init__(
        self,
        task: Task,
        state_handlers: Iterable[Callable] | None = None,
        flow_result: Result | None = None,
    ) -> None:
        self.client = Client()
        super().__init__(task=task, state_handlers=state_handlers, flow_result=flow_result)
