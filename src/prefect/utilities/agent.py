"""Helpers agents use to start a flow run: which image to run it in, which command to run."""

from __future__ import annotations

from typing import Any

__all__ = ["get_flow_image", "get_flow_run_command"]


def get_flow_image(flow_run: Any, default: str | None = None) -> str:
    """The container image a flow run should run in.

    In order: the run config's ``image``, the image of the flow's Docker storage, `default`,
    and last ``prefecthq/prefect:<core version the flow was registered with>``.

    Args:
        flow_run: the run's metadata (``run_config``, ``flow.storage``, ``flow.core_version``).
        default: the image to use when neither the run config nor the storage names one.

    Returns:
        the image name.
    """
    run_config = _get(flow_run, "run_config")
    image = _get(run_config, "image") if run_config else None
    if image:
        return str(image)
    flow = _get(flow_run, "flow") or {}
    storage = _get(flow, "storage")
    if storage and _get(storage, "type") == "Docker":
        from prefect.serialization.storage import StorageSchema

        return str(StorageSchema().load(_plain(storage)).name)
    if default:
        return default
    version = str(_get(flow, "core_version") or "latest").split("+")[0]
    return f"prefecthq/prefect:{version}"


def get_flow_run_command(flow_run: Any) -> str:
    """The command that runs a flow run: ``prefect execute flow-run`` (``prefect execute
    cloud-flow`` for flows registered by Prefect before 0.15.0; a flow without a
    recorded version gets the current command).

    Args:
        flow_run: the run's metadata (``flow.core_version``).

    Returns:
        the command line.
    """
    from packaging.version import InvalidVersion, Version

    flow = _get(flow_run, "flow") or {}
    # A flow without a recorded version is taken to be a current one: the old command does not
    # exist in this implementation.
    core_version = str(_get(flow, "core_version") or "1.0.0").split("+")[0]
    try:
        is_old = Version(core_version) < Version("0.15.0")
    except InvalidVersion:
        is_old = False
    return "prefect execute cloud-flow" if is_old else "prefect execute flow-run"


def _get(value: Any, key: str) -> Any:
    if value is None:
        return None
    if hasattr(value, "get"):
        return value.get(key)
    return getattr(value, key, None)


def _plain(value: Any) -> Any:
    to_dict = getattr(value, "to_dict", None)
    return to_dict() if callable(to_dict) else value
