"""`TaskRunner`: one run of one task, step by step, as in Prefect 1.x.

`run` carries a state through the 1.x pipeline (ready? start time reached? upstream finished?
upstream skipped? inputs, target/cache, trigger, running, run the task, cache the result,
retry, loop). Every step is a public method that users and tests may call directly; each one
that changes the state passes it through the state handlers.
"""

from __future__ import annotations

import json
import operator
from contextlib import redirect_stdout
from typing import Any, Callable, Iterable, NamedTuple, NoReturn

import prefect
from prefect.core import Edge, Task
from prefect.engine import _plain_run, signals
from prefect.engine._upstream import (
    IS_FINISHED,
    IS_SKIPPED,
    trigger_states,
    upstream_runs_plainly,
    upstream_state_set,
)
from prefect.engine.result import NoResult, Result
from prefect.engine.result.base import ResultNotImplementedError, _format_location
from prefect.engine.runner import ENDRUN, Runner, call_state_handlers, log_info
from prefect.engine.state import (
    Cached,
    Failed,
    Looped,
    Mapped,
    Paused,
    Pending,
    Resume,
    Retrying,
    Running,
    Scheduled,
    Skipped,
    State,
    Success,
    TimedOut,
    TriggerFailed,
)
from prefect.exceptions import TaskTimeoutSignal
from prefect.utilities import executors

__all__ = ["TaskRunner", "TaskRunnerInitializeResult"]


class TaskRunnerInitializeResult(NamedTuple):
    state: State
    context: dict[str, Any]


def _now() -> Any:
    import pendulum

    return pendulum.now("utc")


def _tokenize(value: Any) -> str:
    try:
        from dask.base import tokenize

        return str(tokenize(value))
    except ImportError:  # pragma: no cover - dask is a base requirement
        import hashlib

        return hashlib.md5(repr(value).encode(), usedforsecurity=False).hexdigest()


