"""The `Result` base class: a value plus where (and how) it is persisted.

A `Result` carries a task's output (`value`), the place it is or will be stored
(`location`, possibly a template such as `"{task_name}/{map_index}.pkl"` filled in by
`format`), and the `serializer` that turns the value into bytes. Subclasses in
`prefect.engine.results` implement `read`, `write` and `exists` for a storage backend.

`NoResult` stands for "this state carries no result at all", as opposed to a result whose
value is `None`.
"""

from __future__ import annotations

import datetime
import logging
import reprlib
from collections.abc import Callable
from typing import Any

from prefect.engine.serializers import PickleSerializer, Serializer
from prefect.utilities._copy import shallow_copy

__all__ = ["NoResult", "NoResultType", "Result", "ResultNotImplementedError"]


class ResultNotImplementedError(NotImplementedError):
    """Raised when a `Result` method that needs a storage backend is called on a class
    without one (such as the base `Result`)."""


def _get_logger(name: str) -> logging.Logger:
    try:
        from prefect.utilities.logging import get_logger
    except ImportError:
        return logging.getLogger("prefect").getChild(name)
    return get_logger(name)


_DEFAULT_SERIALIZER = PickleSerializer()


class _MissingTemplateKeyError(KeyError):
    """A location template names a field that the formatting values do not hold.

    A `KeyError`, as `str.format` raises, but whose text names the missing key, the
    template and where the values come from. `key` and `template` keep the facts.
    """

    def __init__(self, key: object, template: str) -> None:
        self.key = key
        self.template = template
        super().__init__(
            f"Missing key {key!r} in the location template {template!r}: it is filled "
            "from `prefect.context` (task_name, map_index, today, ...), the flow's "
            "parameters and the task's inputs; provide the key or change the template."
        )

    def __str__(self) -> str:
        # KeyError shows its argument's repr; this text reads better without the quotes.
        return str(self.args[0])

    def __reduce__(self) -> tuple[type, tuple[object, str]]:
        return type(self), (self.key, self.template)


def _format_location(template: str, kwargs: dict[str, Any]) -> str:
    """Fill a location template from `kwargs`, naming the key when one is missing."""
    try:
        return template.format(**kwargs)
    except KeyError as exc:
        missing = exc.args[0] if exc.args else None
        raise _MissingTemplateKeyError(missing, template) from None


