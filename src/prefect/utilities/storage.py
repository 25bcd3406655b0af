"""Turning stored flow code back into `Flow` objects: scripts, modules and pickles.

Every `prefect.storage` class ends in one of these functions: a script runs with
:func:`extract_flow_from_file`, an importable module is read with
:func:`extract_flow_from_module`, and a pickled flow goes through
:func:`flow_to_bytes_pickle` / :func:`flow_from_bytes_pickle`.

The pickle format is the 1.x one: base64 text of a cloudpickled dict
``{"flow": <cloudpickled flow>, "versions": {"cloudpickle", "prefect", "python"}}``. Keeping the
versions of the building environment lets a failed unpickle explain itself (most failures come
from a different Python, cloudpickle or Prefect where the flow runs).
"""

from __future__ import annotations

import binascii
import importlib
import sys
from typing import TYPE_CHECKING, Any

import prefect
from prefect.exceptions import FlowStorageError

if TYPE_CHECKING:
    from prefect.core.flow import Flow

__all__ = [
    "extract_flow_from_file",
    "extract_flow_from_module",
    "flow_from_bytes_pickle",
    "flow_to_bytes_pickle",
    "get_flow_image",
]


def get_flow_image(flow: Flow) -> str:
    """The Docker image a flow runs in (deprecated: use `prefect.utilities.agent.get_flow_image`).

    Args:
        flow: a flow whose storage is `Docker`.

    Returns:
        the image name with its registry and tag, as the storage names it.

    Raises:
        ValueError: if the flow's storage is not `Docker`.
    """
    from prefect.storage import Docker

    storage = flow.storage
    if not isinstance(storage, Docker):
        raise ValueError(
            f"Storage for flow run {flow.name} is not of type Docker, so it names no image; "
            "give the flow Docker storage or set the image on its run config."
        )
    return storage.name


def _flow_listing(names: Any) -> str:
    return "\n".join(f"- {name!r}" for name in sorted(names))


def _pick_flow(flows: dict[str, Flow], flow_name: str | None, where: str) -> Flow:
    """Choose the flow called ``flow_name`` (or the only one) among ``flows`` found ``where``."""
    if not flows:
        raise ValueError(f"No flows found in {where}.")
    if flow_name is not None:
        if flow_name in flows:
            return flows[flow_name]
        raise ValueError(
            f"Flow {flow_name!r} not found in {where}. Found flows:\n{_flow_listing(flows)}"
        )
    if len(flows) == 1:
        return next(iter(flows.values()))
    raise ValueError(
        f"Multiple flows found in {where}; pass `flow_name` to choose one. "
        f"Found flows:\n{_flow_listing(flows)}"
    )


def extract_flow_from_file(
    file_path: str | None = None,
    file_contents: str | bytes | None = None,
    flow_name: str | None = None,
) -> Flow:
    """Run a flow script and return the flow it defines.

    The script runs with ``prefect.context.loading_flow`` set (so a ``flow.run()`` left in it
    warns instead of running) and ``local_script_path`` set to ``file_path``. A
    ``if __name__ == "__main__":`` block does not run.

    Args:
        file_path: the script to run.
        file_contents: the script's text (or UTF-8 bytes), instead of a path.
        flow_name: the flow to return when the script defines several.

    Returns:
        the flow.

    Raises:
        ValueError: if neither or both of ``file_path`` and ``file_contents`` are given, if
            the script defines no flow, if ``flow_name`` is not among its flows, or if it
            defines several and no ``flow_name`` is given.
    """
    if file_path is not None and file_contents is not None:
        raise ValueError("Provide either `file_path` or `file_contents`, not both.")
    if file_path is None and file_contents is None:
        raise ValueError("Provide either `file_path` or `file_contents`.")

    if file_path is not None:
        with open(file_path, encoding="utf-8") as f:
            contents = f.read()
        where = f"file {file_path!r}"
    else:
        contents = (
            file_contents.decode("utf-8")
            if isinstance(file_contents, bytes)
            else str(file_contents)
        )
        where = "the given file contents"

    # No `__name__`: it resolves to the builtins module's name, so `__main__` guards stay off.
    namespace: dict[str, Any] = {}
    if file_path is not None:
        namespace["__file__"] = file_path
    code = compile(contents, file_path or "<flow script>", "exec")
    with prefect.context(loading_flow=True, local_script_path=file_path or ""):
        exec(code, namespace)

    flows = {value.name: value for value in namespace.values() if isinstance(value, prefect.Flow)}
    return _pick_flow(flows, flow_name, where)


