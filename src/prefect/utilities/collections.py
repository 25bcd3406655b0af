"""Dictionary helpers used throughout Prefect.

`DotDict` is the mapping behind `prefect.context`: it sits on hot paths, so its data lives
directly in the instance `__dict__`. That makes attribute reads (`ctx.flow`) plain attribute
lookups with no Python-level `__getattr__`, and makes item access a single dict operation.

A consequence of that layout is that a key may shadow a method of the same name (a key called
`"get"` or `"update"` turns `d.get` into the stored value). Such keys are allowed and always
reachable through item access; the helpers in this module never call methods on a `DotDict`
instance, they go through the class (`DotDict.get(d, ...)`) or the underlying dict instead.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Iterator, Mapping, MutableMapping
from typing import Any, Type, TypeVar, Union, cast

__all__ = [
    "CompoundKey",
    "DictLike",
    "DotDict",
    "as_nested_dict",
    "dict_to_flatdict",
    "flatdict_to_dict",
    "flatten_seq",
    "merge_dicts",
]

DictLike = Union[dict, "DotDict"]

D = TypeVar("D", bound=Union[dict, MutableMapping])


# Keys that would hide a mapping method (`d.update`, `d.get`, ...) are refused, as in 1.x.
_RESERVED_KEYS = frozenset(dir(MutableMapping))


def _check_key(key: Any) -> None:
    if key in _RESERVED_KEYS:
        raise ValueError(f'Invalid key: "{key}"')


class DotDict(MutableMapping):
    """A `MutableMapping` whose keys can also be read and written as attributes.

    Args:
        init_dict: a mapping to initialize the `DotDict` with
        **kwargs: more key/value pairs; they win over `init_dict` on conflicts

    Example:
        ```python
        d = DotDict({"a": 34}, b=56)
        d.a  # 34
        d["b"]  # 56
        d.c = 1  # same as d["c"] = 1
        ```
    """

    def __init__(self, init_dict: DictLike | None = None, **kwargs: Any) -> None:
        # Write straight into the instance dict: `self.update` could be shadowed by a key.
        store = self.__dict__
        if init_dict:
            # Like dict.update, take other mappings and iterables of pairs.
            items = init_dict.__dict__ if isinstance(init_dict, DotDict) else init_dict
            if not isinstance(items, Mapping):
                items = dict(items)
            for key in items:
                _check_key(key)
            store.update(items)
        if kwargs:
            for key in kwargs:
                _check_key(key)
            store.update(kwargs)

    def get(self, key: str, default: Any = None) -> Any:
        """Return the value for `key` if present, else `default`.

        Args:
            key: the key to look up
            default: the value returned when `key` is missing

        Returns:
            the stored value or `default`
        """
        return self.__dict__.get(key, default)

    def __getitem__(self, key: str) -> Any:
        return self.__dict__[key]

    def __setitem__(self, key: str, value: Any) -> None:
        if key in _RESERVED_KEYS:
            raise ValueError(f'Invalid key: "{key}"')
        self.__dict__[key] = value

    def __setattr__(self, attr: str, value: Any) -> None:
        self[attr] = value

    def __delitem__(self, key: str) -> None:
        del self.__dict__[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.__dict__)

    def __len__(self) -> int:
        return len(self.__dict__)

    def __contains__(self, key: object) -> bool:
        return key in self.__dict__

    def __repr__(self) -> str:
        name = type(self).__name__
        if not self.__dict__:
            return f"<{name}>"
        return "<{}: {}>".format(name, ", ".join(sorted(repr(k) for k in self.__dict__)))

    def copy(self) -> DotDict:
        """Return a shallow copy of the same type.

        Returns:
            a new `DotDict` holding the same keys and (not copied) values
        """
        return type(self)(self.__dict__.copy())

    def to_dict(self) -> dict:
        """Convert to a plain `dict`, recursively converting nested `DotDict`s too.

        Returns:
            a `dict` with the same (nested) contents
        """
        return cast(dict, as_nested_dict(self, dct_class=dict))


class CompoundKey(tuple):
    """A tuple of keys naming a path into a nested dictionary (see `dict_to_flatdict`)."""


def _items(dct: Any) -> Iterable[tuple[Any, Any]]:
    """The `(key, value)` pairs of a mapping, without calling a possibly shadowed `items`."""
    if isinstance(dct, DotDict):
        return dct.__dict__.items()
    if isinstance(dct, dict):
        return dict.items(dct)
    return dct.items()


def _copy(dct: Any) -> Any:
    """A copy of a mapping of the same type, without calling a possibly shadowed `copy`."""
    if type(dct) is dict:
        return dct.copy()
    return type(dct).copy(dct)


def _is_nested(value: Any) -> bool:
    return isinstance(value, (dict, DotDict))


def flatten_seq(seq: Iterable) -> Generator:
    """Yield the non-iterable leaves of an arbitrarily nested iterable, in order.

    Strings and bytes count as leaves, not as sequences of characters.

    Args:
        seq: the (nested) iterable to flatten

    Yields:
        each leaf element
    """
    for item in seq:
        if isinstance(item, Iterable) and not isinstance(item, (str, bytes, bytearray)):
            yield from flatten_seq(item)
        else:
            yield item


def merge_dicts(d1: DictLike, d2: DictLike) -> DictLike:
    """Recursively merge `d2` into a copy of `d1`.

    For each key of `d2`: if both sides hold mappings they are merged the same way, otherwise
    the value from `d2` replaces the one in `d1`. Neither argument is modified.

    Args:
        d1: the base mapping; its type is the type of the result
        d2: the mapping whose values win

    Returns:
        a new mapping of `d1`'s type
    """
    new_dict = _copy(d1)
    for key, value in _items(d2):
        if key in new_dict:
            current = new_dict[key]
            if isinstance(current, MutableMapping) and isinstance(value, MutableMapping):
                value = merge_dicts(cast(DictLike, current), cast(DictLike, value))
        new_dict[key] = value
    return new_dict


def as_nested_dict(
    obj: Union[DictLike, Iterable[DictLike]], dct_class: type = DotDict
) -> Union[DictLike, Iterable[DictLike]]:
    """Recursively convert every dictionary inside `obj` to `dct_class`.

    Dictionaries found inside lists, tuples and sets are converted too; the containers keep
    their type. Any other value is returned unchanged.

    Args:
        obj: a dictionary, a `DotDict` or a collection holding them
        dct_class: the mapping type to produce

    Returns:
        the converted object
    """
    if isinstance(obj, (list, tuple, set, frozenset)):
        converted = [as_nested_dict(item, dct_class) for item in obj]
        if isinstance(obj, tuple) and hasattr(obj, "_fields"):
            return type(obj)(*converted)
        return type(obj)(converted)
    if isinstance(obj, (dict, DotDict)):
        return dct_class({k: as_nested_dict(v, dct_class) for k, v in _items(obj)})
    return obj


def dict_to_flatdict(dct: DictLike, parent: CompoundKey | None = None) -> dict:
    """Flatten a nested dictionary into `{CompoundKey(path): leaf_value}`.

    Empty nested dictionaries have no leaves and therefore disappear.

    Args:
        dct: the nested dictionary
        parent: a key path to prefix every key with

    Returns:
        a flat `dict` keyed by `CompoundKey`s
    """
    prefix = tuple(parent) if parent else ()
    flat: dict = {}
    for key, value in _items(dct):
        path = CompoundKey((*prefix, key))
        if _is_nested(value):
            flat.update(dict_to_flatdict(value, parent=path))
        else:
            flat[path] = value
    return flat


def flatdict_to_dict(dct: dict, dct_class: Type[D] | None = None) -> D:
    """Rebuild a nested dictionary from the output of `dict_to_flatdict`.

    Keys that are not `CompoundKey`s are placed at the top level unchanged.

    Args:
        dct: a flat dictionary keyed by `CompoundKey`s
        dct_class: the mapping type used for every level; `dict` when omitted

    Returns:
        the nested dictionary
    """
    factory: type = dct_class if dct_class is not None else dict
    result = factory()
    for key, value in _items(dct):
        if isinstance(key, CompoundKey):
            current = result
            for part in key[:-1]:
                if part not in current or not isinstance(current[part], MutableMapping):
                    current[part] = factory()
                # Read back after writing: Box-based classes store a converted copy.
                current = current[part]
            current[key[-1]] = value
        else:
            result[key] = value
    return cast(D, result)
