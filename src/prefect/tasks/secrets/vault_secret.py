"""`VaultSecret`: a secret task that reads a HashiCorp Vault KV (version 2) secret.

Needs the `vault` extra (`pip install "prefect[vault]"`, which installs `hvac`).
"""

from __future__ import annotations

import os
from typing import Any

from prefect.tasks.secrets.base import PrefectSecret, SecretBase

try:
    import hvac
except ImportError:  # the `vault` extra is not installed; `run` says how to install it
    hvac = None

__all__ = ["VaultSecret"]

_KUBERNETES_TOKEN_PATH = "/var/run/secrets/kubernetes.io/serviceaccount/token"


def _vault_address() -> str:
    address = os.environ.get("VAULT_ADDR")
    if not address:
        try:
            address = PrefectSecret("VAULT_ADDR").run()
        except ValueError:
            address = None
    if not address:
        raise ValueError(
            "No Vault address: set the VAULT_ADDR environment variable or a VAULT_ADDR "
            "secret (PREFECT__CONTEXT__SECRETS__VAULT_ADDR)."
        )
    return str(address)


def _authenticate(client: Any, credentials: Any, secret_name: str) -> None:
    """Log `client` in with token, AppRole or Kubernetes credentials."""
    if not isinstance(credentials, dict):
        raise ValueError(
            f"The Vault credentials secret {secret_name!r} must be a mapping with "
            "VAULT_TOKEN, VAULT_ROLE_ID and VAULT_SECRET_ID, or VAULT_KUBE_AUTH_ROLE."
        )
    if "VAULT_TOKEN" in credentials:
        client.token = credentials["VAULT_TOKEN"]
    elif "VAULT_ROLE_ID" in credentials and "VAULT_SECRET_ID" in credentials:
        client.auth.approle.login(
            role_id=credentials["VAULT_ROLE_ID"], secret_id=credentials["VAULT_SECRET_ID"]
        )
    elif "VAULT_KUBE_AUTH_ROLE" in credentials:
        with open(_KUBERNETES_TOKEN_PATH, encoding="utf-8") as f:
            jwt = f.read()
        client.auth.kubernetes.login(
            role=credentials["VAULT_KUBE_AUTH_ROLE"],
            jwt=jwt,
            mount_point=credentials.get("VAULT_KUBE_AUTH_PATH", "kubernetes"),
        )
    else:
        raise ValueError(
            f"The Vault credentials secret {secret_name!r} holds no supported method: give "
            "VAULT_TOKEN, VAULT_ROLE_ID and VAULT_SECRET_ID, or VAULT_KUBE_AUTH_ROLE."
        )


class VaultSecret(SecretBase):
    """A task that returns a secret stored in HashiCorp Vault's KV (version 2) engine.

    The Vault address comes from the `VAULT_ADDR` environment variable (or a `VAULT_ADDR`
    Prefect secret); the credentials from a Prefect secret holding a mapping with one of:
    `VAULT_TOKEN`; `VAULT_ROLE_ID` and `VAULT_SECRET_ID` (AppRole); `VAULT_KUBE_AUTH_ROLE` and
    optionally `VAULT_KUBE_AUTH_PATH` (Kubernetes service-account login).

    Args:
        name: the secret's path, `"<mount point>/<path>"` (also the task's name).
        vault_credentials_secret: the Prefect secret with the credentials (default
            `"VAULT_CREDENTIALS"`).
        **kwargs: passed to `Task`.
    """

    def __init__(
        self, name: str, vault_credentials_secret: str | None = None, **kwargs: Any
    ) -> None:
        kwargs["name"] = name
        super().__init__(**kwargs)
        self.vault_credentials_secret = vault_credentials_secret or "VAULT_CREDENTIALS"

    def run(self, name: str | None = None) -> Any:
        """Read the secret from Vault.

        Args:
            name: the secret's path, `"<mount point>/<path>"`; defaults to the task's name.

        Returns:
            the secret's key/value mapping.

        Raises:
            ImportError: without the `vault` extra.
            ValueError: for a path without a mount point, missing address or credentials, or
                failed authentication.
        """
        if hvac is None:
            raise ImportError(
                'VaultSecret needs the `vault` extra: pip install "prefect[vault]" (hvac).'
            )
        path = name if name is not None else self.name
        mount_point, _, secret_path = path.partition("/")
        if not mount_point or not secret_path:
            raise ValueError(
                f"Vault secret name {path!r} must be '<mount point>/<path>', e.g. "
                "'secret/my-app/db'."
            )
        client = hvac.Client(url=_vault_address())
        credentials = PrefectSecret(self.vault_credentials_secret).run()
        _authenticate(client, credentials, self.vault_credentials_secret)
        if not client.is_authenticated():
            raise ValueError(f"Vault authentication failed for secret {path!r}.")
        response = client.secrets.kv.v2.read_secret_version(
            path=secret_path, mount_point=mount_point
        )
        return response["data"]["data"]
