"""Shallow copies of the engine's own objects (results, states), made for every task run or
mapped child, without `copy.copy`'s generic protocol where it would do the same thing."""

from __future__ import annotations

import copy
from typing import TypeVar

T = TypeVar("T")

# Class -> whether `copy.copy` of its instances is "a new instance with the same __dict__".
_PLAIN_COPY: dict[type, bool] = {}


def _copies_plainly(cls: type) -> bool:
    return (
        cls.__reduce_ex__ is object.__reduce_ex__  # type: ignore[comparison-overlap]
        and cls.__reduce__ is object.__reduce__  # type: ignore[comparison-overlap]
        and getattr(cls, "__getstate__", None) is getattr(object, "__getstate__", None)
        and getattr(cls, "__copy__", None) is None
        and not hasattr(cls, "__setstate__")
        and not hasattr(cls, "__slots__")
    )


def shallow_copy(obj: T) -> T:
    """What `copy.copy(obj)` returns. For classes that do not customise copying or pickling
    (decided once per class) that is a new instance sharing `obj`'s attribute values, made
    directly; any other object goes through `copy.copy`."""
    cls = type(obj)
    plain = _PLAIN_COPY.get(cls)
    if plain is None:
        plain = _PLAIN_COPY[cls] = _copies_plainly(cls)
    if plain:
        new = object.__new__(cls)
        new.__dict__ = obj.__dict__.copy()
        return new
    return copy.copy(obj)  # type: ignore[no-any-return]


def shallow_copy_is_plain(cls: type) -> bool:
    """Whether `shallow_copy` of an instance of `cls` is a new instance sharing its attribute
    values (what callers that copy many instances may do themselves)."""
    plain = _PLAIN_COPY.get(cls)
    if plain is None:
        plain = _PLAIN_COPY[cls] = _copies_plainly(cls)
    return plain
