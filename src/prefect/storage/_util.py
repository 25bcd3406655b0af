"""What several storage classes share: SDK imports, secrets, default keys, request rendering."""

from __future__ import annotations

import importlib
import json
import os
import re
from types import ModuleType
from typing import TYPE_CHECKING, Any

import prefect

if TYPE_CHECKING:
    from prefect.core.flow import Flow

_PLACEHOLDER = re.compile(r"\$\{([^}]+)\}")


def import_sdk(module: str, extra: str, storage: str, install: str | None = None) -> ModuleType:
    """Import an optional SDK, or say which extra provides it.

    Raises:
        ImportError: naming ``pip install "prefect[<extra>]"`` (or ``install``).
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        command = install or f'pip install "prefect[{extra}]"'
        raise ImportError(
            f"{storage} storage needs the `{module}` package, which is not installed: {command}"
        ) from exc


def get_secret(name: str) -> Any:
    """The value of the Prefect secret ``name``, read with `prefect.client.Secret`."""
    try:
        from prefect.client.secrets import Secret
    except ImportError:
        return _local_secret(name)
    return Secret(name).get()


def _local_secret(name: str) -> Any:
    """The lookup `Secret.get` does first: ``prefect.context.secrets``, JSON text decoded."""
    secrets = prefect.context.get("secrets") or {}
    if name not in secrets:
        raise ValueError(
            f'Local Secret "{name}" was not found; set it with '
            f"PREFECT__CONTEXT__SECRETS__{name} or in `prefect.context.secrets`."
        )
    value = secrets[name]
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def secret_or_fallback(secret_name: str | None, fallback_name: str) -> Any:
    """A named secret if given, else the ``fallback_name`` local secret or environment variable."""
    if secret_name is not None:
        return get_secret(secret_name)
    value = (prefect.context.get("secrets") or {}).get(fallback_name)
    if value is None:
        value = os.getenv(fallback_name)
    return value


def default_flow_key(flow: Flow) -> str:
    """``<slugified flow name>/<slugified UTC timestamp>``: a fresh key per registration."""
    import pendulum
    from slugify import slugify

    return f"{slugify(flow.name)}/{slugify(pendulum.now('utc').isoformat())}"


def render_dict(value: Any) -> Any:
    """A copy of ``value`` with each ``${NAME}`` in its strings replaced.

    ``NAME`` is read from the environment first, then from Prefect secrets; dicts and lists
    are rendered recursively.
    """
    if isinstance(value, dict):
        return {key: render_dict(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(render_dict(item) for item in value)
    if isinstance(value, str):
        return _PLACEHOLDER.sub(_placeholder_value, value)
    return value


def _placeholder_value(match: re.Match) -> str:
    name = match.group(1)
    if name in os.environ:
        return os.environ[name]
    return str(get_secret(name))


def optional_result(class_name: str, **kwargs: Any) -> Any:
    """A cloud `Result` for the storage's flows, or None where that result type is unavailable."""
    try:
        import prefect.engine.results as results

        result_class = getattr(results, class_name)
    except (ImportError, AttributeError):
        return None
    return result_class(**kwargs)
