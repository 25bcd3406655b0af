"""`Task`: the unit of work, and the functional API that wires tasks into a flow."""

from __future__ import annotations

import collections.abc
import copy
import enum
import warnings
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Mapping

import prefect
from prefect.core._signature import VAR_KEYWORD_KIND as _VAR_KEYWORD
from prefect.core._signature import infer_run_nout as _infer_run_nout
from prefect.core._signature import run_signature as _run_signature
from prefect.core._signature import validate_run_signature as _validate_run_signature
from prefect.utilities.edges import EdgeAnnotation

if TYPE_CHECKING:
    import inspect

    from prefect.core.edge import Edge
    from prefect.core.flow import Flow
    from prefect.engine.result import Result
    from prefect.engine.state import State

__all__ = ["Task", "NoDefault"]


# `prefect.<task name>` loggers, by name: the logger is read on every task run.
_TASK_LOGGERS: dict[str, Any] = {}


class NoDefault(enum.Enum):
    """Sentinel for "no default given" (a `None` default is a real default)."""

    value = "no_default"

    def __repr__(self) -> str:
        return "<no default>"


class TaskMetaclass(type):
    """Checks each Task class's `run` signature, and warns when a Task is passed to `__init__`
    (tasks go to `__call__`, static values to `__init__`)."""

    def __new__(cls, name: str, parents: tuple, methods: dict):  # type: ignore[misc]
        if "run" in methods:
            _validate_run_signature(methods["run"])

        if "__init__" in methods:
            original_init = methods["__init__"]

            def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
                if any(isinstance(a, Task) for a in args + tuple(kwargs.values())):
                    cls_name = type(self).__name__
                    warnings.warn(
                        f"A Task was passed as an argument to {cls_name}(...); you probably "
                        f"want to create {cls_name} with its static (non-Task) arguments, then "
                        "call it with the dynamic (Task) ones:\n\n"
                        f"  my_task = {cls_name}(...)  # static arguments\n"
                        "  result = my_task(...)  # Task arguments",
                        stacklevel=2,
                    )
                original_init(self, *args, **kwargs)

            __init__.__wrapped__ = original_init  # type: ignore[attr-defined]
            for attr in ("__module__", "__name__", "__qualname__", "__doc__"):
                setattr(__init__, attr, getattr(original_init, attr, None))
            methods = dict(methods, __init__=__init__)

        return super().__new__(cls, name, parents, methods)


class instance_property:
    """Like `property`, but only on instances: on the class the attribute does not exist."""

    def __init__(self, func: Callable):
        self.func = func

    def __getattr__(self, k: str) -> Any:
        return getattr(self.func, k)

    def __get__(self, obj: Any, cls: Any) -> Any:
        if obj is None:
            raise AttributeError
        return self.func(obj)


