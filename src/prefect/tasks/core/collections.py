"""Tasks that build Python collections (`list`, `tuple`, `set`, `dict`) from their inputs.

`as_task` uses these when a task input is a collection holding tasks, e.g. `t(x=[a, b])`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

from prefect.core.task import Task

if TYPE_CHECKING:
    from prefect.core.flow import Flow

_ARG_PREFIX = "arg_"


def _ordered_values(task_results: dict[str, Any]) -> list[Any]:
    """The values of `arg_1, arg_2, ...` in numeric order (so `arg_10` follows `arg_9`)."""
    return [
        value
        for _, value in sorted(
            task_results.items(), key=lambda item: int(item[0][len(_ARG_PREFIX) :])
        )
    ]


class VarArgsTask(Task):
    """A task that accepts positional inputs.

    Task inputs are stored as keywords, so `bind` turns the positional arguments into the
    keyword arguments `arg_1`, `arg_2`, ... (numbered from 1) and `run` receives them as
    `**task_results`.

    Args:
        *args: positional arguments of `Task.__init__`
        **kwargs: keyword arguments of `Task.__init__`
    """

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)

    def bind(  # type: ignore[override]
        self,
        *args: Any,
        upstream_tasks: Iterable[Any] | None = None,
        mapped: bool = False,
        flow: Flow | None = None,
    ) -> Task:
        """Bind positional inputs, stored as the keyword inputs `arg_1`, `arg_2`, ....

        Args:
            *args: the inputs, tasks or plain values
            upstream_tasks: tasks that must finish first without passing data
            mapped: whether to map over every input
            flow: the flow to bind in (default: the active flow)

        Returns:
            the task itself
        """
        kwargs = {f"{_ARG_PREFIX}{i + 1}": arg for i, arg in enumerate(args)}
        return super().bind(upstream_tasks=upstream_tasks, mapped=mapped, flow=flow, **kwargs)


class List(VarArgsTask):
    """A task that collects its inputs into a list, in the order they were bound.

    Args:
        *args: positional arguments of `Task.__init__`
        **kwargs: keyword arguments of `Task.__init__`
    """

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)

    def run(self, **task_results: Any) -> list:  # type: ignore[override]
        """Return the inputs as a list.

        Args:
            **task_results: the inputs, keyed `arg_1`, `arg_2`, ...

        Returns:
            the inputs in order
        """
        return _ordered_values(task_results)


class Tuple(VarArgsTask):
    """A task that collects its inputs into a tuple, in the order they were bound.

    Args:
        *args: positional arguments of `Task.__init__`
        **kwargs: keyword arguments of `Task.__init__`
    """

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)

    def run(self, **task_results: Any) -> tuple:  # type: ignore[override]
        """Return the inputs as a tuple.

        Args:
            **task_results: the inputs, keyed `arg_1`, `arg_2`, ...

        Returns:
            the inputs in order
        """
        return tuple(_ordered_values(task_results))


class Set(VarArgsTask):
    """A task that collects its inputs into a set.

    Args:
        *args: positional arguments of `Task.__init__`
        **kwargs: keyword arguments of `Task.__init__`
    """

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)

    def run(self, **task_results: Any) -> set:  # type: ignore[override]
        """Return the inputs as a set.

        Args:
            **task_results: the inputs, keyed `arg_1`, `arg_2`, ...

        Returns:
            the set of inputs
        """
        return set(task_results.values())


class Dict(Task):
    """A task that builds a dictionary from a sequence of keys and a sequence of values.

    Args:
        *args: positional arguments of `Task.__init__`
        **kwargs: keyword arguments of `Task.__init__`
    """

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)

    def run(self, keys: Iterable[Any], values: Iterable[Any]) -> dict:  # type: ignore[override]
        """Pair up keys and values.

        Args:
            keys: the keys
            values: the values, as many as there are keys

        Returns:
            `dict(zip(keys, values))`

        Raises:
            ValueError: if the numbers of keys and values differ
        """
        keys = list(keys)
        values = list(values)
        if len(keys) != len(values):
            raise ValueError(
                f"A different number of keys and values were provided! Got {len(keys)} keys "
                f"and {len(values)} values; pass one value per key."
            )
        return dict(zip(keys, values))
