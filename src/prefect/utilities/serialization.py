"""Qualified names of Python objects, and the marshmallow building blocks of our schemas.

:func:`to_qualified_name` and :func:`from_qualified_name` are plain functions. The marshmallow
classes (``ObjectSchema``, ``OneOfSchema``, the custom fields, ...) live in
``prefect.utilities._marshmallow`` and are loaded on first access, so importing this module
(which ``import prefect`` does) does not import marshmallow.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prefect.utilities._marshmallow import (  # noqa: F401  (re-exported lazily)
        UUID,
        Bytes,
        DateTimeTZ,
        FunctionReference,
        JSONCompatible,
        Nested,
        ObjectSchema,
        ObjectSchemaOptions,
        OneOfSchema,
        SortedList,
        StatefulFunctionReference,
    )

_MARSHMALLOW_NAMES = frozenset(
    {
        "ObjectSchemaOptions",
        "ObjectSchema",
        "JSONCompatible",
        "Nested",
        "SortedList",
        "OneOfSchema",
        "Bytes",
        "UUID",
        "DateTimeTZ",
        "FunctionReference",
        "StatefulFunctionReference",
    }
)


def __getattr__(name: str) -> Any:
    if name in _MARSHMALLOW_NAMES:
        from prefect.utilities import _marshmallow

        value = getattr(_marshmallow, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _MARSHMALLOW_NAMES)


def to_qualified_name(obj: Any) -> str:
    """The importable dotted name of a class or function: ``"<module>.<qualname>"``.

    Args:
        obj: a class or function.

    Returns:
        for example ``"prefect.core.flow.Flow"``.
    """
    return f"{obj.__module__}.{obj.__qualname__}"


def from_qualified_name(name: str) -> Any:
    """The object a dotted name refers to: the inverse of :func:`to_qualified_name`.

    The longest importable module prefix of ``name`` is imported and the rest of the name is
    looked up on it attribute by attribute, so both ``"prefect.core.flow.Flow"`` and nested
    names (``"module.Class.method"``) resolve. A name that is a module returns the module.

    Args:
        name: a dotted name.

    Returns:
        the object it names.

    Raises:
        ValueError: if no prefix of the name is an importable module, or an attribute along
            the rest of the path is missing. Errors raised while importing a module that does
            exist propagate unchanged.
    """
    parts = name.split(".") if isinstance(name, str) else []
    if not all(parts):
        raise ValueError(
            f"Invalid qualified name {name!r}: expected a dotted path such as 'pkg.obj'."
        )
    for split in range(len(parts), 0, -1):
        module_name = ".".join(parts[:split])
        try:
            obj = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            # Only "this module does not exist" means "try a shorter prefix"; a module that
            # exists but fails on its own missing import is a real error.
            if exc.name is not None and not _is_prefix_of(exc.name, module_name):
                raise
            continue
        for position in range(split, len(parts)):
            try:
                obj = getattr(obj, parts[position])
            except AttributeError:
                found = ".".join(parts[:position])
                raise ValueError(
                    f"Cannot resolve {name!r}: {found!r} has no attribute {parts[position]!r}."
                ) from None
        return obj
    raise ValueError(f"Cannot resolve {name!r}: no module {parts[0]!r} could be imported.")


def _is_prefix_of(missing: str, module_name: str) -> bool:
    """True when the missing module is ``module_name`` or one of its parent packages."""
    return module_name == missing or module_name.startswith(missing + ".")
