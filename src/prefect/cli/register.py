"""`prefect register` and `prefect build`: send flows to the backend, or write them to a JSON
file for a later `prefect register --json`.

Registration follows 1.4.1 (`server-protocol.md` 4.5): the project is looked up first
(``Project 'P' does not exist`` when missing); each flow is sent whole, compressed, in one
``create_flow_from_compressed_string`` with an idempotency key that is the SHA-256 of its
sorted-keys JSON, so an unchanged flow comes back with the id it already had and is reported
``Skipped (metadata unchanged)``. ``--force`` sends no key and always makes a new version.
Loading the flows is `prefect.cli._loading`; a source that fails to load counts as errored and
the exit status is 1 when anything errored.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

from prefect.cli._common import TerminalError, handle_terminal_error, log_exception
from prefect.cli._loading import (
    collect_flows,
    expand_paths,
    flow_name,
    load_flows_from_json,
    load_flows_from_module,
    load_flows_from_script,
    prepare_flows,
    watch_for_changes,
)

if TYPE_CHECKING:
    from prefect.client import Client

__all__ = [
    "build",
    "build_and_register",
    "collect_flows",
    "expand_paths",
    "flow_idempotency_key",
    "get_project_id",
    "load_flows_from_json",
    "load_flows_from_module",
    "load_flows_from_script",
    "register",
    "register_serialized_flow",
    "watch_for_changes",
]


# --- registering ---------------------------------------------------------------------------


def get_project_id(client: Client, project: str) -> str:
    """The id of the project called ``project``.

    Raises:
        TerminalError: there is no such project.
    """
    from prefect.utilities.graphql import with_args

    result = client.graphql(
        {"query": {with_args("project", {"where": {"name": {"_eq": project}}}): {"id"}}}
    )
    if result.data.project:
        return str(result.data.project[0].id)
    raise TerminalError(f"Project {project!r} does not exist")


def flow_idempotency_key(serialized_flow: dict) -> str:
    """The SHA-256 hex digest of the flow's sorted-keys JSON."""
    return hashlib.sha256(json.dumps(serialized_flow, sort_keys=True).encode()).hexdigest()


def register_serialized_flow(
    client: Client,
    serialized_flow: dict,
    project_id: str,
    force: bool = False,
    schedule: bool = True,
) -> tuple[str, int, bool]:
    """Register one serialized flow.

    Returns:
        ``(flow_id, version, is_new)``; ``is_new`` is false when the backend returned the
        previous flow unchanged (same idempotency key).
    """
    from prefect.utilities.graphql import EnumValue, compress, with_args

    name = serialized_flow["name"]
    previous = client.graphql(
        {
            "query": {
                with_args(
                    "flow",
                    {
                        "where": {
                            "_and": {
                                "name": {"_eq": name},
                                "project": {"id": {"_eq": project_id}},
                            }
                        },
                        "order_by": {"version": EnumValue("desc")},
                        "limit": 1,
                    },
                ): {"id", "version"}
            }
        }
    ).data.flow
    prev_id = str(previous[0].id) if previous else None
    prev_version = int(previous[0].version) if previous else 0

    inputs: dict[str, Any] = dict(
        project_id=project_id,
        serialized_flow=compress(serialized_flow),
        set_schedule_active=schedule,
    )
    if not force:
        inputs["idempotency_key"] = flow_idempotency_key(serialized_flow)
    result = client.graphql(
        {
            "mutation($input: create_flow_from_compressed_string_input!)": {
                "create_flow_from_compressed_string(input: $input)": {"id"}
            }
        },
        variables=dict(input=inputs),
        retry_on_api_error=False,
    )
    new_id = str(result.data.create_flow_from_compressed_string.id)
    if new_id == prev_id:
        return new_id, prev_version, False
    return new_id, prev_version + 1, True


def _serialized(flow: Any) -> dict:
    if isinstance(flow, dict):
        return dict(flow)
    return dict(flow.serialize(build=False))


