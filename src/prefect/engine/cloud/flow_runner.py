"""`CloudFlowRunner`: the flow runner of backend flow runs (what an agent's flow-run
process uses, through `engine.flow_runner.default_class`)."""

from __future__ import annotations

from typing import Callable, Iterable

from prefect.client import Client
from prefect.core import Flow
from prefect.engine.cloud.task_runner import CloudTaskRunner
from prefect.engine.flow_runner import FlowRunner

__all__ = ["CloudFlowRunner"]


class CloudFlowRunner(FlowRunner):
    """A `FlowRunner` that holds a `Client` and runs its tasks with `CloudTaskRunner`.

    It runs a flow exactly as `FlowRunner` does; the backend reporting (flow-run states,
    heartbeats, cancellation) is added on top of the same steps.

    Args:
        flow: the flow to run.
        state_handlers: callables `(flow_runner, old_state, new_state) -> state | None`.
    """

    def __init__(self, flow: Flow, state_handlers: Iterable[Callable] | None = None) -> None:
        self.client = Client()
        super().__init__(flow=flow, task_runner_cls=CloudTaskRunner, state_handlers=state_handlers)
