"""`FunctionTask`: a task whose `run` is a plain function (what `@task` builds)."""

from __future__ import annotations

from typing import Any, Callable

from prefect.core.task import Task, _validate_run_signature


class FunctionTask(Task):
    """A task that runs a function: calling or binding it passes the function's arguments.

    Most users create these with the `@task` decorator.

    Args:
        fn: the function to run; it may not take `*args`
        name: the task name (default: the function's `__name__`)
        **kwargs: keyword arguments of `Task.__init__`

    Raises:
        TypeError: if `fn` is not callable
        ValueError: if `fn` takes `*args` or an argument named like a reserved keyword of
            `Task.__call__` (`upstream_tasks`, `mapped`, `task_args`, `flow`)

    Example:
        ```python
        def add(x, y=1):
            return x + y

        add_task = FunctionTask(add)
        assert add_task.run(1, y=2) == 3
        ```
    """

    def __init__(self, fn: Callable, name: str | None = None, **kwargs: Any):
        if not callable(fn):
            raise TypeError(f"fn must be callable. Got {fn!r}.")
        if name is None:
            name = getattr(fn, "__name__", type(self).__name__)
        _validate_run_signature(fn)

        # An instance attribute shadows `Task.run`, so `inspect.signature(self.run)` (used to
        # bind arguments) and help() show the function itself.
        self.run = fn  # type: ignore[method-assign]
        # A function without a docstring leaves the class docstring showing, as in 1.x.
        if getattr(fn, "__doc__", None):
            self.__doc__ = fn.__doc__
        self.__wrapped__ = fn
        super().__init__(name=name, **kwargs)
