"""Agent test fixtures: a short poll back-off, a project on the test server, flow factories,
and a recorder that stands in for the flow-run process."""

from __future__ import annotations

import itertools
import subprocess
from collections.abc import Callable
from typing import Any

import pytest

import prefect
from prefect import Flow, task
from prefect.run_configs import RunConfig, UniversalRun
from prefect.storage import Local


@pytest.fixture(autouse=True)
def fast_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    """Poll every 10-50 ms instead of 0.25-10 s."""
    monkeypatch.setitem(prefect.config.cloud.agent, "poll_interval_min", 0.01)
    monkeypatch.setitem(prefect.config.cloud.agent, "poll_interval_max", 0.05)


@task
def say_hello() -> str:
    return "hello"


@pytest.fixture
def client(prefect_server: str) -> prefect.Client:
    client = prefect.Client()
    client.create_project("agents")
    return client


_names = itertools.count()


@pytest.fixture
def register_flow(client: prefect.Client, tmp_path) -> Callable[..., str]:
    """Register a one-task flow with Local storage (no hostname label); returns its id."""

    def register(run_config: RunConfig | None = None, name: str | None = None) -> str:
        with Flow(name or f"agent-flow-{next(_names)}") as flow:
            say_hello()
        flow.storage = Local(directory=str(tmp_path / "flows"), add_default_labels=False)
        flow.run_config = run_config if run_config is not None else UniversalRun()
        return flow.register(project_name="agents", no_url=True)

    return register


class FakeProcess:
    """What `subprocess.Popen` returns, for a process that ran and exited at once."""

    pids = itertools.count(40000)

    def __init__(self, args: Any, **kwargs: Any) -> None:
        self.args = args
        self.kwargs = kwargs
        self.pid = next(self.pids)
        self.returncode: int | None = 0

    def poll(self) -> int | None:
        return self.returncode


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[FakeProcess]:
    """Processes the local agent starts are recorded here instead of being started."""
    processes: list[FakeProcess] = []

    def popen(args: Any, **kwargs: Any) -> FakeProcess:
        process = FakeProcess(args, **kwargs)
        processes.append(process)
        return process

    monkeypatch.setattr(subprocess, "Popen", popen)
    return processes
