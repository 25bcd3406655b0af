"""Where `prefect register`, `prefect build` and `prefect run` find flows: scripts, modules and
`prefect build` JSON files, and watching them for changes.

Flows from a script get ``Local(path=<absolute script path>, stored_as_script=True)`` storage
when they have none (`server-protocol.md` 5.8); flows from a module get ``Module(<module>)``.
A source that fails to load is reported (one line; a traceback with ``PREFECT__DEBUG=true``)
and recorded as errored, and the other sources still load.
"""

from __future__ import annotations

import glob
import importlib
import importlib.util
import json
import os
import runpy
import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any

import click

from prefect.cli._common import TerminalError, log_exception

if TYPE_CHECKING:
    from prefect.core.flow import Flow

__all__ = [
    "Collected",
    "Source",
    "collect_flows",
    "expand_paths",
    "flow_name",
    "load_flows_from_json",
    "load_flows_from_module",
    "load_flows_from_script",
    "prepare_flows",
    "watch_for_changes",
]


@dataclass(frozen=True)
class Source:
    """Where flows come from: a script path, a module name or a JSON file/URL."""

    location: str
    kind: str  # "script", "module" or "json"


@dataclass
class Collected:
    """The flows found in each source, and the sources that failed to load."""

    flows: dict[Source, list[Any]] = field(default_factory=dict)
    errored: list[Source] = field(default_factory=list)


def expand_paths(paths: Iterable[str]) -> list[str]:
    """Files named by ``paths``: glob patterns are expanded, a directory gives its ``*.py``
    files (not recursively), a file is itself. Each file once, in sorted order.

    Raises:
        TerminalError: a path matches nothing.
    """
    found: set[str] = set()
    for path in paths:
        matches = glob.glob(path, recursive=True) or ([path] if os.path.exists(path) else [])
        if not matches:
            raise TerminalError(f"Path {path!r} doesn't exist")
        for match in matches:
            if os.path.isdir(match):
                with os.scandir(match) as entries:
                    found.update(
                        os.path.abspath(e.path)
                        for e in entries
                        if e.is_file() and e.name.endswith(".py")
                    )
            else:
                found.add(os.path.abspath(match))
    return sorted(found)


def load_flows_from_script(path: str) -> list[Flow]:
    """Run a script (its ``__main__`` block does not run) and return the flows it defines.

    Flows without storage get ``Local(path=<absolute path>, stored_as_script=True)``.
    """
    import prefect
    from prefect.storage import Local

    abs_path = os.path.abspath(path)
    with prefect.context({"loading_flow": True, "local_script_path": abs_path}):
        namespace = runpy.run_path(abs_path, run_name="<flow>")
    flows = [value for value in namespace.values() if isinstance(value, prefect.Flow)]
    for flow in flows:
        if flow.storage is None:
            flow.storage = Local(path=abs_path, stored_as_script=True)
    return flows


def _import_object(name: str) -> Any:
    """A module (``pkg.mod``) or an object inside one (``pkg.mod.flow`` / ``pkg.mod:flow``)."""
    if ":" in name:
        module_name, _, attribute = name.partition(":")
        obj: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            obj = getattr(obj, part)
        return obj
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        module_name, _, attribute = name.rpartition(".")
        if not module_name or exc.name != name:
            raise
        return getattr(importlib.import_module(module_name), attribute)


def load_flows_from_module(name: str) -> list[Flow]:
    """Import a module (or a flow by its dotted path) and return its flows.

    Flows without storage get ``Module(<module name>)``.

    Raises:
        TerminalError: the object found is neither a module nor a flow.
    """
    import prefect
    from prefect.storage import Module

    with prefect.context({"loading_flow": True}):
        obj = _import_object(name)
    if isinstance(obj, ModuleType):
        module_name = name
        flows = [value for value in vars(obj).values() if isinstance(value, prefect.Flow)]
    elif isinstance(obj, prefect.Flow):
        module_name = name.partition(":")[0] if ":" in name else name.rsplit(".", 1)[0]
        flows = [obj]
    else:
        raise TerminalError(
            f"Invalid object of type {type(obj).__name__!r} found at {name!r}. "
            "Expected Module or Flow."
        )
    for flow in flows:
        if flow.storage is None:
            flow.storage = Module(module_name)
    return flows


def load_flows_from_json(path: str) -> list[dict]:
    """The serialized flows of a `prefect build` file (a path or an http(s) URL).

    Raises:
        TerminalError: the file is not a supported `prefect build` output.
    """
    if path.startswith(("http://", "https://")):
        import requests

        response = requests.get(path, timeout=30)
        response.raise_for_status()
        contents = response.text
    else:
        with open(path, encoding="utf-8") as f:
            contents = f.read()
    data = json.loads(contents)
    if not isinstance(data, dict) or data.get("version") != 1 or "flows" not in data:
        raise TerminalError(
            f"{path!r} is not a `prefect build` output (expected {{'version': 1, 'flows': "
            "[...]}})."
        )
    return list(data["flows"])