class Task(metaclass=TaskMetaclass):
    """A unit of work in a flow: subclass it and implement `run`, or use `@task` on a function.

    Args:
        name: the task's name (default: the class name)
        slug: a name unique within a flow (default: generated when added to a flow)
        tags: tags for the task; tags of enclosing `with tags(...)` blocks are added
        max_retries: how often to retry a failed run (default `config.tasks.defaults.max_retries`)
        retry_delay: how long to wait before a retry; required when `max_retries > 0`
        retry_on: retry only on these exception types
        timeout: seconds (or a `timedelta`) after which the run is stopped as `TimedOut`
        trigger: decides from the upstream states whether the task runs
            (default `prefect.triggers.all_successful`)
        skip_on_upstream_skip: skip this task when any upstream task was skipped
        cache_for: how long a successful result may be reused
        cache_validator: decides whether a cached result is still valid
        cache_key: a key to share a cache between tasks
        checkpoint: whether to persist the result with `result`
        state_handlers: callables `(task, old_state, new_state) -> state`, called on every change
        on_failure: a callable `(task, state)` called when the task fails
        log_stdout: send what `run` prints to the logger
        result: where the task's result is persisted
        target: a location template; a result already stored there is reused
        task_run_name: a name template (or callable) for each run
        nout: the number of outputs of `run`, so the task can be unpacked (`a, b = task()`)

    Raises:
        ValueError: for a retry setting without its counterpart, or a bad `run` signature
        TypeError: for a non-integer timeout, a non-timedelta retry delay, string tags or
            non-iterable state handlers
    """

    def __init__(
        self,
        name: str | None = None,
        slug: str | None = None,
        tags: Iterable[str] | None = None,
        max_retries: int | None = None,
        retry_delay: timedelta | None = None,
        retry_on: type[Exception] | Iterable[type[Exception]] | None = None,
        timeout: int | timedelta | None = None,
        trigger: Callable[[dict[Edge, State]], bool] | None = None,
        skip_on_upstream_skip: bool = True,
        cache_for: timedelta | None = None,
        cache_validator: Callable | None = None,
        cache_key: str | None = None,
        checkpoint: bool | None = None,
        state_handlers: list[Callable] | None = None,
        on_failure: Callable | None = None,
        log_stdout: bool = False,
        result: Result | None = None,
        target: str | Callable | None = None,
        task_run_name: str | Callable | None = None,
        nout: int | None = None,
    ):
        self.name = name or type(self).__name__
        self.slug = slug

        if isinstance(tags, str):
            raise TypeError(
                f"Tags should be a set of tags, not a string: got {tags!r}; pass tags=[{tags!r}]."
            )
        self.tags = set(tags) if tags is not None else set()
        self.tags.update(prefect.context.get("tags", ()))

        defaults = prefect.config.tasks.defaults
        if max_retries is None:
            max_retries = defaults.max_retries
        if retry_delay is None:
            retry_delay = defaults.retry_delay
        if timeout is None:
            timeout = defaults.get("timeout")

        if max_retries and max_retries > 0 and retry_delay is None:
            raise ValueError(
                "A datetime.timedelta `retry_delay` must be provided if max_retries > 0 "
                f"(task {self.name!r})."
            )
        if retry_delay is not None and not max_retries:
            raise ValueError(
                "A `max_retries` argument greater than 0 must be provided if specifying a retry "
                f"delay (task {self.name!r})."
            )
        if retry_delay is not None and not isinstance(retry_delay, timedelta):
            raise TypeError(
                f"`retry_delay` must be a datetime.timedelta, got {retry_delay!r} "
                f"(task {self.name!r})."
            )
        if isinstance(timeout, timedelta):
            if timeout.microseconds > 0:
                warnings.warn(
                    "Task timeouts do not support a sub-second resolution; smaller units "
                    "will be ignored!",
                    stacklevel=2,
                )
            timeout = int(timeout.total_seconds())
        if timeout is not None and (not isinstance(timeout, int) or isinstance(timeout, bool)):
            raise TypeError(
                "Only integer timeouts (representing seconds) are supported; "
                f"got {timeout!r} (task {self.name!r})."
            )
        self.retry_on = _as_exception_types(self.name, retry_on)
        self.max_retries = max_retries
        self.retry_delay = retry_delay
        self.timeout = timeout

        self.trigger = trigger or prefect.triggers.all_successful
        self.skip_on_upstream_skip = skip_on_upstream_skip

        from prefect.engine import cache_validators

        if cache_for is None and (
            cache_validator is not None and cache_validator is not cache_validators.never_use
        ):
            warnings.warn(
                "cache_validator provided without specifying cache expiration (cache_for); "
                "this Task will not be cached.",
                stacklevel=2,
            )
        self.cache_for = cache_for
        self.cache_key = cache_key
        default_validator = (
            cache_validators.never_use if cache_for is None else cache_validators.duration_only
        )
        self.cache_validator = cache_validator or default_validator
        self.checkpoint = checkpoint
        self.result = result
        self.target = target
        self._sync_result_with_target()
        self.task_run_name = task_run_name

        if state_handlers and not isinstance(state_handlers, collections.abc.Sequence):
            raise TypeError("state_handlers should be iterable.")
        self.state_handlers = list(state_handlers or [])
        if on_failure is not None:
            from prefect.utilities.notifications import callback_factory

            self.state_handlers.append(callback_factory(on_failure, check=_is_failed))
        self.auto_generated = False
        self.log_stdout = log_stdout

        if nout is None:
            nout = _infer_run_nout(self.run)
        self.nout = nout

        # Tasks created inside `with Flow(...)` but never added to it get a warning on exit.
        tracker = prefect.context.get("_unused_task_tracker")
        if tracker is not None and not _is_constant(self):
            tracker.add(self)

    def _sync_result_with_target(self) -> None:
        """A target names where the result lives: point the result's location at it."""
        if self.target and self.result:
            location = getattr(self.result, "location", None)
            if location and location != self.target:
                warnings.warn(
                    "Both `result.location` and `target` were provided. "
                    "The `target` value will be used.",
                    stacklevel=3,
                )
            self.result = self.result.copy()
            self.result.location = self.target  # type: ignore[union-attr, assignment]

    @property
    def logger(self) -> Any:
        """The task's logger (`prefect.<name>`)."""
        logger = self.__dict__.get("_logger")
        if logger is None:
            logger = _TASK_LOGGERS.get(self.name)
            if logger is None:
                from prefect.utilities.logging import get_logger

                logger = _TASK_LOGGERS[self.name] = get_logger(self.name)
        return logger

    @logger.setter
    def logger(self, value: Any) -> None:
        self.__dict__["_logger"] = value

    def __repr__(self) -> str:
        return f"<Task: {self.name}>"

    # Tasks are compared and hashed by identity (object's own `__eq__`/`__hash__`, which are
    # fast in sets and dicts); `==` between tasks must never build a task.

    @instance_property
    def __signature__(self) -> inspect.Signature:
        """The signature of calling the task: `run`'s inputs plus the extra call parameters."""
        cached = self.__dict__.get("_cached_signature")
        if cached is None:
            import inspect

            parameters = list(_run_signature(self.run).parameters.values())
            by_kind: dict[Any, list] = collections.defaultdict(list)
            for parameter in parameters:
                by_kind[parameter.kind].append(parameter)
            by_kind[inspect.Parameter.KEYWORD_ONLY].extend(_extra_call_parameters())
            ordered = []
            for kind in (
                inspect.Parameter.POSITIONAL_ONLY,
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                inspect.Parameter.VAR_POSITIONAL,
                inspect.Parameter.KEYWORD_ONLY,
                inspect.Parameter.VAR_KEYWORD,
            ):
                ordered.extend(by_kind[kind])
            cached = inspect.Signature(parameters=ordered, return_annotation="Task")
            self.__dict__["_cached_signature"] = cached
        return cached

    # Run ---------------------------------------------------------------------------------

    def run(self) -> None:
        """The work of the task; subclasses override it. Its arguments are the task's inputs."""

    # Copy and call -------------------------------------------------------------------------

    def copy(self, **task_args: Any) -> Task:
        """A copy of the task with `task_args` set as attributes on it.

        Args:
            **task_args: attributes to set on the copy (each must exist on the task)

        Returns:
            the copy (not added to any flow)

        Raises:
            AttributeError: if a key of `task_args` is not an attribute of the task
        """
        flow = prefect.context.get("flow", None)
        if (
            flow is not None
            and self in flow.tasks
            and (flow.edges_to(self) or flow.edges_from(self))
        ):
            warnings.warn(
                "You are making a copy of a task that has dependencies on or to other tasks "
                "in the active flow context. The copy will not retain those dependencies.",
                stacklevel=2,
            )

        new = copy.copy(self)
        new.__dict__.pop("_cached_signature", None)
        if new.slug and "slug" not in task_args:
            task_args["slug"] = new.slug + "-copy"
        for attr, value in task_args.items():
            if not hasattr(new, attr):
                raise AttributeError(f"{attr} is not a valid attribute for {type(self).__name__}.")
            setattr(new, attr, value)
        if "target" in task_args or "result" in task_args:
            new._sync_result_with_target()

        new.tags = set(self.tags).union(new.tags)
        new.tags.update(prefect.context.get("tags", ()))
        new.state_handlers = list(new.state_handlers)

        # The original has been used (copied), so it no longer counts as an unused task.
        tracker = prefect.context.get("_unused_task_tracker")
        if tracker is not None:
            tracker.discard(self)
            if not _is_constant(new):
                tracker.add(new)
        return new

    def __call__(
        self,
        *args: Any,
        mapped: bool = False,
        task_args: dict | None = None,
        upstream_tasks: Iterable[Any] | None = None,
        flow: Flow | None = None,
        **kwargs: Any,
    ) -> Task:
        """Copy the task and bind the copy to its inputs in the flow (the functional API).

        Args:
            *args: inputs of `run`, by position
            mapped: whether every input is mapped over
            task_args: attributes to set on the copy (`name`, `tags`, `max_retries`, ...)
            upstream_tasks: tasks to run before it without passing data
            flow: the flow (default: the active flow)
            **kwargs: inputs of `run`, by keyword

        Returns:
            the new, bound task
        """
        new = self.copy(**(task_args or {}))
        new.bind(*args, mapped=mapped, upstream_tasks=upstream_tasks, flow=flow, **kwargs)
        return new

    def bind(
        self,
        *args: Any,
        mapped: bool = False,
        upstream_tasks: Iterable[Any] | None = None,
        flow: Flow | None = None,
        **kwargs: Any,
    ) -> Task:
        """Bind this task (not a copy) to its inputs in the flow.

        Args:
            *args: inputs of `run`, by position
            mapped: whether every input is mapped over
            upstream_tasks: tasks to run before it without passing data
            flow: the flow (default: the active flow)
            **kwargs: inputs of `run`, by keyword

        Returns:
            the task itself

        Raises:
            TypeError: when the inputs do not fit `run`'s signature
            ValueError: when there is no flow
        """
        signature = _run_signature(self.run)
        callargs = dict(signature.bind(*args, **kwargs).arguments)
        for parameter in signature.parameters.values():
            if parameter.kind == _VAR_KEYWORD:
                callargs.update(callargs.pop(parameter.name, {}))
                break

        flow = flow or prefect.context.get("flow", None)
        if not flow:
            from prefect.tasks.core.function import FunctionTask

            shown = self.name if isinstance(self, FunctionTask) else f"{type(self).__name__}(...)"
            raise ValueError(
                f"Could not infer an active Flow context while creating edge to {self}. This "
                "often means you called a task outside a `with Flow(...)` block. To run the "
                f"task's function outside a flow, call `{shown}.run(...)`."
            )

        self.set_dependencies(
            flow=flow, upstream_tasks=upstream_tasks, keyword_tasks=callargs, mapped=mapped
        )
        self.tags.update(prefect.context.get("tags", ()))
        return self

    def map(
        self,
        *args: Any,
        upstream_tasks: Iterable[Any] | None = None,
        flow: Flow | None = None,
        task_args: dict | None = None,
        **kwargs: Any,
    ) -> Task:
        """Copy the task and map the copy over its inputs: one child run per element.

        Inputs wrapped in `unmapped` are passed whole to every child; `flatten` flattens an
        input one level first.

        Args:
            *args: inputs of `run` to map over, by position
            upstream_tasks: tasks to run before it (mapped unless wrapped in `unmapped`)
            flow: the flow (default: the active flow)
            task_args: attributes to set on the copy
            **kwargs: inputs of `run` to map over, by keyword

        Returns:
            the new, mapped task

        Raises:
            TypeError: when an input cannot be indexed, so cannot be mapped over
        """
        for value in list(args) + list(kwargs.values()):
            if not isinstance(value, EdgeAnnotation) and not hasattr(value, "__getitem__"):
                raise TypeError(
                    f"Cannot map over unsubscriptable object of type {type(value)}: "
                    f"{repr(value)[:50]}. Map over a list (or a task returning one), or wrap "
                    "the input in `unmapped(...)`."
                )
        task_args = dict(task_args or {})
        # A mapped task's result is a list of children's results, not a tuple to unpack.
        task_args.setdefault("nout", None)
        new = self.copy(**task_args)
        return new.bind(*args, mapped=True, upstream_tasks=upstream_tasks, flow=flow, **kwargs)

    # Dependencies ----------------------------------------------------------------------------

    def set_dependencies(
        self,
        flow: Flow | None = None,
        upstream_tasks: Iterable[object] | None = None,
        downstream_tasks: Iterable[object] | None = None,
        keyword_tasks: Mapping[str, object] | None = None,
        mapped: bool = False,
        validate: bool | None = None,
    ) -> Task:
        """Add this task to the flow with the given dependencies (see `Flow.set_dependencies`).

        Raises:
            ValueError: when there is no flow
        """
        flow = flow or prefect.context.get("flow", None)
        if not flow:
            raise ValueError(
                "No Flow was passed, and could not infer an active Flow context "
                f"(setting the dependencies of {self}); pass `flow=` or use `with Flow(...)`."
            )
        flow.set_dependencies(
            task=self,
            upstream_tasks=upstream_tasks,
            downstream_tasks=downstream_tasks,
            keyword_tasks=keyword_tasks,
            validate=validate,
            mapped=mapped,
        )
        return self

    def set_upstream(
        self, task: object, flow: Flow | None = None, key: str | None = None, mapped: bool = False
    ) -> Task:
        """Make `task` run before this one (passing its result as `key`, when given)."""
        if key is not None:
            self.set_dependencies(flow=flow, keyword_tasks={key: task}, mapped=mapped)
        else:
            self.set_dependencies(flow=flow, upstream_tasks=[task], mapped=mapped)
        return self

    def set_downstream(
        self, task: Task, flow: Flow | None = None, key: str | None = None, mapped: bool = False
    ) -> Task:
        """Make `task` run after this one (receiving its result as `key`, when given)."""
        if key is not None:
            task.set_dependencies(flow=flow, keyword_tasks={key: self}, mapped=mapped)
        else:
            task.set_dependencies(flow=flow, upstream_tasks=[self], mapped=mapped)
        return self

    def inputs(self) -> dict[str, dict]:
        """The inputs of `run`: `{name: {"type": ..., "required": ..., "default": ...}}`."""
        import inspect

        inputs = {}
        hints = _own_type_hints(self.run)
        for name, parameter in _run_signature(self.run).parameters.items():
            input_type = hints.get(name, parameter.annotation)
            if input_type is inspect.Parameter.empty:
                input_type = Any
            required = parameter.default is inspect.Parameter.empty
            inputs[name] = dict(
                type=input_type, required=required, default=None if required else parameter.default
            )
        return inputs

    def outputs(self) -> Any:
        """The return annotation of `run` (`Any` when there is none)."""
        import inspect

        annotation = _own_type_hints(self.run).get(
            "return", _run_signature(self.run).return_annotation
        )
        return Any if annotation is inspect.Signature.empty else annotation

    def pipe(self, _prefect_task: type[EdgeAnnotation] | Task, **kwargs: Any) -> Task:
        """Call `_prefect_task` with this task as its first input: `t.pipe(f, y=1)` is
        `f(t, y=1)`."""
        return _prefect_task(self, **kwargs)  # type: ignore[call-arg, return-value]

    # Serialization ---------------------------------------------------------------------------

    def serialize(self) -> dict[str, Any]:
        """The task as the 1.x JSON (`prefect.serialization.task.TaskSchema`)."""
        from prefect.serialization.task import TaskSchema

        return TaskSchema().dump(self)

    # Iteration and indexing ------------------------------------------------------------------

    def __iter__(self) -> Iterator:
        if self.nout is None:
            raise TypeError(
                "Task is not iterable. If your task returns multiple results, pass `nout` to "
                "the task decorator/constructor, or provide a `Tuple` return-type annotation "
                f"to your task (task {self.name!r})."
            )
        return (self[i] for i in range(self.nout))

    def __getitem__(self, key: Any) -> Task:
        """A task that returns `self`'s result indexed by `key`."""
        from prefect.tasks.core.operators import GetItem

        name = f"{self.name}[{key.name if isinstance(key, Task) else repr(key)}]"
        return GetItem(checkpoint=self.checkpoint, name=name, result=self.result).bind(self, key)

    # Operators that build tasks -------------------------------------------------------------

    def is_equal(self, other: object) -> Task:
        """A task that returns `self == other` (`==` itself compares tasks by identity)."""
        return _operator("Equal", self, other)

    def is_not_equal(self, other: object) -> Task:
        """A task that returns `self != other`."""
        return _operator("NotEqual", self, other)

    def not_(self) -> Task:
        """A task that returns `not self`."""
        from prefect.tasks.core.operators import Not

        return Not().bind(self)

    def or_(self, other: object) -> Task:
        """A task that returns `self or other` (`|` itself sets a dependency)."""
        return _operator("Or", self, other)

    def __or__(self, other: object) -> object:
        """`a | b` makes `b` downstream of `a` and returns `b`."""
        self.set_downstream(other)  # type: ignore[arg-type]
        return other

    def __ror__(self, other: object) -> Task:
        """`a | b` with a non-task `a` makes `b` downstream of `a`."""
        self.set_upstream(other)
        return self

    def __add__(self, other: object) -> Task:
        return _operator("Add", self, other)

    def __sub__(self, other: object) -> Task:
        return _operator("Sub", self, other)

    def __mul__(self, other: object) -> Task:
        return _operator("Mul", self, other)

    def __truediv__(self, other: object) -> Task:
        return _operator("Div", self, other)

    def __floordiv__(self, other: object) -> Task:
        return _operator("FloorDiv", self, other)

    def __mod__(self, other: object) -> Task:
        return _operator("Mod", self, other)

    def __pow__(self, other: object) -> Task:
        return _operator("Pow", self, other)

    def __and__(self, other: object) -> Task:
        return _operator("And", self, other)

    def __radd__(self, other: object) -> Task:
        return _operator("Add", other, self)

    def __rsub__(self, other: object) -> Task:
        return _operator("Sub", other, self)

    def __rmul__(self, other: object) -> Task:
        return _operator("Mul", other, self)

    def __rtruediv__(self, other: object) -> Task:
        return _operator("Div", other, self)

    def __rfloordiv__(self, other: object) -> Task:
        return _operator("FloorDiv", other, self)

    def __rmod__(self, other: object) -> Task:
        return _operator("Mod", other, self)

    def __rpow__(self, other: object) -> Task:
        return _operator("Pow", other, self)

    def __rand__(self, other: object) -> Task:
        return _operator("And", other, self)

    def __gt__(self, other: object) -> Task:
        return _operator("GreaterThan", self, other)

    def __ge__(self, other: object) -> Task:
        return _operator("GreaterThanOrEqual", self, other)

    def __lt__(self, other: object) -> Task:
        return _operator("LessThan", self, other)

    def __le__(self, other: object) -> Task:
        return _operator("LessThanOrEqual", self, other)


