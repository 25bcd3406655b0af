"""`prefect heartbeat flow-run -i ID [-n N]`: heartbeats of a flow run sent to a real server."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

import prefect
from prefect.cli.heartbeat import heartbeat
from prefect.client import Client
from prefect.utilities.graphql import with_args

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def flow_run_id(prefect_server, tmp_path) -> str:
    from prefect import Flow, task
    from prefect.storage import Local

    @task
    def noop() -> None:
        pass

    with Flow("beating", storage=Local(directory=str(tmp_path / "flows"))) as flow:
        noop()
    client = Client()
    client.create_project("beats")
    flow_id = flow.register(project_name="beats", no_url=True)
    return client.create_flow_run(flow_id=flow_id)


def last_heartbeat(flow_run_id: str):
    query = {"query": {with_args("flow_run_by_pk", {"id": flow_run_id}): {"heartbeat"}}}
    return Client().graphql(query).data.flow_run_by_pk.heartbeat


def wait_for_heartbeat_change(flow_run_id: str, previous, seconds: float = 60.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        current = last_heartbeat(flow_run_id)
        if current != previous:
            return current
        time.sleep(0.05)
    raise AssertionError("no heartbeat arrived")


def test_it_sends_n_heartbeats(flow_run_id, monkeypatch):
    monkeypatch.setitem(prefect.config.cloud, "heartbeat_interval", 0.05)
    sent: list[str] = []
    real = Client.update_flow_run_heartbeat

    def spy(self, run_id):
        sent.append(run_id)
        return real(self, run_id)

    monkeypatch.setattr(Client, "update_flow_run_heartbeat", spy)
    before = last_heartbeat(flow_run_id)
    result = CliRunner().invoke(heartbeat, ["flow-run", "-i", flow_run_id, "-n", "3"])
    assert result.exit_code == 0, result.output
    assert sent == [flow_run_id] * 3
    # The server records heartbeats in the background.
    assert wait_for_heartbeat_change(flow_run_id, before) is not None


def test_the_flow_run_id_is_required():
    result = CliRunner().invoke(heartbeat, ["flow-run"])
    assert result.exit_code == 2
    assert "Missing option '--id' / '-i'" in result.output


@pytest.mark.integration
def test_without_n_it_beats_until_killed(flow_run_id, prefect_server):
    process = subprocess.Popen(
        [sys.executable, "-m", "prefect", "heartbeat", "flow-run", "-i", flow_run_id],
        env={
            **os.environ,
            "PREFECT__BACKEND": "server",
            "PREFECT__CLOUD__API": prefect_server,
            "PREFECT__CLOUD__HEARTBEAT_INTERVAL": "0.2",
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        first = wait_for_heartbeat_change(flow_run_id, None, seconds=90)
        second = wait_for_heartbeat_change(flow_run_id, first)
        assert second > first
        assert process.poll() is None
    finally:
        process.kill()
        process.wait()