class TaskRunner(Runner):
    """Runs one task: decides from its state and its upstream states what happens, calls
    `task.run`, and returns the task run's final state.

    Args:
        task: the task to run
        state_handlers: callables `(task_runner, old_state, new_state) -> state | None`
        flow_result: the flow's result, used when the task has none of its own
    """

    def __init__(
        self,
        task: Task,
        state_handlers: Iterable[Callable] | None = None,
        flow_result: Result | None = None,
    ):
        # A shallow snapshot: context values are shared, the config is not copied.
        self.context = prefect.context.__dict__.copy()
        self._set_up(task, state_handlers, flow_result)

    @classmethod
    def _for_task_context(
        cls,
        task: Task,
        state_handlers: Iterable[Callable] | None,
        flow_result: Result | None,
        context: dict[str, Any],
    ) -> TaskRunner:
        """The runner the flow runner makes for a task run: as built inside a block of the
        task's `context`, whose snapshot is that dict itself (the run copies it before any
        change), without entering the block."""
        runner = cls.__new__(cls)
        runner.context = context
        runner._set_up(task, state_handlers, flow_result)
        return runner

    def _set_up(
        self,
        task: Task,
        state_handlers: Iterable[Callable] | None,
        flow_result: Result | None,
    ) -> None:
        self.task = task
        if task.result is not None:
            self.result = task.result
        else:
            # Shared with the flow until a target is set on it (`initialize_run` copies it
            # then): running a task only makes new results from it.
            self.result = Result() if flow_result is None else flow_result
        self.flow_result = flow_result
        super().__init__(state_handlers=state_handlers)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.task.name}>"

    def _task_name(self) -> str:
        return prefect.context.get("task_full_name", self.task.name)

    def call_runner_target_handlers(self, old_state: State, new_state: State) -> State:
        """Call the task's own state handlers `(task, old_state, new_state)`."""
        if self.logger.isEnabledFor(10):
            self.logger.debug(
                "Task '%s': Handling state change from %s to %s",
                self._task_name(),
                type(old_state).__name__,
                type(new_state).__name__,
            )
        for handler in self.task.state_handlers:
            new_state = handler(self.task, old_state, new_state) or new_state
        return new_state

    def initialize_run(  # type: ignore[override]
        self, state: State | None, context: dict[str, Any]
    ) -> TaskRunnerInitializeResult:
        """Prepare the run's context: run count (from `Retrying`), resume (from `Resume` or a
        `Paused` state whose time has come), loop count and result, task names and tags,
        checkpointing, logger, and the target as the result location.

        Args:
            state: the state the run starts from (`Pending` when `None`)
            context: the run's context, updated in place

        Returns:
            `(state, context)`
        """
        state, context = super().initialize_run(state, context)

        if isinstance(state, Retrying):
            run_count = state.run_count + 1
        else:
            run_count = state.context.get("task_run_count", 1)

        if isinstance(state, Resume) or (
            isinstance(state, Paused) and state.start_time and state.start_time <= _now()
        ):
            context.update(resume=True)

        if "_loop_count" in state.context:
            loop_result = state._result
            if loop_result.value is None and loop_result.location is not None:
                loop_value = self.result.read(loop_result.location).value
            else:
                loop_value = loop_result.value
            context.update(
                task_loop_count=json.loads(state.context.pop("_loop_count")),
                task_loop_result=loop_value,
            )

        task = self.task
        context["task_run_count"] = run_count
        context["task_name"] = task.name
        context["task_tags"] = task.tags
        if "checkpointing" not in context:
            context["checkpointing"] = _plain_run.checkpointing(context)

        # Mapped children share their task's logger: one logger per child (as 1.x made) would
        # grow the logging registry by a logger per child, forever.
        context["logger"] = task.logger

        target = task.target
        if target:
            if self.result is self.flow_result:
                self.result = self.result.copy()
            if isinstance(target, str):
                self.result.location = target
            else:
                self.result.location = None
                self.result._formatter = target  # type: ignore[attr-defined]

        return TaskRunnerInitializeResult(state, context)

    @executors.tail_recursive
    def run(
        self,
        state: State | None = None,
        upstream_states: dict[Edge, State] | None = None,
        context: dict[str, Any] | None = None,
        is_mapped_parent: bool = False,
    ) -> State:
        """Run the task through the 1.x pipeline and return its final state.

        Args:
            state: the task's state (`Pending` when `None`)
            upstream_states: the states of the upstream tasks, by edge
            context: the run's context (default: a copy of `prefect.context`)
            is_mapped_parent: this run decides whether the task can be mapped (the parent of
                mapped children), rather than running it

        Returns:
            the final state
        """
        upstream_states = upstream_states or {}
        if state is None and not is_mapped_parent and self._runs_plainly(upstream_states, context):
            return self._run_plainly(upstream_states, context)
        context = dict(context) if context else prefect.context.__dict__.copy()
        map_index = context.setdefault("map_index", None)
        context["task_full_name"] = (
            self.task.name if map_index is None else f"{self.task.name}[{map_index}]"
        )
        try:
            state, context = self.initialize_run(state, context)
        except Exception as exc:
            return self._unexpected_error(exc, context)

        # A loop's iterations log their end once: the last one (the others end by recursing).
        # The check reads the caller's context, where no loop count is set.
        log_final = prefect.context.__dict__.get("task_loop_count") is None
        # One context block for the whole run, the final log line included.
        with prefect.context(context):
            try:
                if context.get("task_loop_count") is None:
                    log_info(
                        self.logger, "Task '%s': Starting task run...", context["task_full_name"]
                    )
                state = self.check_task_is_ready(state)
                state = self.check_task_reached_start_time(state)
                state = self.check_upstream_finished(state, upstream_states=upstream_states)
                state = self.check_upstream_skipped(state, upstream_states=upstream_states)
                state, upstream_states = self.load_results(
                    state=state, upstream_states=upstream_states
                )
                task_inputs = self.get_task_inputs(state=state, upstream_states=upstream_states)
                if is_mapped_parent:
                    state = self.check_task_ready_to_map(state, upstream_states=upstream_states)
                self.set_task_run_name(task_inputs)
                if self.task.target:
                    state = self.check_target(state, inputs=task_inputs)
                else:
                    state = self.check_task_is_cached(state, inputs=task_inputs)
                # Triggers may pause, which needs the inputs for the cached state, so after.
                state = self.check_task_trigger(state, upstream_states=upstream_states)
                state = self.set_task_to_running(state, inputs=task_inputs)
                state = self.get_task_run_state(state, inputs=task_inputs)
                state = self.cache_result(state, inputs=task_inputs)
                state = self.check_for_retry(state, inputs=task_inputs)
                state = self.check_task_is_looping(
                    state, inputs=task_inputs, upstream_states=upstream_states, context=context
                )
            except (ENDRUN, signals.PrefectStateSignal) as exc:
                state = exc.state
            except executors.RecursiveCall:
                raise
            except Exception as exc:
                state = self._unexpected_error(exc, context, log_final=False)

            if log_final:
                self._log_final_state(context, state)
        return state  # type: ignore[return-value]

    def _runs_plainly(self, upstream_states: dict[Edge, State], context: Any) -> bool:
        """Whether a fresh run (no state yet) would pass the steps that only matter for tasks
        with handlers, targets, caches, schedules, loops or unfinished or skipped upstream
        tasks without changing anything: then `_run_plainly` skips them. Any runner whose
        steps differ (a subclass, a patched step, an attribute set on the runner) takes
        every step."""
        return (
            self._task_runs_plainly()
            and not (context and context.get("task_loop_count") is not None)
            and upstream_runs_plainly(self.task, upstream_states)
        )

    def _task_runs_plainly(self) -> bool:
        """The part of `_runs_plainly` that holds for every run of this runner's task (in the
        current context) whatever its upstream states."""
        task = self.task
        return not (
            type(self) is not TaskRunner
            or self.state_handlers
            or task.state_handlers
            or task.target
            or task.cache_for is not None
            or task.log_stdout
            or len(self.__dict__) != _PLAIN_RUNNER_ATTRIBUTES
            or _PLAIN_STEPS(TaskRunner.__dict__) != _PLAIN_STEP_FUNCTIONS
            or _RUNNER_STEPS(Runner.__dict__) != _RUNNER_STEP_FUNCTIONS
            or "handle_state_change" in TaskRunner.__dict__
            or self.logger.isEnabledFor(10)
            or prefect.context.__dict__.get("task_loop_count") is not None
        )

    def _run_plainly(self, upstream_states: dict[Edge, State], context: Any) -> State:
        """`run` for a run `_runs_plainly` accepts: the same context, lines, steps and states,
        without the steps that would leave the state as it is."""
        task = self.task
        context = dict(context) if context else prefect.context.__dict__.copy()
        map_index = context.setdefault("map_index", None)
        name = context["task_full_name"] = (
            task.name if map_index is None else f"{task.name}[{map_index}]"
        )
        # `initialize_run` for a new `Pending` state.
        state: State = Pending()
        context["task_run_count"] = 1
        context["task_name"] = task.name
        context["task_tags"] = task.tags
        if "checkpointing" not in context:
            try:
                context["checkpointing"] = _plain_run.checkpointing(context)
            except Exception as exc:
                return self._unexpected_error(exc, context)
        context["logger"] = task.logger
        with prefect.context(context):
            return _plain_run.run_plain(
                self,
                upstream_states,
                trigger_states(upstream_states, task.trigger),
                name,
                state,
                Running(message="Starting task run."),
                _plain_run.makes_plain_success(self.result),
                prefect.context.__dict__,
                context,
            )

    def _unexpected_error(
        self, exc: Exception, context: dict[str, Any], log_final: bool = True
    ) -> State:
        msg = f"Task '{context['task_full_name']}': Unexpected error while running task: {exc!r}"
        self.logger.exception(msg)
        if prefect.context.get("raise_on_exception"):
            raise exc
        state = Failed(message=msg, result=exc)
        if log_final:
            with prefect.context(context):
                self._log_final_state(context, state)
        return state

    def _log_final_state(self, context: dict[str, Any], state: State) -> None:
        log_info(
            self.logger,
            "Task '%s': Finished task run for task with final state: '%s'",
            context["task_full_name"],
            type(state).__name__,
        )

    @call_state_handlers
    def check_upstream_finished(self, state: State, upstream_states: dict[Edge, State]) -> State:
        """End the run (in its current state) unless every upstream task has finished.

        Raises:
            ENDRUN: when an upstream state is not finished
        """
        if not all(map(IS_FINISHED, upstream_state_set(upstream_states))):
            self.logger.debug(
                "Task '%s': Not all upstream states are finished; ending run.", self._task_name()
            )
            raise ENDRUN(state)
        return state

    @call_state_handlers
    def check_upstream_skipped(self, state: State, upstream_states: dict[Edge, State]) -> State:
        """Skip the task when an upstream task was skipped (unless `skip_on_upstream_skip` is
        off).

        Raises:
            ENDRUN: with a `Skipped` state
        """
        if self.task.skip_on_upstream_skip and any(
            map(IS_SKIPPED, upstream_state_set(upstream_states))
        ):
            self.logger.debug(
                "Task '%s': Upstream states were skipped; ending run.", self._task_name()
            )
            raise ENDRUN(
                state=Skipped(
                    message=(
                        "Upstream task was skipped; if this was not the intended behavior, "
                        "consider changing `skip_on_upstream_skip=False` for this task."
                    )
                )
            )
        return state

    @call_state_handlers
    def check_task_ready_to_map(self, state: State, upstream_states: dict[Edge, State]) -> State:
        """For the parent of a mapped task: decide whether it can map, and over how many
        children.

        Raises:
            ENDRUN: always; with `Mapped(n_map_states=...)` when ready, `Failed` when nothing
                can be mapped over
        """
        if isinstance(state, Mapped):
            # A re-run: keep the inputs, and give a mapped state known only by its count (e.g.
            # from a backend) empty child slots, so the flow runner can rebuild the children.
            state.cached_inputs = {
                edge.key: upstream._result  # type: ignore[attr-defined]
                for edge, upstream in upstream_states.items()
                if edge.key is not None
            }
            if not state.map_states and state.n_map_states:
                state.map_states = [None] * state.n_map_states  # type: ignore[list-item]
            raise ENDRUN(state)
        mapped = [(e, s) for e, s in upstream_states.items() if e.mapped]
        if upstream_states and not any(s.is_successful() for _, s in mapped):
            raise ENDRUN(Failed("No upstream states can be mapped over."))
        if not all(
            hasattr(s.result, "__getitem__")
            for _, s in mapped
            if s.is_successful() and not s.is_mapped()
        ):
            raise ENDRUN(Failed("At least one upstream state has an unmappable result."))
        counts = [
            s.n_map_states if s.is_mapped() else len(s.result)  # type: ignore[attr-defined]
            for _, s in mapped
            if s.is_successful()
        ]
        raise ENDRUN(Mapped("Ready to proceed with mapping.", n_map_states=min(counts, default=0)))

    @call_state_handlers
    def check_task_trigger(self, state: State, upstream_states: dict[Edge, State]) -> State:
        """Run the task's trigger on the upstream states.

        Raises:
            ENDRUN: with the signal's state when the trigger raises one (`TriggerFailed`,
                `Paused`, `Skipped`), or `TriggerFailed` for an unexpected error or `False`
        """
        try:
            trigger = self.task.trigger
            if not trigger(trigger_states(upstream_states, trigger)):
                raise signals.TRIGGERFAIL(message="Trigger failed")
        except (signals.PrefectStateSignal, Exception) as exc:
            self._trigger_raised(exc)
        return state

    def _trigger_raised(self, exc: BaseException) -> NoReturn:
        """End the run after the trigger raised `exc` (called while handling it): with the
        signal's state, or `TriggerFailed` for an unexpected error; with
        `raise_on_exception`, `exc` itself is raised."""
        if isinstance(exc, signals.PrefectStateSignal):
            self.logger.debug(
                "Task '%s': %s signal raised during execution.",
                self._task_name(),
                type(exc).__name__,
            )
            if prefect.context.get("raise_on_exception"):
                raise exc
            raise ENDRUN(exc.state) from None
        self.logger.exception(
            "Task '%s': unexpected error while evaluating task trigger: %r",
            self._task_name(),
            exc,
        )
        if prefect.context.get("raise_on_exception"):
            raise exc
        raise ENDRUN(
            TriggerFailed(f"Unexpected error while checking task trigger: {exc!r}", result=exc)
        ) from None

    @call_state_handlers
    def check_task_is_ready(self, state: State) -> State:
        """Go on only from a pending, mapped (to regenerate children) or cached state.

        Raises:
            ENDRUN: when the task is running, finished or not ready
        """
        if state.is_pending() or state.is_mapped() or state.is_cached():
            return state
        if state.is_running():
            self.logger.debug("Task '%s': task is already running.", self._task_name())
        elif state.is_finished():
            self.logger.debug("Task '%s': task is already finished.", self._task_name())
        else:
            self.logger.debug(
                "Task '%s': task is not ready to run or state was unrecognized (%s).",
                self._task_name(),
                state,
            )
        raise ENDRUN(state)

    @call_state_handlers
    def check_task_reached_start_time(self, state: State) -> State:
        """End the run of a scheduled task whose start time is still ahead, or of a task paused
        without a start time.

        Raises:
            ENDRUN: in the current state
        """
        if isinstance(state, Scheduled):
            if state.start_time is None:
                if isinstance(state, Paused):
                    self.logger.debug("Task '%s': task is paused; ending run.", self._task_name())
                    raise ENDRUN(state)
            elif state.start_time > _now():
                self.logger.debug(
                    "Task '%s': start_time has not been reached; ending run.", self._task_name()
                )
                raise ENDRUN(state)
        return state

    def get_task_inputs(
        self, state: State, upstream_states: dict[Edge, State]
    ) -> dict[str, Result]:
        """The task's inputs: the results of keyed upstream edges, completed from the state's
        cached inputs (kept from an earlier attempt) where an upstream result is missing."""
        task_inputs: dict[str, Result] = {}
        for edge, upstream_state in upstream_states.items():
            if edge.key is not None:
                task_inputs[edge.key] = upstream_state._result  # type: ignore[attr-defined]
        if state.is_pending() and state.cached_inputs:
            for key, result in state.cached_inputs.items():
                if task_inputs.get(key, NoResult) == NoResult:
                    task_inputs[key] = result
        return task_inputs

    def load_results(
        self, state: State, upstream_states: dict[Edge, State]
    ) -> tuple[State, dict[Edge, State]]:
        """Hydrate results that are only known by location (backend runners do; a local run
        has the values already)."""
        return state, upstream_states

    def set_task_run_name(self, task_inputs: dict[str, Result]) -> None:
        """Set `prefect.context.task_run_name` from the task's `task_run_name` template (or
        callable), formatted with parameters, context and inputs."""
        task_run_name = self.task.task_run_name
        if not task_run_name:
            return
        kwargs = self._formatting_kwargs(task_inputs)
        if isinstance(task_run_name, str):
            name = task_run_name.format(**kwargs)
        else:
            name = task_run_name(**kwargs)
        prefect.context.update(task_run_name=name)

    def _formatting_kwargs(self, inputs: dict[str, Result]) -> dict[str, Any]:
        """What templates (targets, run names, result locations) are formatted with."""
        return {
            **(prefect.context.get("parameters") or {}),
            **prefect.context,
            **{key: result.value for key, result in inputs.items()},
        }

    @call_state_handlers
    def check_target(self, state: State, inputs: dict[str, Result]) -> State:
        """Reuse the result stored at the task's target, if one exists: the run ends `Cached`.

        Returns:
            a `Cached` state with the stored result, or the state unchanged
        """
        result = self.result
        target = self.task.target
        if result and target:
            kwargs = self._formatting_kwargs(inputs)
            location = target(**kwargs) if callable(target) else target
            if result.exists(location, **kwargs):
                known_location = _format_location(location, kwargs)
                return Cached(
                    result=result.read(known_location),
                    hashed_inputs={key: _tokenize(val.value) for key, val in inputs.items()},
                    cached_result_expiration=None,
                    cached_parameters=kwargs.get("parameters"),
                    message=f"Result found at task target {known_location}",
                )
        return state

    @call_state_handlers
    def check_task_is_cached(self, state: State, inputs: dict[str, Result]) -> State:
        """Reuse a valid cache: the state's own when it is `Cached`, else one of
        `prefect.context.caches` (by `cache_key` or task name) when the task has `cache_for`.

        Returns:
            the valid `Cached` state, or `Pending` when the cache is invalid
        """
        parameters = prefect.context.get("parameters")
        if state.is_cached():
            sanitized = {key: res.value for key, res in inputs.items()}
            if self.task.cache_validator(state, sanitized, parameters):  # type: ignore[arg-type]
                return state
            state = Pending("Cache was invalid; ready to run.")

        if self.task.cache_for is not None:
            caches = prefect.context.get("caches") or {}
            candidates = caches.get(self.task.cache_key or self.task.name, [])
            sanitized = {key: res.value for key, res in inputs.items()}
            for candidate in candidates:
                if self.task.cache_validator(candidate, sanitized, parameters):
                    return candidate
            if candidates:
                self.logger.warning(
                    "Task '%s': Can't use cache because it is now invalid", self._task_name()
                )
        return state or Pending("Cache was invalid; ready to run.")

    @call_state_handlers
    def set_task_to_running(self, state: State, inputs: dict[str, Result]) -> State:
        """Move a pending task to `Running`.

        Raises:
            ENDRUN: when the state is not pending
        """
        if not state.is_pending():
            self.logger.debug(
                "Task '%s': Can't set state to Running because it isn't Pending; ending run.",
                self._task_name(),
            )
            raise ENDRUN(state)
        return Running(message="Starting task run.")

    @call_state_handlers
    def get_task_run_state(self, state: State, inputs: dict[str, Result]) -> State:
        """Call `task.run` with the inputs (within the task's timeout) and turn the outcome into
        a state: `Success` with the (checkpointed) result, `Failed` for an exception,
        `TimedOut`, or the state of a `LOOP`/`SUCCESS` signal; other signals propagate.

        Raises:
            ENDRUN: when the state is not running
        """
        task_name = self._task_name()
        if not state.is_running():
            self.logger.debug(
                "Task '%s': Can't run task because it's not in a Running state; ending run.",
                task_name,
            )
            raise ENDRUN(state)

        raw_inputs = {key: result.value for key, result in inputs.items()}
        try:
            self.logger.debug("Task '%s': Calling task.run() method...", task_name)
            if self.task.log_stdout:
                from prefect.utilities.logging import RedirectToLog

                with redirect_stdout(RedirectToLog(self.logger)):  # type: ignore[type-var]
                    value = executors.run_task_with_timeout(self.task, (), raw_inputs, self.logger)
            else:
                value = executors.run_task_with_timeout(self.task, (), raw_inputs, self.logger)
        except BaseException as exc:
            return self._task_run_raised(exc, task_name, inputs)
        return self._task_run_returned(value, None, inputs)

    def _task_run_raised(
        self, exc: BaseException, task_name: str, inputs: dict[str, Result]
    ) -> State:
        """The state for a task run whose `run` raised `exc` (called while handling it):
        `TimedOut`, the state of a `LOOP` or `SUCCESS` signal, or `Failed`; other signals
        (and `KeyboardInterrupt`, ...) are raised again."""
        if isinstance(exc, TaskTimeoutSignal):
            if prefect.context.get("raise_on_exception"):
                raise exc
            return TimedOut("Task timed out during execution.", result=exc)
        if isinstance(exc, signals.LOOP):
            new_state = exc.state
            new_state.message = exc.state.message or (
                f"Task is looping ({new_state.loop_count})"  # type: ignore[attr-defined]
            )
            return self._task_run_returned(new_state.result, new_state, inputs)
        if isinstance(exc, signals.SUCCESS):
            return self._task_run_returned(exc.state.result, exc.state, inputs)
        if isinstance(exc, Exception):
            if prefect.context.get("raise_on_exception"):
                raise exc
            self.logger.error(
                "Task '%s': Exception encountered during task execution!", task_name, exc_info=True
            )
            return Failed(f"Error during execution of task: {exc!r}", result=exc)
        raise exc

    def _task_run_returned(
        self, value: Any, new_state: State | None, inputs: dict[str, Result]
    ) -> State:
        """The state for a task run that returned `value` (or ended with a `LOOP`/`SUCCESS`
        signal's `new_state`): its result, written when checkpointing."""
        if (
            prefect.context.get("checkpointing") is True
            and self.task.checkpoint is not False
            and value is not None
        ):
            try:
                result = self.result.write(value, **self._formatting_kwargs(inputs))
            except ResultNotImplementedError:
                result = self.result.from_value(value=value)
        else:
            result = self.result.from_value(value=value)

        if new_state is not None:
            new_state.result = result
            return new_state
        return Success(result=result, message="Task run succeeded.")

    @call_state_handlers
    def cache_result(self, state: State, inputs: dict[str, Result]) -> State:
        """Keep the inputs on the state; a successful task with `cache_for` ends `Cached`."""
        state.cached_inputs = inputs
        if state.is_successful() and not state.is_skipped() and self.task.cache_for is not None:
            return Cached(
                result=state._result,  # type: ignore[attr-defined]
                cached_inputs=inputs,
                cached_result_expiration=_now() + self.task.cache_for,
                cached_parameters=prefect.context.get("parameters"),
                message=state.message,
            )
        return state

    @call_state_handlers
    def check_for_retry(self, state: State, inputs: dict[str, Result]) -> State:
        """Turn a failure into `Retrying` while retries are left (and the exception is one of
        `retry_on`, when set), starting after `retry_delay`."""
        if not state.is_failed():
            return state
        run_count = prefect.context.get("task_run_count", 1)
        if run_count > self.task.max_retries:
            return state
        if self.task.retry_on and not isinstance(state.result, tuple(self.task.retry_on)):
            self.logger.debug(
                "Task '%s': %r is not one of the exceptions to retry on; not retrying.",
                self._task_name(),
                state.result,
            )
            return state
        retry_context: dict[str, Any] = {}
        if prefect.context.get("task_loop_count") is not None:
            retry_context["_loop_count"] = json.dumps(prefect.context["task_loop_count"])
        retry_state = Retrying(
            start_time=_now() + self.task.retry_delay,
            cached_inputs=inputs,
            message=f"Retrying Task (after attempt {run_count} of {self.task.max_retries + 1})",
            run_count=run_count,
            context=retry_context,
        )
        if retry_context:
            retry_state._result = Result(value=prefect.context.get("task_loop_result"))  # type: ignore[attr-defined]
        return retry_state

    def check_task_is_looping(
        self,
        state: State,
        inputs: dict[str, Result] | None = None,
        upstream_states: dict[Edge, State] | None = None,
        context: dict[str, Any] | None = None,
    ) -> State:
        """Run the task again (without growing the stack) after a `LOOP` signal, with
        `task_loop_count` and `task_loop_result` in the context."""
        if isinstance(state, Looped):
            assert context is not None
            context.update(
                task_loop_result=state.result,
                task_loop_count=state.loop_count + 1,
                task_run_version=prefect.context.get("task_run_version"),
            )
            new_state = Pending(message=f"Looping task (on loop index {state.loop_count})")
            raise executors.RecursiveCall(
                self.run, self, new_state, upstream_states=upstream_states, context=context
            )
        return state


