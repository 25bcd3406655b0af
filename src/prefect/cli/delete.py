"""`prefect delete project NAME`: delete a project with its flows and runs."""

from __future__ import annotations

import click

from prefect.cli._common import error_text, handle_terminal_error

__all__ = ["delete"]


@click.group(hidden=True)
def delete() -> None:
    """Delete backend objects.

    \b
    Example:
        $ prefect delete project analytics
        analytics deleted
    """


@delete.command(hidden=True)
@click.argument("name", required=True)
@handle_terminal_error
def project(name: str) -> None:
    """Delete the project called NAME, with its flows and their runs."""
    from prefect.client import Client
    from prefect.exceptions import ClientError

    try:
        Client().delete_project(project_name=name)
    except (ClientError, ValueError) as exc:
        click.echo(error_text(exc))
        click.secho("Error deleting project", fg="red")
        raise SystemExit(1) from None
    click.secho(f"{name} deleted", fg="green")
