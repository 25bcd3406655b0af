"""`FilterTask`: drop unwanted items from a list of results, typically a mapped task's."""

from __future__ import annotations

from typing import Any, Callable

from prefect.core.task import Task


def _is_useful_result(result: Any) -> bool:
    """The default filter: keep results that are not `None`, an exception, or `NoResult`."""
    from prefect.engine.result import NoResultType

    return result is not None and not isinstance(result, (Exception, NoResultType))


class FilterTask(Task):
    """Filter a list of results, e.g. the results of a mapped task whose children failed or
    skipped.

    By default it runs once all its upstream tasks are finished (trigger `all_finished`), is not
    skipped when an upstream task was, and drops `None`, exceptions and `NoResult`.

    Args:
        filter_func: the predicate; items for which it returns a falsy value are dropped
            (default: drop `None`, exceptions and `NoResult`)
        log_func: called with the filtered list; a string it returns is logged at INFO level
        **kwargs: keyword arguments of `Task.__init__`

    Example:
        ```python
        drop_negatives = FilterTask(filter_func=lambda x: x >= 0)

        with Flow("example") as flow:
            positives = drop_negatives(numbers.map(range(-3, 3)))
        ```
    """

    def __init__(
        self,
        filter_func: Callable[[Any], bool] | None = None,
        log_func: Callable[[list[Any]], Any] | None = None,
        **kwargs: Any,
    ):
        kwargs.setdefault("skip_on_upstream_skip", False)
        if "trigger" not in kwargs:
            from prefect.triggers import all_finished

            kwargs["trigger"] = all_finished
        self.filter_func = filter_func if filter_func is not None else _is_useful_result
        self.log_func = log_func
        super().__init__(**kwargs)

    def run(self, task_results: list[Any]) -> list[Any]:  # type: ignore[override]
        """Filter the results.

        Args:
            task_results: the results to filter

        Returns:
            the results the filter keeps, in order
        """
        filtered = [result for result in task_results if self.filter_func(result)]
        if self.log_func is not None:
            message = self.log_func(filtered)
            if isinstance(message, str):
                self.logger.info(message)
        return filtered
