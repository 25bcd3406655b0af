"""`prefect execute flow-run`: load a flow run's flow from its storage and run it with the
configured runner against a real server; failures mark the run Failed and log why."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from click.testing import CliRunner

import prefect
from prefect.cli.execute import execute
from prefect.client import Client
from prefect.storage import Local
from prefect.utilities._cloud_logs import flush_run_logs
from prefect.utilities.graphql import EnumValue, with_args
from prefect.utilities.storage import extract_flow_from_file

pytestmark = pytest.mark.timeout(90)

PREFECT = [sys.executable, "-m", "prefect"]

FLOW_SCRIPT = textwrap.dedent(
    """
    # (Works around src/prefect/core/task.py reading `__module__`, None for exec'd code.)
    __name__ = "exec_flow"

    import prefect
    from prefect import Flow, Parameter, task


    @task
    def add(x, y):
        prefect.context.logger.info("adding %s and %s", x, y)
        return x + y


    with Flow("exec-flow") as flow:
        add(Parameter("x", default=1), 2)
    """
)


@pytest.fixture
def backend_run(prefect_server, tmp_path, monkeypatch):
    """A registered script flow and a new flow run of it; its id."""
    monkeypatch.setitem(prefect.config.cloud, "heartbeat_mode", "off")
    monkeypatch.setitem(
        prefect.config.engine.flow_runner, "default_class", "prefect.engine.cloud.CloudFlowRunner"
    )
    script = tmp_path / "exec_flow.py"
    script.write_text(FLOW_SCRIPT)
    flow = extract_flow_from_file(file_path=str(script))
    flow.storage = Local(path=str(script), stored_as_script=True, directory=str(tmp_path / "flows"))
    client = Client()
    client.create_project("exec")
    flow_id = flow.register(project_name="exec", no_url=True)
    yield client.create_flow_run(flow_id=flow_id, parameters={"x": 40}), script
    # Logs queued after a run's own flush go out while this test's server still runs.
    flush_run_logs()


def flow_run(flow_run_id: str):
    query = {
        "query": {
            with_args("flow_run_by_pk", {"id": flow_run_id}): {
                "state": True,
                "state_message": True,
                with_args("logs", {"order_by": {"timestamp": EnumValue("asc")}}): {
                    "name": True,
                    "level": True,
                    "message": True,
                },
                "task_runs": {"state": True, "serialized_state": True, "task": {"slug": True}},
            }
        }
    }
    return Client().graphql(query).data.flow_run_by_pk


def test_it_runs_the_flow_run_named_by_the_environment(backend_run):
    flow_run_id, _ = backend_run
    result = CliRunner().invoke(
        execute, ["flow-run"], env={"PREFECT__CONTEXT__FLOW_RUN_ID": flow_run_id}
    )
    assert result.exit_code == 0, result.output
    run = flow_run(flow_run_id)
    assert run.state == "Success"
    (add_run,) = [r for r in run.task_runs if r.task.slug == "add-1"]
    assert add_run.state == "Success"
    assert "adding 40 and 2" in [log.message for log in run.logs]


def test_a_flow_that_cannot_be_loaded_fails_the_run(backend_run):
    flow_run_id, script = backend_run
    script.unlink()
    result = CliRunner().invoke(
        execute, ["flow-run"], env={"PREFECT__CONTEXT__FLOW_RUN_ID": flow_run_id}
    )
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith("Failed to load and execute flow run: ")
    run = flow_run(flow_run_id)
    assert run.state == "Failed"
    assert run.state_message == line
    (log,) = [log for log in run.logs if log.name == "execute flow-run"]
    assert log.level == "ERROR" and log.message == line


def test_without_a_flow_run_id_it_refuses(prefect_server):
    result = CliRunner().invoke(execute, ["flow-run"], env={})
    assert result.exit_code == 1
    assert result.stderr == "Not currently executing a flow within a Cloud context.\n"


def test_an_unknown_flow_run_is_reported(prefect_server):
    missing = "00000000-0000-0000-0000-000000000000"
    result = CliRunner().invoke(
        execute, ["flow-run"], env={"PREFECT__CONTEXT__FLOW_RUN_ID": missing}
    )
    assert result.exit_code == 1
    assert result.stderr == f"Flow run {missing} not found\n"


@pytest.mark.integration
def test_python_dash_m_prefect_execute_flow_run_in_a_process(backend_run, prefect_server):
    flow_run_id, _ = backend_run
    env = dict(os.environ)
    env.update(
        PREFECT__BACKEND="server",
        PREFECT__CLOUD__API=prefect_server,
        PREFECT__SERVER__ENDPOINT=prefect_server,
        PREFECT__CONTEXT__FLOW_RUN_ID=flow_run_id,
        PREFECT__ENGINE__FLOW_RUNNER__DEFAULT_CLASS="prefect.engine.cloud.CloudFlowRunner",
        PREFECT__CLOUD__HEARTBEAT_MODE="process",
        PREFECT__CLOUD__HEARTBEAT_INTERVAL="0.2",
        PREFECT__CLOUD__CHECK_CANCELLATION_INTERVAL="0.5",
    )
    completed = subprocess.run(
        [*PREFECT, "execute", "flow-run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr + completed.stdout
    run = flow_run(flow_run_id)
    assert run.state == "Success"
    messages = [log.message for log in run.logs]
    assert messages[0] == "Beginning Flow run for 'exec-flow'"
    assert "adding 40 and 2" in messages
    assert "Flow run SUCCESS: all reference tasks succeeded" in messages


def test_storage_secrets_are_read_before_the_flow_is_loaded(prefect_server, tmp_path, monkeypatch):
    monkeypatch.setitem(prefect.config.cloud, "heartbeat_mode", "off")
    monkeypatch.setitem(
        prefect.config.engine.flow_runner, "default_class", "prefect.engine.cloud.CloudFlowRunner"
    )
    script = tmp_path / "secret_flow.py"
    script.write_text(FLOW_SCRIPT)
    flow = extract_flow_from_file(file_path=str(script))
    flow.storage = Local(
        path=str(script),
        stored_as_script=True,
        directory=str(tmp_path / "flows"),
        secrets=["STORAGE_TOKEN"],
    )
    client = Client()
    client.create_project("exec")
    flow_id = flow.register(project_name="exec", no_url=True)
    env = {"PREFECT__CONTEXT__FLOW_RUN_ID": ""}

    missing = client.create_flow_run(flow_id=flow_id)
    env["PREFECT__CONTEXT__FLOW_RUN_ID"] = missing
    result = CliRunner().invoke(execute, ["flow-run"], env=env)
    assert result.exit_code == 1
    assert "STORAGE_TOKEN" in result.stderr
    assert flow_run(missing).state == "Failed"

    present = client.create_flow_run(flow_id=flow_id)
    env["PREFECT__CONTEXT__FLOW_RUN_ID"] = present
    with prefect.context(secrets={"STORAGE_TOKEN": "t0ken"}):
        result = CliRunner().invoke(execute, ["flow-run"], env=env)
    assert result.exit_code == 0, result.output
    assert flow_run(present).state == "Success"
