"""The `prefect` command line: one click group whose commands are imported when they run.

Every top-level command lives in its own module (`prefect.cli.register`, `prefect.cli.run`,
`prefect.cli.server`, ...). The root group only knows each command's name and where to find
it, so `prefect --help` (and any single command) imports click and that one module, never the
server, SQLAlchemy or uvicorn. A command whose module cannot be imported is listed with a
note instead of breaking the whole CLI.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

__all__ = ["cli"]

CONTEXT_SETTINGS = dict(help_option_names=["-h", "--help"], max_content_width=120)

# name -> "module:attribute", in the order 1.4.1 lists its commands.
_COMMANDS: dict[str, str] = {
    "repl": "prefect.cli._misc:repl",
    "version": "prefect.cli._misc:version",
    "config": "prefect.cli._misc:config",
    "diagnostics": "prefect.cli._misc:diagnostics",
    "backend": "prefect.cli.backend:backend",
    "agent": "prefect.cli.agent:agent",
    "auth": "prefect.cli.auth:auth",
    "create": "prefect.cli.create:create",
    "delete": "prefect.cli.delete:delete",
    "describe": "prefect.cli.describe:describe",
    "execute": "prefect.cli.execute:execute",
    "get": "prefect.cli.get:get",
    "run": "prefect.cli.run:run",
    "server": "prefect.cli.server:server",
    "heartbeat": "prefect.cli.heartbeat:heartbeat",
    "register": "prefect.cli.register:register",
    "build": "prefect.cli.register:build",
    "kv": "prefect.cli.kv:kv",
}

# Hidden in 1.4.1's `prefect --help`; still callable. Listed here so the help text can show
# them without importing their modules.
_HIDDEN = frozenset(
    {
        "version",
        "config",
        "diagnostics",
        "backend",
        "auth",
        "create",
        "delete",
        "describe",
        "execute",
        "get",
        "server",
        "heartbeat",
    }
)

# One-line summaries for `prefect --help`, so listing commands imports nothing.
_SUMMARIES: dict[str, str] = {
    "repl": "Start an interactive Prefect CLI session.",
    "agent": "Start agents that run scheduled flow runs.",
    "run": "Run a flow, locally or through the backend.",
    "register": "Register flows with the backend.",
    "build": "Serialize flows to a JSON file for later registration.",
    "kv": "Read and write the key-value store (Prefect Cloud only).",
}


def _unavailable(name: str, target: str, error: Exception) -> click.Command:
    """A stand-in for a command whose module failed to import: it says so and exits 1."""

    def callback(**_: Any) -> None:
        raise click.ClickException(
            f"The `prefect {name}` command is not available: importing {target} failed "
            f"({type(error).__name__}: {error})."
        )

    return click.Command(
        name,
        callback=callback,
        help=f"(unavailable: {error})",
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    )


class LazyGroup(click.Group):
    """A click group that imports each command's module the first time the command is used.

    Args:
        lazy_commands: command name -> ``"package.module:attribute"``.
        **kwargs: passed to `click.Group`.
    """

    def __init__(self, *args: Any, lazy_commands: dict[str, str] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.lazy_commands: dict[str, str] = dict(lazy_commands or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = list(self.lazy_commands)
        names += [name for name in super().list_commands(ctx) if name not in self.lazy_commands]
        return names

    def get_command(self, ctx: click.Context | None, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        target = self.lazy_commands.get(cmd_name)
        if target is None:
            return None
        module_name, _, attribute = target.partition(":")
        try:
            command = getattr(importlib.import_module(module_name), attribute)
        except (ImportError, AttributeError) as exc:
            return _unavailable(cmd_name, target, exc)
        self.commands[cmd_name] = command
        return command  # type: ignore[no-any-return]

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Listing uses the summaries above: no command module is imported for `--help`.
        rows = []
        for name in self.list_commands(ctx):
            if name in _HIDDEN:
                continue
            command = self.commands.get(name)
            if command is not None and command.hidden:
                continue
            if name in _SUMMARIES or command is None:
                summary = _SUMMARIES.get(name, "")
            else:
                summary = command.get_short_help_str(formatter.width)
            rows.append((name, summary))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup, lazy_commands=_COMMANDS, context_settings=CONTEXT_SETTINGS)
@click.version_option(package_name="prefect", prog_name="prefect")
def cli() -> None:
    """The Prefect CLI for creating, managing, and inspecting your flows.

    \b
    Run and register flows:
        run          run a flow locally or through the backend
        register     register flows with the backend
        build        serialize flows to a JSON file for later registration
    \b
    Look at the backend:
        get          tables of flows, projects, flow runs, tasks and logs
        describe     metadata of one flow, flow run or flow's tasks
    \b
    Change the backend:
        create       create a project
        delete       delete a project
        kv           key-value store (Prefect Cloud)
    \b
    Run work:
        agent        start agents that run scheduled flow runs
        execute      execute the flow run an agent handed to this process
        heartbeat    send heartbeats for a flow run
    \b
    Set up:
        backend      switch between `server` and `cloud`
        server       run Prefect Server
        auth         Prefect Cloud API keys and tenants
    \b
    Other:
        version      print the Prefect version
        config       print the configuration as JSON
        diagnostics  print information for bug reports
        repl         interactive session
    """
