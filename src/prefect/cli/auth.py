"""`prefect auth ...`: API keys and tenants of Prefect Cloud.

Prefect Server has no authentication: with the ``server`` backend every command but
`purge-tokens` refuses with one line and exit status 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from prefect.cli._common import backend_is_cloud, error_text

__all__ = ["SERVER_BACKEND_ERROR_MESSAGE", "auth"]

SERVER_BACKEND_ERROR_MESSAGE = (
    "Authentication is only supported while using Prefect Cloud as a backend; Prefect Server "
    "has no authentication. Switch with `prefect backend cloud`."
)


def _require_cloud() -> None:
    if not backend_is_cloud():
        raise click.ClickException(SERVER_BACKEND_ERROR_MESSAGE)


def _client(**kwargs: Any) -> Any:
    from prefect.client import Client

    return Client(**kwargs)


@click.group(hidden=True)
def auth() -> None:
    """Manage Prefect Cloud API keys and tenants (Prefect Cloud only)."""


@auth.command(hidden=True)
@click.option("--key", "-k", help="A Prefect Cloud API key.")
def login(key: str | None) -> None:
    """
    Log in to Prefect Cloud with an API key. The key is checked and then stored in
    ``~/.prefect/auth.toml`` for later commands.
    """
    _require_cloud()
    if not key:
        raise click.ClickException("You must supply an API key with `--key`.")
    client = _client(api_key=key)
    try:
        client._tenant_id = client._get_auth_tenant()
    except Exception as exc:
        raise click.ClickException(
            f"Unable to authenticate with the key: {error_text(exc)}"
        ) from None
    client.save_auth_to_disk()
    click.secho("Logged in to Prefect Cloud", fg="green")


@auth.command(hidden=True)
@click.option("--token", "-t", is_flag=True, help="Log out of legacy token authentication.")
def logout(token: bool) -> None:
    """Log out of Prefect Cloud: forget the stored API key."""
    _require_cloud()
    client = _client()
    if not client.api_key:
        raise click.ClickException("You are not logged in to Prefect Cloud.")
    client.api_key = None
    client._tenant_id = None
    client.save_auth_to_disk()
    click.secho("Logged out of Prefect Cloud", fg="green")


@auth.command()
def purge_tokens() -> None:
    """Remove the legacy API token directory (``~/.prefect/client``)."""
    import shutil

    import prefect

    path = Path(str(prefect.config.home_dir)).expanduser() / "client"
    if path.exists():
        shutil.rmtree(path)
        click.secho("Removed legacy API tokens", fg="green")
    else:
        click.echo("No legacy API tokens to remove")


@auth.command(hidden=True)
def list_tenants() -> None:
    """List the tenants your API key can reach."""
    _require_cloud()
    from tabulate import tabulate

    tenants = _client().get_available_tenants()
    rows = [[t.name, t.slug, t.id] for t in tenants]
    click.echo(tabulate(rows, headers=["NAME", "SLUG", "ID"], tablefmt="plain"))


@auth.command(hidden=True)
@click.option("--id", "-i", help="A tenant id", hidden=True)
@click.option("--slug", "-s", help="A tenant slug", hidden=True)
@click.option("--default", "-d", is_flag=True, help="Switch to the key's default tenant.")
def switch_tenants(id: str | None, slug: str | None, default: bool) -> None:
    """Switch the active tenant."""
    _require_cloud()
    client = _client()
    try:
        if default:
            client._tenant_id = client._get_auth_tenant()
        else:
            client.switch_tenant(tenant_slug=slug, tenant_id=id)
    except Exception as exc:
        raise click.ClickException(f"Unable to switch tenant: {error_text(exc)}") from None
    client.save_auth_to_disk()
    click.secho(f"Tenant switched to {client.tenant_id}", fg="green")


@auth.command(hidden=True)
@click.option("--name", "-n", required=True, help="A name for the key.")
@click.option("--expire", "-e", default=None, help="Expiry time (dateutil-parsable).")
@click.option("--quiet", "-q", is_flag=True, help="Print only the new key.")
def create_key(name: str, expire: str | None, quiet: bool) -> None:
    """Create an API key for the current user."""
    _require_cloud()
    from prefect.utilities.graphql import with_args

    client = _client()
    user = client.graphql({"query": {"auth_info": {"user_id"}}}).data.auth_info.user_id
    inputs: dict[str, Any] = {"user_id": user, "name": name}
    if expire:
        import pendulum

        inputs["expires_at"] = pendulum.parse(expire, strict=False).isoformat()  # type: ignore[union-attr]
    result = client.graphql({"mutation": {with_args("create_api_key", {"input": inputs}): {"key"}}})
    key = result.data.create_api_key.key
    click.echo(key if quiet else f"Created API key {name!r}:\n{key}")


@auth.command(hidden=True)
def list_keys() -> None:
    """List the API keys of the current tenant."""
    _require_cloud()
    from tabulate import tabulate

    result = _client().graphql(
        {"query": {"auth_api_key": {"id": True, "name": True, "expires_at": True}}}
    )
    rows = [[k.name, k.id, k.expires_at or "NEVER"] for k in result.data.auth_api_key]
    click.echo(tabulate(rows, headers=["NAME", "ID", "EXPIRES AT"], tablefmt="plain"))


@auth.command(hidden=True)
@click.option("--id", "-i", required=True, help="The id of the key to revoke.")
def revoke_key(id: str) -> None:
    """Revoke an API key."""
    _require_cloud()
    from prefect.utilities.graphql import with_args

    result = _client().graphql(
        {"mutation": {with_args("delete_api_key", {"input": {"key_id": id}}): {"success"}}}
    )
    if not result.data.delete_api_key.success:
        raise click.ClickException(f"Unable to revoke key {id!r}")
    click.secho("Key successfully revoked!", fg="green")


@auth.command(hidden=True)
def status() -> None:
    """Show the current authentication state."""
    _require_cloud()
    client = _client()
    if not client.api_key:
        click.echo("You are not logged in to Prefect Cloud. Use `prefect auth login`.")
        return
    click.echo(f"You are logged in to Prefect Cloud at {client.api_server} with an API key.")
    try:
        click.echo(f"Your current tenant id is {client.tenant_id}")
    except Exception as exc:
        click.secho(f"The tenant could not be determined: {error_text(exc)}", fg="yellow")
