"""What `prefect diagnostics` and `Flow.diagnostics()` print for bug reports.

The report says *which* settings are overridden and *which* flow attributes are set, never their
values: users paste it into public issues, and values may hold tokens or secrets.
"""

from __future__ import annotations

import json
import os
import platform
from typing import TYPE_CHECKING, Any

import prefect

if TYPE_CHECKING:
    from prefect.core.flow import Flow


def _flag_values(data: dict) -> dict:
    """The same nesting with every leaf replaced by `True` (the key is set)."""
    return {
        key: _flag_values(value) if isinstance(value, dict) else True for key, value in data.items()
    }


def system_information() -> dict:
    """The platform, Python and Prefect versions and the configured backend.

    Returns:
        `{"system_information": {...}}`
    """
    return {
        "system_information": {
            "platform": platform.platform(),
            "prefect_backend": str(prefect.config.get("backend")),
            "prefect_version": prefect.__version__,
            "python_version": platform.python_version(),
        }
    }


def config_overrides(include_secret_names: bool = False) -> dict:
    """The keys the user's configuration file sets, each marked `True` (values are left out).

    Args:
        include_secret_names: also list the names of the secrets under `[context.secrets]`
            (never their values)

    Returns:
        `{"config_overrides": {...}}`
    """
    from prefect import configuration

    path = os.path.expanduser(str(configuration.USER_CONFIG))
    user_config: dict[str, Any] = {}
    if os.path.isfile(path):
        user_config = configuration.load_toml(path)
    context = user_config.get("context")
    if isinstance(context, dict) and "secrets" in context:
        secrets = context.pop("secrets")
        if include_secret_names and isinstance(secrets, dict):
            context["secrets"] = dict.fromkeys(secrets, True)
    return {"config_overrides": _flag_values(user_config)}


def environment_variables() -> dict:
    """The names (not values) of the `PREFECT__` environment variables that are set.

    Returns:
        `{"env_vars": [...]}`
    """
    from prefect.configuration import ENV_VAR_PREFIX

    prefix = ENV_VAR_PREFIX + "__"
    return {"env_vars": sorted(name for name in os.environ if name.startswith(prefix))}


def _describe(obj: Any) -> dict | bool:
    """`False` when unset, else its type name and which of its public attributes are set."""
    if obj is None:
        return False
    # Flags are shown as they are (they hold no secrets); any other attribute only as "set".
    attributes = {
        key: value if isinstance(value, bool) else True
        for key, value in vars(obj).items()
        if not key.startswith("_") and value is not None and value not in ("", [], {}, set())
    }
    attributes.pop("logger", None)
    return {"type": type(obj).__name__, **attributes}


def flow_information(flow: Flow) -> dict:
    """Which kinds of storage, run config, result and schedule the flow has, and how many tasks.

    Args:
        flow: the flow to describe

    Returns:
        `{"flow_information": {...}}`
    """
    return {
        "flow_information": {
            "storage": _describe(flow.storage),
            "run_config": _describe(flow.run_config),
            "result": _describe(flow.result),
            "schedule": _describe(flow.schedule),
            "task_count": len(flow.tasks),
        }
    }


def diagnostic_info(flow: Flow | None = None, include_secret_names: bool = False) -> str:
    """The full report as indented JSON with sorted keys.

    Args:
        flow: a flow to describe as well
        include_secret_names: also list the names of the secrets in the user's configuration

    Returns:
        the JSON text
    """
    info: dict[str, Any] = {}
    info.update(config_overrides(include_secret_names=include_secret_names))
    info.update(environment_variables())
    info.update(system_information())
    if flow is not None:
        info.update(flow_information(flow))
    return json.dumps(info, indent=4, sort_keys=True)
