"""`prefect create project NAME`: create a project in the backend."""

from __future__ import annotations

import click

from prefect.cli._common import error_text, handle_terminal_error

__all__ = ["create"]


@click.group(hidden=True)
def create() -> None:
    """Create backend objects.

    \b
    Example:
        $ prefect create project analytics -d "Nightly reports"
        analytics created
    """


@create.command(hidden=True)
@click.argument("name", required=True)
@click.option("--description", "-d", help="Project description.", hidden=True)
@click.option(
    "--skip-if-exists",
    is_flag=True,
    help="Do nothing if the project exists.",
    hidden=True,
)
@handle_terminal_error
def project(name: str, description: str | None = None, skip_if_exists: bool = False) -> None:
    """Create a project called NAME.

    An existing project of that name is kept as it is; with --skip-if-exists
    the command says so instead of creating anything.
    """
    from prefect.client import Client
    from prefect.exceptions import ClientError
    from prefect.utilities.graphql import with_args

    client = Client()
    if skip_if_exists:
        result = client.graphql(
            {"query": {with_args("project", {"where": {"name": {"_eq": name}}}): {"id": True}}}
        )
        if result.data.project:
            click.secho(f"{name} already exists", fg="green")
            return
    try:
        client.create_project(project_name=name, project_description=description)
    except (ClientError, ValueError) as exc:
        click.echo(error_text(exc))
        click.secho("Error creating project", fg="red")
        raise SystemExit(1) from None
    click.secho(f"{name} created", fg="green")
