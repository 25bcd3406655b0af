"""The executor interface: how the flow runner hands task runs to something that runs them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from prefect.utilities.logging import get_logger

__all__ = ["Executor"]


class Executor:
    """Base class for executors: they run the functions the flow runner submits.

    The flow runner enters `start()` once per flow run, calls `submit` once per task run
    (each mapped child and each mapped parent included) and finally `wait`s on what `submit`
    returned. Subclasses implement `submit` and `wait`, and `start` when they need set-up.
    """

    def __init__(self) -> None:
        self.logger = get_logger(type(self).__name__)

    def __repr__(self) -> str:
        return f"<Executor: {type(self).__name__}>"

    @contextmanager
    def start(self) -> Iterator[None]:
        """Context manager for the executor's resources, entered around a flow run.

        Yields:
            None
        """
        yield

    def submit(
        self, fn: Callable, *args: Any, extra_context: dict | None = None, **kwargs: Any
    ) -> Any:
        """Submit `fn(*args, **kwargs)` for execution.

        Args:
            fn: the function to run
            *args: positional arguments for `fn`
            extra_context: facts about the call (task name, map index, ...) an executor may
                use to label the work; never passed to `fn`
            **kwargs: keyword arguments for `fn`

        Returns:
            a future for the result, or the result itself for executors that run eagerly

        Raises:
            NotImplementedError: always; subclasses implement it.
        """
        raise NotImplementedError(
            f"{type(self).__name__} does not implement `submit`; Executor subclasses must."
        )

    def wait(self, futures: Any) -> Any:
        """Resolve the futures `submit` returned, possibly nested in collections.

        Args:
            futures: a future, or a collection holding futures

        Returns:
            the same structure with each future replaced by its result

        Raises:
            NotImplementedError: always; subclasses implement it.
        """
        raise NotImplementedError(
            f"{type(self).__name__} does not implement `wait`; Executor subclasses must."
        )
