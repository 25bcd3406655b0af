"""`prefect server`: run and manage the orchestration server in one local process.

Prefect 1.4.1 ran the server as Docker containers; ours is one Python process on SQLite or
PostgreSQL. The 1.4.1 options keep their names where they still mean something (`--no-ui`,
`--ui-port`, `--server-port`/`--graphql-port`, `--detach`, `--no-upgrade`, `--expose`, and
`--postgres-url`/`--external-postgres` as aliases of our `--database-url`); the Docker-only ones
are accepted with a one-line notice. This module imports click alone, so `prefect --help` stays
fast: the server is imported when a command runs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

import click

__all__ = ["server"]

# Options of 1.4.1's `prefect server start`/`config` that configure Docker containers and images.
_DOCKER_FLAGS = (
    ("--no-postgres-port", "no_postgres_port"),
    ("--no-hasura-port", "no_hasura_port"),
    ("--no-graphql-port", "no_graphql_port"),
    ("--no-ui-port", "no_ui_port"),
    ("--no-server-port", "no_server_port"),
    ("--use-volume", "use_volume"),
    ("--skip-pull", "skip_pull"),
)
_DOCKER_VALUES = (
    (("--version", "-v"), "version"),
    (("--ui-version", "-uv"), "ui_version"),
    (("--postgres-port",), "postgres_port"),
    (("--hasura-port",), "hasura_port"),
    (("--volume-path",), "volume_path"),
)


def _config() -> Any:
    import prefect

    return prefect.config


def _home_dir() -> str:
    return os.path.abspath(os.path.expanduser(str(_config().home_dir)))


def pid_file_path() -> str:
    """Where a detached server writes its process id: `${home_dir}/server.pid`."""
    return os.path.join(_home_dir(), "server.pid")


def _docker_options(func: Any) -> Any:
    """Add the accepted-but-ignored Docker options of 1.4.1 to a command."""
    for name, dest in reversed(_DOCKER_FLAGS):
        func = click.option(name, dest, is_flag=True, hidden=True)(func)
    for names, dest in reversed(_DOCKER_VALUES):
        func = click.option(*names, dest, default=None, hidden=True)(func)
    return func


def _docker_notice(params: dict[str, Any]) -> None:
    given = [names[0] for names, dest in _DOCKER_VALUES if params.get(dest) is not None]
    given += [name for name, dest in _DOCKER_FLAGS if params.get(dest)]
    if given:
        click.echo(
            f"Ignoring {', '.join(given)}: these configure the Docker containers of Prefect "
            "1.x's server, and this server runs without Docker."
        )


def _resolve_database_url(
    database_url: str | None, postgres_url: str | None, external_postgres: str | None
) -> str:
    """The database URL from our option, its 1.4.1 aliases, or the configuration."""
    # `--external-postgres` was a flag next to `--postgres-url` in 1.4.1; a value after it is
    # taken as the URL too.
    for given in (database_url, postgres_url, external_postgres or None):
        if given:
            return given
    url = str(_config().server.database.connection_url)
    if external_postgres is not None and not url.startswith("postgres"):
        raise click.UsageError(
            "--external-postgres needs a PostgreSQL URL: pass --postgres-url "
            "postgresql://USER:PASSWORD@HOST:PORT/DB (or set server.database.connection_url)."
        )
    return url


# 1.4.1 hid the group; it is shown here because it is how the server now runs.
@click.group()
def server() -> None:
    """Run and manage a local Prefect Server (one process, SQLite or PostgreSQL)."""


@server.command()
@click.option(
    "--database-url",
    "database_url",
    default=None,
    help="Database URL: sqlite:///PATH or postgresql://USER:PASSWORD@HOST:PORT/DB "
    "(default: config server.database.connection_url).",
)
@click.option("--postgres-url", "postgres_url", default=None, hidden=True)
@click.option(
    "--external-postgres",
    "-ep",
    "external_postgres",
    is_flag=False,
    flag_value="",
    default=None,
    hidden=True,
)
@click.option(
    "--server-port",
    "--graphql-port",
    "server_port",
    type=int,
    default=None,
    help="Port of the API (default: config server.host_port, 4200).",
)
@click.option(
    "--ui-port",
    "ui_port",
    type=int,
    default=None,
    help="Port of the UI (default: config server.ui.host_port, 8080).",
)
@click.option("--no-ui", "-u", "no_ui", is_flag=True, help="Do not serve the UI.")
@click.option(
    "--no-upgrade", "-n", "no_upgrade", is_flag=True, help="Skip the database migrations."
)
@click.option(
    "--expose",
    is_flag=True,
    help="Listen on every interface (0.0.0.0) instead of config server.host_ip (127.0.0.1).",
)
@click.option(
    "--detach",
    "-d",
    is_flag=True,
    help="Run in the background; stop it with `prefect server stop`.",
)
@click.option("--hide-welcome", "hide_welcome", is_flag=True, hidden=True)
@click.option("--pid-file", "pid_file", default=None, hidden=True)
@_docker_options
def start(
    database_url: str | None,
    postgres_url: str | None,
    external_postgres: str | None,
    server_port: int | None,
    ui_port: int | None,
    no_ui: bool,
    no_upgrade: bool,
    expose: bool,
    detach: bool,
    hide_welcome: bool,
    pid_file: str | None,
    **docker: Any,
) -> None:
    """Start the server: the GraphQL API and its services, in this process.

    \b
    Migrates the database first (unless --no-upgrade), then serves on
    http://127.0.0.1:4200 until Ctrl-C. A `default` tenant exists after the first start.
    """
    _docker_notice(docker)
    config = _config()
    url = _resolve_database_url(database_url, postgres_url, external_postgres)
    port = int(server_port if server_port is not None else config.server.host_port)
    host = "0.0.0.0" if expose else str(config.server.host_ip)
    if not no_ui:
        ui = ui_port if ui_port is not None else config.server.ui.host_port
        click.echo(f"The UI is not available yet (port {ui} stays free); serving the API only.")
    if detach:
        _start_detached(url, host, port, no_upgrade)
        return

    from prefect.server._serve import display_url, serve

    if not hide_welcome:
        click.echo(f"Starting Prefect Server on database {display_url(url)}")
        _warn_if_clients_look_elsewhere(config, port)
    try:
        code = serve(
            host=host,
            port=port,
            database_url=url,
            upgrade=not no_upgrade,
            pid_file=pid_file,
            echo=click.echo,
        )
    except KeyboardInterrupt:
        click.echo("Interrupted.")
        code = 130
    if code == 0:
        click.echo("Prefect Server stopped.")
    sys.exit(code)


def _warn_if_clients_look_elsewhere(config: Any, port: int) -> None:
    """Say so when this process's own client settings point at another port."""
    from urllib.parse import urlsplit

    endpoint = str(config.server.endpoint)
    try:
        client_port = urlsplit(endpoint).port
    except ValueError:
        return
    if client_port is not None and client_port != port:
        click.echo(
            f"Note: clients configured like this shell use {endpoint} (server.endpoint); "
            f"set PREFECT__SERVER__PORT={port} for them to reach this server."
        )


