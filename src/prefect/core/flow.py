"""`Flow`: a graph of tasks and the edges between them."""

from __future__ import annotations

import collections
import collections.abc
import copy
import functools
import warnings
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, TypedDict

import prefect
from prefect import configuration as _configuration
from prefect.core import _graph
from prefect.core._flow_io import FlowIO
from prefect.core._signature import accepts_keyword
from prefect.core.edge import Edge
from prefect.core.parameter import Parameter
from prefect.core.task import Task
from prefect.utilities.edges import EdgeAnnotation
from prefect.utilities.tasks import _holds_task, as_task

if TYPE_CHECKING:
    from prefect.engine.result import Result
    from prefect.engine.state import State
    from prefect.executors import Executor
    from prefect.run_configs import RunConfig
    from prefect.schedules import Schedule
    from prefect.storage import Storage

__all__ = ["Flow"]


class ParameterDetails(TypedDict):
    default: Any
    required: bool


def cache(method: Callable) -> Callable:
    """Memoise a graph query on the flow until the graph changes (`flow._cache` is cleared on
    every change)."""

    @functools.wraps(method)
    def wrapper(self: Flow, *args: Any, **kwargs: Any) -> Any:
        key = (method.__name__, args, tuple(kwargs.items()))
        cached = self._cache.get(key, _MISSING)
        if cached is _MISSING:
            cached = self._cache[key] = method(self, *args, **kwargs)
        return cached

    return wrapper


_MISSING = object()


