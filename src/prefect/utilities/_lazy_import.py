"""Deferring imports that `import prefect` would otherwise pay for without using.

python-box imports its optional converters (PyYAML, msgpack, toml) when it is imported, which
is most of the cost of `import prefect`; `Config` only needs them if a user calls
`config.to_yaml()` and the like. Before box is imported, each of those modules is registered
as a stand-in module that imports the real one on first attribute access and then takes its
place in `sys.modules`, so callers cannot tell the difference.

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


class _DeferredModule(ModuleType):
    """Stands in for a module until one of its attributes is used."""

    def __getattr__(self, attr: str) -> Any:
        return getattr(_load(self), attr)

    def __dir__(self) -> list[str]:
        return dir(_load(self))


def _load(stand_in: _DeferredModule) -> ModuleType:
    name = stand_in.__name__
    with _lock:
        module = sys.modules.get(name)
        if module is stand_in or module is None:
            del sys.modules[name]
            module = importlib.import_module(name)
        return module


def defer_import(name: str) -> ModuleType | None:
    """Register a stand-in for module `name` (unless it is already imported).

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
    sys.modules[name] = stand_in
    return stand_in


def import_box() -> type:
    """`box.Box`, imported without loading box's optional serialization libraries."""
    if "box" not in sys.modules:
        for optional in ("yaml", "msgpack", "toml"):
            defer_import(optional)
    from box import Box

    return Box
