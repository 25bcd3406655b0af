"""The children of a mapped task on the `LocalExecutor`, run as the task runner would run them,
with the work every child would repeat done once per map.

A map over a million items runs a million task runs. On the `LocalExecutor` (each submission
runs at once, in the flow runner's thread) and for a task whose runs take the plain path of
`TaskRunner` (no handlers, target, cache, log capture, loop; see `TaskRunner._runs_plainly`),
what differs between two children is their upstream states and their map index. So:

- one `TaskRunner` serves every child (a plain run keeps nothing on its runner);
- the children's context is entered once: the values every child's run sets (task name, tags,
  run count, checkpointing, logger) stay, and each child only sets its `map_index` and
  `task_full_name`. What a task changes in `prefect.context` is undone before the next child
  runs, as a context block per child would;
- the `Pending` and `Running` states a plain run passes through (never returned, never shown
  to a handler, as there is none) are made once.

The flow runner still submits each child to the executor (the 1.x contract). A child whose
upstream states would not take the plain path (an upstream task unfinished or skipped, a
mapped task feeding it whole) runs through `run_task` like any other, outside the shared
context.

On a `LocalDaskExecutor` running in this process (threads, or the synchronous scheduler), the
children run in batches in its threads: each batch enters the children's context once in its
thread (`batch_scope`, which `_batching.run_batch` enters around consecutive calls of one
owner). A child run in a thread without a scope takes the full path.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Callable, Iterable

import prefect
from prefect.engine import signals
from prefect.engine.result import Result
from prefect.engine.runner import ENDRUN, _step_raised, log_info
from prefect.engine.state import Looped, Mapped, Pending, Running, State, Success
from prefect.engine.task_runner import TaskRunner
from prefect.executors.local import LocalExecutor
from prefect.utilities import executors
from prefect.utilities._copy import shallow_copy_is_plain

if TYPE_CHECKING:
    from prefect.core import Edge, Task

# Every so many children, the objects alive (mostly the finished children's states, kept until
# the flow run ends) move out of the cyclic garbage collector's reach until the map is over
# (`gc.freeze`/`gc.unfreeze`): each full collection would otherwise scan every child so far,
# which makes a map of a million children spend most of its time in the collector. Reference
# counting frees the children's garbage as before; only cycles already made when a freeze
# happens wait for the end of the map.
_FREEZE_EVERY = 10_000

_RUN_TASK_WITH_TIMEOUT = executors.run_task_with_timeout
_STATE_INIT = State.__init__
_MISSING: Any = object()

# The step whose work `_run` does inline (named in its error messages).
_GET_TASK_RUN_STATE = TaskRunner.get_task_run_state.__wrapped__  # type: ignore[attr-defined]
_CHECK_TASK_TRIGGER = TaskRunner.check_task_trigger.__wrapped__  # type: ignore[attr-defined]
_STARTING = "Task '%s': Starting task run..."
_FINISHED = "Task '%s': Finished task run for task with final state: '%s'"


class PlainChildren:
    """Runs the children of one mapped task (see the module docstring); use it as a context
    manager around the submissions, and submit `run_child` for each child."""

    @classmethod
    def for_map(
        cls,
        executor: Any,
        task: Task,
        task_state: State | None,
        task_context: dict[str, Any],
        task_runner_cls: Callable,
        handlers: Iterable[Callable],
        flow_result: Result | None,
        run_fully: Callable[[dict[Edge, State], int], State],
    ) -> PlainChildren | None:
        """The runner of the children of `task`, or `None` when they need the full path
        (another executor or runner class, handlers, a re-run, a task that is not plain).

        Args:
            run_fully: runs one child the usual way (through `run_task`), given its upstream
                states and map index
        """
        if type(executor) is LocalExecutor:
            batched = False
        elif _runs_batches_here(executor):
            batched = True
        else:
            return None
        if (
            "submit" in executor.__dict__
            or task_runner_cls is not TaskRunner
            or handlers
            or task_state is not None
            or task_context.get("task_loop_count") is not None
        ):
            return None
        runner = TaskRunner._for_task_context(task, handlers, flow_result, task_context)
        if not runner._task_runs_plainly():
            return None
        return cls(runner, task_context, run_fully, batched)

    def __init__(
        self,
        runner: TaskRunner,
        task_context: dict[str, Any],
        run_fully: Callable[[dict[Edge, State], int], State],
        batched: bool = False,
    ) -> None:
        task = runner.task
        # Whether the children run in an executor's batches (`batch_scope`) rather than at
        # once inside this object's `with` block.
        self.batched = batched
        self.runner = runner
        self.task = task
        self.name = task.name
        self.logger = runner.logger
        self.run_fully = run_fully
        # The context of every child's run, as `TaskRunner.run` and `initialize_run` make it
        # for a new `Pending` state, less the map index and full name.
        template = dict(task_context)
        template["map_index"] = None
        template["task_full_name"] = task.name
        template["task_run_count"] = 1
        template["task_name"] = task.name
        template["task_tags"] = task.tags
        if "checkpointing" not in template:
            from prefect.engine.task_runner import _checkpointing

            template["checkpointing"] = _checkpointing(template)
        template["logger"] = task.logger
        self.template = template
        # The children's context entered in a thread (`_Scope`), per thread.
        self._scopes = threading.local()
        self._scope: _Scope | None = None  # the `with` block's
        # Made before the children's context is entered, as each run makes its `Pending`.
        self.pending = Pending()
        self.running: State | None = None
        self._freezes = False
        self._frozen = False
        # Whether `Success` and the runner's result are made as `_new_success` makes them.
        self._plain_success = (
            Success.__init__ is State.__init__  # type: ignore[misc]
            and State.__init__ is _STATE_INIT  # type: ignore[misc]
            and "__new__" not in Success.__dict__
            and _is_plain_result(runner.result)
        )
        self._countdown = _FREEZE_EVERY

    def __enter__(self) -> PlainChildren:
        self._scope = self._enter_scope()
        # See `_FREEZE_EVERY`; not when the cyclic collector is off or another user of
        # `gc.freeze` has frozen objects (unfreezing would thaw theirs).
        self._freezes = gc.isenabled() and gc.get_freeze_count() == 0
        self._frozen = False
        self._countdown = _FREEZE_EVERY
        return self

    def __exit__(self, *exc_info: Any) -> None:
        try:
            scope, self._scope = self._scope, None
            if scope is not None:
                self._exit_scope(scope, exc_info)
        finally:
            if self._frozen:
                gc.unfreeze()

    @contextmanager
    def batch_scope(self) -> Iterator[None]:
        """The children's context, entered in this thread for a batch of children."""
        scope = self._enter_scope()
        try:
            yield
        finally:
            self._exit_scope(scope, (None, None, None))

    def _enter_scope(self) -> _Scope:
        scope = _Scope(self.template)
        if self.running is None:
            # Made inside the context, as `set_task_to_running` makes it.
            self.running = Running(message="Starting task run.")
        self._scopes.scope = scope
        return scope

    def _exit_scope(self, scope: _Scope, exc_info: Any) -> None:
        if getattr(self._scopes, "scope", None) is scope:
            del self._scopes.scope
        scope.exit(exc_info)

    def run_child(self, upstream_states: dict[Edge, State], index: int) -> State:
        """Run the child `index` of the map with `upstream_states`; what `run_task` would
        return for it."""
        scope = getattr(self._scopes, "scope", None)
        if scope is None:  # not inside `with` or a batch's scope in this thread
            return self.run_fully(upstream_states, index)
        self._countdown -= 1
        if not self._countdown:
            self._countdown = _FREEZE_EVERY
            if self._freezes:
                gc.freeze()
                self._frozen = True
        skip_on_upstream_skip = self.task.skip_on_upstream_skip
        try:
            for upstream_state in upstream_states.values():
                if (
                    isinstance(upstream_state, Mapped)
                    or not upstream_state.is_finished()
                    or (skip_on_upstream_skip and upstream_state.is_skipped())
                ):
                    return self._run_outside(scope, upstream_states, index)
        except Exception:
            return self._run_outside(scope, upstream_states, index)  # the full path reports it
        if self.logger.isEnabledFor(10):
            return self._run_outside(scope, upstream_states, index)
        store = scope.store
        expected = scope.expected
        name = f"{self.name}[{index}]"
        store["map_index"] = expected["map_index"] = index
        store["task_full_name"] = expected["task_full_name"] = name
        runner = self.runner
        logger = self.logger
        try:
            state = self._run(runner, logger, upstream_states, name, store)
        except executors.RecursiveCall as call:
            # A loop: the next iterations run as `TaskRunner.run` runs them, from the
            # children's context as it was before this one.
            scope.restore()
            function = getattr(call.func, "__wrapped_func__", call.func)
            return executors.tail_recursive(function)(*call.args, **call.kwargs)  # type: ignore[no-any-return]
        finally:
            if store != expected:
                store.clear()
                store.update(expected)
        return state

    def _run(
        self,
        runner: TaskRunner,
        logger: Any,
        upstream_states: dict[Edge, State],
        name: str,
        store: dict[str, Any],
    ) -> State:
        # `TaskRunner._run_plainly`, in the children's shared context (`store`).
        state: State = self.pending
        try:
            log_info(logger, _STARTING, name)
            task_inputs: dict[str, Result] = {}
            raw_inputs: dict[str, Any] = {}
            for edge, upstream_state in upstream_states.items():
                key = edge.key
                if key is not None:
                    result = task_inputs[key] = upstream_state._result  # type: ignore[attr-defined]
                    raw_inputs[key] = result.value
            if self.task.task_run_name:
                runner.set_task_run_name(task_inputs)
            # `check_task_trigger`: no upstream mapped task here, so the trigger gets the
            # upstream states as they are.
            try:
                if not self.task.trigger(upstream_states):
                    raise signals.TRIGGERFAIL(message="Trigger failed")
            except (signals.PrefectStateSignal, Exception) as exc:
                try:
                    runner._trigger_raised(exc)
                except (ENDRUN, signals.PrefectStateSignal, Exception) as raised:
                    state = _step_raised(runner, _CHECK_TASK_TRIGGER, state, raised)
            if state is not self.pending:
                raise ENDRUN(state)  # `set_task_to_running` on a state that is not pending
            # `get_task_run_state` from a `Running` state, with no handler to call and
            # nothing logged at DEBUG.
            running = self.running
            try:
                run_with_timeout = executors.run_task_with_timeout
                if run_with_timeout is _RUN_TASK_WITH_TIMEOUT and self.task.timeout is None:
                    value = self.task.run(**raw_inputs)  # type: ignore[func-returns-value]
                else:
                    value = run_with_timeout(self.task, (), raw_inputs, logger)
            except BaseException as exc:
                try:
                    state = runner._task_run_raised(exc, name, task_inputs)
                except (ENDRUN, signals.PrefectStateSignal, Exception) as raised:
                    state = _step_raised(runner, _GET_TASK_RUN_STATE, running, raised)  # type: ignore[arg-type]
            else:
                if self._plain_success and (
                    value is None
                    or store.get("checkpointing") is not True
                    or self.task.checkpoint is False
                ):
                    # `_task_run_returned` with no result to write: `Success` holding a copy
                    # of the runner's result with the value, made as their constructors would.
                    state = _new_success(runner.result, value, store.get("task_tags", _MISSING))
                else:
                    state = runner._task_run_returned(value, None, task_inputs)
            state.cached_inputs = task_inputs
            if state.is_failed():
                state = runner.check_for_retry(state, inputs=task_inputs)
            elif isinstance(state, Looped):
                state = runner.check_task_is_looping(
                    state,
                    inputs=task_inputs,
                    upstream_states=upstream_states,
                    context=store.copy(),
                )
        except (ENDRUN, signals.PrefectStateSignal) as exc:
            state = exc.state
        except executors.RecursiveCall:
            raise
        except Exception as exc:
            state = runner._unexpected_error(exc, {"task_full_name": name}, log_final=False)
        log_info(logger, _FINISHED, name, type(state).__name__)
        return state

    def _run_outside(self, scope: _Scope, upstream_states: dict[Edge, State], index: int) -> State:
        """Run a child the usual way, with the context as it was outside the children's."""
        scope.suspend()
        try:
            return self.run_fully(upstream_states, index)
        finally:
            scope.resume()