class Result:
    """A task output, its storage location and its serializer.

    Args:
        value: the value of the result.
        location: where the result is stored. A string may contain `str.format` fields
            that `format` fills in; a callable is called with the same keyword arguments
            to produce the location.
        serializer: turns `value` into bytes and back; defaults to `PickleSerializer`.
    """

    def __init__(
        self,
        value: Any = None,
        location: str | Callable[..., str] | None = None,
        serializer: Serializer | None = None,
    ) -> None:
        self.value = value
        # Serializers hold no state: results share the default one (one is made per state).
        self.serializer = _DEFAULT_SERIALIZER if serializer is None else serializer
        self._formatter: Callable[..., str] | None
        if location is None or isinstance(location, str):
            self._formatter = None
            self.location = location
        else:
            self._formatter = location
            self.location = None

    @property
    def logger(self) -> logging.Logger:
        """The logger used by this result (`prefect.<ClassName>` unless one was set)."""
        # Looked up on access rather than stored: results are created for every state.
        set_logger = self.__dict__.get("_logger")
        return set_logger if set_logger is not None else _get_logger(type(self).__name__)

    @logger.setter
    def logger(self, value: logging.Logger) -> None:
        self._logger = value

    @property
    def default_location(self) -> str:
        """A fresh location used when none was configured: `YYYY/M/D/<uuid>.prefect_result`."""
        import uuid

        today = datetime.datetime.now(datetime.timezone.utc)
        return f"{today.year}/{today.month}/{today.day}/{uuid.uuid4()}.prefect_result"

    def __eq__(self, other: Any) -> bool:
        """Equal when of the same type with equal public attributes (the logger aside)."""
        if type(self) is not type(other):
            return False
        missing = object()
        names = set(self.__dict__) | set(other.__dict__)
        for name in names:
            if name.startswith("_") or name == "logger":
                continue
            if self.__dict__.get(name, missing) != other.__dict__.get(name, missing):
                return False
        return True

    # Values may be unhashable (lists, frames): results compare by value and do not hash.
    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__}: value={reprlib.repr(self.value)}, location={self.location!r}>"
        )

    def from_value(self, value: Any) -> Result:
        """Return a copy of this result holding `value` and no location.

        Args:
            value: the new value.

        Returns:
            A new result of the same type and configuration.
        """
        new = self.copy()
        new.location = None
        new.value = value
        return new

    def copy(self) -> Result:
        """Return a shallow copy of this result.

        Returns:
            The copy.
        """
        return shallow_copy(self)

    def format(self, **kwargs: Any) -> Result:
        """Return a copy whose `location` is filled in from `kwargs`.

        A string location is formatted with `str.format(**kwargs)`; a callable location is
        called with `kwargs`; with no location the copy gets `default_location`.

        Args:
            **kwargs: values for the template fields (typically `prefect.context`
                and the task's inputs).

        Returns:
            The formatted copy.

        Raises:
            KeyError: if the template names a field missing from `kwargs`; the message
                names the missing key.
        """
        new = self.copy()
        if isinstance(new.location, str):
            new.location = _format_location(new.location, kwargs)
        elif new._formatter is not None:
            new.location = new._formatter(**kwargs)
        else:
            new.location = new.default_location
        return new

    def exists(self, location: str, **kwargs: Any) -> bool:
        """Check whether a result is stored at `location`.

        Args:
            location: where to look.
            **kwargs: values for formatting the location.

        Returns:
            Whether something is stored there.

        Raises:
            ResultNotImplementedError: on a class without a storage backend.
        """
        raise ResultNotImplementedError(
            f"{type(self).__name__} has no storage backend to check {location!r}; "
            "use a result type such as LocalResult or PrefectResult."
        )

    def read(self, location: str) -> Result:
        """Read a stored value into a new result.

        Args:
            location: where the value is stored.

        Returns:
            A new result holding the value read.

        Raises:
            ResultNotImplementedError: on a class without a storage backend.
        """
        raise ResultNotImplementedError(
            f"{type(self).__name__} has no storage backend to read {location!r} from; "
            "use a result type such as LocalResult or PrefectResult."
        )

    def write(self, value_: Any, **kwargs: Any) -> Result:
        """Store a value and return a new result pointing at it.

        Args:
            value_: the value to store.
            **kwargs: values for formatting the location.

        Returns:
            A new result holding the value and its location.

        Raises:
            ResultNotImplementedError: on a class without a storage backend.
        """
        raise ResultNotImplementedError(
            f"{type(self).__name__} has no storage backend to write to; "
            "use a result type such as LocalResult or PrefectResult."
        )


class NoResultType(Result):
    """The type of `NoResult`: a state that carries no result at all.

    Every instance equals every other (and nothing else); `NoResult` is the one to use.
    """

    def __eq__(self, other: Any) -> bool:
        return type(self) is type(other)

    def __hash__(self) -> int:  # type: ignore[override]
        # Unlike results with values, the sentinel is hashable (all instances alike).
        return hash(NoResultType)

    def __repr__(self) -> str:
        return "<No result>"

    def __str__(self) -> str:
        return "NoResult"

    def __reduce__(self) -> str:
        # Pickling and deep-copying give back the module's singleton, so `is NoResult`
        # keeps holding across processes.
        return "NoResult"

    def __copy__(self) -> NoResultType:
        # A distinct object: `format` and `from_value` modify their copy, and must not
        # modify the shared singleton.
        new = NoResultType.__new__(type(self))
        new.__dict__.update(self.__dict__)
        return new


NoResult = NoResultType()
