"""`PrefectResult`: the value's JSON text is the location, so the backend keeps the value."""

from __future__ import annotations

from typing import Any

from prefect.engine.result.base import Result
from prefect.engine.serializers import DateTimeSerializer, JSONSerializer, Serializer

__all__ = ["PrefectResult"]

# Serializers whose output is text the backend can store as the location.
_TEXT_SERIALIZERS = (JSONSerializer, DateTimeSerializer)


class PrefectResult(Result):
    """A result whose `location` is the value serialized as JSON text.

    Nothing is written anywhere: the state sent to the backend carries the location, and so
    the value. Use it for small, JSON-compatible values (parameters use it).

    Args:
        **kwargs: passed to `Result` (`value`, `location`, `serializer`); the serializer
            defaults to `JSONSerializer`.

    Raises:
        TypeError: if the serializer is not a `JSONSerializer` or `DateTimeSerializer`.
    """

    def __init__(self, **kwargs: Any) -> None:
        if kwargs.get("serializer") is None:
            kwargs["serializer"] = JSONSerializer()
        super().__init__(**kwargs)

    @property
    def serializer(self) -> Serializer:
        """The serializer: a `JSONSerializer` or `DateTimeSerializer` (or a subclass)."""
        return self._serializer

    @serializer.setter
    def serializer(self, val: Serializer) -> None:
        if not isinstance(val, _TEXT_SERIALIZERS):
            raise TypeError(
                f"PrefectResult stores values as JSON text and cannot use {type(val).__name__}; "
                "use JSONSerializer (the default) or DateTimeSerializer, or another result "
                "type such as LocalResult."
            )
        self._serializer = val

    def read(self, location: str) -> Result:
        """Deserialize a location into a new result.

        Args:
            location: the JSON text of the value.

        Returns:
            A copy of this result holding the value and `location`.
        """
        new = self.copy()
        new.location = location
        new.value = self.serializer.deserialize(location.encode("utf-8"))
        return new

    def write(self, value_: Any, **kwargs: Any) -> Result:
        """Serialize a value into the location of a new result.

        Args:
            value_: the value; must be JSON-compatible (or a datetime, with
                `DateTimeSerializer`).
            **kwargs: ignored; the location is the value itself.

        Returns:
            A copy of this result holding `value_`, with its JSON text as `location`.
        """
        new = self.copy()
        new.value = value_
        new.location = self.serializer.serialize(value_).decode("utf-8")
        return new

    def exists(self, location: str, **kwargs: Any) -> bool:
        """Whether `location` (as given, or formatted with `kwargs`) is a readable value.

        The location *is* the value, so there is no storage to look in: a location that
        deserializes exists; anything else (say a target template that is not JSON) does not.

        Args:
            location: the location (or a template of it).
            **kwargs: values for the template.

        Returns:
            Whether the location deserializes.
        """
        if location is None:
            return False
        if self._deserializes(location):
            return True
        try:
            formatted = location.format(**kwargs)
        except (KeyError, IndexError, ValueError, AttributeError):
            return False
        return formatted != location and self._deserializes(formatted)

    def _deserializes(self, text: str) -> bool:
        try:
            self.serializer.deserialize(text.encode("utf-8"))
        except (ValueError, TypeError):
            return False
        return True
