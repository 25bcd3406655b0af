"""`Secret`: a named secret value, read from the local context or from the backend.

Where a secret's value comes from:

1. ``prefect.context.secrets[name]``, always first. Local secrets get there from environment
   variables ``PREFECT__CONTEXT__SECRETS__<NAME>`` (the name keeps its case), a
   ``[context.secrets]`` table in the user config, or ``prefect.context(secrets={...})``.
2. Otherwise, only with ``config.backend == "cloud"`` and ``config.cloud.use_local_secrets``
   false (how an agent starts Cloud flow runs), the backend's ``secret_value`` query.
3. Otherwise the secret is missing and `Secret.get` raises ``ValueError``.

Text values holding JSON are decoded (``'{"a": 1}'`` gives a dict); anything else is returned
as it is.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Optional

import prefect
from prefect.exceptions import ClientError

if TYPE_CHECKING:
    from prefect.client.client import Client

__all__ = ["Secret"]

_SECRET_VALUE_QUERY = """
query($name: String!) {
    secret_value(name: $name)
}
"""
# The 1.x client sends this document as written (server-protocol.md, section 1.2).
_SECRET_NAMES_QUERY = "query{secret_names}"
# The backend's error text for an unknown secret (server-protocol.md, section 1.5).
_NOT_FOUND_TEXT = "No value found for the requested key"


def __getattr__(name: str) -> Any:
    # `Client` is bound on first use (the client module loads requests), yet exists as a
    # module attribute so callers can patch `prefect.client.secrets.Client`.
    if name == "Client":
        from prefect.client.client import Client

        return Client
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _is_genuine_client(candidate: Any) -> bool:
    return (
        isinstance(candidate, type)
        and candidate.__module__ == "prefect.client.client"
        and candidate.__qualname__ == "Client"
    )


def _client_class() -> Any:
    """The `Client` class to use now.

    Read at call time, so a replacement put in any of the places users and tests patch
    (``prefect.client.secrets.Client``, ``prefect.client.client.Client``,
    ``prefect.client.Client``, ``prefect.Client``) is the one used.
    """
    client_module = sys.modules.get("prefect.client.client")
    client_package = sys.modules.get("prefect.client")
    candidates = [
        globals().get("Client"),
        vars(client_module).get("Client") if client_module is not None else None,
        vars(client_package).get("Client") if client_package is not None else None,
        vars(prefect).get("Client"),
    ]
    for candidate in candidates:
        if candidate is not None and not _is_genuine_client(candidate):
            return candidate
    from prefect.client.client import Client

    return Client


def _use_backend_secrets() -> bool:
    """Whether missing local secrets are looked up on the backend (Cloud, local secrets off)."""
    if prefect.config.backend != "cloud":
        return False
    config = prefect.context.get("config") or prefect.config
    return config.cloud.use_local_secrets is False


def _plain(value: Any) -> Any:
    """A GraphQL result (a `box.Box`) as plain dicts and lists."""
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    return value


def _decode(value: Any) -> Any:
    """JSON text decoded; config tables as plain dicts and lists; other values unchanged."""
    if not isinstance(value, (str, bytes, bytearray)):
        # Secrets set through the config (env vars, `[context.secrets]`) arrive as boxes.
        to_plain = None
        if isinstance(value, dict):
            to_plain = getattr(value, "to_dict", None)
        elif isinstance(value, list):
            to_plain = getattr(value, "to_list", None)
        return to_plain() if callable(to_plain) else value
    try:
        return json.loads(value, object_pairs_hook=dict)
    except ValueError:  # json.JSONDecodeError and undecodable bytes
        return value


class Secret:
    """A secret value known by name.

    Args:
        name: the secret's name (case-sensitive).
    """

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<Secret: {self.name!r}>"

    @property
    def client(self) -> Client:
        """A `prefect.Client` for backend lookups, created on first use."""
        client = self.__dict__.get("_client")
        if client is None:
            client = _client_class()()
            self._client = client
        return client  # type: ignore[no-any-return]

    def exists(self) -> bool:
        """Whether the secret has a value where `get` would look.

        Returns:
            true if the name is in ``prefect.context.secrets``, or (Cloud backend with local
            secrets off) among the backend's secret names.
        """
        secrets = prefect.context.get("secrets") or {}
        if self.name in secrets:
            return True
        if _use_backend_secrets():
            result = _plain(self.client.graphql(_SECRET_NAMES_QUERY))
            names = ((result or {}).get("data") or {}).get("secret_names") or []
            return self.name in names
        return False

    def get(self) -> Optional[Any]:
        """The secret's value.

        Returns:
            the value, JSON-decoded when it is JSON text.

        Raises:
            ValueError: when called while a flow is being built (secrets belong to runs), or
                when the secret is not in ``prefect.context.secrets`` and is not to be read
                from the backend.
            KeyError: when the backend has no secret of this name.
            ClientError: for other backend errors.
        """
        from prefect.core.flow import Flow

        if isinstance(prefect.context.get("flow"), Flow):
            raise ValueError(
                f"Secret {self.name!r} was read while a flow was being built: secrets should "
                "only be retrieved during a flow run, so use a secret task "
                "(`prefect.tasks.secrets.PrefectSecret`) in the flow instead."
            )
        secrets = prefect.context.get("secrets") or {}
        if isinstance(secrets, Mapping) and self.name in secrets:
            return _decode(secrets[self.name])
        if not _use_backend_secrets():
            raise ValueError(
                f'Local Secret "{self.name}" was not found. Set it with the environment '
                f"variable PREFECT__CONTEXT__SECRETS__{self.name}=<value>, in a "
                "[context.secrets] table of your user config, or with "
                "`prefect.context(secrets={...})`."
            )
        try:
            result = self.client.graphql(_SECRET_VALUE_QUERY, variables={"name": self.name})
        except ClientError as exc:
            if _NOT_FOUND_TEXT in str(exc):
                raise KeyError(f"The secret {self.name} was not found") from exc
            raise
        return _decode(_plain(result)["data"]["secret_value"])
