"""Running a flow run without an agent: what `prefect run --execute` and
`prefect execute flow-run` use.

`execute_flow_run_in_subprocess` plays the agent's part for one run: it waits for the run's
start time, marks it submitted, starts ``python -m prefect execute flow-run`` with the
environment `generate_flow_run_environ` builds, and starts it again while tasks of the run wait
for a retry. `execute_flow_run` runs the flow in this process with `CloudFlowRunner`. Failures
to start are written to the backend as a `Failed` state and an ``ERROR`` log line.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Dict, Iterator, Optional, Type

from prefect.backend._query import parse_datetime, query_rows
from prefect.utilities.graphql import with_args
from prefect.utilities.logging import get_logger

if TYPE_CHECKING:
    import pendulum

    from prefect.backend.flow_run import FlowRunView
    from prefect.core.flow import Flow
    from prefect.engine.flow_runner import FlowRunner
    from prefect.run_configs import RunConfig

__all__ = ["execute_flow_run", "execute_flow_run_in_subprocess", "generate_flow_run_environ"]

logger = get_logger("backend.execution")

# The logger name of the log lines written when a run fails to start.
_FAILURE_LOG_NAME = "prefect.backend.execution"


def _config() -> Any:
    import prefect

    return prefect.context.get("config") or prefect.config


def _now() -> pendulum.DateTime:
    import pendulum

    return pendulum.now("UTC")


def generate_flow_run_environ(
    flow_run_id: str,
    flow_id: str,
    run_config: Optional[RunConfig],
    run_api_key: Optional[str] = None,
) -> Dict[str, str]:
    """The environment variables a flow-run process needs (on top of the current ones).

    The backend address and mode, the run's ids, the Cloud runner classes, the logging
    settings, then the run config's ``env`` (which wins; a ``None`` value removes a variable).

    Args:
        flow_run_id: the flow run.
        flow_id: its flow.
        run_config: the run's run config (may be ``None``).
        run_api_key: an API key for the run (Cloud).

    Returns:
        variable names and values; a value of ``None`` from the run config is left out.
    """
    config = _config()
    env: Dict[str, Any] = {
        "PREFECT__BACKEND": config.backend,
        "PREFECT__CLOUD__API": config.cloud.api,
        "PREFECT__CLOUD__SEND_FLOW_RUN_LOGS": str(config.cloud.send_flow_run_logs).lower(),
        "PREFECT__LOGGING__LEVEL": config.logging.level,
        "PREFECT__CONTEXT__FLOW_RUN_ID": flow_run_id,
        "PREFECT__CONTEXT__FLOW_ID": flow_id,
        "PREFECT__ENGINE__FLOW_RUNNER__DEFAULT_CLASS": "prefect.engine.cloud.CloudFlowRunner",
        "PREFECT__ENGINE__TASK_RUNNER__DEFAULT_CLASS": "prefect.engine.cloud.CloudTaskRunner",
    }
    if run_api_key:
        env["PREFECT__CLOUD__API_KEY"] = run_api_key
        tenant_id = config.cloud.get("tenant_id")
        if tenant_id:
            env["PREFECT__CLOUD__TENANT_ID"] = tenant_id
    run_env = getattr(run_config, "env", None) or {}
    env.update(run_env)
    return {key: str(value) for key, value in env.items() if value is not None}


def _fail_flow_run(flow_run_id: str, message: str) -> None:
    """Mark the run `Failed` with ``message`` and write it as an ``ERROR`` log line."""
    import prefect
    from prefect.engine.state import Failed

    client = prefect.Client()
    client.set_flow_run_state(flow_run_id, Failed(message))
    client.write_run_logs(
        [
            {
                "flow_run_id": flow_run_id,
                "name": _FAILURE_LOG_NAME,
                "message": message,
                "level": "ERROR",
                "timestamp": _now().isoformat(),
            }
        ]
    )


@contextmanager
def _fail_flow_run_on_exception(flow_run_id: str, message: str) -> Iterator[None]:
    """Fail the run (``message`` formatted with ``exc``) when the block raises, then re-raise."""
    try:
        yield
    except Exception as exc:
        text = message.format(exc=repr(exc))
        logger.error(text)
        _fail_flow_run(flow_run_id, text)
        raise


def _get_flow_run_scheduled_start_time(flow_run_id: str) -> Optional[pendulum.DateTime]:
    """When the run should start: the start time of its newest `Scheduled` state, else its
    ``scheduled_start_time``."""
    query = {
        "query": {
            with_args("flow_run", {"where": {"id": {"_eq": flow_run_id}}}): {
                with_args("states", {"where": {"state": {"_eq": "Scheduled"}}}): (
                    "start_time",
                    "created",
                ),
                "scheduled_start_time": True,
            }
        }
    }
    rows = query_rows(query, "flow_run")
    if not rows:
        raise ValueError(f"No flow run found with id {flow_run_id!r}.")
    states = sorted(rows[0].get("states") or [], key=lambda s: str(s.get("created")))
    if states and states[-1].get("start_time"):
        return parse_datetime(states[-1]["start_time"])  # type: ignore[no-any-return]
    return parse_datetime(rows[0].get("scheduled_start_time"))  # type: ignore[no-any-return]


def _get_next_task_run_start_time(flow_run_id: str) -> Optional[pendulum.DateTime]:
    """The earliest start time of a task run waiting (e.g. to retry) in the running flow run."""
    query = {
        "query": {
            with_args(
                "task_run",
                {
                    "where": {
                        "state_start_time": {"_is_null": False},
                        "flow_run_id": {"_eq": flow_run_id},
                        "flow_run": {"state": {"_eq": "Running"}},
                    }
                },
            ): {"state_start_time"}
        }
    }
    rows = query_rows(query, "task_run") or []
    times = [parse_datetime(row["state_start_time"]) for row in rows if row.get("state_start_time")]
    return min(times) if times else None


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


def _wait_until(moment: Optional[pendulum.DateTime], what: str) -> None:
    if moment is None:
        return
    delay = (moment - _now()).total_seconds()
    if delay > 0:
        logger.info("Waiting %.0f seconds for the %s...", delay, what)
        _sleep(delay)


def execute_flow_run_in_subprocess(flow_run_id: str) -> FlowRunView:
    """Run a flow run to the end in child processes of this one, without an agent.

    Args:
        flow_run_id: the flow run (scheduled, or running with tasks waiting to retry).

    Returns:
        the final view of the flow run.

    Raises:
        RuntimeError: the run is neither finished, scheduled nor waiting for a task retry
            after a process ended.
    """
    import prefect
    from prefect.backend.flow_run import FlowRunView
    from prefect.engine.state import Submitted

    client = prefect.Client()
    flow_run = FlowRunView.from_flow_run_id(flow_run_id)
    env = {
        **os.environ,
        **generate_flow_run_environ(
            flow_run_id=flow_run_id,
            flow_id=flow_run.flow_id,
            run_config=flow_run.run_config,
            run_api_key=client.api_key,
        ),
    }
    while not flow_run.state.is_finished():
        if flow_run.state.is_scheduled():
            _wait_until(_get_flow_run_scheduled_start_time(flow_run_id), "flow run's start time")
            with _fail_flow_run_on_exception(
                flow_run_id, "Failed to mark the flow run as submitted: {exc}"
            ):
                client.set_flow_run_state(
                    flow_run_id, Submitted("Submitted for execution", state=flow_run.state)
                )
        elif flow_run.state.is_running():
            next_start = _get_next_task_run_start_time(flow_run_id)
            if next_start is None:
                message = (
                    "The flow run is running but no task run is waiting to start; it cannot be "
                    "executed again."
                )
                _fail_flow_run(flow_run_id, message)
                raise RuntimeError(message)
            _wait_until(next_start, "next task run's start time")
        elif not flow_run.state.is_submitted():
            raise RuntimeError(
                f"Flow run {flow_run_id!r} is in state {flow_run.state!r}; only scheduled or "
                "running flow runs can be executed."
            )

        logger.info("Creating subprocess to execute flow run...")
        completed = subprocess.run(
            [sys.executable, "-m", "prefect", "execute", "flow-run"], env=env, check=False
        )
        flow_run = flow_run.get_latest()
        if completed.returncode != 0 and not flow_run.state.is_finished():
            message = f"Flow run process exited with status code {completed.returncode}."
            _fail_flow_run(flow_run_id, message)
            return flow_run.get_latest()
    return flow_run


def execute_flow_run(
    flow_run_id: str,
    flow: Optional[Flow] = None,
    runner_cls: Optional[Type[FlowRunner]] = None,
    **kwargs: Any,
) -> FlowRunView:
    """Run a flow run in this process.

    Args:
        flow_run_id: the flow run.
        flow: the flow to run (default: loaded from the registered flow's storage).
        runner_cls: the flow runner class (default: `CloudFlowRunner`).
        **kwargs: passed to the runner's ``run``.

    Returns:
        the view of the flow run after the runner returned.

    Raises:
        Exception: loading the flow or running it raised (the run is marked `Failed`).
    """
    import prefect
    from prefect.backend.flow_run import FlowRunView

    flow_run = FlowRunView.from_flow_run_id(flow_run_id)
    if flow_run.state.is_finished():
        logger.warning("Flow run %s is already finished (%r).", flow_run_id, flow_run.state)
        return flow_run

    if flow is None:
        with _fail_flow_run_on_exception(flow_run_id, "Failed to load flow from storage: {exc}"):
            flow_metadata = flow_run.get_flow_metadata()
            flow = flow_metadata.storage.get_flow(flow_metadata.name)
    if runner_cls is None:
        from prefect.engine.cloud import CloudFlowRunner

        runner_cls = CloudFlowRunner

    with _fail_flow_run_on_exception(flow_run_id, "Failed to execute flow: {exc}"):
        with prefect.context(
            flow_run_id=flow_run_id, flow_id=flow_run.flow_id, running_with_backend=True
        ):
            runner_cls(flow=flow).run(**kwargs)
    return flow_run.get_latest()
