"""The `prefect` command line. Commands are added by later issues."""

from __future__ import annotations

import click


@click.group()
@click.version_option(package_name="prefect", prog_name="prefect")
def cli() -> None:
    """The Prefect CLI for creating, managing, and inspecting your flows."""


from prefect.cli.server import server as _server  # noqa: E402

cli.add_command(_server)
