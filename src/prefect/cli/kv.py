"""`prefect kv set|get|delete|list`: the Prefect Cloud key-value store.

The store exists only in Prefect Cloud. With the ``server`` backend every command refuses with
the 1.4.1 message (`prefect.backend.kv_store.NON_CLOUD_BACKEND_ERROR_MESSAGE`) and exit status 1.
"""

from __future__ import annotations

from typing import Any

import click

from prefect.backend.kv_store import NON_CLOUD_BACKEND_ERROR_MESSAGE
from prefect.cli._common import backend_is_cloud, error_text

__all__ = ["NON_CLOUD_BACKEND_ERROR_MESSAGE", "kv"]


def _require_cloud() -> None:
    if not backend_is_cloud():
        raise click.ClickException(NON_CLOUD_BACKEND_ERROR_MESSAGE)


def _kv_store() -> Any:
    from prefect.backend import kv_store

    return kv_store


@click.group()
def kv() -> None:
    """Read and write the key-value store (Prefect Cloud only)."""


@kv.command(name="set")
@click.argument("key")
@click.argument("value")
def set_command(key: str, value: str) -> None:
    """Store VALUE under KEY (replacing any value stored there)."""
    _require_cloud()
    try:
        _kv_store().set_key_value(key=key, value=value)
    except Exception as exc:
        raise click.ClickException(
            f"An error occurred setting the key value pair: {error_text(exc)}"
        ) from None
    click.secho("Key value pair set successfully", fg="green")


@kv.command(name="get")
@click.argument("key")
def get_command(key: str) -> None:
    """Print the value stored under KEY."""
    _require_cloud()
    try:
        result = _kv_store().get_key_value(key=key)
    except Exception as exc:
        raise click.ClickException(
            f"Error retrieving value for key {key!r}: {error_text(exc)}"
        ) from None
    click.secho(f"Key {key!r} has value {result!r}", fg="green")


@kv.command(name="delete")
@click.argument("key")
def delete_command(key: str) -> None:
    """Delete KEY and its value."""
    _require_cloud()
    try:
        _kv_store().delete_key(key=key)
    except Exception as exc:
        raise click.ClickException(
            f"An error occurred deleting the key: {error_text(exc)}"
        ) from None
    click.secho(f"Key {key!r} has been deleted", fg="green")


@kv.command(name="list")
def list_command() -> None:
    """List the stored keys."""
    _require_cloud()
    try:
        result = _kv_store().list_keys()
    except Exception as exc:
        raise click.ClickException(
            f"An error occurred when listing keys: {error_text(exc)}"
        ) from None
    if result:
        click.secho("\n".join(result), fg="green")
    else:
        click.secho("No keys found", fg="yellow")