def extract_flow_from_module(module_str: str, flow_name: str | None = None) -> Flow:
    """Import a module and return a flow defined in it.

    Args:
        module_str: ``"package.module"`` (the flow is found among the module's globals) or
            ``"package.module:attribute"`` (a dotted attribute path inside the module).
        flow_name: the flow to return when the module defines several; with an attribute
            path, the name the flow found there must have.

    Returns:
        the flow.

    Raises:
        ValueError: if the module holds no matching flow, or several and no ``flow_name``.
        ImportError: if the module cannot be imported (the original error, with the module
            named).
    """
    module_name, _, attribute = module_str.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise type(exc)(
            f"Cannot import module {module_name!r} to load a flow from {module_str!r}: {exc}",
            name=exc.name,
            path=exc.path,
        ) from exc

    if attribute:
        obj: Any = module
        for part in attribute.split("."):
            try:
                obj = getattr(obj, part)
            except AttributeError:
                raise ValueError(
                    f"Failed to find flow {attribute!r} in module {module_name!r}: "
                    f"no attribute {part!r}."
                ) from None
        if not isinstance(obj, prefect.Flow):
            raise ValueError(f"{module_str!r} is a {type(obj).__name__}, not a Flow.")
        if flow_name is not None and obj.name != flow_name:
            raise ValueError(
                f"Failed to find flow {flow_name!r} in {module_str!r}: "
                f"the flow there is named {obj.name!r}."
            )
        return obj

    flows = {
        value.name: value for value in vars(module).values() if isinstance(value, prefect.Flow)
    }
    return _pick_flow(flows, flow_name, f"module {module_name!r}")


def _get_versions() -> dict[str, str]:
    import cloudpickle

    return {
        "cloudpickle": cloudpickle.__version__,
        "prefect": prefect.__version__,
        "python": "{}.{}.{}".format(*sys.version_info[:3]),
    }


def flow_to_bytes_pickle(flow: Flow) -> bytes:
    """Pickle a flow with cloudpickle, recording the versions it was built with.

    Args:
        flow: the flow.

    Returns:
        base64 text (as bytes) of the pickled flow and versions; read it back with
        :func:`flow_from_bytes_pickle`.
    """
    import cloudpickle

    envelope = {"flow": cloudpickle.dumps(flow), "versions": _get_versions()}
    return binascii.b2a_base64(cloudpickle.dumps(envelope))


def flow_from_bytes_pickle(data: bytes) -> Flow:
    """Load a flow written by :func:`flow_to_bytes_pickle`.

    Plain cloudpickle bytes of a flow (the format of early Prefect releases) are accepted too.

    Args:
        data: the stored bytes.

    Returns:
        the flow.

    Raises:
        FlowStorageError: if the flow cannot be unpickled; the message gives the error and any
            difference between the versions the flow was built with and the running ones.
    """
    import cloudpickle

    try:
        envelope = cloudpickle.loads(binascii.a2b_base64(data))
    except Exception:
        envelope = None
    if not (isinstance(envelope, dict) and "flow" in envelope):
        # Not our envelope: an old raw pickle of the flow itself.
        try:
            return cloudpickle.loads(data)  # type: ignore[no-any-return]
        except Exception as exc:
            raise FlowStorageError(
                f"An error occurred while unpickling the flow:\n  {type(exc).__name__}: {exc}"
            ) from exc

    stored_versions = envelope.get("versions") or {}
    try:
        return cloudpickle.loads(envelope["flow"])  # type: ignore[no-any-return]
    except Exception as exc:
        parts = [
            "An error occurred while unpickling the flow:",
            f"  {type(exc).__name__}: {exc}",
        ]
        mismatches = [
            f"  - {name}: (flow built with {stored_versions[name]!r}, "
            f"currently running with {current!r})"
            for name, current in sorted(_get_versions().items())
            if name in stored_versions and stored_versions[name] != current
        ]
        if mismatches:
            parts.append(
                "This may be due to one of the following version mismatches between "
                "the flow build and execution environments:"
            )
            parts.extend(mismatches)
        if isinstance(exc, ImportError):
            parts.append(
                "This also may be due to a missing Python module in your current "
                "environment. Please ensure you have all required flow dependencies "
                "installed."
            )
        raise FlowStorageError("\n".join(parts)) from exc
