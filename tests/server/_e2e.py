"""Helpers of the end-to-end tests: a real `prefect server start`, agents and CLI commands as
separate processes in a temporary Prefect home, and GraphQL reads of what they did.

The approach is the one of `examples/demo_orchestrated.py`: every process gets the same
environment (home directory, config paths, server port) plus shortened timers, runs in its own
session, and is stopped with its whole process group. Flow-run processes started by our agents run
in sessions of their own; `Stack.stop` ends those too, found as children of the agents.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

# Timers shortened for the tests (the keys of src/prefect/config.toml, through the environment).
FAST_TIMERS = {
    "PREFECT__CLOUD__HEARTBEAT_MODE": "thread",
    "PREFECT__CLOUD__HEARTBEAT_INTERVAL": "1.0",
    "PREFECT__CLOUD__CHECK_CANCELLATION_INTERVAL": "0.5",
    "PREFECT__CLOUD__LOGGING_HEARTBEAT": "0.5",
    "PREFECT__CLOUD__AGENT__POLL_INTERVAL_MIN": "0.1",
    "PREFECT__CLOUD__AGENT__POLL_INTERVAL_MAX": "0.5",
    "PREFECT__SERVER__API__SUBMITTED_LOCK_SECONDS": "1",
    "PREFECT__SERVER__SERVICES__SCHEDULER__LOOP_SECONDS": "1",
    "PREFECT__SERVER__SERVICES__LAZARUS__LOOP_SECONDS": "1",
    "PREFECT__SERVER__SERVICES__ZOMBIE_KILLER__LOOP_SECONDS": "1",
}
# A run is presumed lost when its heartbeat (every second here) is older than this. Long enough
# for a flow-run process to start on a busy 2-core machine (a Submitted run has a heartbeat only
# from the agent's Submitted write until the process reports Running; that takes about a second,
# a few under load): a healthy run judged lost would add states and break the tests. The recovery
# test waits about this long for its runs to be judged lost.
HEARTBEAT_CUTOFF_SECONDS = 12

# Deadlines. They only matter when a test is failing anyway, so they are generous: a loaded
# 2-core machine can be several times slower than a developer's laptop.
REQUEST_TIMEOUT = 30  # one GraphQL request
COMMAND_TIMEOUT = 180  # one `prefect ...` command run to completion (`--watch` included)
START_TIMEOUT = 90  # the server answering after `prefect server start`
LOGS_TIMEOUT = 60  # the last batch of a run's logs reaching the server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def graphql(api: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    """POST a GraphQL document; return `data`, raising on transport or GraphQL errors."""
    body = {"query": query, "variables": variables or {}}
    request = urllib.request.Request(
        api, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as response:
        answer = json.loads(response.read())
    if answer.get("errors"):
        raise AssertionError(f"GraphQL errors: {answer['errors']}")
    return dict(answer["data"])


def poll(check: Callable[[], T | None], timeout: float, what: str, interval: float = 0.2) -> T:
    """Call `check` until it returns a true value, and return that; fail after `timeout`
    seconds, naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def child_pids(pid: int) -> list[int]:
    """Direct children of a process (from /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as file:
                stat = file.read()
        except OSError:
            continue
        # The command name (field 2) is in parentheses and may hold spaces.
        fields = stat[stat.rfind(")") + 2 :].split()
        if int(fields[1]) == pid:
            found.append(int(entry))
    return found


def kill_group(pid: int, sig: int = signal.SIGKILL) -> None:
    """Send a signal to the process group led by `pid` (a process started in its own session)."""
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


class Stack:
    """A temporary Prefect home with a server, agents and CLI runs, all as real processes."""

    def __init__(self, home: Path, database_url: str | None = None) -> None:
        self.home = home
        self.logs = home / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.api = f"http://127.0.0.1:{self.port}"
        self.database_url = database_url
        self.env = {
            **os.environ,
            "PREFECT__HOME_DIR": str(home),
            "PREFECT__USER_CONFIG_PATH": str(home / "config.toml"),
            "PREFECT__BACKEND_CONFIG_PATH": str(home / "backend.toml"),
            "PREFECT__BACKEND": "server",
            "PREFECT__SERVER__HOST": "http://127.0.0.1",
            "PREFECT__SERVER__PORT": str(self.port),
            "PREFECT__SERVER__HOST_PORT": str(self.port),
            "PREFECT__SERVER__SERVICES__LAZARUS__HEARTBEAT_CUTOFF_SECONDS": str(
                HEARTBEAT_CUTOFF_SECONDS
            ),
            "PREFECT__SERVER__SERVICES__ZOMBIE_KILLER__HEARTBEAT_CUTOFF_SECONDS": str(
                HEARTBEAT_CUTOFF_SECONDS
            ),
            "PYTHONUNBUFFERED": "1",
            **FAST_TIMERS,
        }
        self.env.pop("PYTHONDONTWRITEBYTECODE", None)
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.server: subprocess.Popen[bytes] | None = None

    # Processes ------------------------------------------------------------------------------

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        """Start `prefect ARGS...` in the background, its output in `logs/<name>.log`."""
        with open(self.logs / f"{name}.log", "ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "prefect", *args],
                env=self.env,
                cwd=self.home,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.processes[name] = process
        return process

    def run(
        self, *args: str, timeout: float = COMMAND_TIMEOUT, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run `prefect ARGS...` to completion (`env`: extra variables); return its output."""
        return subprocess.run(
            [sys.executable, "-m", "prefect", *args],
            env={**self.env, **(env or {})},
            cwd=self.home,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def check(self, *args: str, timeout: float = COMMAND_TIMEOUT) -> str:
        """Run `prefect ARGS...`, fail the test unless it exits 0, and return its output."""
        done = self.run(*args, timeout=timeout)
        assert done.returncode == 0, (
            f"prefect {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
        )
        return done.stdout

    def start_server(self) -> None:
        """Start `prefect server start` and wait until it answers. The port was free when
        `free_port` picked it, but another process (the other xdist worker's tests) may take it
        before the server binds it: the server then exits with "Could not listen", and we try
        again on another port."""
        for attempt in range(3):
            log = self.logs / "server.log"
            offset = log.stat().st_size if log.exists() else 0
            args = ["server", "start", "--no-ui", "--server-port", str(self.port)]
            if self.database_url:
                args += ["--database-url", self.database_url]
            self.server = self.start("server", *args)
            if self._wait_for_server(self.server):
                return
            with open(log, "rb") as file:
                file.seek(offset)
                output = file.read().decode(errors="replace")
            if "Could not listen on" not in output or attempt == 2:
                raise RuntimeError(
                    f"the server exited with status {self.server.returncode}:\n"
                    + self.log_tail("server")
                )
            self._use_port(free_port())

    def _wait_for_server(self, server: subprocess.Popen[bytes]) -> bool:
        """Wait until the server answers (True) or exits (False)."""
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                if graphql(self.api, "query { hello }").get("hello"):
                    # Only if ours is up: not an answer from a process that took the port.
                    if server.poll() is None:
                        return True
            except OSError:
                pass
            if server.poll() is not None:
                return False
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"the server did not answer on {self.api} within {START_TIMEOUT} s\n"
                    + self.log_tail("server")
                )
            time.sleep(0.1)

    def _use_port(self, port: int) -> None:
        """Move the server, and every process started from now on, to another port."""
        self.port = port
        self.api = f"http://127.0.0.1:{port}"
        self.env["PREFECT__SERVER__PORT"] = str(port)
        self.env["PREFECT__SERVER__HOST_PORT"] = str(port)

    def start_agent(self, name: str, *labels: str) -> subprocess.Popen[bytes]:
        # --show-flow-logs: the flow-run processes' output goes to the agent's log as well.
        args = ["agent", "local", "start", "--name", name, "--show-flow-logs"]
        for label in labels:
            args += ["--label", label]
        return self.start(name, *args)

    def kill_agent(self, name: str) -> list[int]:
        """SIGKILL an agent and the process groups of its flow-run processes (no clean-up can
        run); return the killed flow-run pids."""
        process = self.processes.pop(name)
        children = child_pids(process.pid)
        kill_group(process.pid)
        for child in children:
            kill_group(child)
        process.wait()
        return children

    def stop_process(self, name: str) -> None:
        """Interrupt a process's group (SIGINT), then kill what is left, flow runs included."""
        process = self.processes.pop(name)
        children = child_pids(process.pid)
        if process.poll() is None:
            kill_group(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                kill_group(process.pid)
                process.wait()
        for child in children:
            kill_group(child)

    def stop(self) -> None:
        """Stop agents first (and their flow runs), the server last."""
        for name in [n for n in self.processes if n != "server"]:
            self.stop_process(name)
        if "server" in self.processes:
            self.stop_process("server")

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.logs / f"{name}.log"
        if not path.exists():
            return f"(no {name} log)"
        text = path.read_text(errors="replace").splitlines()
        return f"--- {name} log ---\n" + "\n".join(text[-lines:])

    def diagnostics(self) -> str:
        """The tail of every process log, for assertion messages."""
        return "\n".join(self.log_tail(path.stem) for path in sorted(self.logs.glob("*.log")))

    # Flows and runs ---------------------------------------------------------------------------

    def write_flow(self, file_name: str, source: str) -> Path:
        path = self.home / "flows" / file_name
        path.parent.mkdir(exist_ok=True)
        path.write_text(source)
        return path

    def register(self, project: str, path: Path) -> None:
        """`prefect create project` + `prefect register -p` for a flow file."""
        self.check("create", "project", project)
        self.check("register", "--project", project, "-p", str(path))

    def query(self, query: str, **variables: Any) -> dict[str, Any]:
        return graphql(self.api, query, variables)

    def flow_runs(self, flow_name: str) -> list[dict[str, Any]]:
        """The runs of the flows of a name, oldest first, with state and auto_scheduled."""
        return list(
            self.query(
                "query($name: String) { flow_run(where: {flow: {name: {_eq: $name}}}, "
                "order_by: {created: asc}) { id name state auto_scheduled scheduled_start_time } }",
                name=flow_name,
            )["flow_run"]
        )

    def flow_run(self, flow_run_id: str) -> dict[str, Any]:
        """A flow run with its states, logs and task runs (each with its task and states)."""
        found = self.query(
            """
            query($id: uuid) {
              flow_run(where: {id: {_eq: $id}}) {
                id name state
                states(order_by: {version: asc}) { state message }
                logs(order_by: {timestamp: asc}) { message name level task_run_id }
                task_runs(order_by: {map_index: asc}) {
                  id map_index state
                  task { name slug }
                  states(order_by: {version: asc}) { state message }
                }
              }
            }
            """,
            id=flow_run_id,
        )["flow_run"]
        assert found, f"no flow run {flow_run_id}"
        return dict(found[0])

    def wait_for_state(self, flow_run_id: str, states: set[str], timeout: float) -> dict[str, Any]:
        """Poll a flow run until it is in one of `states`; return the full run."""

        def reached() -> dict[str, Any] | None:
            found = self.query(
                "query($id: uuid) { flow_run(where: {id: {_eq: $id}}) { state } }",
                id=flow_run_id,
            )["flow_run"]
            return found[0] if found and found[0]["state"] in states else None

        try:
            poll(reached, timeout, f"flow run {flow_run_id} to reach {sorted(states)}")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.diagnostics()}") from None
        return self.flow_run(flow_run_id)

    def wait_for_logs(
        self, flow_run_id: str, *messages: str, timeout: float = LOGS_TIMEOUT
    ) -> dict[str, Any]:
        """Poll a flow run until its stored logs include every one of `messages` (a process
        uploads its last batch as it exits, possibly after its final state); return the run."""

        def stored() -> dict[str, Any] | None:
            run = self.flow_run(flow_run_id)
            found = {log["message"] for log in run["logs"]}
            return run if found.issuperset(messages) else None

        try:
            return poll(stored, timeout, f"the logs {messages} of flow run {flow_run_id}")
        except AssertionError as exc:
            logs = [log["message"] for log in self.flow_run(flow_run_id)["logs"]]
            raise AssertionError(f"{exc}; stored: {logs}\n{self.diagnostics()}") from None


def state_names(run: dict[str, Any]) -> list[str]:
    """The names of a run's states, in version order."""
    return [state["state"] for state in run["states"]]


def task_runs_by_name(flow_run: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """A flow run's task runs grouped by task name, each group in map_index order."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for task_run in flow_run["task_runs"]:
        grouped.setdefault(task_run["task"]["name"], []).append(task_run)
    return grouped
