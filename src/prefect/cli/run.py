"""`prefect run`: run a flow here (from a file or module) or through the backend.

Local runs (``--path``/``--module``) need no backend: the flow is loaded and run in this
process; the exit status is 0 when the run succeeds and 1 otherwise. Backend runs look the flow
up (``--id``: a flow id, else a flow group id; ``--name`` with or without ``--project``),
create a flow run (`server-protocol.md` 4.5) and, with ``--watch``, follow it until it finishes
(exit 0 on success, 1 otherwise) or, with ``--execute``, run it in a child process themselves
(with an ``agentless-run-xxxxxxxx`` label so no agent takes it). Ctrl-C while watching cancels
the run.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import TYPE_CHECKING, Any

import click

from prefect.cli._common import (
    TerminalError,
    error_text,
    handle_terminal_error,
    load_json_key_values,
    log_exception,
    try_error_done,
)

if TYPE_CHECKING:
    from prefect.backend import FlowView
    from prefect.core.flow import Flow

__all__ = ["get_flow_from_path_or_module", "get_flow_view", "run"]

FLOW_LOOKUP_MSG = """

Name the flow to run with one of:
    --id ID
    --name NAME (with --project PROJECT when several projects have the name)
    --path FILE (with --name when the file defines several flows)
    --module MODULE (with --name when the module defines several flows)

`prefect run --help` describes every option.
"""

_LOG_LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
# Above CRITICAL: nothing is logged.
_SILENT = 100
# How long the final state may lag behind the end of a watched/executed run.
_FINAL_STATE_WAIT = 3.0


def get_flow_from_path_or_module(
    path: str | None = None, module: str | None = None, name: str | None = None
) -> Flow:
    """The flow of a script or module (the one called ``name`` when there are several).

    Raises:
        TerminalError: no flow, several and no ``name``, or no flow called ``name``.
    """
    from prefect.cli._loading import load_flows_from_module, load_flows_from_script

    location = path if path is not None else module
    flows = (
        load_flows_from_script(path) if path is not None else load_flows_from_module(str(module))
    )
    by_name = {flow.name: flow for flow in flows}
    listing = ", ".join(map(repr, by_name))
    if not flows:
        raise TerminalError(f"Found no flows at {location!r}.")
    if name:
        if name not in by_name:
            raise TerminalError(f"Did not find {name!r} in flows at {location!r}. Found {listing}")
        return by_name[name]
    if len(by_name) > 1:
        raise TerminalError(
            f"Found multiple flows at {location!r}: {listing}\n\nSpecify a flow name to run."
        )
    return flows[0]


def _project_exists(project: str) -> bool:
    from prefect.client import Client
    from prefect.utilities.graphql import with_args

    result = Client().graphql(
        {"query": {with_args("project", {"where": {"name": {"_eq": project}}}): {"id"}}}
    )
    return bool(result.data.project)


def get_flow_view(
    flow_or_group_id: str | None = None, project: str | None = None, name: str | None = None
) -> FlowView:
    """Find the flow to run in the backend.

    Raises:
        TerminalError: nothing matches, or a name matches flows in several projects.
    """
    from prefect.backend import FlowView
    from prefect.exceptions import ClientError

    if flow_or_group_id:
        for lookup in (FlowView.from_flow_id, FlowView.from_flow_group_id):
            try:
                return lookup(flow_or_group_id)
            except (ValueError, ClientError):
                # ClientError: the server refuses an id that is not a UUID.
                continue
        raise TerminalError(
            f"Failed to find flow id or flow group id matching {flow_or_group_id!r}"
        )
    if project:
        if not name:
            raise click.ClickException(
                "Missing required option `--name`. Cannot look up a flow by project without "
                "also passing a name."
            )
        if not _project_exists(project):
            raise TerminalError(f"Project {project!r} does not exist")
        try:
            return FlowView.from_flow_name(flow_name=name, project_name=project)
        except ValueError:
            raise TerminalError(f"Flow {name!r} not found in project {project!r}") from None
    if name:
        try:
            return FlowView.from_flow_name(flow_name=name)
        except ValueError as exc:
            if "No flow found" in str(exc) or "no flow" in str(exc).lower():
                raise TerminalError(f"Flow {name!r} not found") from None
            raise TerminalError(
                f"{' '.join(str(exc).split())} Look up the flow by ID or pass a project name "
                "to narrow results."
            ) from None
    raise click.ClickException("Received no options to look up the flow." + FLOW_LOOKUP_MSG)


class _EchoHandler(logging.Handler):
    """Log records as lines of the command's output (so they go where click writes)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            click.echo(self.format(record))
        except Exception:
            self.handleError(record)