def flow_name(flow: Any) -> str:
    return str(flow["name"] if isinstance(flow, dict) else flow.name)


def collect_flows(
    paths: Sequence[str] = (),
    modules: Sequence[str] = (),
    json_paths: Sequence[str] = (),
    names: Sequence[str] = (),
) -> Collected:
    """Load the flows of every source; a source that fails is reported and recorded.

    Raises:
        TerminalError: ``names`` asks for flows that no loaded source defines, or two
            sources define flows of the same name.
    """
    sources = [Source(path, "script") for path in expand_paths(paths)]
    sources += [Source(module, "module") for module in modules]
    sources += [Source(path, "json") for path in json_paths]

    collected = Collected()
    for source in sources:
        try:
            if source.kind == "module":
                flows: list[Any] = list(load_flows_from_module(source.location))
            elif source.kind == "json":
                flows = list(load_flows_from_json(source.location))
            else:
                flows = list(load_flows_from_script(source.location))
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            click.secho(f"Error loading {source.location!r}:", fg="red")
            if isinstance(exc, SystemExit):
                exc = RuntimeError(f"the source called sys.exit({exc.code!r})")
            log_exception(exc, indent=2)
            collected.errored.append(source)
            continue
        if names:
            flows = [flow for flow in flows if flow_name(flow) in names]
        collected.flows[source] = flows

    if names and not collected.errored:
        found = {flow_name(f) for flows in collected.flows.values() for f in flows}
        missing = [name for name in names if name not in found]
        if missing:
            listing = "\n".join(f"- {name}" for name in sorted(missing))
            raise TerminalError(f"Failed to find the following flows:\n{listing}")

    by_name: dict[str, list[str]] = defaultdict(list)
    for source, flows in collected.flows.items():
        for flow in flows:
            by_name[flow_name(flow)].append(source.location)
    duplicates = {name: where for name, where in by_name.items() if len(where) > 1}
    if duplicates:
        lines = [
            f"- {name!r} in {', '.join(repr(w) for w in where)}"
            for name, where in sorted(duplicates.items())
        ]
        raise TerminalError(
            "Found multiple flows with the same name; give each flow a unique name:\n"
            + "\n".join(lines)
        )
    return collected


def prepare_flows(flows: Iterable[Any], labels: Iterable[str] = ()) -> None:
    """Give each flow a run config, its storage's result and labels, and add it to storage."""
    from prefect.run_configs import UniversalRun

    extra = set(labels or ())
    for flow in flows:
        if isinstance(flow, dict):
            run_config = flow.get("run_config") or {"type": "UniversalRun", "labels": []}
            run_config["labels"] = sorted(set(run_config.get("labels") or []) | extra)
            flow["run_config"] = run_config
            continue
        if not flow.result and flow.storage is not None:
            flow.result = flow.storage.result
        if flow.run_config is None:
            flow.run_config = UniversalRun()
        flow.run_config.labels.update(extra)
        flow.run_config.labels.update(flow.storage.labels)
        if flow.name not in flow.storage:
            flow.storage.add_flow(flow)


def watch_for_changes(
    paths: Sequence[str] = (), modules: Sequence[str] = (), period: float = 0.5
) -> Iterator[tuple[list[str], list[str]]]:
    """Yield ``(changed paths, changed modules)``: everything first, then what changed.

    Files are compared by modification time, polled every ``period`` seconds; a module
    counts as changed when its source file does.
    """
    tracked: dict[str, float] = {}
    module_files: dict[str, str] = {}
    first = True
    while True:
        changed_paths: list[str] = []
        try:
            files = expand_paths(paths) if paths else []
        except TerminalError:
            files = []
        for path in files:
            try:
                mtime = os.stat(path).st_mtime
            except OSError:
                continue
            if tracked.get(path) != mtime:
                tracked[path] = mtime
                changed_paths.append(path)
        changed_modules: list[str] = []
        for module in modules:
            if module not in module_files:
                spec = importlib.util.find_spec(module.partition(":")[0])
                module_files[module] = (spec.origin or "") if spec else ""
            origin = module_files[module]
            key = f"module:{module}"
            try:
                mtime = os.stat(origin).st_mtime if origin else 0.0
            except OSError:
                mtime = 0.0
            if tracked.get(key) != mtime:
                tracked[key] = mtime
                changed_modules.append(module)
                if not first:
                    _forget_module(module)
        if changed_paths or changed_modules:
            yield changed_paths, changed_modules
        first = False
        time.sleep(period)


def _forget_module(module: str) -> None:
    """Drop a module from `sys.modules` so the next import reads its new source."""
    name = module.partition(":")[0]
    for loaded in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        sys.modules.pop(loaded, None)
