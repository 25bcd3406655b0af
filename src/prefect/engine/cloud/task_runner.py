"""`CloudTaskRunner`: the task runner of backend flow runs.

It runs a task through the same steps as `TaskRunner` and reports to the backend as it goes
(`server-protocol.md` §4.2): the task run is looked up (or, for a mapped child, created) with
`get_task_run_info` before anything runs, every state change is written with
`set_task_run_state`, caches of `cache_for` tasks come from the backend, and a task run name is
sent when the task has a template. A retry due within ten minutes is waited for in this
process rather than handed back to an agent.
"""

from __future__ import annotations

import datetime
import time
from typing import Any, Callable, Iterable

import prefect
from prefect.client import Client
from prefect.core import Edge, Task
from prefect.engine.result import Result
from prefect.engine.results import ConstantResult
from prefect.engine.runner import ENDRUN, call_state_handlers
from prefect.engine.state import Cached, ClientFailed, Failed, Pending, State
from prefect.engine.task_runner import TaskRunner, TaskRunnerInitializeResult
from prefect.exceptions import VersionLockMismatchSignal
from prefect.utilities.executors import tail_recursive

__all__ = ["CloudTaskRunner"]

# Retries starting within this window are waited for in process (as 1.x does); later ones are
# left to the agent, which picks the flow run up again when the retry is due.
_IN_PROCESS_RETRY_WINDOW = datetime.timedelta(minutes=10)


def _now() -> Any:
    import pendulum

    return pendulum.now("utc")


def unwrap_meta_state(state: State | None) -> State | None:
    """The state a backend run really is in: `Submitted`/`Queued` wrap the state they were
    given (an agent marks a `Scheduled` run `Submitted`); a bare meta state counts as
    `Pending`."""
    if state is not None and state.is_meta_state():
        return getattr(state, "state", None) or Pending()
    return state


