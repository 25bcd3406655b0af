"""`prefect server`: option handling of start/up, stop, create-tenant, database and config.

`serve()` is replaced by a recorder here; tests/server/test_serve.py starts real processes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest
from click.testing import CliRunner

import prefect
from prefect.cli import cli
from prefect.cli import server as server_cli


@pytest.fixture
def served(monkeypatch) -> list[dict[str, Any]]:
    """Calls of `prefect.server._serve.serve` made by the command (it returns 0 at once)."""
    from prefect.server import _serve

    calls: list[dict[str, Any]] = []

    def fake_serve(**kwargs: Any) -> int:
        calls.append(kwargs)
        return 0

    monkeypatch.setattr(_serve, "serve", fake_serve)
    return calls


def _invoke(*args: str, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def test_start_serves_on_the_configured_address_and_database(served):
    result = _invoke("server", "start", "--no-ui")

    assert result.exit_code == 0, result.output
    assert len(served) == 1
    call = served[0]
    assert call["host"] == "127.0.0.1"
    assert call["port"] == 4200
    assert call["database_url"] == prefect.config.server.database.connection_url
    assert call["upgrade"] is True
    assert call["pid_file"] is None
    assert result.output.splitlines() == [
        f"Starting Prefect Server on database {prefect.config.server.database.connection_url}",
        "Prefect Server stopped.",
    ]


def test_up_is_the_same_command_as_start(served):
    result = _invoke("server", "up", "--no-ui", "--server-port", "4321")

    assert result.exit_code == 0, result.output
    assert served[0]["port"] == 4321
    assert server_cli.server.get_command(None, "up") is server_cli.server.get_command(None, "start")


def test_graphql_port_is_an_alias_of_server_port(served):
    result = _invoke("server", "start", "--no-ui", "--graphql-port", "4999")

    assert result.exit_code == 0, result.output
    assert served[0]["port"] == 4999


def test_server_host_port_from_config_moves_the_server(served, monkeypatch):
    monkeypatch.setitem(prefect.config.server, "host_port", 4555)

    result = _invoke("server", "start", "--no-ui")

    assert served[0]["port"] == 4555, result.output


def test_expose_binds_every_interface(served):
    _invoke("server", "start", "--no-ui", "--expose")

    assert served[0]["host"] == "0.0.0.0"


def test_no_upgrade_skips_the_migrations(served):
    _invoke("server", "start", "--no-ui", "-n")

    assert served[0]["upgrade"] is False


@pytest.mark.parametrize(
    "args",
    [
        ["--database-url", "postgresql://u:p@db:5432/prefect"],
        ["--postgres-url", "postgresql://u:p@db:5432/prefect"],
        ["--external-postgres", "--postgres-url", "postgresql://u:p@db:5432/prefect"],
        ["-ep", "--postgres-url", "postgresql://u:p@db:5432/prefect"],
        ["--external-postgres", "postgresql://u:p@db:5432/prefect"],
    ],
)
def test_database_url_and_its_1x_aliases(served, args):
    result = _invoke("server", "start", "--no-ui", *args)

    assert result.exit_code == 0, result.output
    assert served[0]["database_url"] == "postgresql://u:p@db:5432/prefect"
    # The password never reaches the terminal.
    assert "Starting Prefect Server on database postgresql://u:***@db:5432/prefect" in (
        result.output
    )


def test_external_postgres_without_a_postgres_url_is_refused(served):
    result = CliRunner().invoke(cli, ["server", "start", "--no-ui", "--external-postgres"])

    assert result.exit_code == 2
    assert "--external-postgres needs a PostgreSQL URL" in result.output
    assert served == []


def test_external_postgres_flag_uses_a_postgresql_url_from_config(served, monkeypatch):
    url = "postgresql://prefect@localhost:5432/prefect_server"
    monkeypatch.setitem(prefect.config.server.database, "connection_url", url)

    result = _invoke("server", "start", "--no-ui", "--external-postgres")

    assert result.exit_code == 0, result.output
    assert served[0]["database_url"] == url


def test_ui_notice_is_printed_unless_no_ui(served):
    with_ui = _invoke("server", "start", "--ui-port", "8181")
    without_ui = _invoke("server", "start", "--no-ui")

    assert (
        with_ui.output.splitlines()[0]
        == "The UI is not available yet (port 8181 stays free); serving the API only."
    )
    assert "UI" not in without_ui.output


def test_docker_only_options_are_accepted_with_one_notice(served):
    result = _invoke(
        "server",
        "start",
        "--no-ui",
        "--version",
        "core-1.4.1",
        "--ui-version",
        "x",
        "--postgres-port",
        "5433",
        "--hasura-port",
        "3001",
        "--use-volume",
        "--volume-path",
        "/tmp/pg",
        "--skip-pull",
        "--no-postgres-port",
        "--no-hasura-port",
        "--no-graphql-port",
        "--no-ui-port",
        "--no-server-port",
        "--hide-welcome",
    )

    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "Ignoring --version, --ui-version, --postgres-port, --hasura-port, --volume-path, "
        "--no-postgres-port, --no-hasura-port, --no-graphql-port, --no-ui-port, "
        "--no-server-port, --use-volume, --skip-pull: these configure the Docker containers "
        "of Prefect 1.x's server, and this server runs without Docker.",
        "Prefect Server stopped.",
    ]
    assert len(served) == 1


def test_start_exits_with_the_code_of_serve(monkeypatch):
    from prefect.server import _serve

    monkeypatch.setattr(_serve, "serve", lambda **kwargs: 1)

    result = CliRunner().invoke(cli, ["server", "start", "--no-ui"])

    assert result.exit_code == 1
    assert "Prefect Server stopped." not in result.output


def test_stop_without_a_pid_file_says_so():
    result = CliRunner().invoke(cli, ["server", "stop"])

    assert result.exit_code == 1
    assert result.output == (
        f"Error: No detached server found (no pid file at {server_cli.pid_file_path()}); "
        "a server started in the foreground stops with Ctrl-C.\n"
    )


def test_stop_removes_a_stale_pid_file():
    # A finished child: its pid is not a running server any more.
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], check=True,
                          capture_output=True, text=True)  # fmt: skip
    path = server_cli.pid_file_path()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as file:
        file.write(done.stdout)

    result = CliRunner().invoke(cli, ["server", "stop"])

    assert result.exit_code == 1
    assert "stale pid file" in result.output
    assert not os.path.exists(path)


def test_stop_does_not_signal_a_process_that_is_not_a_server():
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        path = server_cli.pid_file_path()
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as file:
            file.write(str(sleeper.pid))

        result = CliRunner().invoke(cli, ["server", "stop"])

        assert result.exit_code == 1
        assert sleeper.poll() is None
    finally:
        sleeper.kill()
        sleeper.wait()


def test_pid_file_lives_in_the_home_dir(monkeypatch, tmp_path):
    monkeypatch.setitem(prefect.config, "home_dir", str(tmp_path / "h"))

    assert server_cli.pid_file_path() == str(tmp_path / "h" / "server.pid")


def test_create_tenant_without_a_server_fails_fast(monkeypatch):
    monkeypatch.setitem(prefect.config.server, "endpoint", "http://127.0.0.1:9")
    monkeypatch.setitem(prefect.config.cloud, "api", "http://127.0.0.1:9")

    result = CliRunner().invoke(cli, ["server", "create-tenant", "-n", "team"])

    assert result.exit_code == 1
    assert result.output == (
        "Error: Could not reach the server at http://127.0.0.1:9; start it with "
        "`prefect server start`.\n"
    )


def test_create_tenant_prints_the_new_id(monkeypatch):
    calls = []

    def fake_create_tenant(self, name, slug=None):
        calls.append((name, slug))
        return "11111111-2222-3333-4444-555555555555"

    monkeypatch.setattr(prefect.Client, "create_tenant", fake_create_tenant)
    monkeypatch.setattr(server_cli, "_reachable", lambda api: True)

    result = CliRunner().invoke(cli, ["server", "create-tenant", "-n", "Team A", "-s", "team-a"])

    assert result.exit_code == 0, result.output
    assert result.output == "Tenant created with ID: 11111111-2222-3333-4444-555555555555\n"
    assert calls == [("Team A", "team-a")]


def test_database_upgrade_and_downgrade(tmp_path):
    url = f"sqlite:///{tmp_path / 'server.db'}"

    upgraded = CliRunner().invoke(cli, ["server", "database", "upgrade", "--database-url", url])
    downgraded = CliRunner().invoke(
        cli, ["server", "database", "downgrade", "--database-url", url, "--revision", "base"]
    )

    assert upgraded.exit_code == 0, upgraded.output
    assert upgraded.output == f"Database {url} is at revision 0001.\n"
    assert downgraded.exit_code == 0, downgraded.output
    assert downgraded.output == f"Database {url} is at revision base (empty).\n"


def test_database_upgrade_defaults_to_the_configured_database(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'configured.db'}"
    monkeypatch.setitem(prefect.config.server.database, "connection_url", url)

    result = CliRunner().invoke(cli, ["server", "database", "upgrade"])

    assert result.exit_code == 0, result.output
    assert (tmp_path / "configured.db").exists()


def test_database_upgrade_to_an_unknown_revision_fails_cleanly(tmp_path):
    url = f"sqlite:///{tmp_path / 'server.db'}"

    result = CliRunner().invoke(
        cli, ["server", "database", "upgrade", "--database-url", url, "--revision", "9999"]
    )

    assert result.exit_code == 1
    assert result.output.startswith(f"Error: Migration of {url} failed: ")


def test_config_explains_there_is_no_compose_file():
    result = _invoke("server", "config", "--use-volume", "--postgres-port", "1")

    assert result.exit_code == 0
    assert result.output.startswith("There is no docker-compose configuration")


def test_prefect_help_does_not_import_the_server():
    code = (
        "import sys; from prefect.cli import cli; "
        "assert not [m for m in sys.modules if m.startswith(('prefect.server', 'sqlalchemy', "
        "'uvicorn', 'starlette'))], sorted(sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)

    assert done.returncode == 0, done.stderr


def test_a_port_other_than_the_clients_is_pointed_out(served):
    result = _invoke("server", "start", "--no-ui", "--server-port", "4300")

    assert result.output.splitlines()[1] == (
        "Note: clients configured like this shell use http://localhost:4200 (server.endpoint); "
        "set PREFECT__SERVER__PORT=4300 for them to reach this server."
    )


def test_no_note_when_the_clients_point_at_the_server(served, monkeypatch):
    monkeypatch.setitem(prefect.config.server, "endpoint", "http://localhost:4300")

    result = _invoke("server", "start", "--no-ui", "--server-port", "4300")

    assert "Note:" not in result.output
