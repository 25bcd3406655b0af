"""`EnvVarSecret`: a secret task that reads an environment variable."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from prefect.tasks.secrets.base import PrefectSecret

__all__ = ["EnvVarSecret"]


class EnvVarSecret(PrefectSecret):
    """A task that returns the value of an environment variable, as a secret.

    The variable is read when the task runs, in the flow-run process.

    Args:
        name: the variable's name (also the task's name).
        cast: called on the value when the variable is set (e.g. `int`, `json.loads`).
        raise_if_missing: raise `ValueError` when the variable is not set, instead of
            returning `None`.
        **kwargs: passed to `PrefectSecret` and `Task`.
    """

    def __init__(
        self,
        name: str | None = None,
        cast: Callable[[Any], Any] | None = None,
        raise_if_missing: bool = False,
        **kwargs: Any,
    ) -> None:
        self.cast = cast
        self.raise_if_missing = raise_if_missing
        super().__init__(name=name, **kwargs)

    def run(self, name: str | None = None) -> Any:
        """Read the environment variable.

        Args:
            name: the variable to read; defaults to the name given at initialization.

        Returns:
            the (cast) value, or `None` when the variable is not set.

        Raises:
            ValueError: if no name was given either way, or the variable is not set and
                `raise_if_missing` is true.
        """
        if name is None:
            name = self.secret_name
        if name is None:
            raise ValueError(
                "An environment variable name must be provided: EnvVarSecret('NAME') or "
                "run(name='NAME')."
            )
        value = os.environ.get(name)
        if value is None:
            if self.raise_if_missing:
                raise ValueError(f"Environment variable not set: {name}")
            return None
        if self.cast is not None:
            return self.cast(value)
        return value
