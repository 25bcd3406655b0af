"""`prefect server start` as a real process: it answers, has a `default` tenant, stops cleanly on
SIGINT and SIGTERM, keeps every acknowledged write through a kill -9, and runs detached."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

pytestmark = pytest.mark.integration

# Deadlines only matter when a test is failing: generous, for a loaded 2-core machine.
_START_DEADLINE = 90.0
_STOP_DEADLINE = 60.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _environment(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT__SERVER__")}
    env["HOME"] = str(home)
    # Services off: nothing but our requests writes to the database.
    env["PREFECT__SERVER__SERVICES__ENABLED"] = "false"
    return env


def _graphql(port: int, query: str, variables: Any = None, timeout: float = 30.0) -> Any:
    body = {"query": query, "variables": json.dumps(variables)}
    response = requests.post(f"http://127.0.0.1:{port}/", json=body, timeout=timeout)
    response.raise_for_status()
    payload = response.json()
    assert not payload.get("errors"), payload
    return payload["data"]


def _wait_until_answering(port: int, process: subprocess.Popen[str] | None = None) -> None:
    deadline = time.monotonic() + _START_DEADLINE
    while True:
        try:
            if _graphql(port, "query{hello}", timeout=10.0)["hello"]:
                return
        except (requests.RequestException, AssertionError):
            pass
        if process is not None and process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            raise AssertionError(f"server exited with {process.returncode}:\n{output}")
        if time.monotonic() > deadline:
            raise AssertionError(f"server on port {port} did not answer within {_START_DEADLINE}s")
        time.sleep(0.05)


class ServerProcess:
    def __init__(self, home: Path, database_url: str, port: int) -> None:
        # The port was free when `_free_port` picked it, but another process (the other xdist
        # worker's tests) may take it before the server binds it: then try another one.
        for attempt in range(3):
            self.port = port
            self.process = subprocess.Popen(
                [
                    sys.executable, "-m", "prefect", "server", "start",
                    "--server-port", str(port), "--no-ui", "--database-url", database_url,
                ],
                env=_environment(home),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )  # fmt: skip
            try:
                _wait_until_answering(port, self.process)
                return
            except AssertionError as exc:
                if "Could not listen on" not in str(exc) or attempt == 2:
                    raise
            port = _free_port()

    def stop(self, sig: int, timeout: float = _STOP_DEADLINE) -> tuple[int, str]:
        self.process.send_signal(sig)
        output, _ = self.process.communicate(timeout=timeout)
        return self.process.returncode, output

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate(timeout=_STOP_DEADLINE)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "server-home"
    path.mkdir()
    return path


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'server.db'}"


@pytest.fixture
def started(home: Path, database_url: str) -> Iterator[ServerProcess]:
    server = ServerProcess(home, database_url, _free_port())
    try:
        yield server
    finally:
        server.kill()


def test_server_answers_has_a_default_tenant_and_stops_on_sigint(started):
    tenants = _graphql(started.port, "query { tenant { id slug name } }")["tenant"]

    assert [(t["slug"], t["name"]) for t in tenants] == [("default", "default")]
    began = time.monotonic()
    code, output = started.stop(signal.SIGINT)
    assert code == 0, output
    assert time.monotonic() - began < 10
    assert f"Prefect Server listening on http://127.0.0.1:{started.port}" in output
    assert output.rstrip().endswith("Prefect Server stopped.")
    assert "Traceback" not in output


@pytest.fixture(params=["sqlite", "postgresql"])
def any_database_url(request, tmp_path: Path) -> Iterator[str]:
    """A new database: a SQLite file, or a fresh database in the session's PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'server.db'}"
        return
    import asyncio

    import asyncpg

    base_url = request.getfixturevalue("postgres_url")
    name = f"prefect_serve_{uuid.uuid4().hex[:8]}"

    async def admin(statement: str) -> None:
        conn = await asyncpg.connect(base_url)
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield base_url.rsplit("/", 1)[0] + "/" + name
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_acknowledged_writes_survive_kill_9(home, any_database_url):
    started = ServerProcess(home, any_database_url, _free_port())
    try:
        _write_kill_and_read_back(home, any_database_url, started)
    finally:
        started.kill()


_FLOW = {
    "type": "prefect.core.flow.Flow",
    "name": "durable",
    "__version__": "1.4.1",
    "parameters": [],
    "edges": [],
    "tasks": [{"type": "prefect.tasks.core.function.FunctionTask", "name": "t", "slug": "t-1"}],
}


def _write_kill_and_read_back(home: Path, database_url: str, started: ServerProcess) -> None:
    port = started.port
    tenant_id = _graphql(port, "query { tenant { id } }")["tenant"][0]["id"]
    project_id = _graphql(
        port,
        "mutation($input: create_project_input!) { create_project(input: $input) { id } }",
        {"input": {"tenant_id": tenant_id, "name": "durable"}},
    )["create_project"]["id"]
    flow_id = _graphql(
        port,
        "mutation($input: create_flow_input!) { create_flow(input: $input) { id } }",
        {"input": {"project_id": project_id, "serialized_flow": _FLOW}},
    )["create_flow"]["id"]
    runs = {}
    for index, final in enumerate(["Running", "Success", "Failed"] * 4):
        run_id = _graphql(
            port,
            "mutation($input: create_flow_run_input!) { create_flow_run(input: $input) { id } }",
            {"input": {"flow_id": flow_id, "idempotency_key": f"run-{index}"}},
        )["create_flow_run"]["id"]
        for state in ("Submitted", "Running", final)[: 2 if final == "Running" else 3]:
            answer = _graphql(
                port,
                "mutation($input: set_flow_run_states_input!) { "
                "set_flow_run_states(input: $input) { states { id status } } }",
                {
                    "input": {
                        "states": [
                            {"flow_run_id": run_id, "version": None, "state": {"type": state}}
                        ]
                    }
                },
            )
            assert answer["set_flow_run_states"]["states"][0]["status"] == "SUCCESS"
        runs[run_id] = final

    started.process.send_signal(signal.SIGKILL)
    started.process.communicate(timeout=_STOP_DEADLINE)
    restarted = ServerProcess(home, database_url, _free_port())
    try:
        found = _graphql(
            restarted.port,
            "query { flow_run { id state states(order_by: {timestamp: asc}) { state } } }",
        )["flow_run"]
        assert {run["id"]: run["state"] for run in found} == runs
        for run in found:
            history = [s["state"] for s in run["states"]]
            assert history[-1] == runs[run["id"]]
            assert history[:2] == ["Scheduled", "Submitted"]
        code, output = restarted.stop(signal.SIGTERM)
        assert code == 0, output
        # Already at the newest revision: the restart did not migrate again.
        assert "Database migrated" not in output
    finally:
        restarted.kill()