@contextmanager
def _cli_logging(level: int | str | None, fmt: str, datefmt: str = "%H:%M:%S") -> Iterator[None]:
    """Route the ``prefect`` logger's records to the command's output, formatted ``fmt``."""
    logger = logging.getLogger("prefect")
    old_level = logger.level
    streams = [
        h
        for h in logger.handlers
        if isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler)
    ]
    old_stream_levels = [h.level for h in streams]
    handler = _EchoHandler()
    handler.setFormatter(logging.Formatter(fmt, datefmt))
    try:
        if level is not None:
            logger.setLevel(level)
        for stream in streams:
            stream.setLevel(_SILENT)
        logger.addHandler(handler)
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
        for stream, stream_level in zip(streams, old_stream_levels):
            stream.setLevel(stream_level)


def _load_params(param_file: str | None, params: tuple[str, ...], echo: Any) -> dict:
    file_params: dict = {}
    if param_file:
        try:
            with open(param_file, encoding="utf-8") as f:
                file_params = json.load(f)
        except FileNotFoundError:
            raise TerminalError(
                f"Parameter file does not exist: {os.path.abspath(param_file)!r}"
            ) from None
        except ValueError as exc:
            raise TerminalError(
                f"Failed to parse JSON at {os.path.abspath(param_file)!r}: {exc}"
            ) from None
        if not isinstance(file_params, dict):
            raise TerminalError(
                f"Parameter file {os.path.abspath(param_file)!r} must hold a JSON object."
            )
    cli_params = load_json_key_values(params, "parameter")
    conflicting = set(cli_params).intersection(file_params)
    if conflicting:
        echo(
            "The following parameters were specified by file and CLI, the CLI value will be "
            f"used: {conflicting}"
        )
    return {**file_params, **cli_params}


def _run_locally(
    flow: Flow,
    params: dict,
    context: dict,
    log_level: str | None,
    no_logs: bool,
    quiet: bool,
    schedule: bool,
    echo: Any,
) -> None:
    import prefect

    missing = sorted(p.name for p in flow.parameters() if p.required and p.name not in params)
    if missing:
        raise TerminalError(
            f"Flow {flow.name!r} is missing required parameters: {', '.join(missing)}; pass "
            "them with `--param name=value`."
        )
    unknown = sorted(set(params) - {p.name for p in flow.parameters()})
    if unknown:
        raise TerminalError(f"Flow {flow.name!r} has no parameters named: {', '.join(unknown)}.")

    info = ""
    if params:
        info += f"└── Parameters: {params}\n"
    if context:
        info += f"└── Context: {context}\n"
    if info:
        echo("Configured local flow run")
        echo(info, nl=False)

    echo("Running flow locally...")
    level: int | str | None = _SILENT if (no_logs or quiet) else log_level
    with _cli_logging(level, "└── %(asctime)s | %(levelname)-7s | %(message)s"):
        with prefect.context(**context):
            try:
                state = flow.run(parameters=params, run_on_schedule=schedule)
            except Exception as exc:
                echo("Received unexpected exception while running flow!", fg="red")
                log_exception(exc)
                raise TerminalError() from None
    if state is None or state.is_failed() or not state.is_successful():
        echo("Flow run failed!", fg="red")
        raise SystemExit(1)
    echo("Flow run succeeded!", fg="green")


def _echo_log(log: Any) -> None:
    level_name = logging.getLevelName(log.level)
    timestamp = log.timestamp.in_tz("local")
    color = {"ERROR": "red", "CRITICAL": "red", "WARNING": "yellow"}.get(level_name)
    click.secho(f"└── {timestamp:%H:%M:%S} | {level_name:<7} | {log.message}", fg=color)