# The seed's name for the same command.
server.add_command(start, name="up")


def _read_pid(path: str) -> int | None:
    try:
        with open(path) as file:
            return int(file.read().strip())
    except (OSError, ValueError):
        return None


def _is_server_process(pid: int) -> bool:
    """Whether `pid` is alive and is a `prefect server` process (not a reused pid)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as file:
            argv = file.read().split(b"\0")
    except OSError:
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        return True  # no /proc: trust the pid file
    return b"prefect" in b" ".join(argv) and b"server" in argv


def _answers_hello(port: int, timeout: float = 1.0) -> bool:
    import json
    import urllib.request

    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/",
        data=json.dumps({"query": "query{hello}"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return bool(json.loads(response.read()).get("data", {}).get("hello"))
    except Exception:
        return False


def _start_detached(url: str, host: str, port: int, no_upgrade: bool) -> None:
    path = pid_file_path()
    running = _read_pid(path)
    if running is not None and _is_server_process(running):
        raise click.ClickException(
            f"A detached server is already running (pid {running}); stop it with "
            "`prefect server stop`."
        )
    command = [sys.executable, "-m", "prefect", "server", "start", "--no-ui"]
    command += ["--database-url", url, "--server-port", str(port), "--pid-file", path]
    if host == "0.0.0.0":
        command.append("--expose")
    if no_upgrade:
        command.append("--no-upgrade")
    log_path = os.path.join(_home_dir(), "server.log")
    os.makedirs(os.path.dirname(log_path), exist_ok=True)
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            command,
            # Line by line into the log, not in blocks when the process ends.
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 60
    while not _answers_hello(port):
        if process.poll() is not None:
            raise click.ClickException(
                f"The server exited during start-up (code {process.returncode}); see {log_path}."
            )
        if time.monotonic() > deadline:
            process.terminate()
            raise click.ClickException(f"The server did not answer within 60 s; see {log_path}.")
        time.sleep(0.1)
    click.echo(
        f"Prefect Server is running in the background (pid {process.pid}) on "
        f"http://127.0.0.1:{port}; log: {log_path}."
    )
    click.echo("Stop it with `prefect server stop`.")


@server.command()
@click.option("--timeout", default=15.0, show_default=True, help="Seconds to wait for the exit.")
def stop(timeout: float) -> None:
    """Stop a server started with `prefect server start --detach`."""
    path = pid_file_path()
    pid = _read_pid(path)
    if pid is None:
        raise click.ClickException(
            f"No detached server found (no pid file at {path}); a server started in the "
            "foreground stops with Ctrl-C."
        )
    if not _is_server_process(pid):
        os.remove(path)
        raise click.ClickException(
            f"No server is running with pid {pid} (stale pid file {path}, removed)."
        )
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _is_server_process(pid):
        if time.monotonic() > deadline:
            raise click.ClickException(
                f"The server (pid {pid}) did not stop within {timeout:g} s; "
                f"kill it with `kill -9 {pid}`."
            )
        time.sleep(0.05)
    if os.path.exists(path) and _read_pid(path) == pid:
        os.remove(path)
    click.echo(f"Prefect Server stopped (pid {pid}).")


@server.command(name="create-tenant")
@click.option("--name", "-n", required=True, help="The tenant's name.")
@click.option("--slug", "-s", default=None, help="Its URL slug (default: from the name).")
def create_tenant(name: str, slug: str | None) -> None:
    """Create a tenant on the running server."""
    from prefect import Client
    from prefect.exceptions import ClientError

    client = Client()
    api = str(client.api_server)
    if not _reachable(api):
        raise click.ClickException(
            f"Could not reach the server at {api}; start it with `prefect server start`."
        )
    try:
        tenant_id = client.create_tenant(name=name, slug=slug)
    except (ClientError, ValueError) as exc:
        raise click.ClickException(str(exc))
    click.secho(f"Tenant created with ID: {tenant_id}", fg="green")


def _reachable(api: str) -> bool:
    """Whether something accepts connections at the API URL (fails fast, unlike the client's
    retries on a refused connection)."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(api)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname or "localhost", port), timeout=2):
            return True
    except OSError:
        return False