def build_and_register(
    client: Client,
    flows: list[Any],
    project_id: str,
    labels: Sequence[str] = (),
    force: bool = False,
    schedule: bool = True,
) -> Counter:
    """Build each storage once and register its flows, printing a line per flow.

    Returns:
        counts of ``registered``, ``skipped`` and ``errored`` flows.
    """
    stats: Counter = Counter(registered=0, skipped=0, errored=0)
    try:
        prepare_flows(flows, labels)
    except Exception as exc:
        click.secho("  Error preparing flows:", fg="red")
        log_exception(exc, indent=4)
        stats["errored"] += len(flows)
        return stats

    by_storage: dict[int, tuple[Any, list[Any]]] = {}
    for flow in flows:
        storage = None if isinstance(flow, dict) else flow.storage
        by_storage.setdefault(id(storage), (storage, []))[1].append(flow)

    for storage, group in by_storage.values():
        if storage is not None:
            click.echo(f"  Building `{type(storage).__name__}` storage...")
            try:
                storage.build()
            except Exception as exc:
                click.secho("    Error building storage:", fg="red")
                log_exception(exc, indent=6)
                for flow in group:
                    click.echo(
                        f"  Registering {flow_name(flow)!r}... " + click.style("Error", fg="red")
                    )
                    stats["errored"] += 1
                continue
        for flow in group:
            click.echo(f"  Registering {flow_name(flow)!r}...", nl=False)
            try:
                flow_id, version, is_new = register_serialized_flow(
                    client, _serialized(flow), project_id, force=force, schedule=schedule
                )
            except Exception as exc:
                click.secho(" Error", fg="red")
                log_exception(exc, indent=4)
                stats["errored"] += 1
                continue
            if is_new:
                click.secho(" Done", fg="green")
                click.echo(f"  └── ID: {flow_id}")
                click.echo(f"  └── Version: {version}")
                stats["registered"] += 1
            else:
                click.secho(" Skipped (metadata unchanged)", fg="yellow")
                stats["skipped"] += 1
    return stats