class CloudTaskRunner(TaskRunner):
    """A `TaskRunner` that reports every state of its task run to the backend.

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

    def call_runner_target_handlers(self, old_state: State, new_state: State) -> State:
        """Run the task's state handlers, then write the new state to the backend.

        The run version goes with `Running` states only. A version conflict means another
        process moved the run on: its state is read back and, unless it is running, carried
        on from. A state that cannot be written ends the run `ClientFailed`.

        Raises:
            ENDRUN: when the state cannot be written, the run is running elsewhere, or the
                backend queued the run
        """
        new_state = super().call_runner_target_handlers(old_state, new_state)

        task_run_id = prefect.context.get("task_run_id")
        version = prefect.context.get("task_run_version")
        try:
            state = self.client.set_task_run_state(
                task_run_id=task_run_id,  # type: ignore[arg-type]
                version=version if new_state.is_running() else None,
                state=new_state,
                cache_for=self.task.cache_for,
            )
        except VersionLockMismatchSignal as exc:
            state = self.client.get_task_run_state(task_run_id=task_run_id)  # type: ignore[arg-type]
            if state.is_running():
                self.logger.debug(
                    "Version lock encountered and task '%s' is already running.",
                    self._task_name(),
                )
                raise ENDRUN(state=state) from exc
            self.logger.debug(
                "Version lock encountered for task '%s'; proceeding with state %s...",
                self._task_name(),
                type(state).__name__,
            )
            try:
                new_state = state.load_result(self.result)
            except Exception as load_exc:
                self.logger.error(
                    "Task '%s': could not load the result of the backend's state: %r",
                    self._task_name(),
                    load_exc,
                )
                raise ENDRUN(state=state) from load_exc
        except Exception as exc:
            self.logger.exception("Failed to set task state with error: %r", exc)
            raise ENDRUN(state=ClientFailed(state=new_state)) from exc

        if state.is_queued():
            state.state = old_state  # type: ignore[attr-defined]
            raise ENDRUN(state=state)

        prefect.context.update(task_run_version=(version or 0) + 1)
        return new_state

    def initialize_run(  # type: ignore[override]
        self, state: State | None, context: dict[str, Any]
    ) -> TaskRunnerInitializeResult:
        """Look the task run up in the backend (creating a mapped child's), then prepare the
        run as `TaskRunner` does, with checkpointing on.

        A given state wins over the backend's; the backend gives the task run id and version.

        Raises:
            ENDRUN: when the backend cannot be reached (in the given state, else `Failed`)
        """
        try:
            info = self.client.get_task_run_info(
                flow_run_id=context.get("flow_run_id", ""),
                task_id=context.get("task_id", ""),
                map_index=context.get("map_index"),
            )
        except Exception as exc:
            self.logger.exception("Failed to retrieve task state with error: %r", exc)
            if state is None:
                state = Failed(message="Could not retrieve state from Prefect Cloud", result=exc)
            raise ENDRUN(state=state) from exc
        state = unwrap_meta_state(state or info.state)
        context.update(task_run_id=info.id, task_run_version=info.version)
        # Shared with heartbeats and artifacts, as in 1.x.
        self.task_run_id = info.id
        # Results of backend runs are always stored, so that retries, restarts and other
        # processes can read them; a constant's value is its result (it cannot be written).
        if not isinstance(self.result, ConstantResult):
            context.update(checkpointing=True)
        return super().initialize_run(state=state, context=context)

    @call_state_handlers
    def check_task_is_cached(self, state: State, inputs: dict[str, Result]) -> State:
        """For a task with `cache_for`, reuse the newest valid `Cached` state the backend has
        for it (or for its `cache_key`); otherwise behave as `TaskRunner` does.

        Returns:
            the valid `Cached` state with its result loaded, or the state unchanged
        """
        if self.task.cache_for is None:
            return TaskRunner.check_task_is_cached.__wrapped__(self, state, inputs)  # type: ignore[attr-defined, no-any-return]
        oldest_valid_cache = datetime.datetime.now(datetime.timezone.utc) - self.task.cache_for
        cached_states = self.client.get_latest_cached_states(
            task_id=prefect.context.get("task_id", ""),
            cache_key=self.task.cache_key,
            created_after=oldest_valid_cache,
        )
        name = self._task_name()
        if not cached_states:
            self.logger.debug("Task '%s': No candidate Cached states were found", name)
            return state
        self.logger.debug(
            "Task '%s': %d candidate cached states were found", name, len(cached_states)
        )
        sanitized = {key: result.value for key, result in inputs.items()}
        parameters = prefect.context.get("parameters")
        for candidate in cached_states:
            if not isinstance(candidate, Cached):
                continue
            candidate.load_cached_results(inputs)
            if self.task.cache_validator(candidate, sanitized, parameters):  # type: ignore[arg-type]
                try:
                    return candidate.load_result(self.result)
                except Exception:
                    location = getattr(candidate._result, "location", None)  # type: ignore[attr-defined]
                    self.logger.warning(
                        "Failed to load cached state data from %s.", location, exc_info=True
                    )
        self.logger.debug(
            "Task '%s': can't use cache because no candidate Cached states were valid", name
        )
        return state

    def load_results(
        self, state: State, upstream_states: dict[Edge, State]
    ) -> tuple[State, dict[Edge, State]]:
        """Read results known only by their location (states that came from the backend)
        for the upstream states and the cached inputs.

        Raises:
            ENDRUN: with a `Failed` state when a result cannot be read
        """
        upstream_results: dict[str, Result | None] = {}
        try:
            if state.is_mapped():
                state = state.load_result(self.result)
            for edge, upstream_state in upstream_states.items():
                result = edge.upstream_task.result or self.flow_result
                upstream_states[edge] = upstream_state.load_result(result)
                if edge.key is not None:
                    upstream_results[edge.key] = result
            state.load_cached_results(upstream_results)
        except Exception as exc:
            raise ENDRUN(
                state=Failed(message=f"Failed to retrieve task results: {exc}", result=exc)
            ) from exc
        return state, upstream_states

    def set_task_run_name(self, task_inputs: dict[str, Result]) -> None:
        """Format the task's `task_run_name` (as `TaskRunner` does) and send it to the
        backend."""
        if not self.task.task_run_name:
            return
        super().set_task_run_name(task_inputs)
        name = prefect.context.get("task_run_name")
        if name:
            self.client.set_task_run_name(
                task_run_id=prefect.context.get("task_run_id"),  # type: ignore[arg-type]
                name=name,
            )

    @tail_recursive
    def run(
        self,
        state: State | None = None,
        upstream_states: dict[Edge, State] | None = None,
        context: dict[str, Any] | None = None,
        is_mapped_parent: bool = False,
    ) -> State:
        """Run the task as `TaskRunner` does; a retry (or a queued run) due within ten minutes
        is waited for here and run again from the backend's state of the task run.

        Args:
            state: the task's state (the backend's when `None`)
            upstream_states: the states of the upstream tasks, by edge
            context: the run's context
            is_mapped_parent: this run decides the mapping (the parent of mapped children)

        Returns:
            the final state
        """
        context = dict(context or {})
        with prefect.context(context):
            try:
                end_state = super().run(
                    state=state,
                    upstream_states=upstream_states,
                    context=context,
                    is_mapped_parent=is_mapped_parent,
                )
            except ENDRUN as exc:
                # Raised by `initialize_run` when the backend cannot be reached.
                return exc.state
            while (end_state.is_retrying() or end_state.is_queued()) and (
                end_state.start_time is not None  # type: ignore[attr-defined]
                and end_state.start_time <= _now() + _IN_PROCESS_RETRY_WINDOW  # type: ignore[attr-defined]
            ):
                wait = (end_state.start_time - _now()).total_seconds()  # type: ignore[attr-defined]
                if wait > 0:
                    time.sleep(wait)
                # No state given: `initialize_run` reads the backend's (the `Retrying` state
                # just written) with the run's current version.
                end_state = super().run(
                    state=None,
                    upstream_states=upstream_states,
                    context=context,
                    is_mapped_parent=is_mapped_parent,
                )
        return end_state
