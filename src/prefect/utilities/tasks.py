"""Helpers for building tasks and flows: `@task`, `tags`, `as_task`, `apply_map`, ..."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta
from functools import wraps
from typing import TYPE_CHECKING, Any, Callable, Iterator, overload

import prefect
from prefect.core.task import Task
from prefect.utilities.edges import EdgeAnnotation, unmapped

if TYPE_CHECKING:
    from prefect.core.flow import Flow
    from prefect.tasks.core.function import FunctionTask

__all__ = ["tags", "as_task", "pause_task", "task", "apply_map", "defaults_from_attrs"]


@contextmanager
def tags(*tags: str) -> Iterator[None]:
    """Add tags to every task created inside the block.

    Args:
        *tags: the tags to add

    Example:
        ```python
        with tags("math", "function"):
            task = MyTask()
        assert task.tags == {"math", "function"}
        ```
    """
    current = set(prefect.context.get("tags", set()))
    with prefect.context(tags=current.union(tags)):
        yield


def as_task(x: Any, flow: Flow | None = None) -> prefect.Task:
    """Return `x` as a task: tasks as they are, collections holding tasks as collection tasks,
    anything else as a `Constant`.

    Args:
        x: any object
        flow: the flow that collection tasks are bound in (default: the active flow)

    Returns:
        a `Task`
    """
    if isinstance(x, Task):
        return x
    if isinstance(x, EdgeAnnotation):
        return as_task(x.value, flow=flow)

    from prefect.tasks.core.constants import Constant

    if isinstance(x, (list, tuple, set, dict)) and _holds_task(x):
        # Items are bound as they are: tasks become edges, plain values constants. The
        # collection task goes into `flow`, which may not be the flow being built, so it must
        # not count as an unused task of the active `with Flow(...)` block.
        with prefect.context(_unused_task_tracker=set()):
            return _collection_task(x, flow)

    constant = Constant(value=x)
    constant.auto_generated = True
    return constant


def _collection_task(x: list | tuple | set | dict, flow: Flow | None) -> prefect.Task:
    from prefect.tasks.core import collections

    result: prefect.Task
    if isinstance(x, dict):
        result = collections.Dict().bind(keys=list(x.keys()), values=list(x.values()), flow=flow)
    else:
        collection_cls = {list: collections.List, tuple: collections.Tuple, set: collections.Set}
        cls = next(c for base, c in collection_cls.items() if isinstance(x, base))
        result = cls().bind(*x, flow=flow)
    result.auto_generated = True
    return result


def _holds_task(x: Any) -> bool:
    """Whether a (possibly nested) collection contains a task anywhere."""
    stack = [x]
    while stack:
        item = stack.pop()
        if isinstance(item, (Task, EdgeAnnotation)):
            return True
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set)):
            stack.extend(item)
    return False


def pause_task(message: str | None = None, duration: timedelta | None = None) -> None:
    """Pause the running task until it is resumed (raises `PAUSE` unless the run is a resume).

    Args:
        message: the message of the `Paused` state
        duration: pause at most this long, after which the task may be resumed automatically

    Raises:
        prefect.engine.signals.PAUSE: unless `prefect.context.resume` is set
    """
    from prefect.engine import signals

    if prefect.context.get("resume", False) is False:
        start_time = None
        if duration is not None:
            import pendulum

            start_time = pendulum.now("utc") + duration
        raise signals.PAUSE(
            message=message or "Pause signal raised during task execution.",
            start_time=start_time,
        )


@overload
def task(__fn: Callable) -> FunctionTask: ...


@overload
def task(**task_init_kwargs: Any) -> Callable[[Callable], FunctionTask]: ...


def task(
    fn: Callable | None = None, **task_init_kwargs: Any
) -> FunctionTask | Callable[[Callable], FunctionTask]:
    """Turn a function into a task (`FunctionTask`), with or without `Task` arguments.

    Args:
        fn: the function; omitted when the decorator is called with arguments
        **task_init_kwargs: keyword arguments of `Task.__init__` (name, max_retries, ...)

    Returns:
        the task, or a decorator that makes one

    Example:
        ```python
        @task
        def add(x, y):
            return x + y

        @task(name="mul", max_retries=2, retry_delay=timedelta(seconds=1))
        def multiply(x, y):
            return x * y
        ```
    """
    from prefect.tasks.core.function import FunctionTask

    if fn is None:
        return lambda fn: FunctionTask(fn=fn, **task_init_kwargs)
    return FunctionTask(fn=fn, **task_init_kwargs)


def defaults_from_attrs(*attr_args: str) -> Callable:
    """Decorate a task's `run` so the named arguments default to the task's attributes.

    An argument that is missing or `None` at call time takes the value of the task attribute of
    the same name.

    Args:
        *attr_args: the names of the arguments (and attributes)
    """

    def wrapper(run_method: Callable) -> Callable:
        @wraps(run_method)
        def method(self: Any, *args: Any, **kwargs: Any) -> Any:
            for attr in attr_args:
                if kwargs.get(attr, None) is None:
                    kwargs[attr] = getattr(self, attr)
            return run_method(self, *args, **kwargs)

        return method

    return wrapper


def apply_map(func: Callable, *args: Any, flow: Flow | None = None, **kwargs: Any) -> Any:
    """Map a function that builds tasks over its arguments, as if each task inside were `.map`ped.

    Every task that `func` creates is added to the flow mapped over the mapped inputs; arguments
    wrapped in `unmapped` are passed whole. Control flow (`case`) inside `func` works per child.

    Args:
        func: a function that builds tasks from its arguments
        *args: arguments to map over (or `unmapped(...)`)
        flow: the flow to add the tasks to (default: the active flow)
        **kwargs: keyword arguments to map over (or `unmapped(...)`)

    Returns:
        what `func` returned (its tasks, now mapped)

    Raises:
        ValueError: when there is no flow to add to
    """
    from prefect.core.flow import Flow
    from prefect.tasks.core.constants import Constant

    flow = flow or prefect.context.get("flow")
    if flow is None:
        raise ValueError(
            "Couldn't infer a flow in the current context; call apply_map inside a "
            "`with Flow(...)` block or pass `flow=`."
        )

    # Check every argument before changing any flow, as `Task.map` does.
    for value in list(args) + list(kwargs.values()):
        if not isinstance(value, unmapped) and not hasattr(value, "__getitem__"):
            raise TypeError(
                f"Cannot map over unsubscriptable object of type {type(value)}: "
                f"{repr(value)[:50]}. Map over a list (or a task returning one), or wrap the "
                "argument in `unmapped(...)`."
            )

    # Each argument becomes a task; remember whether it is mapped and whether it is a constant
    # that only exists to be mapped over.
    arg_info: dict[Task, tuple[bool, bool]] = {}
    temporary = Flow("apply_map temporary flow")

    def prepare(value: Any) -> Task:
        is_mapped = not isinstance(value, unmapped)
        # Collections of tasks are built in the real flow, where their inputs live.
        as_arg = as_task(value, flow=flow)
        is_constant = isinstance(as_arg, Constant) and not isinstance(
            value.value if isinstance(value, EdgeAnnotation) else value, Task
        )
        if not is_constant:
            temporary.add_task(as_arg)
            flow.add_task(as_arg)
        arg_info[as_arg] = (is_mapped, is_constant)
        return as_arg

    with prefect.context(case=None, resource=None):
        with temporary:
            temporary_args = [prepare(a) for a in args]
            temporary_kwargs = {k: prepare(v) for k, v in kwargs.items()}
            result = func(*temporary_args, **temporary_kwargs)

    # Copy what `func` built into the flow, mapping every edge that comes from inside it.
    for built in temporary.sorted_tasks():
        if built in arg_info:
            continue
        flow.add_task(built)
        for edge in temporary.edges_to(built):
            upstream = edge.upstream_task
            if upstream in arg_info:
                is_mapped, is_constant = arg_info[upstream]
                if is_constant and not is_mapped:
                    if edge.key is not None:
                        flow.constants[built][edge.key] = upstream.value  # type: ignore[attr-defined]
                        continue
                is_mapped = is_mapped or edge.mapped
            else:
                is_mapped = True
            flow.add_edge(
                upstream_task=upstream,
                downstream_task=built,
                key=edge.key,
                mapped=is_mapped,
                flattened=edge.flattened,
                validate=False,
            )
        if built in temporary.constants:
            flow.constants[built].update(temporary.constants[built])
    return result