def summary_line(stats: Counter) -> str:
    """``==== N registered[, M skipped][, K errored] ====``."""
    parts = [f"{stats['registered']} registered"]
    if stats["skipped"]:
        parts.append(f"{stats['skipped']} skipped")
    if stats["errored"]:
        parts.append(f"{stats['errored']} errored")
    message = ", ".join(parts)
    bar = "=" * (max(60 - len(message), 4) // 2)
    return f"{bar} {message} {bar}"


def _register_once(
    client: Client,
    project_id: str,
    paths: Sequence[str],
    modules: Sequence[str],
    json_paths: Sequence[str],
    names: Sequence[str],
    labels: Sequence[str],
    force: bool,
    schedule: bool,
) -> Counter:
    click.echo("Collecting flows...")
    collected = collect_flows(paths, modules, json_paths, names)
    stats: Counter = Counter(registered=0, skipped=0, errored=len(collected.errored))
    for source, flows in collected.flows.items():
        if not flows:
            continue
        click.echo(f"Processing {source.location!r}:")
        stats += build_and_register(
            client, flows, project_id, labels=labels, force=force, schedule=schedule
        )
    return stats


# --- commands ------------------------------------------------------------------------------


@click.group(invoke_without_command=True)
@click.option("--project", default=None, help="Project to register into (required).")
@click.option(
    "--path", "-p", "paths", multiple=True, help="File or directory to load flows from; repeatable."
)
@click.option(
    "--module",
    "-m",
    "modules",
    multiple=True,
    help="Module (or module path to a flow) to load; repeatable.",
)
@click.option(
    "--json",
    "-j",
    "json_paths",
    multiple=True,
    help="Path or URL of a `prefect build` JSON file; repeatable.",
)
@click.option(
    "--name", "-n", "names", multiple=True, help="Only register flows with this name; repeatable."
)
@click.option(
    "--label",
    "-l",
    "labels",
    multiple=True,
    help="Label added to every registered flow; repeatable.",
)
@click.option(
    "--force",
    "-f",
    is_flag=True,
    default=False,
    help="Register even when the flow is unchanged.",
)
@click.option("--watch", is_flag=True, default=False, help="Re-register when watched files change.")
@click.option(
    "--schedule/--no-schedule",
    default=True,
    help="Activate (default) or deactivate the flow schedule.",
)
@click.pass_context
@handle_terminal_error
def register(
    ctx: click.Context,
    project: str | None,
    paths: tuple[str, ...],
    modules: tuple[str, ...],
    json_paths: tuple[str, ...],
    names: tuple[str, ...],
    labels: tuple[str, ...],
    force: bool,
    watch: bool,
    schedule: bool,
) -> None:
    """Register flows from scripts, modules or `prefect build` files into a project.

    A flow whose serialized form has not changed since its last registration is
    skipped (`--force` registers it anyway, as a new version).

    \b
    Examples:
      Every flow of the `*.py` files in a directory:
        $ prefect register --project demo -p flows/
      One flow of a script, with an extra label:
        $ prefect register --project demo -p etl.py -n etl -l prod
      The flows of a module, or one flow by its import path:
        $ prefect register --project demo -m pipelines.flows
        $ prefect register --project demo -m pipelines.flows.nightly
      Flows built earlier with `prefect build`:
        $ prefect register --project demo --json flows.json
      Keep registering as the files change:
        $ prefect register --project demo -p flows/ --watch
    """
    if ctx.invoked_subcommand is not None:
        return
    if project is None:
        raise click.ClickException("Missing required option '--project'")
    if not (paths or modules or json_paths):
        raise click.ClickException("Must specify at least one of `--path`, `--module`, or `--json`")
    if watch and json_paths:
        raise click.ClickException("`--watch` is not supported with `--json`")

    # Bad paths fail before anything is sent.
    expand_paths(paths)

    from prefect.client import Client

    client = Client()
    project_id = get_project_id(client, project)

    if watch:
        click.echo(f"Watching for changes in {list(paths) + list(modules)}; Ctrl-C to stop.")
        try:
            for changed_paths, changed_modules in watch_for_changes(paths, modules):
                try:
                    stats = _register_once(
                        client,
                        project_id,
                        changed_paths,
                        changed_modules,
                        (),
                        names,
                        labels,
                        force,
                        schedule,
                    )
                except TerminalError as exc:
                    if str(exc):
                        click.secho(str(exc), fg="red")
                    continue
                click.echo(summary_line(stats))
        except KeyboardInterrupt:
            click.echo("Stopped watching.")
        return

    stats = _register_once(
        client, project_id, paths, modules, json_paths, names, labels, force, schedule
    )
    click.echo(summary_line(stats))
    if stats["errored"]:
        raise SystemExit(1)


@click.command()
@click.option(
    "--path", "-p", "paths", multiple=True, help="File or directory to load flows from; repeatable."
)
@click.option(
    "--module", "-m", "modules", multiple=True, help="Module to load flows from; repeatable."
)
@click.option(
    "--name", "-n", "names", multiple=True, help="Only build flows with this name; repeatable."
)
@click.option(
    "--label", "-l", "labels", multiple=True, help="Label added to every built flow; repeatable."
)
@click.option("--output", "-o", default="flows.json", help="Output JSON path.")
@click.option(
    "--update",
    "-u",
    is_flag=True,
    default=False,
    help="Merge into an existing JSON file instead of overwriting it.",
)
@handle_terminal_error
def build(
    paths: tuple[str, ...],
    modules: tuple[str, ...],
    names: tuple[str, ...],
    labels: tuple[str, ...],
    output: str,
    update: bool,
) -> None:
    """Serialize flows (building their storage) to a JSON file for later registration.

    The file is registered with `prefect register --json FILE`, without loading
    the flows' code again.

    \b
    Examples:
      $ prefect build -p flows/
      $ prefect build -m pipelines.flows -o pipelines.json
      $ prefect build -p new_flow.py --update
    """
    if not (paths or modules):
        raise click.ClickException("Must specify at least one of `--path` or `--module`")

    click.echo("Collecting flows...")
    collected = collect_flows(paths, modules, (), names)
    errored = len(collected.errored)
    built: list[dict] = []
    for source, flows in collected.flows.items():
        if not flows:
            continue
        click.echo(f"Processing {source.location!r}:")
        try:
            prepare_flows(flows, labels)
        except Exception as exc:
            click.secho("  Error preparing flows:", fg="red")
            log_exception(exc, indent=4)
            errored += len(flows)
            continue
        storages: dict[int, Any] = {}
        for flow in flows:
            storages.setdefault(id(flow.storage), flow.storage)
        failed_storages: set[int] = set()
        for key, storage in storages.items():
            click.echo(f"  Building `{type(storage).__name__}` storage...")
            try:
                storage.build()
            except Exception as exc:
                click.secho("    Error building storage:", fg="red")
                log_exception(exc, indent=6)
                failed_storages.add(key)
        for flow in flows:
            click.echo(f"  Building {flow.name!r}...", nl=False)
            if id(flow.storage) in failed_storages:
                click.secho(" Error", fg="red")
                errored += 1
                continue
            try:
                built.append(dict(flow.serialize(build=False)))
            except Exception as exc:
                click.secho(" Error", fg="red")
                log_exception(exc, indent=4)
                errored += 1
                continue
            click.secho(" Done", fg="green")

    if update and os.path.exists(output):
        existing = load_flows_from_json(output)
        new_names = {flow["name"] for flow in built}
        built = [flow for flow in existing if flow["name"] not in new_names] + built

    click.echo(f"Writing output to {output!r}")
    with open(output, "w", encoding="utf-8") as f:
        json.dump({"version": 1, "flows": built}, f, sort_keys=True)

    parts = [f"{len(built)} built"]
    if errored:
        parts.append(f"{errored} errored")
    message = ", ".join(parts)
    bar = "=" * (max(60 - len(message), 4) // 2)
    click.echo(f"{bar} {message} {bar}")
    if errored:
        raise SystemExit(1)
