"""`CloudFlowRunner`: the flow runner of backend flow runs (what an agent's flow-run
process uses, through `engine.flow_runner.default_class`).

On top of `FlowRunner` it (`server-protocol.md` §4.2):

- starts from the backend's view of the run (`get_flow_run_info`): state, parameters, context,
  and the task runs of every task, matched by slug;
- writes every flow state change with `set_flow_run_state`;
- sends heartbeats while the tasks run (`_heartbeat`, driven by
  `prefect.utilities.executors.run_with_heartbeat` and `cloud.heartbeat_mode`);
- watches for cancellation (`check_for_cancellation`) and ends a cancelled run `Cancelled`;
- ships the run's logs (`prefect.utilities._cloud_logs`);
- runs every task with `CloudTaskRunner`.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Callable, Iterable

import prefect
from prefect.client import Client
from prefect.core import Flow, Task
from prefect.engine.cloud._cancellation import CancellationWatcher
from prefect.engine.cloud.task_runner import CloudTaskRunner, unwrap_meta_state
from prefect.engine.flow_runner import FlowRunner, FlowRunnerInitializeResult
from prefect.engine.runner import ENDRUN
from prefect.engine.state import Cancelled, Failed, State
from prefect.exceptions import VersionLockMismatchSignal
from prefect.utilities._cloud_logs import shipping_run_logs
from prefect.utilities.graphql import with_args

__all__ = ["CloudFlowRunner"]


def _now() -> Any:
    import pendulum

    return pendulum.now("utc")


class CloudFlowRunner(FlowRunner):
    """A `FlowRunner` that runs a backend flow run and reports it to the backend.

    The flow run is the one named by `prefect.context.flow_run_id`. Its tasks run with
    `CloudTaskRunner`.

    Args:
        flow: the flow to run.
        state_handlers: callables `(flow_runner, old_state, new_state) -> state | None`.
    """

    def __init__(self, flow: Flow, state_handlers: Iterable[Callable] | None = None) -> None:
        self.client = Client()
        super().__init__(flow=flow, task_runner_cls=CloudTaskRunner, state_handlers=state_handlers)

    def _heartbeat(self) -> bool:
        """Send one heartbeat; return whether heartbeats are wanted.

        The first call also reads the flow's settings: `heartbeat_enabled = false` turns them
        off. It sets `heartbeat_cmd`, the child process of `cloud.heartbeat_mode = "process"`.
        """
        try:
            flow_run_id = prefect.context.get("flow_run_id", "")
            self.client.update_flow_run_heartbeat(flow_run_id)
            enabled = getattr(self, "_heartbeats_enabled", None)
            if enabled is None:
                self.heartbeat_cmd = [
                    sys.executable,
                    "-m",
                    "prefect",
                    "heartbeat",
                    "flow-run",
                    "-i",
                    flow_run_id,
                ]
                query = {
                    "query": {
                        with_args("flow_run_by_pk", {"id": flow_run_id}): {
                            "flow": {"settings": True}
                        }
                    }
                }
                flow_run = self.client.graphql(query).data.flow_run_by_pk
                settings = (flow_run.flow.settings if flow_run and flow_run.flow else None) or {}
                enabled = self._heartbeats_enabled = (
                    settings.get("heartbeat_enabled", True) is not False
                )
            return bool(enabled)
        except Exception:
            self.logger.exception("Heartbeat failed for Flow '%s'", self.flow.name)
            return False

    def call_runner_target_handlers(self, old_state: State, new_state: State) -> State:
        """Run the flow's state handlers, then write the new state to the backend.

        The run version goes with `Running` states only. On a version conflict the backend's
        state is read back: a run already running elsewhere ends here, any other state is
        carried on from.

        Raises:
            ENDRUN: when the state cannot be written, the run is running elsewhere, or the
                backend queued the run
        """
        try:
            new_state = super().call_runner_target_handlers(old_state, new_state)
        except Exception as exc:
            msg = f"Exception raised while calling state handlers: {exc!r}"
            self.logger.exception(msg)
            if prefect.context.get("raise_on_exception"):
                raise
            new_state = Failed(msg, result=exc)

        flow_run_id = prefect.context.get("flow_run_id")
        version = prefect.context.get("flow_run_version")
        try:
            state = self.client.set_flow_run_state(
                flow_run_id=flow_run_id,  # type: ignore[arg-type]
                version=version if new_state.is_running() else None,
                state=new_state,
            )
        except VersionLockMismatchSignal as exc:
            state = self.client.get_flow_run_state(flow_run_id)  # type: ignore[arg-type]
            if state.is_running():
                self.logger.debug(
                    "Version lock encountered and flow is already in a running state."
                )
                raise ENDRUN(state=state) from exc
            self.logger.debug(
                "Version lock encountered, proceeding with state %s...", type(state).__name__
            )
            new_state = state
        except Exception as exc:
            self.logger.exception("Failed to set flow state with error: %r", exc)
            raise ENDRUN(state=new_state) from exc

        if state.is_queued():
            state.state = old_state  # type: ignore[attr-defined]
            raise ENDRUN(state=state)

        prefect.context.update(flow_run_version=(version or 0) + 1)
        return new_state

    def initialize_run(  # type: ignore[override]
        self,
        state: State | None,
        task_states: dict[Task, State],
        context: dict[str, Any],
        task_contexts: dict[Task, dict[str, Any]],
        parameters: dict[str, Any],
    ) -> FlowRunnerInitializeResult:
        """Start from the backend's view of the flow run.

        The context gets the run's stored context, then `flow_id`, `flow_run_id`,
        `flow_run_version`, `flow_run_name`, `scheduled_start_time`, `project_name` and
        `project_id`; each task run is matched to its task by slug, giving the task's
        initial state (unless one was given) and its `task_id`, `task_run_id` and
        `task_run_version`; the run's parameters are used where the call gives none.

        Raises:
            ENDRUN: when the backend cannot be reached (in the given state, else `Failed`)
            KeyError: when a task run's slug is not a task of this flow
        """
        flow_run_id = context.get("flow_run_id") or prefect.context.get("flow_run_id")
        try:
            info = self.client.get_flow_run_info(flow_run_id)  # type: ignore[arg-type]
        except Exception as exc:
            self.logger.debug("Failed to retrieve flow state with error: %r", exc)
            if state is None:
                state = Failed(message="Could not retrieve state from Prefect Cloud", result=exc)
            raise ENDRUN(state=state) from exc

        context = dict(context or {})
        context.update(info.context or {})
        context.update(
            flow_id=info.flow_id,
            flow_run_id=info.id,
            flow_run_version=info.version,
            flow_run_name=info.name,
            scheduled_start_time=info.scheduled_start_time,
            project_name=info.project.name,
            project_id=info.project.id,
        )
        # A CloudFlowRunner always runs for a backend: heartbeats and log shipping key on it.
        context.setdefault("running_with_backend", True)

        tasks = {slug: task for task, slug in self.flow.slugs.items()}
        for task_run in info.task_runs:
            try:
                task = tasks[task_run.task_slug]
            except KeyError as exc:
                raise KeyError(
                    f"Task slug {task_run.task_slug} is not found in the current Flow. This is "
                    "usually caused by a mismatch between the flow version stored in the "
                    "Prefect backend and the flow that was loaded from storage; register the "
                    "flow again."
                ) from exc
            task_states.setdefault(task, task_run.state)
            task_contexts.setdefault(task, {}).update(
                task_id=task_run.task_id,
                task_run_id=task_run.id,
                task_run_version=task_run.version,
            )

        state = unwrap_meta_state(state or info.state)
        run_parameters = dict(info.parameters or {})
        run_parameters.update(parameters)
        return super().initialize_run(
            state=state,
            task_states=task_states,
            context=context,
            task_contexts=task_contexts,
            parameters=run_parameters,
        )

    def run(
        self,
        state: State | None = None,
        task_states: dict[Task, State] | None = None,
        return_tasks: Iterable[Task] | None = None,
        parameters: dict[str, Any] | None = None,
        task_runner_state_handlers: Iterable[Callable] | None = None,
        executor: Any = None,
        context: dict[str, Any] | None = None,
        task_contexts: dict[Task, dict[str, Any]] | None = None,
    ) -> State:
        """Run the flow run and report it; a run the backend queued is run again when its
        queue delay has passed.

        Args:
            state: the flow's state (the backend's when `None`)
            task_states: known task states (the backend's for the others)
            return_tasks: tasks whose states go into the final state's `result`
            parameters: values of the flow's parameters (over the run's)
            task_runner_state_handlers: state handlers for every task runner
            executor: the executor (default: the flow's, else the configured one)
            context: extra context for the run
            task_contexts: extra context per task

        Returns:
            the final state
        """
        run_arguments: dict[str, Any] = dict(
            task_states=task_states,
            return_tasks=return_tasks,
            parameters=parameters,
            task_runner_state_handlers=task_runner_state_handlers,
            executor=executor,
            context=context,
            task_contexts=task_contexts,
        )
        with shipping_run_logs():
            try:
                end_state = super().run(state=state, **run_arguments)
                while end_state.is_queued():
                    start_time = getattr(end_state, "start_time", None)
                    wait = (start_time - _now()).total_seconds() if start_time else 0.0
                    if wait > 0:
                        time.sleep(wait)
                    flow_run_id = (context or {}).get("flow_run_id") or prefect.context.get(
                        "flow_run_id"
                    )
                    current = self.client.get_flow_run_info(flow_run_id).state  # type: ignore[arg-type]
                    if current.is_queued():
                        end_state = current
                        continue
                    end_state = super().run(state=unwrap_meta_state(current), **run_arguments)
            except ENDRUN as exc:
                # Raised when even the `Failed` state of an unexpected error cannot be written.
                return exc.state
        return end_state

    @contextmanager
    def check_for_cancellation(self) -> Iterator:
        """Watch the backend for the run being cancelled while its tasks run.

        A thread reads the run's state every `cloud.check_cancellation_interval` seconds and
        once more when the block ends. `Cancelling` interrupts the main thread; the run then
        ends `Cancelled("Flow run is cancelled")`.

        Raises:
            ENDRUN: with the `Cancelled` state, when the run was cancelled
        """
        flow_run_id = prefect.context.get("flow_run_id")
        if not flow_run_id:
            yield
            return
        config = prefect.context.get("config") or prefect.config
        interval = float((config.get("cloud") or {}).get("check_cancellation_interval", 15.0))
        watcher = CancellationWatcher(
            read_state=lambda: self.client.get_flow_run_info(flow_run_id).state,
            interval=interval,
            logger=self.logger,
        )
        try:
            with watcher:
                yield
        except KeyboardInterrupt:
            if not watcher.cancelled:
                raise
        if watcher.cancelled:
            self.logger.info("Flow run has been cancelled; it ends Cancelled.")
            raise ENDRUN(Cancelled("Flow run is cancelled"))
