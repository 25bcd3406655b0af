"""`prefect.backend.execution`: running a flow run without an agent. The flow-run process is
replaced by a fake that writes states as the real one would."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pendulum
import pytest

import prefect
from prefect.backend import FlowRunView, execution
from prefect.backend.execution import (
    execute_flow_run,
    execute_flow_run_in_subprocess,
    generate_flow_run_environ,
)
from prefect.engine.state import Failed, Retrying, Running, Success
from prefect.run_configs import LocalRun


def test_generate_flow_run_environ(prefect_server, monkeypatch):
    monkeypatch.setitem(prefect.config, "backend", "server")
    env = generate_flow_run_environ(
        flow_run_id="fr",
        flow_id="f",
        run_config=LocalRun(env={"EXTRA": "1", "PREFECT__LOGGING__LEVEL": "DEBUG", "GONE": None}),
    )
    assert env["PREFECT__CONTEXT__FLOW_RUN_ID"] == "fr"
    assert env["PREFECT__CONTEXT__FLOW_ID"] == "f"
    assert env["PREFECT__BACKEND"] == "server"
    assert env["PREFECT__CLOUD__API"] == prefect_server
    assert env["PREFECT__CLOUD__SEND_FLOW_RUN_LOGS"] == "true"
    assert env["PREFECT__ENGINE__FLOW_RUNNER__DEFAULT_CLASS"] == (
        "prefect.engine.cloud.CloudFlowRunner"
    )
    assert env["PREFECT__ENGINE__TASK_RUNNER__DEFAULT_CLASS"] == (
        "prefect.engine.cloud.CloudTaskRunner"
    )
    # The run config's env wins; `None` removes a variable.
    assert env["PREFECT__LOGGING__LEVEL"] == "DEBUG"
    assert env["EXTRA"] == "1"
    assert "GONE" not in env
    assert "PREFECT__CLOUD__API_KEY" not in env

    with_key = generate_flow_run_environ("fr", "f", run_config=None, run_api_key="KEY")
    assert with_key["PREFECT__CLOUD__API_KEY"] == "KEY"
    assert all(isinstance(value, str) for value in with_key.values())


class FakeProcess:
    """Stands in for `python -m prefect execute flow-run`: runs ``steps`` in order, one per
    start, each writing states through the client."""

    def __init__(self, steps: list[Any]) -> None:
        self.steps = list(steps)
        self.envs: list[dict] = []

    def __call__(self, args: list[str], env: dict, check: bool) -> Any:
        assert args == [sys.executable, "-m", "prefect", "execute", "flow-run"]
        self.envs.append(env)
        code = self.steps.pop(0)(env["PREFECT__CONTEXT__FLOW_RUN_ID"])
        return subprocess.CompletedProcess(args, code)


def _history(client, run_id):
    answer = client.graphql(
        {
            "query": {
                f'flow_run_by_pk(id: "{run_id}")': {"states(order_by: {version: asc})": "state"}
            }
        }
    )
    return [s["state"] for s in answer["data"]["flow_run_by_pk"]["states"]]


def test_a_scheduled_run_is_submitted_then_executed(registered, monkeypatch):
    client = registered.client
    run_id = client.create_flow_run(flow_id=registered.flow_id)

    def succeed(flow_run_id):
        client.set_flow_run_state(flow_run_id, Running("Running flow."))
        client.set_flow_run_state(flow_run_id, Success("All reference tasks succeeded."))
        return 0

    fake = FakeProcess([succeed])
    monkeypatch.setattr(execution.subprocess, "run", fake)
    final = execute_flow_run_in_subprocess(run_id)
    assert isinstance(final, FlowRunView)
    assert isinstance(final.state, Success)
    assert _history(client, run_id) == ["Scheduled", "Submitted", "Running", "Success"]
    assert fake.envs[0]["PREFECT__CONTEXT__FLOW_RUN_ID"] == run_id
    assert fake.envs[0]["PREFECT__CONTEXT__FLOW_ID"] == registered.flow_id


def test_the_run_waits_for_its_scheduled_start_time(registered, monkeypatch):
    client = registered.client
    start = pendulum.now("UTC").add(seconds=30)
    run_id = client.create_flow_run(flow_id=registered.flow_id, scheduled_start_time=start)
    assert execution._get_flow_run_scheduled_start_time(run_id) == start
    waited: list[float] = []
    monkeypatch.setattr(execution, "_sleep", waited.append)

    def succeed(flow_run_id):
        client.set_flow_run_state(flow_run_id, Success("done"))
        return 0

    monkeypatch.setattr(execution.subprocess, "run", FakeProcess([succeed]))
    assert isinstance(execute_flow_run_in_subprocess(run_id).state, Success)
    assert len(waited) == 1 and 20 < waited[0] <= 30


def test_a_run_with_a_retrying_task_is_executed_again(registered, monkeypatch):
    client = registered.client
    run_id = client.create_flow_run(flow_id=registered.flow_id)
    task_id = registered.task_id(registered.slugs["numbers"])
    retry_at = pendulum.now("UTC").add(seconds=5)

    def retry_later(flow_run_id):
        client.set_flow_run_state(flow_run_id, Running("Running flow."))
        task_run = client.get_task_run_info(flow_run_id, task_id)
        client.set_task_run_state(task_run.id, Running("Starting task run."))
        client.set_task_run_state(
            task_run.id, Retrying("Retrying Task (after attempt 1 of 2)", start_time=retry_at)
        )
        return 0

    def succeed(flow_run_id):
        client.set_flow_run_state(flow_run_id, Success("done"))
        return 0

    waited: list[float] = []
    monkeypatch.setattr(execution, "_sleep", waited.append)
    fake = FakeProcess([retry_later, succeed])
    monkeypatch.setattr(execution.subprocess, "run", fake)
    final = execute_flow_run_in_subprocess(run_id)
    assert isinstance(final.state, Success)
    assert fake.steps == []
    assert execution._get_next_task_run_start_time(run_id) is None  # the run is not Running
    assert len(waited) == 1 and 0 < waited[0] <= 5


def test_a_process_that_fails_to_finish_the_run_fails_it(registered, monkeypatch):
    client = registered.client
    run_id = client.create_flow_run(flow_id=registered.flow_id)
    monkeypatch.setattr(execution.subprocess, "run", FakeProcess([lambda flow_run_id: 3]))
    final = execute_flow_run_in_subprocess(run_id)
    assert isinstance(final.state, Failed)
    assert final.state.message == "Flow run process exited with status code 3."
    logs = final.get_logs(end_time=pendulum.now("UTC").add(minutes=1))
    assert [(log.level, log.message) for log in logs] == [
        (40, "Flow run process exited with status code 3.")
    ]


def test_a_running_run_with_nothing_to_retry_is_failed(registered):
    client = registered.client
    run_id = client.create_flow_run(flow_id=registered.flow_id)
    client.set_flow_run_state(run_id, Running("Running flow."))
    with pytest.raises(RuntimeError, match="no task run is waiting to start"):
        execute_flow_run_in_subprocess(run_id)
    assert isinstance(client.get_flow_run_state(run_id), Failed)


def test_execute_flow_run_loads_the_flow_from_storage(registered):
    client = registered.client
    run_id = client.create_flow_run(flow_id=registered.flow_id)
    seen: dict[str, Any] = {}

    class RecordingRunner:
        def __init__(self, flow):
            seen["flow"] = flow

        def run(self, **kwargs):
            seen["kwargs"] = kwargs
            seen["flow_run_id"] = prefect.context.get("flow_run_id")
            client.set_flow_run_state(run_id, Success("ran"))

    final = execute_flow_run(run_id, runner_cls=RecordingRunner, executor="x")
    assert seen["flow"].name == "backend-views"
    assert seen["kwargs"] == {"executor": "x"}
    assert seen["flow_run_id"] == run_id
    assert isinstance(final.state, Success)
    # A finished run is not run again.
    assert execute_flow_run(run_id, runner_cls=None).state == final.state


def test_execute_flow_run_fails_the_run_when_the_flow_cannot_be_loaded(registered, tmp_path):
    import shutil

    shutil.rmtree(tmp_path / "flows")
    run_id = registered.client.create_flow_run(flow_id=registered.flow_id)
    with pytest.raises(Exception):
        execute_flow_run(run_id)
    state = registered.client.get_flow_run_state(run_id)
    assert isinstance(state, Failed)
    assert state.message.startswith("Failed to load flow from storage: ")
    view = FlowRunView.from_flow_run_id(run_id)
    logs = view.get_logs(end_time=pendulum.now("UTC").add(minutes=1))
    assert logs[-1].message == state.message
