"""What the server benchmarks share: start `prefect server start` as a process in a fresh home,
wait for its first answer, talk GraphQL to it, read its memory, and get a PostgreSQL database.

The benchmarks speak HTTP/1.1 over asyncio streams themselves (`Connection`) rather than through
httpx: on a 2-core machine the client shares the CPU with the server, and a heavy client would
measure itself.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_environment(home: str) -> dict[str, str]:
    """The environment of a server process: a fresh home, no PREFECT__ overrides."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT__")}
    # Users run with cached bytecode; a shell that disables it would time the compiler.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["HOME"] = home
    env["PREFECT__USER_CONFIG_PATH"] = os.path.join(home, "no-config.toml")
    env["PREFECT__BACKEND_CONFIG_PATH"] = os.path.join(home, "no-backend.toml")
    return env


def hello(port: int, timeout: float = 1.0) -> bool:
    """Whether the server answers `query{hello}` (the readiness poll of 1.x's CLI)."""
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        try:
            conn.request(
                "POST",
                "/",
                body=json.dumps({"query": "query{hello}", "variables": "null"}),
                headers={"Content-Type": "application/json"},
            )
            answer = json.loads(conn.getresponse().read())
        finally:
            conn.close()
    except (OSError, ValueError, http.client.HTTPException):
        return False
    return bool((answer.get("data") or {}).get("hello"))


class ServerProcess:
    """`python -m prefect server start --server-port P --no-ui [--database-url URL]`."""

    def __init__(self, home: str, port: int, database_url: str | None = None) -> None:
        self.home = home
        self.port = port
        command = [sys.executable, "-m", "prefect", "server", "start"]
        command += ["--server-port", str(port), "--no-ui"]
        if database_url:
            command += ["--database-url", database_url]
        self.log_path = os.path.join(home, "server-bench.log")
        self.started_at = time.perf_counter()
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                command, env=server_environment(home), stdout=log, stderr=subprocess.STDOUT
            )

    def wait_ready(self, deadline_s: float = 120.0, poll_s: float = 0.01) -> float:
        """Seconds from the process start to the first answered `query{hello}`."""
        deadline = self.started_at + deadline_s
        while not hello(self.port, timeout=1.0):
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}: {self.log()}")
            if time.perf_counter() > deadline:
                raise RuntimeError(f"server did not answer within {deadline_s} s: {self.log()}")
            time.sleep(poll_s)
        return time.perf_counter() - self.started_at

    def log(self) -> str:
        with open(self.log_path, errors="replace") as file:
            return file.read()[-4000:]

    def rss_mib(self) -> float:
        with open(f"/proc/{self.process.pid}/status") as file:
            for line in file:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS in /proc status")

    def cpu_seconds(self) -> float:
        """User + system CPU time the server process has used so far (load-independent-ish:
        the wall-clock figures are only meaningful on an otherwise idle machine)."""
        with open(f"/proc/{self.process.pid}/stat") as file:
            fields = file.read().rsplit(")", 1)[1].split()
        # Fields 14 and 15 of proc(5), counted after the ")" that ends the command name.
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self, timeout: float = 30.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


@contextmanager
def fresh_home() -> Iterator[str]:
    home = tempfile.mkdtemp(prefix="prefect-bench-home-")
    try:
        yield home
    finally:
        shutil.rmtree(home, ignore_errors=True)


@contextmanager
def running_server(database_url: str | None = None) -> Iterator[ServerProcess]:
    with fresh_home() as home:
        server = ServerProcess(home, free_port(), database_url)
        try:
            server.wait_ready()
            yield server
        finally:
            server.stop()


@contextmanager
def postgres_database(url: str | None = None) -> Iterator[str]:
    """A new, empty PostgreSQL database: in the server at `url`, or in a throwaway cluster
    (tests/server/_postgres.py). Raises RuntimeError when neither is possible."""
    cluster = None
    if url is None:
        sys.path.insert(0, REPO)
        from tests.server import _postgres

        try:
            cluster = _postgres.Cluster()
            url = cluster.start()
        except _postgres.PostgresUnavailable as exc:
            raise RuntimeError(str(exc)) from exc
    name = f"prefect_bench_{uuid.uuid4().hex[:8]}"
    try:
        asyncio.run(_admin(url, f'CREATE DATABASE "{name}"'))
        try:
            yield url.rsplit("/", 1)[0] + "/" + name
        finally:
            asyncio.run(_admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        if cluster is not None:
            cluster.stop()


async def _admin(url: str, statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


class Connection:
    """One keep-alive HTTP/1.1 connection posting GraphQL requests (as the 1.x client does:
    `variables` is a JSON-encoded string)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        sock = self.writer.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            await self.writer.wait_closed()

    async def graphql(self, query: str, variables: Any = None) -> Any:
        """The `data` of the answer; raises on `errors`."""
        assert self.reader is not None and self.writer is not None
        body = json.dumps({"query": query, "variables": json.dumps(variables)}).encode()
        head = (
            f"POST / HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
            "Content-Type: application/json\r\nX-PREFECT-CORE-VERSION: 1.4.1\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        self.writer.write(head + body)
        headers = await self.reader.readuntil(b"\r\n\r\n")
        length = None
        for line in headers.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        if length is None:
            raise RuntimeError(f"answer without Content-Length: {headers!r}")
        payload = json.loads(await self.reader.readexactly(length))
        if payload.get("errors"):
            raise RuntimeError(f"GraphQL errors: {payload['errors']}")
        return payload["data"]


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(fraction * (len(sorted_values) - 1))))
    return sorted_values[index]


def print_table(headers: list[str], rows: list[list[Any]]) -> None:
    widths = [max(len(str(x)) for x in column) for column in zip(headers, *rows)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths))
    print(line)
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(str(x).ljust(w) for x, w in zip(row, widths)))
