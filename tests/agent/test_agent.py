"""The agent loop against our server: registration, label rules, Submitted marking, failure
reporting, polling limits, the health server and stopping (server-protocol.md §4.3)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import pendulum
import pytest
import requests

import prefect
from prefect.agent import Agent
from prefect.agent.agent import AGENT_WAKE_EVENT, exit_handler
from prefect.agent.local import LocalAgent
from prefect.engine.state import Failed, Retrying, Running, Scheduled, Submitted
from prefect.run_configs import DockerRun, LocalRun, UniversalRun


def wait_for(condition: Callable[[], Any], timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met before the deadline")
        time.sleep(0.02)


def states_of(client: prefect.Client, flow_run_id: str) -> list[tuple[str, str]]:
    answer = client.graphql(
        {
            "query": {
                f'flow_run_by_pk(id: "{flow_run_id}")': {
                    "states(order_by: {version: asc})": {"state", "message"}
                }
            }
        }
    )
    return [(s.state, s.message) for s in answer.data.flow_run_by_pk.states]


def logs_of(client: prefect.Client, flow_run_id: str) -> list[tuple[str, str, str]]:
    answer = client.graphql(
        {
            "query": {
                f'flow_run_by_pk(id: "{flow_run_id}")': {
                    "logs(order_by: {timestamp: asc})": {"name", "level", "message"}
                }
            }
        }
    )
    return [(log.name, log.level, log.message) for log in answer.data.flow_run_by_pk.logs]


def flow_run_ids(processes) -> list[str]:
    return [p.kwargs["env"]["PREFECT__CONTEXT__FLOW_RUN_ID"] for p in processes]


# --- registration -------------------------------------------------------------------------


def test_agent_registers_with_its_class_name_name_and_labels_once(client, started):
    first = LocalAgent(name="reg", labels=["b", "a"], hostname_label=False, max_polls=1)
    first.start()
    second = LocalAgent(name="reg", labels=["b", "a"], hostname_label=False, max_polls=1)
    second.start()

    agents = client.graphql({"query": {"agent": {"id", "name", "type", "labels"}}}).data.agent
    assert [(a.name, a.type, a.labels) for a in agents] == [("reg", "LocalAgent", ["a", "b"])]
    agent_id = agents[0].id
    assert first.client._attached_headers == {"X-PREFECT-AGENT-ID": agent_id}
    assert second.client._attached_headers == {"X-PREFECT-AGENT-ID": agent_id}


def test_local_agent_adds_the_hostname_label_unless_told_not_to(prefect_server):
    assert LocalAgent(labels=["x"]).labels == ["x", socket.gethostname()]
    assert LocalAgent(labels=["x"], hostname_label=False).labels == ["x"]


def test_name_and_labels_default_to_the_config(prefect_server, monkeypatch):
    monkeypatch.setitem(prefect.config.cloud.agent, "name", "configured")
    monkeypatch.setitem(prefect.config.cloud.agent, "labels", "['l1', 'l2']")
    agent = Agent()
    assert (agent.name, agent.labels) == ("configured", ["l1", "l2"])


def test_start_fails_with_runtime_error_when_the_api_does_not_answer_hello(
    prefect_server, monkeypatch
):
    agent = LocalAgent(max_polls=1, hostname_label=False)
    real_graphql = agent.client.graphql

    def graphql(query: Any, *args: Any, **kwargs: Any) -> Any:
        if query == "query { hello }":
            raise requests.ConnectionError("refused")
        return real_graphql(query, *args, **kwargs)

    monkeypatch.setattr(agent.client, "graphql", graphql)
    with pytest.raises(RuntimeError) as info:
        agent.start()
    assert str(info.value) == f"Error while contacting API at {prefect_server}"
    assert isinstance(info.value.__cause__, requests.ConnectionError)


# --- label rules --------------------------------------------------------------------------


def test_labeled_runs_go_to_superset_agents_and_unlabeled_runs_to_unlabeled_agents(
    client, register_flow, started
):
    labeled_flow = register_flow(UniversalRun(labels=["a"]))
    unlabeled_flow = register_flow(UniversalRun())
    labeled = client.create_flow_run(flow_id=labeled_flow)
    unlabeled = client.create_flow_run(flow_id=unlabeled_flow)

    LocalAgent(labels=["b"], hostname_label=False, max_polls=2).start()
    assert started == []

    LocalAgent(labels=["a", "b"], hostname_label=False, max_polls=2).start()
    assert flow_run_ids(started) == [labeled]

    LocalAgent(hostname_label=False, max_polls=2).start()
    assert flow_run_ids(started) == [labeled, unlabeled]


# --- Submitted marking and deployment -----------------------------------------------------


def test_deployed_run_is_marked_submitted_and_logged_with_the_pid(client, register_flow, started):
    flow_run_id = client.create_flow_run(flow_id=register_flow())
    LocalAgent(name="marker", hostname_label=False, max_polls=2).start()

    assert len(started) == 1
    assert states_of(client, flow_run_id)[-2:] == [
        ("Scheduled", "Flow run scheduled."),
        ("Submitted", "Submitted for execution"),
    ]
    submitted = client.get_flow_run_state(flow_run_id)
    assert isinstance(submitted, Submitted) and isinstance(submitted.state, Scheduled)
    assert ("marker", "INFO", f"Submitted for execution: PID: {started[0].pid}") in logs_of(
        client, flow_run_id
    )


def test_second_agent_loses_the_race_silently(client, register_flow, started):
    flow_run_id = client.create_flow_run(flow_id=register_flow())
    winner = LocalAgent(name="winner", hostname_label=False)
    loser = LocalAgent(name="loser", hostname_label=False)
    # Both read the run while it is still Scheduled, as two polling agents would.
    [seen_by_winner] = winner._get_flow_run_metadata([flow_run_id])
    [seen_by_loser] = loser._get_flow_run_metadata([flow_run_id])

    winner._deploy_flow_run(seen_by_winner)
    loser._deploy_flow_run(seen_by_loser)

    assert len(started) == 1
    assert [s for s, _ in states_of(client, flow_run_id)] == ["Scheduled", "Submitted"]
    assert [level for name, level, _ in logs_of(client, flow_run_id)] == ["INFO"]
    assert loser.submitting_flow_runs == set()


def test_two_polling_agents_deploy_a_run_once(client, register_flow, started):
    flow_run_ids_ = [client.create_flow_run(flow_id=register_flow()) for _ in range(3)]
    agents = [LocalAgent(name=f"a{i}", hostname_label=False, max_polls=3) for i in range(2)]
    threads = [threading.Thread(target=a.start) for a in agents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive()
    assert sorted(flow_run_ids(started)) == sorted(flow_run_ids_)


def test_scheduled_task_runs_of_a_running_flow_run_are_marked_submitted(
    client, register_flow, started
):
    flow_run_id = client.create_flow_run(flow_id=register_flow())
    info = client.get_flow_run_info(flow_run_id)
    client.set_flow_run_state(flow_run_id, Running("Running flow."))
    [task_run] = info.task_runs
    retry_at = pendulum.now("UTC").subtract(seconds=30)
    client.set_task_run_state(task_run.id, Retrying("retry", start_time=retry_at))

    LocalAgent(hostname_label=False, max_polls=2).start()

    assert flow_run_ids(started) == [flow_run_id]
    assert isinstance(client.get_flow_run_state(flow_run_id), Running)
    task_state = client.get_task_run_state(task_run.id)
    assert isinstance(task_state, Submitted)
    assert task_state.message == "Submitted for execution."
    assert isinstance(task_state.state, Retrying)


def test_runs_are_deployed_only_once_their_start_time_has_come(client, register_flow, started):
    start = pendulum.now("UTC").add(seconds=0.8)
    flow_run_id = client.create_flow_run(flow_id=register_flow(), scheduled_start_time=start)
    LocalAgent(hostname_label=False, max_polls=2).start()
    assert flow_run_ids(started) == [flow_run_id]
    assert time.time() >= start.timestamp()


def test_a_run_that_cannot_be_deployed_is_failed_with_an_error_log(client, register_flow, started):
    flow_run_id = client.create_flow_run(flow_id=register_flow(DockerRun(image="img")))
    LocalAgent(name="failing", hostname_label=False, max_polls=2).start()

    message = (
        f"Flow run {flow_run_id} has a `run_config` of type `DockerRun`, only `LocalRun` is "
        "supported"
    )
    assert started == []
    assert states_of(client, flow_run_id)[-1] == ("Failed", message)
    assert isinstance(client.get_flow_run_state(flow_run_id), Failed)
    assert ("failing", "ERROR", message) in logs_of(client, flow_run_id)


def test_many_runs_are_deployed_concurrently(client, register_flow, started, monkeypatch):
    flow_id = register_flow()
    ids = [client.create_flow_run(flow_id=flow_id) for _ in range(5)]
    # Every deployment waits until all five are in progress: one after the other, they would
    # break the barrier instead.
    barrier = threading.Barrier(5, timeout=60)
    real_deploy = LocalAgent.deploy_flow

    def deploy_flow(self: LocalAgent, flow_run: Any) -> str:
        barrier.wait()
        return real_deploy(self, flow_run)

    monkeypatch.setattr(LocalAgent, "deploy_flow", deploy_flow)
    LocalAgent(hostname_label=False, max_polls=2).start()
    assert sorted(flow_run_ids(started)) == sorted(ids)


# --- polling --------------------------------------------------------------------------------


def test_max_polls_stops_the_agent_after_that_many_polls(prefect_server, monkeypatch):
    agent = LocalAgent(hostname_label=False, max_polls=4)
    polls = []
    real = agent._get_ready_flow_runs

    def counting() -> set[str]:
        polls.append(time.monotonic())
        return real()

    monkeypatch.setattr(agent, "_get_ready_flow_runs", counting)
    agent.start()
    assert len(polls) == 4


def test_idle_polls_back_off_to_the_configured_maximum(prefect_server, monkeypatch):
    monkeypatch.setitem(prefect.config.cloud.agent, "poll_interval_min", 0.25)
    monkeypatch.setitem(prefect.config.cloud.agent, "poll_interval_max", 10.0)
    agent = LocalAgent(hostname_label=False, max_polls=8)
    waits: list[float | None] = []
    monkeypatch.setattr(agent, "_get_ready_flow_runs", lambda: set())

    class RecordingEvent:
        def clear(self) -> None:
            pass

        def wait(self, timeout: float | None = None) -> bool:
            waits.append(timeout)
            return False

    monkeypatch.setattr("prefect.agent.agent.AGENT_WAKE_EVENT", RecordingEvent())
    agent.start()
    assert waits == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0]


# --- health server and stopping ---------------------------------------------------------------


def test_health_server_answers_while_the_agent_runs_and_stops_with_it(prefect_server):
    # Port 0: the system picks a free port as the server binds (a port found free beforehand
    # could be taken by another test worker in between).
    agent = LocalAgent(hostname_label=False, agent_address="http://127.0.0.1:0")
    thread = threading.Thread(target=agent.start)
    thread.start()
    try:
        _, port = wait_for(lambda: agent._api_server_address)
        health = wait_for(lambda: _get(f"http://127.0.0.1:{port}/api/health"))
        assert health.status_code == 200
        assert health.json() == {}
        assert requests.get(f"http://127.0.0.1:{port}/api/poke", timeout=30).status_code == 200
    finally:
        agent._exit_event.set()
        AGENT_WAKE_EVENT.set()
        thread.join(timeout=60)
    assert not thread.is_alive()
    wait_for(lambda: _get(f"http://127.0.0.1:{port}/api/health") is None)


def _get(url: str) -> requests.Response | None:
    try:
        # A generous read timeout: a slow answer is still an answer (only a refused
        # connection means "no server").
        return requests.get(url, timeout=30)
    except requests.ConnectionError:
        return None


def test_exit_handler_turns_sigterm_into_a_clean_stop(prefect_server):
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signal handlers can only be installed in the main thread")
    agent = LocalAgent(hostname_label=False)
    previous = signal.getsignal(signal.SIGTERM)
    with exit_handler(agent) as exit_event:
        os.kill(os.getpid(), signal.SIGTERM)
        wait_for(exit_event.is_set)
    assert signal.getsignal(signal.SIGTERM) is previous


@pytest.mark.integration
def test_agent_process_stops_on_sigterm(prefect_server, tmp_path):
    env = dict(os.environ, PREFECT__CLOUD__API=prefect_server, PREFECT__BACKEND="server")
    code = "from prefect.cli.agent import agent; agent(['local', 'start', '--no-hostname-label'])"
    import subprocess

    process = subprocess.Popen(
        [sys.executable, "-c", code],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        client = prefect.Client()
        wait_for(lambda: client.graphql({"query": {"agent": {"id"}}}).data.agent, timeout=90)
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, output
    assert "Agent is shutting down." in output


def test_local_run_working_dir_and_env_reach_the_process(client, register_flow, started, tmp_path):
    workdir = tmp_path / "work"
    workdir.mkdir()
    flow_id = register_flow(LocalRun(env={"FROM_RUN_CONFIG": "1"}, working_dir=str(workdir)))
    client.create_flow_run(flow_id=flow_id)
    LocalAgent(hostname_label=False, max_polls=2, env_vars={"FROM_AGENT": "2"}).start()
    [process] = started
    assert process.kwargs["cwd"] == str(workdir)
    assert process.kwargs["env"]["FROM_RUN_CONFIG"] == "1"
    assert process.kwargs["env"]["FROM_AGENT"] == "2"
    assert process.kwargs["env"]["PREFECT__CONTEXT__FLOW_ID"] == flow_id


def test_agent_config_is_attached_at_registration_and_read_at_start(client, started):
    created = client.graphql(
        {
            "mutation($input: create_agent_config_input!)": {
                "create_agent_config(input: $input)": {"id"}
            }
        },
        variables={"input": {"tenant_id": client.tenant_id, "name": "cfg", "settings": {"k": "v"}}},
    )
    config_id = created.data.create_agent_config.id
    agent = LocalAgent(agent_config_id=config_id, hostname_label=False, max_polls=1)
    agent.start()
    assert agent._agent_settings == {"k": "v"}
    agents = client.graphql({"query": {"agent": {"agent_config_id"}}}).data.agent
    assert [a.agent_config_id for a in agents] == [config_id]


def test_an_agent_can_be_started_again_after_it_stopped(prefect_server, started):
    agent = LocalAgent(hostname_label=False, max_polls=1)
    agent.start()
    polls = []
    agent._get_ready_flow_runs = lambda: polls.append(1) or set()  # type: ignore[method-assign]
    agent.start()
    assert polls == [1]


def test_agent_sends_the_1x_requests_in_order(client, register_flow, started, monkeypatch):
    flow_run_id = client.create_flow_run(flow_id=register_flow())
    agent = LocalAgent(name="seq", hostname_label=False, max_polls=2)
    sent: list[tuple[str, dict, dict]] = []
    real_post = agent.client.post
    # When the first queue request went out: the agent computes its `before` just ahead of it.
    queue_asked_at: list[pendulum.DateTime] = []

    def post(path: str, server: Any = None, headers: Any = None, params: Any = None, **kw: Any):
        operation = re.search(r"\{\s*(\w+)", params["query"]).group(1)
        if operation == "get_runs_in_queue" and not queue_asked_at:
            queue_asked_at.append(pendulum.now("UTC"))
        variables = json.loads(params["variables"]) or {}
        sent.append((operation, variables, agent.client._headers(headers, None)))
        return real_post(path, server=server, headers=headers, params=params, **kw)

    monkeypatch.setattr(agent.client, "post", post)
    before = pendulum.now("UTC")
    agent.start()

    operations = [operation for operation, _, _ in sent]
    assert operations[:5] == ["tenant", "register_agent", "hello", "get_runs_in_queue", "flow_run"]
    # The worker thread's requests interleave with the next poll.
    assert sorted(operations[5:]) == ["get_runs_in_queue", "set_flow_run_states", "write_run_logs"]
    assert operations.index("set_flow_run_states") < operations.index("write_run_logs")
    by_name = {operation: variables for operation, variables, _ in sent}
    register = sent[1][1]["input"]
    assert register == {
        "type": "LocalAgent",
        "name": "seq",
        "labels": [],
        "tenant_id": client.tenant_id,
        "agent_config_id": None,
    }
    agent_id = client.graphql({"query": {"agent": {"id"}}}).data.agent[0].id
    assert all("X-PREFECT-AGENT-ID" not in headers for _, _, headers in sent[:2])
    assert all(headers["X-PREFECT-AGENT-ID"] == agent_id for _, _, headers in sent[2:])
    queue = sent[3][1]["input"]
    assert queue["labels"] == [] and queue["tenant_id"] == client.tenant_id
    # Ten seconds after the moment the agent asked (between `before` and the request, however
    # long a loaded machine took to get there); the isoformat keeps microseconds.
    asked_before = pendulum.parse(queue["before"])
    assert before.add(seconds=10) <= asked_before <= queue_asked_at[0].add(seconds=10)
    [state] = by_name["set_flow_run_states"]["input"]["states"]
    assert state["flow_run_id"] == flow_run_id
    assert state["version"] == client.get_flow_run_info(flow_run_id).version - 1
    assert state["state"]["type"] == "Submitted"
    assert by_name["write_run_logs"]["input"]["logs"] == [
        {
            "flow_run_id": flow_run_id,
            "name": "seq",
            "message": f"Submitted for execution: PID: {started[0].pid}",
            "level": "INFO",
        }
    ]


def test_importing_the_agents_and_their_cli_stays_light():
    import subprocess

    code = (
        "import sys, prefect.agent, prefect.cli.agent\n"
        "heavy = ['tornado', 'prefect.server', 'sqlalchemy', 'uvicorn', 'boto3', 'docker',\n"
        "         'kubernetes', 'google.cloud.aiplatform', 'dask']\n"
        "print([name for name in heavy if name in sys.modules])\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert completed.stdout.strip() == "[]"
