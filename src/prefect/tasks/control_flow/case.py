"""`case`: a block of tasks that runs only when a task's result equals a value."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import prefect
from prefect.core.parameter import Parameter
from prefect.tasks.control_flow.conditional import CompareValue

if TYPE_CHECKING:
    from prefect.core.flow import Flow
    from prefect.core.task import Task

__all__ = ["case"]


class case:
    """A conditional block: its tasks run only if the result of `task` equals `value`.

    On exit, one `CompareValue` task (named `case(<value>)`) is added downstream of `task`. It
    skips when the result differs from `value`, and it becomes an upstream task of every task
    of the block that has no upstream task inside the block. The other tasks of the block are
    downstream of those, so a skip reaches them too (unless they set
    `skip_on_upstream_skip=False`, as `merge` does). Blocks nest: an inner block's tasks, and
    its `CompareValue`, belong to the outer block as well.

    Args:
        task: the task whose result is compared (a plain value is wrapped in a task)
        value: the value that runs the block

    Example:
        ```python
        with Flow("example") as flow:
            cond = check()
            with case(cond, True):
                a = action_if_true()
            with case(cond, False):
                b = action_if_false()
            result = merge(a, b)
        ```
    """

    def __init__(self, task: Task, value: Any):
        self.task = task
        self.value = value
        self._tasks: set[Task] = set()
        self._flow: Flow | None = None
        self._previous_case: case | None = None

    def add_task(self, task: Task, flow: Flow) -> None:
        """Record a task added to the flow inside this block (called by `Flow.add_task`).

        Args:
            task: the new task
            flow: the flow it was added to

        Raises:
            ValueError: if the block already holds tasks of another flow
        """
        if self._flow is None:
            self._flow = flow
        elif self._flow is not flow:
            raise ValueError(
                "Multiple flows cannot be used with the same case statement: task "
                f"{task.name!r} was added to flow {flow.name!r} inside a case block of flow "
                f"{self._flow.name!r}."
            )
        # Parameters are always root tasks: a parameter first used inside the block is not
        # gated by it.
        if not isinstance(task, Parameter):
            self._tasks.add(task)

    def __enter__(self) -> case:
        self._previous_case = prefect.context.get("case")
        prefect.context.update(case=self)
        return self

    def __exit__(self, *args: Any) -> None:
        if self._previous_case is None:
            prefect.context.pop("case", None)
        else:
            prefect.context.update(case=self._previous_case)
        self._previous_case = None

        # After an exception in the block the graph is incomplete; leave it as it is.
        if args and args[0] is not None:
            return
        if not self._tasks or self._flow is None:
            return

        flow = self._flow
        # Bound after the context is restored, so an enclosing case gates this check as well.
        gate = CompareValue(self.value, name=f"case({self.value})").bind(value=self.task, flow=flow)
        for task in self._tasks:
            if not self._tasks.intersection(flow.upstream_tasks(task)):
                task.set_upstream(gate, flow=flow)
