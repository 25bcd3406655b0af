"""`Constant`: a task that returns a fixed value."""

from __future__ import annotations

from typing import Any

from prefect.core.task import Task

# Longer reprs make unreadable task names; past this the name shows the value's type instead.
_MAX_REPR_NAME_LENGTH = 8
_SIZED_BUILTINS = (str, bytes, list, tuple, dict, set, frozenset)


class Constant(Task):
    """A task that always returns the value it was created with.

    Flows store plain (non-task) inputs as constants of the downstream task rather than as
    `Constant` tasks; this class is for the cases that need a task, such as `as_task(value)`.

    Args:
        value: the value the task returns
        name: the task name; defaults to the value's `repr` when that is at most 8 characters
            long, otherwise to `Constant[<type name>]` (e.g. `Constant[dict]`)
        **kwargs: keyword arguments of `Task.__init__`
    """

    def __init__(self, value: Any, name: str | None = None, **kwargs: Any):
        self.value = value
        if name is None:
            name = self._default_name(value)
        if "result" not in kwargs:
            from prefect.engine.results import ConstantResult

            kwargs["result"] = ConstantResult(value=value)
        super().__init__(name=name, **kwargs)

    @staticmethod
    def _default_name(value: Any) -> str:
        """The value's repr if at most 8 characters long, else `Constant[<type name>]`."""
        # A builtin collection or string this long has a longer repr; skip building it
        # (maps over big lists create such constants).
        if isinstance(value, _SIZED_BUILTINS) and len(value) > _MAX_REPR_NAME_LENGTH:
            return f"Constant[{type(value).__name__}]"
        name = repr(value)
        if len(name) > _MAX_REPR_NAME_LENGTH:
            return f"Constant[{type(value).__name__}]"
        return name

    def run(self) -> Any:
        """Return the value.

        Returns:
            the value the task was created with
        """
        return self.value
