"""`LocalResult`: task outputs stored as files on the machine that runs the flow."""

from __future__ import annotations

import datetime
import os
import threading
import uuid
from typing import Any

from prefect.engine.result.base import Result, _format_location

__all__ = ["LocalResult"]


def _default_dir() -> str:
    import prefect

    return os.path.join(prefect.config.home_dir, "results")


def _timestamp_slug() -> str:
    """The current UTC time as a file-name-safe slug: `2024-01-31t12-00-00-123456-00-00`."""
    stamp = datetime.datetime.now(datetime.timezone.utc).isoformat().lower()
    return "".join(char if char.isalnum() else "-" for char in stamp)


class LocalResult(Result):
    """A result stored as a file under a local directory.

    Relative locations are taken inside `dir`; absolute locations are used as they are. After
    `write`, the returned result's `location` is the full path of the file.

    Args:
        dir: the directory results are stored in; defaults to `results` under
            `prefect.config.home_dir` (`~/.prefect/results`).
        validate_dir: when true, `dir` is made absolute (`~` expanded) and created if
            missing. When false it is kept exactly as given (results loaded from a backend
            name a directory on the machine that ran the task).
        **kwargs: passed to `Result` (`value`, `location`, `serializer`).

    Raises:
        OSError: when `validate_dir` is true and the directory cannot be created.
    """

    def __init__(self, dir: str | None = None, validate_dir: bool = True, **kwargs: Any) -> None:
        directory = _default_dir() if dir is None else os.fspath(dir)
        if validate_dir:
            directory = os.path.abspath(os.path.expanduser(directory))
            try:
                os.makedirs(directory, exist_ok=True)
            except OSError as exc:
                # OSError(errno, text) builds the matching subclass (PermissionError, ...).
                raise OSError(
                    exc.errno,
                    f"LocalResult cannot use {directory!r} as its directory ({exc.strerror}); "
                    "pass `dir=` an existing writable directory, or `validate_dir=False` "
                    "to skip this check.",
                ) from exc
        self.dir = directory
        super().__init__(**kwargs)

    @property
    def default_location(self) -> str:
        """A fresh file path in `dir`: `prefect-result-<UTC timestamp>-<random suffix>`."""
        name = f"prefect-result-{_timestamp_slug()}-{uuid.uuid4().hex[:8]}"
        return os.path.join(self.dir, name)

    def _full_path(self, location: str) -> str:
        return os.path.expanduser(os.path.join(self.dir, location))

    def read(self, location: str) -> Result:
        """Read the file at `location` into a new result.

        Args:
            location: the file's path, absolute or relative to `dir`.

        Returns:
            A copy of this result holding the deserialized value and `location`.

        Raises:
            FileNotFoundError: if nothing is stored there.
        """
        new = self.copy()
        new.location = location
        self.logger.debug("Starting to read result from %s...", location)
        with open(self._full_path(location), "rb") as file:
            payload = file.read()
        new.value = self.serializer.deserialize(payload)
        self.logger.debug("Finished reading result from %s...", location)
        return new

    def write(self, value_: Any, **kwargs: Any) -> Result:
        """Serialize a value to a file and return a new result pointing at it.

        The location template is filled in from `kwargs` (see `Result.format`); without a
        location, `default_location` is used. Missing parent directories are created, and
        the file is replaced in one step, so readers never see a partial file.

        Args:
            value_: the value to store.
            **kwargs: values for the location template (context and task inputs).

        Returns:
            A copy of this result holding `value_`, whose `location` is the file's full path.
        """
        new = self.format(**kwargs)
        new.value = value_
        assert new.location is not None  # `format` always sets one
        path = self._full_path(new.location)
        self.logger.debug("Starting to upload result to %s...", path)
        payload = self.serializer.serialize(value_)
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        temporary = f"{path}.{os.getpid()}-{threading.get_ident()}.tmp"
        try:
            with open(temporary, "wb") as file:
                file.write(payload)
            os.replace(temporary, path)
        except BaseException:
            if os.path.exists(temporary):
                os.remove(temporary)
            raise
        new.location = path
        self.logger.debug("Finished uploading result to %s.", path)
        return new

    def exists(self, location: str, **kwargs: Any) -> bool:
        """Whether a file is stored at the formatted `location`.

        Args:
            location: the path template, absolute or relative to `dir`.
            **kwargs: values for the template.

        Returns:
            Whether the file exists.
        """
        return os.path.exists(self._full_path(_format_location(location, kwargs)))