@server.group()
def database() -> None:
    """Migrate the server's database (Alembic)."""


_DATABASE_URL_OPTION = click.option(
    "--database-url",
    "database_url",
    default=None,
    help="Database URL (default: config server.database.connection_url).",
)


@database.command()
@_DATABASE_URL_OPTION
@click.option("--revision", default="head", show_default=True, help="Revision to migrate to.")
def upgrade(database_url: str | None, revision: str) -> None:
    """Migrate the database up (to the newest revision by default)."""
    _migrate("upgrade", database_url, revision)


@database.command()
@_DATABASE_URL_OPTION
@click.option(
    "--revision",
    default="-1",
    show_default=True,
    help="Revision to migrate to: -1 (one step), base (drop every table) or an id.",
)
def downgrade(database_url: str | None, revision: str) -> None:
    """Migrate the database down (one revision by default)."""
    _migrate("downgrade", database_url, revision)


def _migrate(direction: str, database_url: str | None, revision: str) -> None:
    import asyncio

    from prefect.server._serve import display_url
    from prefect.server.database import migrate
    from prefect.server.database.engine import Database

    url = database_url or str(_config().server.database.connection_url)

    async def run() -> str | None:
        await getattr(migrate, direction)(url, revision)
        db = Database(url)
        try:
            return await migrate.current_revision(db)
        finally:
            await db.dispose()

    try:
        current = asyncio.run(run())
    except Exception as exc:
        raise click.ClickException(f"Migration of {display_url(url)} failed: {exc}")
    click.echo(f"Database {display_url(url)} is at revision {current or 'base (empty)'}.")


@server.command(name="config")
@click.option("--no-upgrade", "-n", "no_upgrade", is_flag=True, hidden=True)
@click.option("--no-ui", "-u", "no_ui", is_flag=True, hidden=True)
@click.option("--external-postgres", "-ep", is_flag=False, flag_value="", hidden=True)
@click.option("--postgres-url", default=None, hidden=True)
@click.option("--graphql-port", default=None, hidden=True)
@click.option("--ui-port", default=None, hidden=True)
@click.option("--server-port", default=None, hidden=True)
@click.option("--expose", is_flag=True, hidden=True)
@_docker_options
def config_cmd(**_options: Any) -> None:
    """Prefect 1.x wrote a docker-compose file here; this server needs none."""
    click.echo(
        "There is no docker-compose configuration: `prefect server start` runs the server in "
        "one process. Configure it with the [server] section of ~/.prefect/config.toml "
        "(see docs/server.md)."
    )