def _operator(name: str, x: object, y: object) -> Task:
    from prefect.tasks.core import operators

    return getattr(operators, name)().bind(x, y)


def _is_failed(state: State) -> bool:
    return state.is_failed()


def _is_constant(task: Task) -> bool:
    from prefect.tasks.core.constants import Constant

    return isinstance(task, Constant)


def _as_exception_types(
    task_name: str, retry_on: type[Exception] | Iterable[type[Exception]] | None
) -> set[type[Exception]]:
    if retry_on is None:
        return set()
    types = {retry_on} if isinstance(retry_on, type) else set(retry_on)
    for exc_type in types:
        if not (isinstance(exc_type, type) and issubclass(exc_type, BaseException)):
            raise TypeError(
                f"Task {task_name!r}: `retry_on` takes exception types, got {exc_type!r}."
            )
    return types


def _extra_call_parameters() -> list:
    import inspect

    return [
        p
        for p in inspect.Signature.from_callable(Task.__call__).parameters.values()
        if p.kind == inspect.Parameter.KEYWORD_ONLY
    ]


def __getattr__(name: str) -> Any:
    # `VAR_KEYWORD` and `EXTRA_CALL_PARAMETERS` are public (as in 1.x) but need `inspect`.
    if name == "VAR_KEYWORD":
        import inspect

        return inspect.Parameter.VAR_KEYWORD
    if name == "EXTRA_CALL_PARAMETERS":
        value = _extra_call_parameters()
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _own_type_hints(run: Callable) -> dict[str, Any]:
    """The evaluated annotations of a `run` method of Prefect's own task classes, whose modules
    write annotations as strings (`from __future__ import annotations`); 1.x gives the typing
    objects. User code's annotations are left as written."""
    function = getattr(run, "__func__", run)
    # `__module__` is None for functions of a flow script run with `runpy`-like loading.
    if not (getattr(function, "__module__", None) or "").startswith("prefect."):
        return {}
    import typing

    try:
        hints = typing.get_type_hints(function)
    except Exception:
        return {}
    # `-> None` stays `None`, as `inspect.signature` gives it (the hints give `NoneType`).
    return {name: None if hint is type(None) else hint for name, hint in hints.items()}
