"""`LocalExecutor`: runs each submitted function at once, in the calling thread."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prefect.executors.base import Executor

__all__ = ["LocalExecutor"]


class LocalExecutor(Executor):
    """An executor that runs every function immediately, in the current thread.

    The default executor: no parallelism, no set-up, and the exceptions and results of the
    functions are exactly those of a plain call.
    """

    def submit(
        self, fn: Callable, *args: Any, extra_context: dict | None = None, **kwargs: Any
    ) -> Any:
        """Call `fn(*args, **kwargs)` now and return its result.

        Args:
            fn: the function to run
            *args: positional arguments for `fn`
            extra_context: ignored (other executors use it to label work)
            **kwargs: keyword arguments for `fn`

        Returns:
            the result of the call
        """
        # One call per task run: keep this a bare call.
        return fn(*args, **kwargs)

    def wait(self, futures: Any) -> Any:
        """Return `futures` unchanged: `submit` already returned the results.

        Args:
            futures: results returned by `submit`, possibly in collections

        Returns:
            `futures`
        """
        return futures
