"""`LocalAgent.deploy_flow` and `populate_env_vars`: the command, environment and working
directory of flow-run processes, what is refused, and (integration) a real flow run."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import prefect
from prefect import Flow, task
from prefect.agent.agent import AGENT_WAKE_EVENT
from prefect.agent.local import LocalAgent
from prefect.engine.state import Success
from prefect.run_configs import DockerRun, KubernetesRun, LocalRun, UniversalRun
from prefect.storage import Docker, Local
from prefect.utilities.graphql import GraphQLResult

SPEC_KEYS = {
    "PREFECT__BACKEND",
    "PREFECT__CLOUD__API",
    "PREFECT__CLOUD__AGENT__LABELS",
    "PREFECT__CONTEXT__FLOW_RUN_ID",
    "PREFECT__CONTEXT__FLOW_ID",
    "PREFECT__CLOUD__USE_LOCAL_SECRETS",
    "PREFECT__CLOUD__SEND_FLOW_RUN_LOGS",
    "PREFECT__LOGGING__LEVEL",
    "PREFECT__ENGINE__FLOW_RUNNER__DEFAULT_CLASS",
}


def flow_run(run_config=None, storage=None) -> GraphQLResult:
    storage = storage or Local(directory="/tmp/flows", add_default_labels=False)
    return GraphQLResult(
        {
            "id": "run-id",
            "version": 1,
            "name": "run",
            "run_config": run_config.serialize() if run_config is not None else None,
            "flow": {
                "id": "flow-id",
                "name": "flow",
                "storage": storage.serialize(),
                "core_version": "1.4.1",
            },
        }
    )


@pytest.fixture
def agent(monkeypatch) -> LocalAgent:
    monkeypatch.setitem(prefect.config.cloud, "api", "http://api.test:4200")
    monkeypatch.delenv("PYTHONPATH", raising=False)
    return LocalAgent(labels=["b", "a"], hostname_label=False, import_paths=["/extra"])


def test_deploy_starts_prefect_execute_flow_run_in_its_own_session(agent, started):
    assert agent.deploy_flow(flow_run(UniversalRun())) == f"PID: {started[0].pid}"
    [process] = started
    assert process.args == [sys.executable, "-m", "prefect", "execute", "flow-run"]
    assert process.kwargs["start_new_session"] is True
    assert process.kwargs["stdout"] is subprocess.DEVNULL
    assert process.kwargs["stderr"] is subprocess.STDOUT
    assert process.kwargs["cwd"] is None
    assert agent.processes == {process}


def test_show_flow_logs_lets_the_process_write_to_the_agents_terminal(agent, started):
    agent.show_flow_logs = True
    agent.deploy_flow(flow_run())
    assert started[0].kwargs["stdout"] is None


def test_environment_of_the_flow_run_process(agent, started, monkeypatch, tmp_path):
    monkeypatch.setenv("FROM_AGENT_PROCESS", "kept")
    monkeypatch.setenv("PREFECT__LOGGING__LEVEL", "WARNING")
    agent.env_vars = {"FROM_AGENT": "a", "SHARED": "agent"}
    run_config = LocalRun(
        env={"SHARED": "run", "PREFECT__BACKEND": "overridden?"}, working_dir=str(tmp_path)
    )
    agent.deploy_flow(flow_run(run_config))
    env = started[0].kwargs["env"]

    assert started[0].kwargs["cwd"] == str(tmp_path)
    assert env["FROM_AGENT_PROCESS"] == "kept"
    assert env["FROM_AGENT"] == "a"
    assert env["SHARED"] == "run"
    assert env["PYTHONPATH"] == os.pathsep.join([str(tmp_path), "/extra"])
    assert {key: env[key] for key in SPEC_KEYS} == {
        "PREFECT__BACKEND": "server",
        "PREFECT__CLOUD__API": "http://api.test:4200",
        "PREFECT__CLOUD__AGENT__LABELS": "['b', 'a']",
        "PREFECT__CONTEXT__FLOW_RUN_ID": "run-id",
        "PREFECT__CONTEXT__FLOW_ID": "flow-id",
        "PREFECT__CLOUD__USE_LOCAL_SECRETS": "false",
        "PREFECT__CLOUD__SEND_FLOW_RUN_LOGS": "true",
        "PREFECT__LOGGING__LEVEL": prefect.config.logging.level,
        "PREFECT__ENGINE__FLOW_RUNNER__DEFAULT_CLASS": "prefect.engine.cloud.CloudFlowRunner",
    }
    assert "PREFECT__CLOUD__API_KEY" not in env
    assert "PREFECT__CLOUD__TENANT_ID" not in env


def test_pythonpath_defaults_to_the_agents_directory_and_keeps_an_existing_one(
    agent, started, monkeypatch
):
    monkeypatch.setenv("PYTHONPATH", "/already")
    agent.deploy_flow(flow_run(UniversalRun(env={"X": "1"})))
    env = started[0].kwargs["env"]
    assert env["PYTHONPATH"] == os.pathsep.join([os.getcwd(), "/extra", "/already"])
    assert env["X"] == "1"


def test_no_cloud_logs_and_api_key_reach_the_environment(monkeypatch, started):
    monkeypatch.setitem(prefect.config.cloud, "api_key", "secret-key")
    monkeypatch.setitem(prefect.config.cloud, "tenant_id", "tenant-1")
    agent = LocalAgent(hostname_label=False, no_cloud_logs=True)
    agent.deploy_flow(flow_run())
    env = started[0].kwargs["env"]
    assert env["PREFECT__CLOUD__SEND_FLOW_RUN_LOGS"] == "false"
    assert env["PREFECT__CLOUD__API_KEY"] == "secret-key"
    assert env["PREFECT__CLOUD__TENANT_ID"] == "tenant-1"


def test_docker_storage_is_refused(agent, started):
    storage = Docker(image_name="img", image_tag="tag")
    with pytest.raises(ValueError, match="Docker storage, which is not supported"):
        agent.deploy_flow(flow_run(storage=storage))
    assert started == []


@pytest.mark.parametrize("run_config", [DockerRun(image="x"), KubernetesRun()])
def test_run_configs_of_other_agents_are_refused(agent, started, run_config):
    kind = type(run_config).__name__
    message = f"Flow run run-id has a `run_config` of type `{kind}`, only `LocalRun` is supported"
    with pytest.raises(TypeError) as info:
        agent.deploy_flow(flow_run(run_config))
    assert str(info.value) == message
    assert started == []


def test_missing_working_dir_is_refused(agent, started, tmp_path):
    missing = tmp_path / "missing"
    with pytest.raises(ValueError, match="nonexistent `working_dir` configured"):
        agent.deploy_flow(flow_run(LocalRun(working_dir=str(missing))))
    assert started == []


def test_heartbeat_reaps_finished_processes(agent, started, caplog):
    agent.deploy_flow(flow_run())
    agent.deploy_flow(flow_run())
    started[0].returncode = None
    started[1].returncode = 3
    agent.heartbeat()
    assert agent.processes == {started[0]}
    assert f"Process PID {started[1].pid} returned non-zero exit code 3!" in caplog.text


def test_generate_supervisor_conf_runs_the_agent_with_the_options():
    conf = LocalAgent.generate_supervisor_conf(
        labels=["a", "b"],
        env_vars={"K": "v w"},
        import_paths=["/p"],
        show_flow_logs=True,
        key="KEY",
        tenant_id="T",
    )
    assert (
        "command=prefect agent local start --key KEY --tenant-id T -l a -l b -e 'K=v w' -p /p -f"
        in conf
    )
    assert "[program:prefect-agent]" in conf


# --- a real flow run --------------------------------------------------------------------------

FLOW_SCRIPT = textwrap.dedent(
    """
    from prefect import Flow, task

    @task
    def write_marker():
        import os
        with open(os.environ["MARKER_PATH"], "w") as handle:
            handle.write(os.getcwd())
        return 42

    with Flow("agent-e2e") as flow:
        write_marker()
    """
)


@task
def write_marker():
    return 42


@pytest.mark.integration
def test_local_agent_runs_a_registered_flow_to_success(client, tmp_path):
    script = tmp_path / "agent_e2e_flow.py"
    script.write_text(FLOW_SCRIPT)
    marker = tmp_path / "marker.txt"
    workdir = tmp_path / "work"
    workdir.mkdir()
    with Flow("agent-e2e") as flow:
        write_marker()
    flow.storage = Local(path=str(script), stored_as_script=True, add_default_labels=False)
    flow.run_config = LocalRun(env={"MARKER_PATH": str(marker)}, working_dir=str(workdir))
    flow_id = flow.register(project_name="agents", no_url=True)
    flow_run_id = client.create_flow_run(flow_id=flow_id)

    agent = LocalAgent(hostname_label=False)
    thread = threading.Thread(target=agent.start)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while not client.get_flow_run_state(flow_run_id).is_finished():
            assert time.monotonic() < deadline, client.get_flow_run_state(flow_run_id)
            time.sleep(0.1)
    finally:
        agent._exit_event.set()
        AGENT_WAKE_EVENT.set()
        thread.join(timeout=30)
        for process in agent.processes:
            process.wait(timeout=30)

    assert isinstance(client.get_flow_run_state(flow_run_id), Success)
    assert marker.read_text() == str(workdir)