def _final_state(flow_run_id: str, echo: Any) -> None:
    from prefect.backend import FlowRunView

    flow_run = FlowRunView.from_flow_run_id(flow_run_id)
    deadline = time.monotonic() + _FINAL_STATE_WAIT
    while not flow_run.state.is_finished() and time.monotonic() < deadline:
        time.sleep(0.2)
        flow_run = flow_run.get_latest()
    if flow_run.state.is_failed():
        echo("Flow run failed!", fg="red")
        raise SystemExit(1)
    if flow_run.state.is_successful():
        echo("Flow run succeeded!", fg="green")
        return
    echo(f"Flow run is in unexpected state: {flow_run.state}", fg="yellow")
    raise SystemExit(1)


def _cancel_on_interrupt(client: Any, flow_run_id: str, echo: Any) -> None:
    """After Ctrl-C: cancel the run (asking first when there is a terminal to ask on)."""
    echo("Keyboard interrupt detected!", fg="yellow")
    cancel = True
    if sys.stdin is not None and sys.stdin.isatty():
        try:
            cancel = click.confirm(
                "On exit, we can leave your flow run executing or cancel it.\n"
                "Would you like to cancel your flow run?",
                default=True,
            )
        except click.Abort:
            cancel = False
    if cancel:
        client.cancel_flow_run(flow_run_id=flow_run_id)
        echo("Cancelled flow run.", fg="green")
        raise SystemExit(1)
    echo("Exiting without cancelling flow run!", fg="yellow")
    raise SystemExit(1)


