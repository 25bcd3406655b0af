"""`prefect kv` and `prefect auth`: Prefect Cloud only; refused with the server backend."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

import prefect
from prefect.cli import cli
from prefect.cli import kv as kv_cli


@pytest.fixture
def server_backend(monkeypatch):
    monkeypatch.setitem(prefect.config, "backend", "server")


def test_the_message_is_the_1_4_1_one():
    from prefect.backend import kv_store

    assert kv_cli.NON_CLOUD_BACKEND_ERROR_MESSAGE == kv_store.NON_CLOUD_BACKEND_ERROR_MESSAGE
    assert kv_cli.NON_CLOUD_BACKEND_ERROR_MESSAGE == (
        "KV Store operations are only supported while using Prefect Cloud as a backend."
    )


@pytest.mark.parametrize("args", [["set", "k", "v"], ["get", "k"], ["delete", "k"], ["list"]])
def test_kv_commands_refuse_with_the_server_backend(server_backend, args):
    result = CliRunner().invoke(cli, ["kv", *args])

    assert result.exit_code == 1
    assert result.output == (
        "Error: KV Store operations are only supported while using Prefect Cloud as a backend.\n"
    )


@pytest.mark.parametrize(
    "args",
    [
        ["login", "--key", "abc"],
        ["logout"],
        ["list-tenants"],
        ["switch-tenants", "--slug", "x"],
        ["create-key", "-n", "k"],
        ["list-keys"],
        ["revoke-key", "-i", "x"],
        ["status"],
    ],
)
def test_auth_commands_refuse_with_the_server_backend(server_backend, args):
    result = CliRunner().invoke(cli, ["auth", *args])

    assert result.exit_code == 1
    assert result.output.startswith(
        "Error: Authentication is only supported while using Prefect Cloud as a backend"
    )
    assert len(result.output.splitlines()) == 1


@pytest.mark.parametrize("group", ["kv", "auth"])
def test_help_works_with_the_server_backend(server_backend, group):
    result = CliRunner().invoke(cli, [group, "--help"], prog_name="prefect")

    assert result.exit_code == 0
    assert result.output.startswith(f"Usage: prefect {group} [OPTIONS] COMMAND [ARGS]...")


def test_kv_subcommand_help_works_with_the_server_backend(server_backend):
    result = CliRunner().invoke(cli, ["kv", "set", "--help"])

    assert result.exit_code == 0
    assert "KEY VALUE" in result.output.splitlines()[0]


def test_kv_list_uses_the_store_with_the_cloud_backend(monkeypatch):
    from prefect.backend import kv_store

    monkeypatch.setitem(prefect.config, "backend", "cloud")
    monkeypatch.setattr(kv_store, "list_keys", lambda: ["a", "b"])

    result = CliRunner().invoke(cli, ["kv", "list"])

    assert result.exit_code == 0
    assert result.output == "a\nb\n"
