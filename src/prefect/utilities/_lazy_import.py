"""Deferring imports that `import prefect` would otherwise pay for without using.

python-box imports its optional converters (PyYAML, msgpack, toml) when it is imported, which
is most of the cost of `import prefect`; `Config` only needs them if a user calls
`config.to_yaml()` and the like. Before box is imported, each of those packages is registered
as a stand-in module that imports the real package on first attribute access and then takes its
place in `sys.modules`, so callers cannot tell the difference.

Box also reads one exception class from each at import time (`from yaml import YAMLError`);
those come from the package's small exceptions submodule, which the real package re-exports
later, so the classes are the very same objects.

(The standard library's `importlib.util.LazyLoader` does not help here: on Python 3.11 the
`import` statement itself reads the module's `__spec__`, which makes it load at once.)
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
from types import ModuleType
from typing import Any

_lock = threading.RLock()

# Attributes a stand-in serves from a submodule without loading the whole package.
_LIGHT_ATTRIBUTES: dict[str, dict[str, str]] = {
    "yaml": {"YAMLError": "yaml.error"},
    "msgpack": {"UnpackException": "msgpack.exceptions"},
}


class _DeferredModule(ModuleType):
    """Stands in for a package until one of its attributes is used."""

    def __getattr__(self, attr: str) -> Any:
        submodule = _LIGHT_ATTRIBUTES.get(self.__name__, {}).get(attr)
        if submodule is not None:
            return getattr(importlib.import_module(submodule), attr)
        return getattr(_load(self), attr)

    def __dir__(self) -> list[str]:
        return dir(_load(self))


def _load(stand_in: ModuleType) -> ModuleType:
    """Run the real package in the stand-in's own namespace, turning it into the package.

    Loading in place (rather than importing afresh) keeps every reference taken to the
    stand-in valid, and keeps submodules already imported through it bound to it.
    """
    with _lock:
        if type(stand_in) is _DeferredModule:
            spec = stand_in.__spec__
            assert spec is not None and spec.loader is not None
            stand_in.__class__ = ModuleType  # type: ignore[assignment]
            try:
                spec.loader.exec_module(stand_in)
            except BaseException:
                stand_in.__class__ = _DeferredModule
                raise
        return stand_in


def defer_import(name: str) -> ModuleType | None:
    """Register a stand-in for package `name` (unless it is already imported).

    Returns:
        the stand-in (or the already imported module), or `None` when it is not installed
    """
    module = sys.modules.get(name)
    if module is not None:
        return module
    spec = importlib.util.find_spec(name)
    if spec is None:
        return None
    stand_in = _DeferredModule(name)
    stand_in.__spec__ = spec
    stand_in.__loader__ = spec.loader
    stand_in.__file__ = spec.origin
    stand_in.__cached__ = spec.cached  # type: ignore[attr-defined]
    if spec.submodule_search_locations is not None:
        stand_in.__path__ = list(spec.submodule_search_locations)
        stand_in.__package__ = name
    else:
        stand_in.__package__ = spec.parent
    sys.modules[name] = stand_in
    return stand_in


def import_box() -> type:
    """`box.Box`, imported without loading box's optional serialization libraries."""
    if "box" not in sys.modules:
        for optional in ("yaml", "msgpack", "toml"):
            defer_import(optional)
    from box import Box

    return Box
