"""Branching: `switch` and `ifelse` run tasks depending on a condition; `merge` joins branches."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from prefect.core.task import Task
from prefect.tasks.core.function import FunctionTask

if TYPE_CHECKING:
    from prefect.core.flow import Flow

__all__ = ["switch", "ifelse", "merge"]

_MERGE_PREFIX = "task_"


class Merge(Task):
    """Join branches: return the first input that is not `None` (branches that were skipped
    pass `None`).

    It runs unless all its upstream tasks were skipped (trigger `not_all_skipped`), and it is
    never skipped just because one upstream task was.

    Args:
        **kwargs: keyword arguments of `Task.__init__`

    Raises:
        ValueError: if `skip_on_upstream_skip=True` is passed
    """

    def __init__(self, **kwargs: Any) -> None:
        if kwargs.setdefault("skip_on_upstream_skip", False):
            raise ValueError(
                "Merge tasks must have `skip_on_upstream_skip=False`: a merge runs after "
                "branches that were skipped."
            )
        if "trigger" not in kwargs:
            from prefect.triggers import not_all_skipped

            kwargs["trigger"] = not_all_skipped
        super().__init__(**kwargs)

    def run(self, **task_results: Any) -> Any:
        """Return the first input that is not `None`, in the order the branches were given.

        Args:
            **task_results: the branch results, keyed `task_1`, `task_2`, ...

        Returns:
            the first result that is not `None`, or `None`
        """
        ordered = sorted(task_results.items(), key=lambda item: int(item[0][len(_MERGE_PREFIX) :]))
        return next((value for _, value in ordered if value is not None), None)


class CompareValue(Task):
    """Skip unless the input equals a value; used as the gate of conditional branches.

    Args:
        value: the value to compare the input with
        **kwargs: keyword arguments of `Task.__init__` (the name defaults to
            `CompareValue: "<value>"`)
    """

    def __init__(self, value: Any, **kwargs: Any):
        self.value = value
        kwargs.setdefault("name", f'CompareValue: "{value}"')
        super().__init__(**kwargs)

    def run(self, value: Any) -> None:  # type: ignore[override]
        """Check the input.

        Args:
            value: the value to compare

        Raises:
            prefect.engine.signals.SKIP: if `value` differs from the task's value
        """
        if value != self.value:
            from prefect.engine import signals

            raise signals.SKIP(f'Provided value "{value}" did not match "{self.value}"')


def switch(condition: Task, cases: dict[Any, Task], mapped: bool = False) -> None:
    """Run at most one branch: the task under the key that equals the result of `condition`.

    Each task of `cases` gets a `CompareValue` gate downstream of `condition`; the gates that do
    not match skip, and the skip propagates to their task and its downstream tasks (use `merge`
    to join the branches).

    Args:
        condition: the task whose result picks the branch
        cases: the branch task for each possible result
        mapped: whether to map the gates and branches over the result of `condition`

    Example:
        ```python
        with Flow("example") as flow:
            switch(condition=which(), cases={"a": a, "b": b})
        ```
    """
    from prefect.utilities.tasks import as_task

    for value, task in cases.items():
        branch = as_task(task)
        gate = CompareValue(value).bind(value=condition, mapped=mapped)
        branch.set_dependencies(upstream_tasks=[gate], mapped=mapped)


def _as_bool(x: Any) -> bool:
    return bool(x)


def ifelse(condition: Task, true_task: Task, false_task: Task, mapped: bool = False) -> None:
    """Run `true_task` if the result of `condition` is truthy, otherwise `false_task`.

    The result is cast with `bool` by an `as_bool` task and handed to `switch`; a branch given
    as `None` is left out.

    Args:
        condition: the task whose result decides
        true_task: the task to run when the result is truthy
        false_task: the task to run when the result is falsy
        mapped: whether to map over the result of `condition`
    """
    cases = {value: t for value, t in ((True, true_task), (False, false_task)) if t is not None}
    if not cases:
        return
    bool_condition = FunctionTask(_as_bool, name="as_bool").bind(condition, mapped=mapped)
    switch(condition=bool_condition, cases=cases, mapped=mapped)


def merge(*tasks: Task, flow: Flow | None = None, mapped: bool = False, **kwargs: Any) -> Task:
    """Join conditional branches into one task returning the first result that is not `None`.

    Args:
        *tasks: the branch tasks, in order of preference
        flow: the flow (default: the active flow)
        mapped: whether to map over the branch results
        **kwargs: keyword arguments of `Task.__init__` for the `Merge` task

    Returns:
        the `Merge` task

    Example:
        ```python
        with Flow("example") as flow:
            ifelse(cond, a, b)
            result = merge(a, b)
        ```
    """
    inputs = {f"{_MERGE_PREFIX}{i + 1}": task for i, task in enumerate(tasks)}
    return Merge(**kwargs).bind(flow=flow, mapped=mapped, **inputs)
