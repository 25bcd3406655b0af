"""Fixtures of the storage tests: flows to store, a flow script, and a small HTTP server."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

import prefect
from prefect import Flow, task

FLOW_SCRIPT = """
from prefect import Flow, task


@task
def double(x):
    return 2 * x


with Flow("script-flow") as flow:
    double(21)

if __name__ == "__main__":
    raise SystemExit("a loader must not run the __main__ block")
"""


@pytest.fixture
def make_flow() -> Callable[..., Flow]:
    """Build a small flow whose task returns ``x + 1``; its function is pickled by value."""

    def factory(name: str = "test-flow", x: int = 1) -> Flow:
        @task
        def increment(value: int) -> int:
            return value + 1

        with Flow(name) as flow:
            increment(x)
        return flow

    return factory


def task_result(flow: Flow, task_name: str) -> Any:
    """Run ``flow`` and return the result of its task called ``task_name``."""
    state = flow.run()
    assert state.is_successful(), state
    (found,) = flow.get_tasks(name=task_name)
    return state.result[found].result


@pytest.fixture
def run_task() -> Callable[[Flow, str], Any]:
    """``run_task(flow, name)``: run the flow and give the named task's result."""
    return task_result


@pytest.fixture
def flow_script(tmp_path: Any) -> str:
    """The path of a script defining the flow ``script-flow`` (task ``double`` -> 42)."""
    path = tmp_path / "script_flow.py"
    path.write_text(FLOW_SCRIPT)
    return str(path)


@pytest.fixture
def flow_script_text() -> str:
    return FLOW_SCRIPT


@pytest.fixture(autouse=True)
def _home_in_tmp(tmp_path: Any) -> None:
    """`Local` storage writes under ``home_dir``: keep it in this test's directory."""
    prefect.config.home_dir = str(tmp_path / "prefect-home")


@dataclass
class RecordingServer:
    """A local HTTP server: PUT/POST/PATCH store the body at the path, GET returns it."""

    url: str
    bodies: dict[str, bytes] = field(default_factory=dict)
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)


@pytest.fixture
def http_server() -> Iterator[RecordingServer]:

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # keep test output quiet
            pass

        def _record(self) -> None:
            server.requests.append((self.command, self.path, dict(self.headers.items())))

        def _store(self) -> None:
            self._record()
            length = int(self.headers.get("Content-Length") or 0)
            server.bodies[self.path] = self.rfile.read(length)
            self.send_response(201)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_PUT = do_POST = do_PATCH = _store

        def do_GET(self) -> None:
            self._record()
            body = server.bodies.get(self.path)
            if body is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    host, port = httpd.server_address[:2]
    server = RecordingServer(url=f"http://{host}:{port}")
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