def test_detached_server_is_reachable_by_create_tenant_and_stopped_by_stop(home, database_url):
    port = _free_port()
    env = _environment(home)
    # Moves the server (host_port) and the client (port -> server.endpoint) together.
    env["PREFECT__SERVER__HOST_PORT"] = str(port)
    env["PREFECT__SERVER__PORT"] = str(port)
    env["PREFECT__SERVER__HOST"] = "http://127.0.0.1"

    def prefect(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "prefect", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=_START_DEADLINE + 30,
        )

    pid_file = home / ".prefect" / "server.pid"
    started = prefect("server", "start", "--detach", "--no-ui", "--database-url", database_url)
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        assert started.stdout.splitlines()[-1] == "Stop it with `prefect server stop`."
        pid = int(pid_file.read_text())
        assert f"(pid {pid})" in started.stdout
        log = (home / ".prefect" / "server.log").read_text()
        assert f"Prefect Server listening on http://127.0.0.1:{port}" in log

        again = prefect("server", "start", "--detach", "--no-ui")
        assert again.returncode == 1
        assert f"already running (pid {pid})" in again.stderr

        tenant = prefect("server", "create-tenant", "-n", "Team A")
        assert tenant.returncode == 0, tenant.stdout + tenant.stderr
        assert tenant.stdout.startswith("Tenant created with ID: ")
        slugs = {t["slug"] for t in _graphql(port, "query { tenant { slug } }")["tenant"]}
        assert slugs == {"default", "team-a"}

        stopped = prefect("server", "stop")
        assert stopped.returncode == 0, stopped.stderr
        assert stopped.stdout == f"Prefect Server stopped (pid {pid}).\n"
        assert not pid_file.exists()
        with pytest.raises(requests.ConnectionError):
            _graphql(port, "query{hello}", timeout=2.0)
    finally:
        if pid_file.exists():
            os.kill(int(pid_file.read_text()), signal.SIGKILL)


def test_a_port_in_use_ends_the_start_with_status_1_and_a_hint(home, database_url):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [
                sys.executable, "-m", "prefect", "server", "start", "--no-ui",
                "--server-port", str(port), "--database-url", database_url,
            ],
            env=_environment(home),
            capture_output=True,
            text=True,
            timeout=_START_DEADLINE,
        )  # fmt: skip

    assert done.returncode == 1, done.stdout + done.stderr
    assert (
        f"Could not listen on 127.0.0.1:{port}; is another server running there? "
        "Choose another port with --server-port."
    ) in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_no_upgrade_refuses_a_database_that_is_not_migrated(tmp_path):
    from prefect.server._serve import serve

    lines: list[str] = []
    code = serve(
        host="127.0.0.1",
        port=_free_port(),
        database_url=f"sqlite:///{tmp_path / 'empty.db'}",
        upgrade=False,
        echo=lines.append,
    )

    assert code == 1
    assert lines == [
        "The database is at revision base (empty), this server needs 0001: run "
        "`prefect server database upgrade` or start without --no-upgrade."
    ]


def test_an_app_whose_start_up_fails_ends_serve_with_status_1(tmp_path):
    from contextlib import asynccontextmanager

    from starlette.applications import Starlette

    from prefect.server._serve import serve

    @asynccontextmanager
    async def failing_lifespan(app):
        raise RuntimeError("no tenant table")
        yield

    lines: list[str] = []
    pid_file = tmp_path / "server.pid"
    code = serve(
        host="127.0.0.1",
        port=_free_port(),
        database_url=f"sqlite:///{tmp_path / 'server.db'}",
        pid_file=str(pid_file),
        echo=lines.append,
        app_factory=lambda db: Starlette(lifespan=failing_lifespan),
    )

    assert code == 1
    assert lines == [
        "Database migrated to revision 0001.",
        "The server's start-up failed (see the error above).",
    ]
    assert not pid_file.exists()


@pytest.mark.parametrize(
    "url, shown",
    [
        (
            "postgresql://prefect:s3cr:et@db:5432/prefect",
            "postgresql://prefect:***@db:5432/prefect",
        ),
        ("postgresql://p%40ss:x@db/prefect", "postgresql://p%40ss:***@db/prefect"),
        ("postgresql://prefect@db/prefect", "postgresql://prefect@db/prefect"),
        ("sqlite:////home/me/.prefect/server.db", "sqlite:////home/me/.prefect/server.db"),
        ("not a url", "not a url"),
    ],
)
def test_display_url_hides_only_the_password(url, shown):
    from prefect.server._serve import display_url

    assert display_url(url) == shown
