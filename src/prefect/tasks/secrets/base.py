"""`SecretBase`, the base of secret tasks, and `PrefectSecret`, which reads Prefect secrets."""

from __future__ import annotations

import datetime
from typing import Any, cast

from prefect.client.secrets import Secret as _Secret
from prefect.core.task import Task
from prefect.engine.results.secret_result import SecretResult

__all__ = ["PrefectSecret", "SecretBase"]


class SecretBase(Task):
    """Base class of tasks that return a secret value: subclass it and implement `run`.

    The task's result is a `SecretResult` (the value is fetched again through the task when
    needed, never written anywhere) and the task is never checkpointed, so a secret's value is
    not persisted by any result or sent to the backend.

    Args:
        **kwargs: passed to `Task`; `result` is not accepted.

    Raises:
        ValueError: if a `result` is passed.
    """

    def __init__(self, **kwargs: Any) -> None:
        if kwargs.get("result") is not None:
            raise ValueError(
                "Result types are not supported for Secret tasks: their values are never "
                "persisted. Remove the `result` argument."
            )
        # Writing a SecretResult raises; secret values must never be checkpointed.
        kwargs["checkpoint"] = False
        super().__init__(**kwargs)
        # Subclasses provide `run(name=...)`; the base class itself has none to offer.
        self.result = SecretResult(secret_task=cast(Any, self))


class PrefectSecret(SecretBase):
    """A task that returns the value of a Prefect secret (`prefect.client.secrets.Secret`).

    Local secrets come from ``prefect.context.secrets``; with the Cloud backend and
    ``cloud.use_local_secrets`` off, missing ones are read from the backend.

    Args:
        name: the secret's name, which is also the task's name (default: a name passed to
            `run`; the task is then called "PrefectSecret").
        **kwargs: passed to `Task`. Retries default to 2, one second apart (the backend may
            be briefly unreachable).
    """

    def __init__(self, name: str | None = None, **kwargs: Any) -> None:
        kwargs["name"] = name
        kwargs.setdefault("max_retries", 2)
        kwargs.setdefault("retry_delay", datetime.timedelta(seconds=1))
        self.secret_name = name
        super().__init__(**kwargs)

    def run(self, name: str | None = None) -> Any:
        """Retrieve the secret's value.

        Args:
            name: the secret to read; defaults to the name given at initialization.

        Returns:
            the secret's value (JSON text is decoded).

        Raises:
            ValueError: if no name was given either way, or the secret is missing locally
                (see `prefect.client.secrets.Secret.get`).
        """
        if name is None:
            name = self.secret_name
        if name is None:
            raise ValueError(
                "A secret name must be provided: PrefectSecret('NAME') or run(name='NAME')."
            )
        return _Secret(name).get()
