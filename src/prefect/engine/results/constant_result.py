"""`ConstantResult`: a value known when the flow is built, never stored anywhere."""

from __future__ import annotations

from typing import Any

from prefect.engine.result.base import Result

__all__ = ["ConstantResult"]


class ConstantResult(Result):
    """A result that holds a constant value (e.g. a constant task input).

    There is nothing to read or write: `read` returns the result itself and `write` refuses.

    Args:
        **kwargs: passed to `Result` (`value`, `location`, `serializer`).
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)

    def read(self, location: str) -> Result:
        """Return this result: its value is already known.

        Args:
            location: ignored.

        Returns:
            This result.
        """
        return self

    def write(self, value_: Any, **kwargs: Any) -> Result:
        """Refuse: a constant cannot be written.

        Args:
            value_: ignored.
            **kwargs: ignored.

        Raises:
            ValueError: always.
        """
        raise ValueError(
            "Cannot write values to `ConstantResult` types; use a result type with storage, "
            "such as LocalResult or PrefectResult."
        )

    def exists(self, location: str, **kwargs: Any) -> bool:
        """Always true: the value is held by the result itself.

        Args:
            location: ignored.
            **kwargs: ignored.

        Returns:
            True.
        """
        return True
