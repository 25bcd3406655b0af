"""`FlowRunner`: runs a flow's tasks in order on an executor and decides the flow's state."""

from __future__ import annotations

import functools
from contextlib import contextmanager
from typing import Any, Callable, Iterable, Iterator, NamedTuple

import prefect
from prefect.core import Edge, Flow, Task
from prefect.engine._plain_map import PlainChildren
from prefect.engine.result import Result
from prefect.engine.runner import ENDRUN, Runner, call_state_handlers
from prefect.engine.state import (
    Failed,
    Mapped,
    Pending,
    Running,
    Scheduled,
    State,
    Success,
)
from prefect.engine.task_runner import TaskRunner
from prefect.executors.local import LocalExecutor
from prefect.utilities import _mapping, executors
from prefect.utilities._log_records import flush_pending_lines
from prefect.utilities.collections import flatten_seq

__all__ = ["FlowRunner", "FlowRunnerInitializeResult", "run_task"]


class FlowRunnerInitializeResult(NamedTuple):
    state: State
    task_states: dict[Task, State]
    context: dict[str, Any]
    task_contexts: dict[Task, dict[str, Any]]


def _now() -> Any:
    import pendulum

    return pendulum.now("utc")


def run_task(
    task: Task,
    state: State,
    upstream_states: dict[Edge, State],
    context: dict[str, Any],
    flow_result: Result,
    task_runner_cls: Callable,
    task_runner_state_handlers: Iterable[Callable],
    upstream_mapped_states: dict[Edge, list],
    is_mapped_parent: bool = False,
) -> State:
    """Run one task (or one mapped child) with a new task runner; what executors call.

    Upstream mapped tasks feeding this task unmapped get their children's states and results
    from `upstream_mapped_states` first (an executor may have resolved them as futures).
    """
    for edge, upstream_state in upstream_states.items():
        if not edge.mapped and isinstance(upstream_state, Mapped):
            upstream_state.map_states = upstream_mapped_states.get(edge, upstream_state.map_states)
            upstream_state.result = [s.result for s in upstream_state.map_states]
    # The runner is built in the task's context (a task runner class may read it then); it
    # enters the context again for the run itself. `TaskRunner` itself only snapshots the
    # context when built, so it gets the task's context directly (one context block fewer).
    if task_runner_cls is TaskRunner:
        task_runner = TaskRunner._for_task_context(
            task, task_runner_state_handlers, flow_result, context
        )
    else:
        with prefect.context(context):
            task_runner = task_runner_cls(
                task=task, state_handlers=task_runner_state_handlers, flow_result=flow_result
            )
    # Positional: the call goes through `tail_recursive`'s `*args, **kwargs` wrapper.
    return task_runner.run(state, upstream_states, context, is_mapped_parent)  # type: ignore[no-any-return]


