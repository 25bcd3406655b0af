"""The orchestrated loop, end to end, on the embedded database: `make demo` runs it after the local
demo.

It starts `prefect server start` (SQLite in a temporary home directory, a free port), creates a
project, registers `examples/orchestrated/etl_flow.py`, starts `prefect agent local start`, and
runs the flow with `prefect run --watch`. It prints the run's final state and its URL, and stops
everything it started on any exit (Ctrl-C and SIGTERM included). Exit status 0 only when the flow
run ends in Success.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
FLOW_FILE = HERE / "orchestrated" / "etl_flow.py"
PROJECT = "demo"
FLOW_NAME = "etl-demo"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def graphql(api: str, query: str) -> dict:
    request = urllib.request.Request(
        api,
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def wait_for_server(api: str, server: subprocess.Popen, deadline_s: float = 60.0) -> None:
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            if graphql(api, "query { hello }").get("data", {}).get("hello"):
                return
        except OSError:
            pass
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with status {server.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the server did not answer on {api} within {deadline_s:.0f} s")
        time.sleep(0.1)


def main() -> int:
    home = tempfile.mkdtemp(prefix="prefect-orchestrated-demo-")
    port = free_port()
    api = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PREFECT__HOME_DIR": home,
        "PREFECT__USER_CONFIG_PATH": os.path.join(home, "config.toml"),
        "PREFECT__BACKEND_CONFIG_PATH": os.path.join(home, "backend.toml"),
        "PREFECT__BACKEND": "server",
        "PREFECT__SERVER__HOST": "http://127.0.0.1",
        # Server and client move together (docs/server.md).
        "PREFECT__SERVER__PORT": str(port),
        "PREFECT__SERVER__HOST_PORT": str(port),
        # A lively agent for a demo: poll often.
        "PREFECT__CLOUD__AGENT__POLL_INTERVAL_MAX": "1.0",
        "PREFECT__CLOUD__HEARTBEAT_MODE": "thread",
    }
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    python = sys.executable
    started: list[subprocess.Popen] = []

    def stop_all(*_args: object) -> None:
        for process in reversed(started):
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGINT)
                except ProcessLookupError:
                    continue
        for process in reversed(started):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        started.clear()

    def on_signal(signum: int, _frame: object) -> None:
        stop_all()
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    log_dir = Path(home) / "logs"
    log_dir.mkdir()

    def start(name: str, *args: str) -> subprocess.Popen:
        log = open(log_dir / f"{name}.log", "wb")  # noqa: SIM115 (closed with the process)
        process = subprocess.Popen(
            [python, "-m", "prefect", *args],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        started.append(process)
        return process

    def run(*args: str) -> subprocess.CompletedProcess:
        print(f"$ prefect {' '.join(args)}", flush=True)
        done = subprocess.run([python, "-m", "prefect", *args], env=env, text=True)
        return done

    try:
        print(f"Starting the server on {api} (SQLite in {home})", flush=True)
        server = start("server", "server", "start", "--no-ui", "--server-port", str(port))
        wait_for_server(api, server)
        for args in (
            ("create", "project", PROJECT),
            ("register", "--project", PROJECT, "-p", str(FLOW_FILE)),
        ):
            if run(*args).returncode != 0:
                print(f"FAILED: prefect {' '.join(args)}", file=sys.stderr)
                return 1
        print("$ prefect agent local start  (in the background)", flush=True)
        start("agent", "agent", "local", "start")
        watched = run(
            "run", "--name", FLOW_NAME, "--project", PROJECT,
            "--param", "count=5", "--param", "factor=10", "--watch",
        )  # fmt: skip
        answer = graphql(
            api,
            "query { flow_run(order_by: {created: desc}, limit: 1) { id name state } "
            "tenant { slug } }",
        )["data"]
        flow_run = answer["flow_run"][0] if answer["flow_run"] else None
        if flow_run is None:
            print("FAILED: no flow run was created", file=sys.stderr)
            return 1
        slug = answer["tenant"][0]["slug"]
        print(f"Flow run {flow_run['name']!r} ended in state {flow_run['state']}")
        print(f"URL: http://localhost:8080/{slug}/flow-run/{flow_run['id']}")
        if flow_run["state"] != "Success" or watched.returncode != 0:
            for name in ("agent", "server"):
                print(f"--- {name} log (last lines) ---", file=sys.stderr)
                text = (log_dir / f"{name}.log").read_text(errors="replace")
                print("\n".join(text.splitlines()[-40:]), file=sys.stderr)
            return 1
        return 0
    finally:
        stop_all()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
