"""The runners an agent's flow-run process uses: `CloudFlowRunner` and `CloudTaskRunner`.

They run flows exactly like `FlowRunner`/`TaskRunner` and each hold a `Client`; reporting
states, heartbeats and cancellation to the backend plugs into the same runners.
"""

from prefect.engine.cloud.flow_runner import CloudFlowRunner
from prefect.engine.cloud.task_runner import CloudTaskRunner

__all__ = ["CloudFlowRunner", "CloudTaskRunner"]
