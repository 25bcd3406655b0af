"""Prefect's exception hierarchy.

Two roots, as in Prefect 1.4.1::

    BaseException
     └── PrefectSignal                  run control: not an error
          ├── VersionLockMismatchSignal  the backend refused a state write (stale version)
          ├── TaskTimeoutSignal          a task ran past its timeout
          └── (prefect.engine.signals: ENDRUN, PrefectStateSignal, FAIL, SUCCESS, ...)
    Exception
     └── PrefectException               every error raised by Prefect itself
          ├── ClientError                the backend API answered with an error
          │    ├── ObjectNotFoundError   the requested object does not exist
          │    └── AuthorizationError    the credentials were refused
          └── FlowStorageError           a flow could not be stored or loaded

Signals derive from `BaseException` so that a user's `except Exception:` inside a task
does not swallow them on their way to the task runner.

Every class takes a single optional `message` and pickles with it (exceptions cross
process boundaries on Dask workers).
"""

from __future__ import annotations

__all__ = [
    "AuthorizationError",
    "ClientError",
    "FlowStorageError",
    "ObjectNotFoundError",
    "PrefectException",
    "PrefectSignal",
    "TaskTimeoutSignal",
    "VersionLockMismatchSignal",
]


class PrefectSignal(BaseException):
    """Base class for signals that steer a run; not caught by `except Exception`.

    Args:
        message: a description of why the signal was raised.
    """

    def __init__(self, message: str = "") -> None:
        super().__init__(message)


class VersionLockMismatchSignal(PrefectSignal):
    """Raised when the backend rejects a state update because the run's version moved on.

    Args:
        message: a description of the mismatch.
    """

    def __init__(self, message: str = "") -> None:
        super().__init__(message)


class TaskTimeoutSignal(PrefectSignal):
    """Raised inside a task run that exceeded its `timeout`.

    Args:
        message: a description of the timeout.
    """

    def __init__(self, message: str = "") -> None:
        super().__init__(message)


class PrefectException(Exception):
    """Base class for errors raised by Prefect.

    Args:
        message: a description of the problem.
    """

    def __init__(self, message: str = "") -> None:
        super().__init__(message)


class ClientError(PrefectException):
    """Raised when the backend API returns an error to the client.

    Args:
        message: the error reported by the API.
    """

    def __init__(self, message: str = "") -> None:
        super().__init__(message)


class ObjectNotFoundError(ClientError):
    """Raised when the backend has no object with the requested id or name.

    Args:
        message: which object was looked for.
    """

    def __init__(self, message: str = "") -> None:
        super().__init__(message)


class AuthorizationError(ClientError):
    """Raised when the backend refuses the client's credentials.

    Args:
        message: the refusal reported by the API.
    """

    def __init__(self, message: str = "") -> None:
        super().__init__(message)


class FlowStorageError(PrefectException):
    """Raised when a flow cannot be written to or read from its storage.

    Args:
        message: what went wrong and where.
    """

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
