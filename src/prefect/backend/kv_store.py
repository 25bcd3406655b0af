"""The key-value store of Prefect Cloud: `set_key_value`, `get_key_value`, `delete_key`,
`list_keys`.

Prefect Server has no KV store; with ``backend = "server"`` every function raises `ClientError`
before any request is sent.
"""

from __future__ import annotations

from typing import Any, List

from prefect.exceptions import ClientError
from prefect.utilities.graphql import with_args

__all__ = [
    "NON_CLOUD_BACKEND_ERROR_MESSAGE",
    "delete_key",
    "get_key_value",
    "list_keys",
    "set_key_value",
]

NON_CLOUD_BACKEND_ERROR_MESSAGE = (
    "KV Store operations are only supported while using Prefect Cloud as a backend."
)


def _cloud_client() -> Any:
    import prefect

    config = prefect.context.get("config") or prefect.config
    if config.backend != "cloud":
        raise ClientError(NON_CLOUD_BACKEND_ERROR_MESSAGE)
    return prefect.Client()


def set_key_value(key: str, value: Any) -> str:
    """Store ``value`` (any JSON value) under ``key``.

    Args:
        key: the key.
        value: the value.

    Returns:
        the id of the key-value entry.

    Raises:
        ClientError: the backend is not Prefect Cloud.
    """
    client = _cloud_client()
    mutation = {"mutation($input: set_key_value_input!)": {"set_key_value(input: $input)": {"id"}}}
    result = client.graphql(mutation, variables=dict(input=dict(key=key, value=value)))
    return str(result.data.set_key_value.id)


def get_key_value(key: str) -> Any:
    """The value stored under ``key``.

    Raises:
        ClientError: the backend is not Prefect Cloud.
        ValueError: nothing is stored under ``key``.
    """
    client = _cloud_client()
    query = {"query": {with_args("key_value", {"where": {"key": {"_eq": key}}}): {"value"}}}
    entries = client.graphql(query).data.key_value
    if not entries:
        raise ValueError(f"No value found for key: {key}")
    return entries[0].value


def delete_key(key: str) -> bool:
    """Remove ``key`` and its value.

    Returns:
        whether the backend reports success.

    Raises:
        ClientError: the backend is not Prefect Cloud.
        ValueError: there is no such key.
    """
    client = _cloud_client()
    query = {"query": {with_args("key_value", {"where": {"key": {"_eq": key}}}): {"id"}}}
    entries = client.graphql(query).data.key_value
    if not entries:
        raise ValueError(f"No key {key} found to delete")
    mutation = {
        "mutation($input: delete_key_value_input!)": {
            "delete_key_value(input: $input)": {"success"}
        }
    }
    result = client.graphql(mutation, variables=dict(input=dict(key_value_id=entries[0].id)))
    return bool(result.data.delete_key_value.success)


def list_keys() -> List[str]:
    """Every key in the store, sorted.

    Raises:
        ClientError: the backend is not Prefect Cloud.
    """
    client = _cloud_client()
    entries = client.graphql({"query": {"key_value": {"key"}}}).data.key_value
    return sorted(str(entry["key"]) for entry in entries)
