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
from prefect.engine._plain_run import checkpointing, makes_plain_success, run_plain
from prefect.engine.result import Result
from prefect.engine.state import Mapped, Pending, Running, State
from prefect.engine.task_runner import TaskRunner
from prefect.executors.local import LocalExecutor
from prefect.utilities import executors

if TYPE_CHECKING:
    from prefect.core import Edge, Task

# Every so many children, the objects alive (mostly the finished children's states, kept until
# the flow run ends) move out of the cyclic garbage collector's reach until the map is over
# (`gc.freeze`/`gc.unfreeze`): each full collection would otherwise scan every child so far,
# which makes a map of a million children spend most of its time in the collector. Reference
# counting frees the children's garbage as before; only cycles already made when a freeze
# happens wait for the end of the map.
_FREEZE_EVERY = 10_000


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
            template["checkpointing"] = checkpointing(template)
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
        # Whether `Success` and the runner's result are made as `new_success` makes them.
        self._plain_success = makes_plain_success(runner.result)
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
        try:
            state = run_plain(
                runner,
                upstream_states,
                upstream_states,  # no mapped upstream task: the trigger gets them as they are
                name,
                self.pending,
                self.running,  # type: ignore[arg-type]
                self._plain_success,
                store,
                None,
            )
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
