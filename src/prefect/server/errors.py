"""Errors the server answers with. Each becomes one GraphQL error: its text is the `message`, its
`code` (when set) the `extensions.code` the 1.x client reads.

    ServerError                 any refusal; HTTP 200, the field is null
    ├── UniquenessViolation     "Uniqueness violation." (Client.create_project matches the text)
    ├── VersionLockError        code VERSION_LOCKING_ERROR (only with server.api.version_locking)
    └── RetryableError          code API_ERROR: the client re-sends the request, so only for
                                failures that are safe to repeat
"""

from __future__ import annotations

__all__ = ["RetryableError", "ServerError", "UniquenessViolation", "VersionLockError"]


class ServerError(Exception):
    """A request the server refuses; `message` is sent to the client verbatim."""

    code: str | None = None

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (type(self), (self.message, self.code))


class UniquenessViolation(ServerError):
    def __init__(self, message: str = "Uniqueness violation.", code: str | None = None) -> None:
        super().__init__(message, code)


class VersionLockError(ServerError):
    code = "VERSION_LOCKING_ERROR"


class RetryableError(ServerError):
    code = "API_ERROR"

    def __init__(
        self,
        message: str = "Unable to complete operation. An internal API error occurred.",
        code: str | None = None,
    ) -> None:
        super().__init__(message, code)