class Flow(FlowIO):
    """A collection of tasks and the edges that order them and pass data between them.

    Build one functionally (call tasks inside `with Flow("name") as flow:`) or imperatively
    (`flow.add_task`, `flow.set_dependencies`, `flow.add_edge`).

    Args:
        name: the flow's name
        schedule: when the flow runs
        executor: the executor that runs its tasks (default: from config at run time)
        run_config: how an agent runs it
        storage: where its code is kept for orchestrated runs
        tasks: tasks to add
        edges: edges to add
        reference_tasks: the tasks whose states decide the flow's final state (default: the
            terminal tasks)
        state_handlers: callables `(flow, old_state, new_state) -> state`
        on_failure: a callable `(flow, state)` called when the flow fails
        validate: check the graph for cycles as each edge is added (default:
            `config.flows.eager_edge_validation`)
        result: the default result of the flow's tasks
        terminal_state_handler: a callable `(flow, state, reference_task_states) -> state`
            that may change the final state

    Raises:
        ValueError: when `name` is empty
        TypeError: when `state_handlers` is not a sequence
    """

    def __init__(
        self,
        name: str,
        schedule: Schedule | None = None,
        executor: Executor | None = None,
        run_config: RunConfig | None = None,
        storage: Storage | None = None,
        tasks: Iterable[Task] | None = None,
        edges: Iterable[Edge] | None = None,
        reference_tasks: Iterable[Task] | None = None,
        state_handlers: list[Callable] | None = None,
        on_failure: Callable | None = None,
        validate: bool | None = None,
        result: Result | None = None,
        terminal_state_handler: Callable[[Flow, State, set[State]], State | None] | None = None,
    ):
        self._cache: dict = {}

        if not name:
            raise ValueError("A name must be provided for the flow.")

        self.name = name
        self.schedule = schedule
        self.executor = executor
        self.run_config = run_config
        self.storage = storage
        self.result = result
        self.terminal_state_handler = terminal_state_handler

        self.tasks: set[Task] = set()
        self.edges: set[Edge] = set()
        self.slugs: dict[Task, str] = {}
        self.constants: collections.defaultdict[Task, dict[str, Any]] = collections.defaultdict(
            dict
        )
        # Insertion order of tasks, so topological sorts are deterministic.
        self._task_order: dict[Task, int] = {}  # task -> when it was added (never reused)
        self._next_task_order = 0
        self._slug_counters: dict[str, int] = {}
        self._used_slug_set: set[str] = set()
        # Keyword inputs already wired into each task, checked on every new keyword edge.
        self._input_keys: dict[Task, set[str]] = {}
        self._reference_tasks: set[Task] = set()

        for task in tasks or []:
            self.add_task(task)
        self.set_reference_tasks(reference_tasks or [])
        for edge in edges or []:
            self.add_edge(
                upstream_task=edge.upstream_task,
                downstream_task=edge.downstream_task,
                key=edge.key,
                mapped=edge.mapped,
                flattened=edge.flattened,
                validate=validate,
            )

        self._prefect_version = prefect.__version__

        if state_handlers and not isinstance(state_handlers, collections.abc.Sequence):
            raise TypeError("state_handlers should be iterable.")
        self.state_handlers = list(state_handlers or [])
        if on_failure is not None:
            from prefect.utilities.notifications import callback_factory

            self.state_handlers.append(callback_factory(on_failure, check=_is_failed))

    @property
    def logger(self) -> Any:
        """The flow's logger (`prefect.<name>`)."""
        logger = self.__dict__.get("_logger")
        if logger is None:
            from prefect.utilities.logging import get_logger

            logger = get_logger(self.name)
        return logger

    @logger.setter
    def logger(self, value: Any) -> None:
        self.__dict__["_logger"] = value

    def __repr__(self) -> str:
        return f'<{type(self).__name__}: name="{self.name}">'

    def __eq__(self, other: Any) -> bool:
        if type(self) is type(other):
            mine = (self.name, self.tasks, self.edges, self.reference_tasks())
            theirs = (other.name, other.tasks, other.edges, other.reference_tasks())
            return mine == theirs
        return False

    def __hash__(self) -> int:
        return id(self)

    def __iter__(self) -> Iterable[Task]:  # type: ignore[override]
        yield from self.sorted_tasks()

    def copy(self) -> Flow:
        """A copy of the flow whose graph can change without changing this one (the tasks are
        shared)."""
        new = copy.copy(self)
        new._cache = {}
        new.constants = copy.copy(self.constants)
        for task, values in self.constants.items():
            new.constants[task] = dict(values)
        new.tasks = self.tasks.copy()
        new.edges = self.edges.copy()
        new.slugs = self.slugs.copy()
        new._used_slug_set = self._used_slug_set.copy()
        new._input_keys = {task: set(keys) for task, keys in self._input_keys.items()}
        new._task_order = self._task_order.copy()
        new._slug_counters = self._slug_counters.copy()
        new.state_handlers = list(self.state_handlers)
        new.set_reference_tasks(self._reference_tasks)
        return new

    # Queries -------------------------------------------------------------------------------

    def get_tasks(
        self,
        name: str | None = None,
        slug: str | None = None,
        tags: Iterable[str] | None = None,
        task_type: type | None = None,
    ) -> list[Task]:
        """The tasks matching every criterion given (all tasks when none is).

        Args:
            name: the task name
            slug: the task slug
            tags: tags the task must all carry
            task_type: a class the task must be an instance of
        """
        tag_set = set(tags) if tags is not None else None
        return [
            task
            for task in self._ordered(self.tasks)
            if (name is None or task.name == name)
            and (slug is None or self.slugs.get(task, task.slug) == slug)
            and (tag_set is None or tag_set.issubset(task.tags))
            and (task_type is None or isinstance(task, task_type))
        ]

    def replace(self, old: Task, new: Task, validate: bool = True) -> None:
        """Put `new` in place of `old`: every edge, constant and reference of `old` moves to it.

        Args:
            old: a task of the flow
            new: the replacement (a non-task becomes a `Constant`)
            validate: check the flow afterwards

        Raises:
            ValueError: when `old` is not in the flow
        """
        if old not in self.tasks:
            raise ValueError(f"Task {old} was not found in Flow {self}.")
        new = as_task(new, flow=self)

        moved_edges = [e for e in self.edges if old in (e.upstream_task, e.downstream_task)]
        for edge in moved_edges:
            self.edges.remove(edge)
        self.tasks.remove(old)
        self._used_slug_set.discard(self.slugs.pop(old, None))
        self._task_order.pop(old, None)
        constants = self.constants.pop(old, None)
        input_keys = self._input_keys.pop(old, None)
        self._cache.clear()

        self.add_task(new)
        if constants:
            self.constants[new].update(constants)
        if input_keys:
            self._input_keys.setdefault(new, set()).update(input_keys)
        for edge in moved_edges:
            self.edges.add(
                Edge(
                    upstream_task=new if edge.upstream_task is old else edge.upstream_task,
                    downstream_task=new if edge.downstream_task is old else edge.downstream_task,
                    key=edge.key,
                    mapped=edge.mapped,
                    flattened=edge.flattened,
                )
            )
        if old in self._reference_tasks:
            self._reference_tasks.discard(old)
            self._reference_tasks.add(new)
        self._cache.clear()

        if validate:
            self.validate()

    # Context manager ---------------------------------------------------------------------------

    def __enter__(self) -> Flow:
        self.__previous_flow = prefect.context.get("flow")
        self.__previous_tracker = prefect.context.get("_unused_task_tracker")
        prefect.context.update(flow=self, _unused_task_tracker=set())
        return self

    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        unused = prefect.context.get("_unused_task_tracker", set()).difference(self.tasks)
        for key, previous in (
            ("flow", self.__previous_flow),
            ("_unused_task_tracker", self.__previous_tracker),
        ):
            if previous is None:
                prefect.context.pop(key, None)
            else:
                prefect.context[key] = previous
        if unused and exc_type is None:
            warnings.warn(
                f"Tasks were created but not added to the flow: {unused}. This can occur when `Task` "
                "classes, including `Parameters`, are instantiated inside a `with flow:` block "
                "but not added to the flow either explicitly or as the input to another "
                "task.",
                stacklevel=2,
            )

    # Graph -------------------------------------------------------------------------------------

    @cache
    def root_tasks(self) -> set[Task]:
        """The tasks with no upstream tasks."""
        downstream = {edge.downstream_task for edge in self.edges}
        return {task for task in self.tasks if task not in downstream}

    @cache
    def terminal_tasks(self) -> set[Task]:
        """The tasks with no downstream tasks."""
        upstream = {edge.upstream_task for edge in self.edges}
        return {task for task in self.tasks if task not in upstream}

    def parameters(self) -> set[Parameter]:
        """The flow's parameters."""
        return {task for task in self.tasks if isinstance(task, Parameter)}

    def reference_tasks(self) -> set[Task]:
        """The tasks whose states decide the flow's final state: those set with
        `set_reference_tasks`, else the terminal tasks (a resource manager's cleanup task,
        which always runs, standing for the tasks it waits on)."""
        return self._reference_tasks or self._default_reference_tasks()

    @cache
    def _default_reference_tasks(self) -> set[Task]:
        from prefect.tasks.core.resource_manager import ResourceCleanupTask

        reference: set[Task] = set()
        stack = list(self.terminal_tasks())
        seen: set[Task] = set()
        while stack:
            task = stack.pop()
            if task in seen:
                continue
            seen.add(task)
            if isinstance(task, ResourceCleanupTask):
                stack.extend(self.upstream_tasks(task))
            else:
                reference.add(task)
        return reference

    def set_reference_tasks(self, tasks: Iterable[Task]) -> None:
        """Choose the tasks whose states decide the flow's final state (empty: terminal tasks).

        Raises:
            ValueError: when a task is not in the flow
        """
        self._cache.clear()
        reference_tasks = set(tasks)
        missing = [t for t in reference_tasks if t not in self.tasks]
        if missing:
            raise ValueError(
                "reference tasks must be part of the flow: {} {} not in {}.".format(
                    ", ".join(repr(t) for t in missing), "is" if len(missing) == 1 else "are", self
                )
            )
        self._reference_tasks = reference_tasks

    def add_task(self, task: Task) -> Task:
        """Add a task to the flow (tasks already in it are left as they are).

        A task added inside `with case(...)` or a resource manager block is also registered
        with that block.

        Args:
            task: the task

        Returns:
            the task

        Raises:
            TypeError: when `task` is not a `Task`
            ValueError: when another task of the flow has the same slug
        """
        if not isinstance(task, Task):
            raise TypeError(
                f"Tasks must be Task instances (received {type(task)}: {task!r}); wrap plain "
                "values with `prefect.tasks.core.constants.Constant` or call a task instead."
            )
        if task in self.tasks:
            return task

        # A generated slug lives in `flow.slugs` only; `task.slug` stays what the user gave.
        if task.slug:
            if task.slug in self._used_slugs():
                raise ValueError(
                    f'A task with the slug "{task.slug}" already exists in this flow '
                    f"(adding {task!r}); give it a different `slug`."
                )
            slug = task.slug
        else:
            slug = self._generate_task_slug(task)
        self.slugs[task] = slug
        self._used_slug_set.add(slug)
        self.tasks.add(task)
        self._task_order[task] = self._next_task_order
        self._next_task_order += 1
        self._cache.clear()

        case = prefect.context.get("case", None)
        if case is not None:
            case.add_task(task, self)
        resource = prefect.context.get("resource", None)
        if resource is not None:
            resource.add_task(task, self)
        return task

    def _used_slugs(self) -> set[str]:
        if len(self._used_slug_set) != len(self.slugs):  # `slugs` was changed from outside
            self._used_slug_set = set(self.slugs.values())
        return self._used_slug_set

    def _generate_task_slug(self, task: Task) -> str:
        used = self._used_slugs()
        counter = self._slug_counters.get(task.name, 0)
        while True:
            counter += 1
            slug = f"{task.name}-{counter}"
            if slug not in used:
                break
        self._slug_counters[task.name] = counter
        return slug

    def add_edge(
        self,
        upstream_task: Any,
        downstream_task: Any,
        key: str | None = None,
        mapped: bool = False,
        flattened: bool = False,
        validate: bool | None = None,
    ) -> Edge:
        """Add an edge (and its tasks) to the flow.

        Args:
            upstream_task: the task that runs first (a non-task value becomes a `Constant`)
            downstream_task: the task that runs after it
            key: pass the upstream result to the downstream task's `run` under this keyword
            mapped: map the downstream task over the upstream result
            flattened: flatten the upstream result one level first
            validate: check for cycles now (default: `config.flows.eager_edge_validation`)

        Returns:
            the edge

        Raises:
            ValueError: for an edge into a parameter, a keyword already given, a keyword the
                downstream task does not take (as TypeError), or a cycle when validating
        """
        if validate is None:
            validate = _eager_edge_validation()
        if isinstance(downstream_task, Parameter):
            raise ValueError(
                f"Parameters must be root tasks and can not have upstream dependencies: "
                f"{downstream_task!r} cannot be downstream of {upstream_task!r}."
            )

        edge = Edge(
            upstream_task=upstream_task,
            downstream_task=downstream_task,
            key=key,
            mapped=mapped,
            flattened=flattened,
            flow=self,
        )
        self.add_task(edge.upstream_task)
        self.add_task(edge.downstream_task)

        if key is not None:
            # As in 1.x, keys are checked against `run` only when validating (the functional
            # API has checked them already, when binding).
            downstream = edge.downstream_task
            taken = self._input_keys.setdefault(downstream, set())
            if validate:
                if key in taken or key in self.constants.get(downstream, ()):
                    raise ValueError(_duplicate_key_message(key, downstream))
                if not accepts_keyword(downstream.run, key):
                    raise TypeError(
                        f"Task {downstream!r} has no argument {key!r} to receive the result of "
                        f"{edge.upstream_task!r}: got an unexpected keyword argument {key!r}."
                    )
            taken.add(key)

        self.edges.add(edge)
        self._cache.clear()

        if validate:
            self.validate()
        return edge

    def chain(self, *tasks: Task, validate: bool | None = None) -> list[Edge]:
        """Add edges so the tasks run one after another, in the order given.

        Returns:
            the edges added
        """
        return [
            self.add_edge(upstream_task=upstream, downstream_task=downstream, validate=validate)
            for upstream, downstream in zip(tasks, tasks[1:])
        ]

    def update(
        self,
        flow: Flow,
        merge_parameters: bool = False,
        validate: bool | None = None,
        merge_reference_tasks: bool = False,
    ) -> None:
        """Add the tasks, edges and constants of another flow to this one.

        Args:
            flow: the other flow
            merge_parameters: use this flow's parameter wherever the other flow has a
                parameter of the same name
            validate: check for cycles as edges are added
            merge_reference_tasks: also add the other flow's reference tasks to this one's
        """
        replacements: dict[Task, Task] = {}
        if merge_parameters:
            mine = {p.name: p for p in self.parameters()}
            for parameter in flow.parameters():
                if parameter.name in mine and mine[parameter.name] is not parameter:
                    replacements[parameter] = mine[parameter.name]

        for task in flow._ordered(flow.tasks):
            task = replacements.get(task, task)
            if task not in self.tasks:
                self.add_task(task)
        for edge in flow._ordered_edges():
            upstream = replacements.get(edge.upstream_task, edge.upstream_task)
            downstream = replacements.get(edge.downstream_task, edge.downstream_task)
            if Edge(upstream, downstream, edge.key, edge.mapped, edge.flattened) not in self.edges:
                self.add_edge(
                    upstream_task=upstream,
                    downstream_task=downstream,
                    key=edge.key,
                    mapped=edge.mapped,
                    flattened=edge.flattened,
                    validate=validate,
                )
        for task, values in flow.constants.items():
            self.constants[replacements.get(task, task)].update(values)
        if merge_reference_tasks:
            self.set_reference_tasks(
                self._reference_tasks | {replacements.get(t, t) for t in flow._reference_tasks}
            )
        self._cache.clear()

    @cache
    def all_upstream_edges(self) -> dict[Task, set[Edge]]:
        """Every task's incoming edges."""
        return _graph.edges_by_task(self.tasks, self.edges, downstream=False)

    @cache
    def all_downstream_edges(self) -> dict[Task, set[Edge]]:
        """Every task's outgoing edges."""
        return _graph.edges_by_task(self.tasks, self.edges, downstream=True)

    def edges_to(self, task: Task) -> set[Edge]:
        """The edges into `task`.

        Raises:
            ValueError: when the task is not in the flow
        """
        self._check_task_in_flow(task)
        return self.all_upstream_edges()[task]

    def edges_from(self, task: Task) -> set[Edge]:
        """The edges out of `task`.

        Raises:
            ValueError: when the task is not in the flow
        """
        self._check_task_in_flow(task)
        return self.all_downstream_edges()[task]

    def upstream_tasks(self, task: Task) -> set[Task]:
        """The tasks `task` depends on directly."""
        return {edge.upstream_task for edge in self.edges_to(task)}

    def downstream_tasks(self, task: Task) -> set[Task]:
        """The tasks that depend directly on `task`."""
        return {edge.downstream_task for edge in self.edges_from(task)}

    def _check_task_in_flow(self, task: Task) -> None:
        if task not in self.tasks:
            raise ValueError(f"Task {task!r} was not found in Flow {self}.")

    def validate(self) -> None:
        """Check that edges and reference tasks only refer to the flow's tasks and that the
        graph has no cycle.

        Raises:
            ValueError: naming what is wrong
        """
        strays = {
            task
            for edge in self.edges
            for task in (edge.upstream_task, edge.downstream_task)
            if task not in self.tasks
        }
        if strays:
            raise ValueError(
                "Some edges refer to tasks not contained in this flow: {}.".format(
                    ", ".join(sorted(repr(t) for t in strays))
                )
            )
        self.sorted_tasks()
        if any(t not in self.tasks for t in self.reference_tasks()):
            raise ValueError("Some reference tasks are not contained in this flow.")

    def sorted_tasks(self, root_tasks: Iterable[Task] | None = None) -> tuple[Task, ...]:
        """The tasks in an order where every task comes after its upstream tasks.

        Args:
            root_tasks: sort only these tasks and everything downstream of them

        Raises:
            ValueError: when the graph has a cycle (the message names its tasks)
        """
        roots = tuple(root_tasks) if root_tasks else None
        for root in roots or ():
            self._check_task_in_flow(root)
        key = ("sorted_tasks", roots)
        cached = self._cache.get(key)
        if cached is None:
            downstream = self.all_downstream_edges()
            tasks = self.tasks if roots is None else _graph.reachable_from(roots, downstream)
            cached = self._cache[key] = _graph.topological_sort(tasks, downstream, self._task_order)
        return cached

    def _ordered(self, tasks: Iterable[Task]) -> list[Task]:
        """`tasks` in the order they were added to the flow."""
        order = self._task_order
        fallback = len(order)
        return sorted(tasks, key=lambda t: (order.get(t, fallback), id(t)))

    def _ordered_edges(self) -> list[Edge]:
        order = self._task_order
        fallback = len(order)
        return sorted(
            self.edges,
            key=lambda e: (
                order.get(e.downstream_task, fallback),
                order.get(e.upstream_task, fallback),
                e.key or "",
            ),
        )

    def set_dependencies(
        self,
        task: Any,
        upstream_tasks: Iterable[Any] | None = None,
        downstream_tasks: Iterable[Any] | None = None,
        keyword_tasks: Mapping[str, Any] | None = None,
        mapped: bool = False,
        validate: bool | None = None,
    ) -> None:
        """Add a task and its dependencies to the flow (the imperative API).

        Values in `upstream_tasks` and `keyword_tasks` may be wrapped in `unmapped`, `mapped`
        or `flatten`. A keyword value that is not a task (and holds no task) is stored as a
        constant input rather than as a task, unless it is mapped over.

        Args:
            task: the task
            upstream_tasks: tasks that run before it, passing no data
            downstream_tasks: tasks that run after it, receiving no data
            keyword_tasks: `{argument: task or value}` inputs of the task's `run`
            mapped: map the task over its inputs
            validate: check for cycles now (default: `config.flows.eager_edge_validation`)
        """

        if validate is None:
            validate = _eager_edge_validation()

        task = as_task(task, flow=self)

        # Keyword inputs first: a collection holding tasks becomes a collection task added to
        # the flow now, so it comes before `task` in the flow's order (which sorting follows).
        keyword_inputs: list[tuple[str, Task | None, Any, bool, bool]] = []
        for key, value in (keyword_tasks or {}).items():
            is_mapped, is_flattened = _annotations(value, mapped)
            raw = value.value if isinstance(value, EdgeAnnotation) else value
            # A plain value (no task in it, not mapped over) is kept as a constant input: no
            # `Constant` task is made for it (a flow built call by call has many).
            if (
                not is_mapped
                and not isinstance(raw, (Task, EdgeAnnotation))
                and not (isinstance(raw, (list, tuple, set, dict)) and _holds_task(raw))
            ):
                keyword_inputs.append((key, None, raw, False, False))
            else:
                upstream = as_task(value, flow=self)
                keyword_inputs.append((key, upstream, None, is_mapped, is_flattened))

        self.add_task(task)

        for upstream in upstream_tasks or []:
            is_mapped, is_flattened = _annotations(upstream, mapped)
            self.add_edge(
                upstream_task=as_task(upstream, flow=self),
                downstream_task=task,
                mapped=is_mapped,
                flattened=is_flattened,
                validate=validate,
            )

        for downstream in downstream_tasks or []:
            downstream_task = as_task(downstream, flow=self)
            self.add_edge(upstream_task=task, downstream_task=downstream_task, validate=validate)

        for key, upstream_task, raw, is_mapped, is_flattened in keyword_inputs:
            if upstream_task is None:
                if isinstance(task, Parameter):
                    raise ValueError(
                        f"Parameters must be root tasks and can not have upstream "
                        f"dependencies: {task!r} got input {key!r}."
                    )
                self._set_constant(task, key, raw, validate)
            else:
                self.add_edge(
                    upstream_task=upstream_task,
                    downstream_task=task,
                    key=key,
                    mapped=is_mapped,
                    flattened=is_flattened,
                    validate=validate,
                )

    def _set_constant(self, task: Task, key: str, value: Any, validate: bool) -> None:
        if validate and (
            key in self.constants.get(task, ()) or key in self._input_keys.get(task, ())
        ):
            raise ValueError(_duplicate_key_message(key, task))
        self.constants[task][key] = value
        self._cache.clear()


def _duplicate_key_message(key: str, task: Task) -> str:
    return (
        f'Argument "{key}" for task {task!r} has already been assigned in this Flow. If using '
        "the Flow API directly, do not pass the same keyword twice."
    )


def _eager_edge_validation() -> bool:
    # Read as plain dicts: Box attribute access costs microseconds, and this runs per edge.
    return bool(_configuration._current_value("flows", "eager_edge_validation"))


def _annotations(value: Any, mapped: bool) -> tuple[bool, bool]:
    """The `mapped` and `flattened` flags of the edge for an (optionally annotated) input."""
    if isinstance(value, EdgeAnnotation):
        flags = value.annotations
        return flags.get("mapped", mapped), flags.get("flattened", False)
    return mapped, False


def _is_failed(state: State) -> bool:
    return state.is_failed()
