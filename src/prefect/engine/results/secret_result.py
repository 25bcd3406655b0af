"""`SecretResult`: a value read through a secret task, never written."""

from __future__ import annotations

from typing import Any, Protocol

from prefect.engine.result.base import Result

__all__ = ["SecretResult"]


class _SecretTask(Protocol):
    """What a `SecretResult` needs of its secret task (`prefect.tasks.secrets.SecretBase`)."""

    name: str

    def run(self, name: str | None = None) -> Any: ...


class SecretResult(Result):
    """A result whose value comes from a secret task; the location is the secret's name.

    Args:
        secret_task: the task that retrieves secrets (a `prefect.tasks.secrets.SecretBase`;
            any task whose `run(name=...)` returns the secret's value).
        **kwargs: passed to `Result`; `location` defaults to the task's `name`.
    """

    def __init__(self, secret_task: _SecretTask, **kwargs: Any) -> None:
        self.secret_task = secret_task
        if kwargs.get("location") is None:
            kwargs["location"] = getattr(secret_task, "name", None)
        super().__init__(**kwargs)

    def read(self, location: str) -> Result:
        """Retrieve the secret called `location` into a new result.

        Args:
            location: the secret's name.

        Returns:
            A copy of this result holding the secret's value.
        """
        new = self.copy()
        new.location = location
        new.value = self.secret_task.run(name=location)
        return new

    def write(self, value_: Any, **kwargs: Any) -> Result:
        """Refuse: secrets are never written by a flow.

        Args:
            value_: ignored.
            **kwargs: ignored.

        Raises:
            ValueError: always.
        """
        raise ValueError(
            "Cannot write values to `SecretResult` types: secrets are read from their "
            "secret store, never written by a task run."
        )