@click.group(invoke_without_command=True, epilog=FLOW_LOOKUP_MSG.strip())
@click.option(
    "--id",
    "-i",
    "flow_or_group_id",
    help="Flow id or flow-group id (a group runs its newest flow).",
)
@click.option("--project", help="Project holding the flow.")
@click.option("--path", "-p", help="File that defines the flow.")
@click.option("--module", "-m", help="Importable module that defines the flow.")
@click.option("--name", "-n", help="Flow name; needed when the source has several flows.")
@click.option(
    "--label",
    "labels",
    multiple=True,
    help="Flow-run label; repeatable (default: the flow group's labels).",
)
@click.option("--run-name", default=None, help="Name for the flow run.")
@click.option(
    "--context",
    "context_vars",
    multiple=True,
    help="key=value context entry, value parsed as JSON; repeatable.",
)
@click.option(
    "--param",
    "params",
    multiple=True,
    help="key=value parameter, value parsed as JSON; repeatable.",
)
@click.option(
    "--log-level",
    type=click.Choice(_LOG_LEVELS, case_sensitive=False),
    default=None,
    help="Log level of the flow run.",
)
@click.option(
    "--param-file",
    default=None,
    help="JSON file of parameters (`--param` wins on conflicts).",
)
@click.option(
    "--idempotency-key",
    default=None,
    help="Key that prevents creating a duplicate run.",
)
@click.option("--execute", is_flag=True, help="Run in this process instead of via an agent.")
@click.option(
    "--schedule", "-s", is_flag=True, help="Follow the flow's schedule (local runs only)."
)
@click.option("--quiet", "-q", is_flag=True, help="Print only the flow run id.")
@click.option("--no-logs", is_flag=True, help="With --watch, show states but not logs.")
@click.option(
    "--watch", "-w", is_flag=True, help="Wait for the run to finish, streaming states/logs."
)
@click.pass_context
@handle_terminal_error
def run(
    ctx: click.Context,
    flow_or_group_id: str | None,
    project: str | None,
    path: str | None,
    module: str | None,
    name: str | None,
    labels: tuple[str, ...],
    context_vars: tuple[str, ...],
    params: tuple[str, ...],
    execute: bool,
    idempotency_key: str | None,
    schedule: bool,
    log_level: str | None,
    param_file: str | None,
    run_name: str | None,
    quiet: bool,
    no_logs: bool,
    watch: bool,
) -> None:
    """Run a flow, locally or through the backend.

    \b
    Local runs load the flow from a file or module and run it in this process:
      $ prefect run -p hello.py --param name=world
      $ prefect run -m my_package.flows --name hello
    \b
    Backend runs create a flow run of a registered flow for an agent to execute:
      $ prefect run --name hello --project my-project --watch
      $ prefect run --id 8e4a5b6c-... --param name=world --label dev
    \b
    ...or execute it in this process without an agent:
      $ prefect run --name hello --execute

    Parameter and context values are parsed as JSON when they are valid JSON
    (`--param n=3` is the number 3) and taken as text otherwise. With `--watch`
    or `--execute` the exit status is 0 when the run succeeds and 1 otherwise.
    """
    if ctx.invoked_subcommand is not None:
        return
    echo = partial(click.secho, err=False) if not quiet else (lambda *a, **k: None)
    label_list = list(labels)

    given = [
        option
        for option, value in (
            ("--id", flow_or_group_id),
            ("--project", project),
            ("--path", path),
            ("--module", module),
        )
        if value is not None
    ]
    if not given and not name:
        raise click.ClickException("Received no options to look up the flow." + FLOW_LOOKUP_MSG)
    if "--id" in given and name:
        raise click.ClickException(
            "Received too many options to look up the flow; cannot specifiy both `--name` and "
            "`--id`" + FLOW_LOOKUP_MSG
        )
    if len(given) > 1:
        raise click.ClickException(
            "Received too many options to look up the flow: " + ", ".join(given) + FLOW_LOOKUP_MSG
        )

    context = load_json_key_values(context_vars, "context")
    parameters = _load_params(param_file, params, echo)

    if path or module:
        with try_error_done("Retrieving local flow...", echo):
            flow = get_flow_from_path_or_module(path=path, module=module, name=name)
        _run_locally(flow, parameters, context, log_level, no_logs, quiet, schedule, echo)
        return

    if schedule:
        raise click.ClickException("`--schedule` can only be specified for local flow runs")

    from prefect.client import Client

    client = Client()
    with try_error_done("Looking up flow metadata...", echo):
        flow_view = get_flow_view(flow_or_group_id=flow_or_group_id, project=project, name=name)

    run_config = None
    if log_level:
        from prefect.run_configs import UniversalRun

        run_config = flow_view.run_config or UniversalRun()
        run_config.env = dict(run_config.env or {})
        run_config.env["PREFECT__LOGGING__LEVEL"] = log_level.upper()

    if execute:
        # A label no agent has, so only this process runs the flow run.
        label_list.append(f"agentless-run-{str(uuid.uuid4())[:8]}")

    with try_error_done(f"Creating run for flow {flow_view.name!r}...", echo, skip_done=True):
        flow_run_id = client.create_flow_run(
            flow_id=flow_view.flow_id,
            parameters=parameters,
            context=context,
            # No labels: the server uses the flow group's (or the flow's) labels.
            labels=label_list or None,
            run_name=run_name,
            run_config=run_config,
            idempotency_key=idempotency_key,
        )

    if quiet:
        click.echo(flow_run_id)
    else:
        from prefect.backend import FlowRunView

        flow_run = FlowRunView.from_flow_run_id(flow_run_id)
        echo(" Done", fg="green")
        try:
            url = client.get_cloud_url("flow-run", flow_run_id)
        except Exception as exc:
            url = f"(unavailable: {error_text(exc)})"
        echo(
            f"└── Name: {flow_run.name}\n"
            f"└── UUID: {flow_run.flow_run_id}\n"
            f"└── Labels: {flow_run.labels}\n"
            f"└── Parameters: {flow_run.parameters}\n"
            f"└── Context: {flow_run.context}\n"
            f"└── URL: {url}"
        )

    if execute:
        from prefect.backend.execution import execute_flow_run_in_subprocess

        echo("Executing flow run...")
        level: int | str | None = _SILENT if (no_logs or quiet) else log_level
        try:
            with _cli_logging(level, "└── %(asctime)s | %(levelname)-7s | %(message)s"):
                execute_flow_run_in_subprocess(flow_run_id)
        except KeyboardInterrupt:
            _cancel_on_interrupt(client, flow_run_id, echo)
        except Exception as exc:
            raise TerminalError(f"Failed to execute flow run: {error_text(exc)}") from None
    elif watch:
        from prefect.backend.flow_run import watch_flow_run

        echo("Watching flow run execution...")
        try:
            for log in watch_flow_run(flow_run_id=flow_run_id, stream_logs=not no_logs):
                if not quiet:
                    _echo_log(log)
        except KeyboardInterrupt:
            _cancel_on_interrupt(client, flow_run_id, echo)
    else:
        return

    _final_state(flow_run_id, echo)