# What `TaskRunner._run_plainly` relies on being as defined here: the steps it skips or
# inlines, and the attributes a runner made by `_for_task_context` has.
_PLAIN_STEP_NAMES = (
    "initialize_run",
    "check_task_is_ready",
    "check_task_reached_start_time",
    "check_upstream_finished",
    "check_upstream_skipped",
    "load_results",
    "get_task_inputs",
    "check_task_ready_to_map",
    "check_target",
    "check_task_is_cached",
    "set_task_to_running",
    "get_task_run_state",
    "check_task_trigger",
    "check_for_retry",
    "check_task_is_looping",
    "set_task_run_name",
    "_trigger_raised",
    "_task_run_raised",
    "_task_run_returned",
    "cache_result",
    "call_runner_target_handlers",
    "_log_final_state",
    "_unexpected_error",
    "run",
)
_PLAIN_STEPS = operator.itemgetter(*_PLAIN_STEP_NAMES)
_PLAIN_STEP_FUNCTIONS = _PLAIN_STEPS(TaskRunner.__dict__)
_RUNNER_STEPS = operator.itemgetter("initialize_run", "handle_state_change")
_RUNNER_STEP_FUNCTIONS = _RUNNER_STEPS(Runner.__dict__)
_PLAIN_RUNNER_ATTRIBUTES = 6  # context, task, result, flow_result, logger, state_handlers