class FlowRunner(Runner):
    """Runs a flow: each task in topological order on an executor, then the flow's final state
    from its reference tasks.

    Args:
        flow: the flow to run
        task_runner_cls: the task runner class (default
            `config.engine.task_runner.default_class`)
        state_handlers: callables `(flow_runner, old_state, new_state) -> state | None`
    """

    def __init__(
        self,
        flow: Flow,
        task_runner_cls: type | None = None,
        state_handlers: Iterable[Callable] | None = None,
    ):
        self.flow = flow
        self.context = prefect.context.__dict__.copy()
        if task_runner_cls is None:
            task_runner_cls = prefect.engine.get_default_task_runner_class()
        self.task_runner_cls = task_runner_cls
        super().__init__(state_handlers=state_handlers)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.flow.name}>"

    def call_runner_target_handlers(self, old_state: State, new_state: State) -> State:
        """Call the flow's own state handlers `(flow, old_state, new_state)`."""
        if self.logger.isEnabledFor(10):
            self.logger.debug(
                "Flow '%s': Handling state change from %s to %s",
                self.flow.name,
                type(old_state).__name__,
                type(new_state).__name__,
            )
        for handler in self.flow.state_handlers:
            new_state = handler(self.flow, old_state, new_state) or new_state
        return new_state

    def initialize_run(  # type: ignore[override]
        self,
        state: State | None,
        task_states: dict[Task, State],
        context: dict[str, Any],
        task_contexts: dict[Task, dict[str, Any]],
        parameters: dict[str, Any],
    ) -> FlowRunnerInitializeResult:
        """Prepare the run's context: parameters, flow name, scheduled start time and the
        date keys (`today`, `yesterday_nodash`, ...), and each task's name and slug.

        Returns:
            `(state, task_states, context, task_contexts)`
        """
        if parameters:
            context_parameters = dict(context.get("parameters") or {})
            context_parameters.update(parameters)
            context["parameters"] = context_parameters

        context.update(flow_name=self.flow.name)
        now = _now()
        context.setdefault("scheduled_start_time", now)
        for key, value in {
            "date": now,
            "today": now.strftime("%Y-%m-%d"),
            "yesterday": now.add(days=-1).strftime("%Y-%m-%d"),
            "tomorrow": now.add(days=1).strftime("%Y-%m-%d"),
            "today_nodash": now.strftime("%Y%m%d"),
            "yesterday_nodash": now.add(days=-1).strftime("%Y%m%d"),
            "tomorrow_nodash": now.add(days=1).strftime("%Y%m%d"),
        }.items():
            context.setdefault(key, value)

        slugs = self.flow.slugs
        for task in self.flow.tasks:
            own = task_contexts.setdefault(task, {})
            own["task_name"] = task.name
            own["task_slug"] = slugs.get(task, task.slug)

        state, context = super().initialize_run(state=state, context=context)
        return FlowRunnerInitializeResult(
            state=state, task_states=task_states, context=context, task_contexts=task_contexts
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
        """Run the flow and return its final state.

        Args:
            state: the flow's state (`Pending` when `None`)
            task_states: known task states (finished tasks are not run again)
            return_tasks: tasks whose states go into the final state's `result`
            parameters: values of the flow's parameters
            task_runner_state_handlers: state handlers for every task runner
            executor: the executor (default: the flow's, else
                `config.engine.executor.default_class`)
            context: extra context for the run
            task_contexts: extra context per task

        Returns:
            the final state; its `result` maps each of `return_tasks` to its state

        Raises:
            ValueError: when a task in `return_tasks` is not in the flow
        """
        self.logger.info("Beginning Flow run for '%s'", self.flow.name)

        task_states = dict(task_states or {})
        context = dict(context or {})
        task_contexts = dict(task_contexts or {})
        parameters = dict(parameters or {})
        return_task_set = set(return_tasks or [])

        if executor is None:
            executor = (
                getattr(self.flow, "executor", None)
                or prefect.engine.get_default_executor_class()()
            )
        self.logger.debug("Using executor type %s", type(executor).__name__)

        try:
            state, task_states, run_context, task_contexts = self.initialize_run(
                state=state,
                task_states=task_states,
                context=context,
                task_contexts=task_contexts,
                parameters=parameters,
            )
            with prefect.context(run_context):
                state = self.check_flow_is_pending_or_running(state)
                state = self.check_flow_reached_start_time(state)
                state = self.set_flow_to_running(state)
                state = self.get_flow_run_state(
                    state,
                    task_states=task_states,
                    task_contexts=task_contexts,
                    return_tasks=return_task_set,
                    task_runner_state_handlers=task_runner_state_handlers,
                    executor=executor,
                )
        except ENDRUN as exc:
            state = exc.state
        except Exception as exc:
            self.logger.exception("Unexpected error while running flow: %r", exc)
            if prefect.context.get("raise_on_exception"):
                raise
            new_state = Failed(message=f"Unexpected error while running flow: {exc!r}", result=exc)
            state = self.handle_state_change(state or Pending(), new_state)
        finally:
            # Lines written in a burst are flushed a moment later; a finished run's are out.
            flush_pending_lines()
        return state  # type: ignore[return-value]

    @contextmanager
    def check_for_cancellation(self) -> Iterator:
        """Watch for the run being cancelled while it runs (backend runners do)."""
        yield

    @call_state_handlers
    def check_flow_reached_start_time(self, state: State) -> State:
        """End the run of a flow scheduled for later.

        Raises:
            ENDRUN: when the scheduled start time is still ahead
        """
        if isinstance(state, Scheduled) and state.start_time and state.start_time > _now():
            self.logger.debug(
                "Flow '%s': start_time has not been reached; ending run.", self.flow.name
            )
            raise ENDRUN(state)
        return state

    @call_state_handlers
    def check_flow_is_pending_or_running(self, state: State) -> State:
        """Go on only from a pending or running state.

        Raises:
            ENDRUN: when the flow run has finished or is in another state
        """
        if state.is_finished():
            self.logger.info("Flow run has already finished.")
            raise ENDRUN(state)
        if not (state.is_pending() or state.is_running()):
            self.logger.info("Flow is not ready to run.")
            raise ENDRUN(state)
        return state

    @call_state_handlers
    def set_flow_to_running(self, state: State) -> State:
        """Move a pending flow run to `Running`.

        Raises:
            ENDRUN: when the state is neither pending nor running
        """
        if state.is_pending():
            return Running(message="Running flow.")
        if state.is_running():
            return state
        raise ENDRUN(state)

    @executors.run_with_heartbeat
    @call_state_handlers
    def get_flow_run_state(
        self,
        state: State,
        task_states: dict[Task, State],
        task_contexts: dict[Task, dict[str, Any]],
        return_tasks: set[Task],
        task_runner_state_handlers: Iterable[Callable] | None,
        executor: Any,
    ) -> State:
        """Submit every task to the executor, in topological order, then decide the final state.

        Finished tasks (other than cached or mapped ones) are not run again; constants are not
        submitted. A mapped task is submitted once as a parent, which decides how many children
        there are, then once per child.

        Raises:
            ENDRUN: when the flow is not running
        """
        from prefect.tasks.core.constants import Constant

        if not state.is_running():
            self.logger.info("Flow is not in a Running state.")
            raise ENDRUN(state)
        # Checked here, as in 1.x: the run then ends Failed rather than raising.
        if set(return_tasks).difference(self.flow.tasks):
            raise ValueError("Some tasks in return_tasks were not found in the flow.")

        flow = self.flow
        mapped_children: dict[Task, list] = {}
        upstream_index = flow.all_upstream_edges()
        constants = flow.constants
        base_context = _TaskContext(prefect.context.__dict__)
        handlers = task_runner_state_handlers or []
        flow_result = flow.result
        task_runner_cls = self.task_runner_cls

        with self.check_for_cancellation(), executor.start():
            for task in flow.sorted_tasks():
                task_state = task_states.get(task)
                if task_state is None and isinstance(task, Constant):
                    task_states[task] = task_state = Success(result=task.value)

                # Finished tasks keep their state; cached and mapped ones go through the
                # pipeline again (to check the cache, or to regenerate children).
                if (
                    task_state is not None
                    and task_state.is_finished()
                    and not task_state.is_cached()
                    and not task_state.is_mapped()
                ):
                    continue

                upstream_states: dict[Edge, Any] = {}
                upstream_mapped_states: dict[Edge, list] = {}
                is_mapped = False
                for edge in upstream_index[task]:
                    is_mapped = is_mapped or edge.mapped
                    upstream_state = task_states.get(edge.upstream_task)
                    if upstream_state is None:
                        upstream_state = Pending(message="Task state not available.")
                    if edge.flattened and not isinstance(upstream_state, Mapped):
                        upstream_state = executor.submit(
                            _mapping.flatten_upstream_state, upstream_state
                        )
                    upstream_states[edge] = upstream_state
                    if not edge.mapped and isinstance(upstream_state, Mapped):
                        children = mapped_children.get(edge.upstream_task, [])
                        if edge.flattened:
                            children = _mapping.flatten_mapped_children(
                                mapped_children=children, executor=executor
                            )
                        upstream_mapped_states[edge] = children

                if task in constants:
                    upstream_states.update(_constant_inputs(flow, task))

                own_context = task_contexts.get(task)
                task_context = (
                    _TaskContext(base_context, **own_context) if own_context else base_context
                )

                if is_mapped:
                    # A flattened, mapped edge from a mapped task maps over its children's
                    # items: one upstream state per item.
                    for edge, upstream_state in list(upstream_states.items()):
                        if edge.mapped and edge.flattened and isinstance(upstream_state, Mapped):
                            flat = _mapping.flatten_mapped_children(
                                mapped_children.get(edge.upstream_task, upstream_state.map_states),
                                executor,
                            )
                            upstream_states[edge] = Mapped(map_states=flat)
                    # The parent decides, from the upstream results, how many children.
                    upstream_states = executor.wait(upstream_states)
                    submit_args = dict(
                        task=task,
                        flow_result=flow_result,
                        task_runner_cls=task_runner_cls,
                        task_runner_state_handlers=handlers,
                        upstream_mapped_states=upstream_mapped_states,
                    )
                    parent = executor.submit(
                        run_task,
                        state=task_state,
                        upstream_states=upstream_states,
                        context=task_context,
                        is_mapped_parent=True,
                        extra_context=_extra_context(task, task_context),
                        **submit_args,
                    )
                    task_states[task] = parent
                    parent_state = executor.wait(parent)
                    task_states[task] = parent_state
                    if not parent_state.is_mapped():
                        continue

                    # One child's upstream states at a time (a million children never
                    # have theirs all at once).
                    list_of_upstream_states = _mapping.iter_upstream_states_for_mapping(
                        parent_state, upstream_states, mapped_children
                    )
                    submitted = []
                    plain = (
                        None
                        # (Children of a mapped task that feeds this one whole get its
                        # children's futures resolved by the executor: through `run_task`.)
                        if task_state is not None
                        or (upstream_mapped_states and not isinstance(executor, LocalExecutor))
                        else PlainChildren.for_map(
                            executor,
                            task,
                            task_state,
                            task_context,
                            task_runner_cls,
                            handlers,
                            flow_result,
                            run_fully=functools.partial(
                                _run_child_fully, task_context, submit_args
                            ),
                        )
                    )
                    if plain is not None and plain.batched:
                        # A LocalDaskExecutor's threads: see `prefect.engine._plain_map`.
                        run_child = plain.run_child
                        name, tags = task.name, task.tags
                        for index, child_upstream_states in enumerate(list_of_upstream_states):
                            submitted.append(
                                executor.submit(
                                    run_child,
                                    child_upstream_states,
                                    index,
                                    # (`_extra_context` of the child's context)
                                    extra_context={
                                        "task_name": name,
                                        "task_tags": tags,
                                        "task_index": index,
                                    },
                                )
                            )
                    elif plain is not None:
                        # LocalExecutor, plain task: see `prefect.engine._plain_map`.
                        with plain:
                            run_child = plain.run_child
                            for index, child_upstream_states in enumerate(list_of_upstream_states):
                                submitted.append(
                                    executor.submit(run_child, child_upstream_states, index)
                                )
                    for index, child_upstream_states in enumerate(list_of_upstream_states):
                        if isinstance(task_state, Mapped):
                            previous = task_state.map_states
                            current_state = previous[index] if index < len(previous) else None
                        else:
                            current_state = task_state
                        child_context = _TaskContext(task_context, map_index=index)
                        submitted.append(
                            executor.submit(
                                run_task,
                                state=current_state,
                                context=child_context,
                                upstream_states=child_upstream_states,
                                extra_context=_extra_context(task, child_context),
                                **submit_args,
                            )
                        )
                    if isinstance(task_state, Mapped):
                        parent_state = task_state
                    parent_state.map_states = submitted  # type: ignore[attr-defined]
                    task_states[task] = parent_state
                    mapped_children[task] = submitted
                else:
                    task_states[task] = executor.submit(
                        run_task,
                        task=task,
                        state=task_state,
                        upstream_states=upstream_states,
                        context=task_context,
                        flow_result=flow_result,
                        task_runner_cls=task_runner_cls,
                        task_runner_state_handlers=handlers,
                        upstream_mapped_states=upstream_mapped_states,
                        extra_context=_extra_context(task, task_context),
                    )

            terminal_tasks = flow.terminal_tasks()
            reference_tasks = flow.reference_tasks()
            final_tasks = terminal_tasks | reference_tasks | return_tasks
            final_states = executor.wait(
                {
                    t: task_states[t]
                    if t in task_states
                    else Pending("Task not evaluated by FlowRunner.")
                    for t in final_tasks
                }
            )
            all_final_states: dict[Task, Any] = dict(final_states)
            for task, final_state in list(final_states.items()):
                if final_state.is_mapped():
                    if task in mapped_children:
                        final_state.map_states = executor.wait(mapped_children[task])
                    final_state.result = [s.result for s in final_state.map_states]
                    all_final_states[task] = final_state.map_states

        key_states = set(flatten_seq([all_final_states[t] for t in reference_tasks]))
        terminal_states = set(flatten_seq([all_final_states[t] for t in terminal_tasks]))
        return_states = {t: final_states[t] for t in return_tasks}
        return self.determine_final_state(
            state=state,
            key_states=key_states,
            return_states=return_states,
            terminal_states=terminal_states,
        )

    def determine_final_state(
        self,
        state: State,
        key_states: set[State],
        return_states: dict[Task, State],
        terminal_states: set[State],
    ) -> State:
        """The flow's final state: still `Running` while a terminal task is unfinished, else
        `Failed` if a reference task failed, else `Success`; then the flow's
        `terminal_state_handler` may replace it."""
        if not all(s.is_finished() for s in terminal_states):
            self.logger.info("Flow run RUNNING: terminal tasks are incomplete.")
            state.result = return_states
        elif any(s.is_failed() for s in key_states):
            self.logger.info("Flow run FAILED: some reference tasks failed.")
            state = Failed(message="Some reference tasks failed.", result=return_states)
        elif all(s.is_successful() for s in key_states):
            self.logger.info("Flow run SUCCESS: all reference tasks succeeded")
            state = Success(message="All reference tasks succeeded.", result=return_states)
        else:
            self.logger.info("Flow run SUCCESS: no reference tasks failed")
            state = Success(message="No reference tasks failed.", result=return_states)

        if self.flow.terminal_state_handler:
            new_state = self.flow.terminal_state_handler(self.flow, state, key_states)
            if new_state is not None:
                return new_state
        return state


class _TaskContext(dict):
    """The context a task run is submitted with: a plain dict of values, under its own type so
    that executors looking for futures in a submission's arguments know not to look inside it
    (contexts never hold futures, and a flow's has dozens of values)."""

    __slots__ = ()


def _run_child_fully(
    task_context: dict[str, Any],
    submit_args: dict[str, Any],
    upstream_states: dict[Edge, State],
    index: int,
) -> State:
    """Run one new mapped child through `run_task` (what `PlainChildren` falls back to)."""
    return run_task(
        state=None,  # type: ignore[arg-type]
        context=_TaskContext(task_context, map_index=index),
        upstream_states=upstream_states,
        **submit_args,
    )


def _extra_context(task: Task, context: dict[str, Any]) -> dict[str, Any]:
    """What an executor may use to name the submission (Dask keys, logs)."""
    return {
        "task_name": task.name,
        "task_tags": task.tags,
        "task_index": context.get("map_index"),
    }


_CONSTANT_TEMPLATE: Any = None


def _constant_inputs(flow: Flow, task: Task) -> dict[Edge, State]:
    """The edges and `Success` states standing for a task's constant inputs, as 1.x builds
    them; made once per flow graph (kept in the flow's cache, which any change clears)."""
    key = ("_constant_inputs", task)
    inputs = flow._cache.get(key)
    if inputs is None:
        inputs = {}
        for name, value in flow.constants[task].items():
            result = _constant_result(value)
            edge = _ConstantEdge(value, result, task, name)
            inputs[edge] = Success("Auto-generated constant value", result=result)
        flow._cache[key] = inputs
    return inputs


class _ConstantEdge(Edge):
    """The edge of a constant input as a task run sees it: from a `Constant` task holding the
    value to the task, under the input's name. The `Constant` is made when first asked for
    (a run itself never needs it). Equal only to itself: each stands for one input."""

    __slots__ = ("_value", "_result", "_constant")

    def __init__(self, value: Any, result: Result, task: Task, key: str) -> None:
        self._value = value
        self._result = result
        self._constant: Task | None = None
        self.downstream_task = task
        self.key = key
        self.mapped = self.flattened = False

    @property
    def upstream_task(self) -> Task:  # type: ignore[override]
        constant = self._constant
        if constant is None:
            constant = self._constant = _constant_task(self._value, self._result)
        return constant

    @upstream_task.setter
    def upstream_task(self, task: Task) -> None:
        self._constant = task

    def __eq__(self, other: object) -> bool:
        return other is self

    __hash__ = object.__hash__

    def __reduce__(self) -> tuple[Any, ...]:
        return (_ConstantEdge, (self._value, self._result, self.downstream_task, self.key))


def _constant_task(value: Any, result: Result) -> Task:
    """The upstream task of a constant input's edge: a `Constant` made by copying a template's
    attributes, since building a task from scratch for every constant input is costly."""
    global _CONSTANT_TEMPLATE
    from prefect.tasks.core.constants import Constant

    template = _CONSTANT_TEMPLATE
    if template is None:
        template = _CONSTANT_TEMPLATE = Constant(None)
    task = object.__new__(Constant)
    attributes = template.__dict__.copy()  # a copy keeps the size: no re-growing per key
    attributes.update(value=value, name=Constant._default_name(value), tags=set(), result=result)
    task.__dict__ = attributes
    return task


_CONSTANT_RESULT_TEMPLATE: Any = None


def _constant_result(value: Any) -> Result:
    global _CONSTANT_RESULT_TEMPLATE
    template = _CONSTANT_RESULT_TEMPLATE
    if template is None:
        from prefect.engine.results import ConstantResult

        template = _CONSTANT_RESULT_TEMPLATE = ConstantResult()
    result = template.copy()
    result.value = value
    return result
