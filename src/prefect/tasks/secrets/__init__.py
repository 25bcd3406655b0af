"""Secret tasks: tasks whose result is a secret value, never persisted by a result.

`PrefectSecret` reads Prefect secrets (local context or backend, see
`prefect.client.secrets.Secret`), `EnvVarSecret` environment variables; subclass `SecretBase`
to read another secret store. `VaultSecret` (`prefect.tasks.secrets.vault_secret`, the
`vault` extra) reads HashiCorp Vault.
"""

from prefect.tasks.secrets.base import PrefectSecret, SecretBase
from prefect.tasks.secrets.env_var import EnvVarSecret

__all__ = ["EnvVarSecret", "PrefectSecret", "SecretBase"]