class _Scope:
    """The children's context entered in one thread: the block, the thread's context values
    and what they are between children."""

    __slots__ = ("template", "block", "store", "expected")

    def __init__(self, template: dict[str, Any]) -> None:
        self.template = template
        self.resume()

    def resume(self) -> None:
        self.block = prefect.context(self.template)
        self.block.__enter__()
        self.store: dict[str, Any] = prefect.context.__dict__
        self.expected = self.store.copy()

    def restore(self) -> None:
        """Undo what the last child changed in the context."""
        store = self.store
        if store != self.expected:
            store.clear()
            store.update(self.expected)

    def suspend(self) -> None:
        self.restore()
        self.block.__exit__(None, None, None)

    def exit(self, exc_info: Any) -> None:
        self.restore()
        self.block.__exit__(*exc_info)


def _runs_batches_here(executor: Any) -> bool:
    """Whether `executor` is a `LocalDaskExecutor` running its batches in this process."""
    from prefect.executors.dask import LocalDaskExecutor

    return type(executor) is LocalDaskExecutor and executor.scheduler in ("threads", "synchronous")


def _is_plain_result(result: Any) -> bool:
    """Whether `result.from_value(value)` is a shallow copy with the value and no location."""
    cls = type(result)
    return (
        cls.from_value is Result.from_value
        and cls.copy is Result.copy
        and shallow_copy_is_plain(cls)
        and "__new__" not in vars(cls)
    )


def _new_success(result: Result, value: Any, tags: Any) -> State:
    """`Success(result=result.from_value(value), message="Task run succeeded.")` made in a
    context whose `task_tags` are `tags` (`_MISSING`: none), for a plain result (see
    `_is_plain_result`) and the constructors of `State` and `Result` as they are here."""
    values = result.__dict__.copy()
    values["location"] = None
    values["value"] = value
    new_result = object.__new__(type(result))
    new_result.__dict__ = values
    state = object.__new__(Success)
    state.__dict__ = {
        "message": "Task run succeeded.",
        "_result": new_result,
        "context": {} if tags is _MISSING else {"tags": list(tags)},
        "cached_inputs": {},
    }
    return state
