"""Registries for extension points: ``prefect.api``, ``prefect.models``, ``prefect.plugins``.

Each registry is a :class:`box.Box`; an object registered under a dotted name lands in nested
boxes, so ``@register_api("flows.create")`` makes the function reachable as
``prefect.api.flows.create``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from box import Box

_T = TypeVar("_T")

# The registries are built on first use: python-box is costly to import and `import prefect`
# binds `prefect.api` & co. without needing them yet.
_lock = threading.Lock()
_REGISTRY_NAMES = {"REGISTRY": None, "API": "api", "MODELS": "models", "PLUGINS": "plugins"}


def _registry() -> Box:
    registry = globals().get("REGISTRY")
    if registry is None:
        with _lock:
            registry = globals().get("REGISTRY")
            if registry is None:
                from prefect.utilities._lazy_import import import_box

                Box = import_box()
                registry = Box(api=Box(), models=Box(), plugins=Box())
                globals().update(API=registry.api, MODELS=registry.models, PLUGINS=registry.plugins)
                globals()["REGISTRY"] = registry
    return registry


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_REGISTRY_NAMES))


def __getattr__(name: str) -> Any:
    if name in _REGISTRY_NAMES:
        _registry()
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _register(section: str, kind: str, name: str) -> Callable[[_T], _T]:
    keys = name.split(".") if isinstance(name, str) else []
    if not keys or not all(keys):
        raise ValueError(f"Invalid {kind} name {name!r}: expected a dotted name such as 'a.b'.")

    def decorator(obj: _T) -> _T:
        registry = _registry()
        Box = type(registry)
        node = registry[section]
        for depth, key in enumerate(keys[:-1]):
            child = node.get(key)
            if child is None:
                node[key] = Box()
                child = node[key]
            elif not isinstance(child, Box):
                taken = ".".join(keys[: depth + 1])
                raise ValueError(
                    f"Cannot register {kind} {name!r}: {taken!r} is already registered as "
                    f"{child!r}, so it cannot hold other names."
                )
            node = child
        if keys[-1] in node:
            raise ValueError(
                f"The {kind} name {name!r} is already registered (to {node[keys[-1]]!r}); "
                "choose another name."
            )
        node[keys[-1]] = obj
        return obj

    return decorator


def register_api(name: str) -> Callable:
    """Decorator that registers a function in ``prefect.api`` under a dotted name.

    Args:
        name: where to put it, e.g. ``"flows.create"`` -> ``prefect.api.flows.create``.

    Returns:
        a decorator that stores the object and returns it unchanged.

    Raises:
        ValueError: if the name is empty or malformed (raised at once), or already taken
            (raised when the decorator is applied).
    """
    return _register("api", "API", name)


def register_model(name: str) -> Callable:
    """Decorator that registers an object in ``prefect.models`` under a dotted name.

    Args:
        name: where to put it, e.g. ``"Flow"`` -> ``prefect.models.Flow``.

    Returns:
        a decorator that stores the object and returns it unchanged.

    Raises:
        ValueError: if the name is malformed or already taken.
    """
    return _register("models", "model", name)


def register_plugin(name: str) -> Callable:
    """Decorator that registers an object in ``prefect.plugins`` under a dotted name.

    Args:
        name: where to put it, e.g. ``"storage.Custom"`` -> ``prefect.plugins.storage.Custom``.

    Returns:
        a decorator that stores the object and returns it unchanged.

    Raises:
        ValueError: if the name is malformed or already taken.
    """
    return _register("plugins", "plugin", name)
