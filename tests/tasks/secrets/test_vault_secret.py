from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

import prefect
from prefect.engine.results import SecretResult
from prefect.tasks.secrets import vault_secret
from prefect.tasks.secrets.vault_secret import VaultSecret


class FakeVault:
    """Stands in for `hvac.Client`: records logins and serves one KV v2 secret."""

    created: list[FakeVault] = []

    def __init__(self, url: str) -> None:
        self.url = url
        self.token: str | None = None
        self.logins: list[tuple[str, dict]] = []
        self.reads: list[dict] = []
        FakeVault.created.append(self)
        self.auth = SimpleNamespace(
            approle=SimpleNamespace(login=lambda **kw: self._login("approle", kw)),
            kubernetes=SimpleNamespace(login=lambda **kw: self._login("kubernetes", kw)),
        )
        self.secrets = SimpleNamespace(
            kv=SimpleNamespace(v2=SimpleNamespace(read_secret_version=self._read))
        )

    def _login(self, method: str, kwargs: dict) -> None:
        self.logins.append((method, kwargs))
        self.token = "from-login"

    def _read(self, path: str, mount_point: str) -> dict[str, Any]:
        self.reads.append({"path": path, "mount_point": mount_point})
        return {"data": {"data": {"password": "hunter2"}, "metadata": {}}}

    def is_authenticated(self) -> bool:
        return self.token is not None


@pytest.fixture
def fake_hvac(monkeypatch):
    monkeypatch.setattr(FakeVault, "created", [])
    monkeypatch.setattr(vault_secret, "hvac", SimpleNamespace(Client=FakeVault))
    monkeypatch.setenv("VAULT_ADDR", "http://vault.test:8200")
    return FakeVault


def test_is_a_secret_task():
    secret = VaultSecret("secret/app/db")
    assert secret.name == "secret/app/db"
    assert secret.vault_credentials_secret == "VAULT_CREDENTIALS"
    assert isinstance(secret.result, SecretResult)


def test_token_login_reads_the_kv2_secret(fake_hvac):
    with prefect.context(secrets={"VAULT_CREDENTIALS": {"VAULT_TOKEN": "t"}}):
        assert VaultSecret("secret/app/db").run() == {"password": "hunter2"}
    [client] = fake_hvac.created
    assert client.url == "http://vault.test:8200"
    assert client.token == "t"
    assert client.reads == [{"path": "app/db", "mount_point": "secret"}]


def test_approle_login_and_custom_credentials_secret(fake_hvac):
    creds = {"VAULT_ROLE_ID": "r", "VAULT_SECRET_ID": "s"}
    with prefect.context(secrets={"MY_CREDS": creds}):
        VaultSecret("kv/x", vault_credentials_secret="MY_CREDS").run()
    [client] = fake_hvac.created
    assert client.logins == [("approle", {"role_id": "r", "secret_id": "s"})]


def test_address_may_come_from_a_secret(fake_hvac, monkeypatch):
    monkeypatch.delenv("VAULT_ADDR")
    secrets = {"VAULT_ADDR": "http://from-secret", "VAULT_CREDENTIALS": {"VAULT_TOKEN": "t"}}
    with prefect.context(secrets=secrets):
        VaultSecret("kv/x").run()
    assert fake_hvac.created[0].url == "http://from-secret"


def test_missing_address_is_reported(fake_hvac, monkeypatch):
    monkeypatch.delenv("VAULT_ADDR")
    with prefect.context(secrets={"VAULT_CREDENTIALS": {"VAULT_TOKEN": "t"}}):
        with pytest.raises(ValueError, match="VAULT_ADDR"):
            VaultSecret("kv/x").run()


def test_unsupported_credentials_are_reported(fake_hvac):
    with prefect.context(secrets={"VAULT_CREDENTIALS": {"USER": "u"}}):
        with pytest.raises(ValueError, match="no supported method"):
            VaultSecret("kv/x").run()


def test_name_needs_a_mount_point(fake_hvac):
    with pytest.raises(ValueError, match="<mount point>/<path>"):
        VaultSecret("just-a-name").run()


def test_without_hvac_the_extra_is_named(monkeypatch):
    monkeypatch.setattr(vault_secret, "hvac", None)
    with pytest.raises(ImportError, match=r"prefect\[vault\]"):
        VaultSecret("kv/x").run()
