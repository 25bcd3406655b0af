"""`create_flow_run`, `wait_for_flow_run`, `get_task_run_result` and `StartFlowRun`, run in
local flows against the test server (protocol section 4.6)."""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

import pendulum
import pytest

import prefect
from prefect import Flow
from prefect.backend import FlowRunView
from prefect.backend import flow_run as flow_run_module
from prefect.engine.results import PrefectResult
from prefect.engine.state import Failed, Mapped, Running, Submitted, Success
from prefect.tasks.prefect import (
    StartFlowRun,
    create_flow_run,
    get_task_run_result,
    wait_for_flow_run,
)


def _run(flow: Flow):
    state = flow.run()
    return state, {t.name: s for t, s in state.result.items()}


@pytest.fixture
def fast_polls(monkeypatch):
    monkeypatch.setattr(flow_run_module, "_POLL_MIN", 0.05)
    monkeypatch.setattr(flow_run_module, "_POLL_MAX", 0.1)


def _finish(child, run_id, final=None):
    """Write the states a runner would: the two mapped children and the parent."""
    client = child.client
    scheduled = client.get_flow_run_info(run_id).state
    client.set_flow_run_state(run_id, Submitted("Submitted for execution", state=scheduled))
    client.set_flow_run_state(run_id, Running("Running flow."))
    task_id = child.task_id("emit-1")
    for index, value in enumerate([1, 2]):
        info = client.get_task_run_info(run_id, task_id, map_index=index)
        client.set_task_run_state(info.id, Success("ok", result=PrefectResult().write(value)))
    parent = client.get_task_run_info(run_id, task_id)
    client.set_task_run_state(parent.id, Mapped("mapped", n_map_states=2))
    client.set_flow_run_state(run_id, final or Success("All reference tasks succeeded."))


def test_create_flow_run_by_id_logs_the_url(child, caplog):
    with Flow("parent") as flow:
        create_flow_run(
            flow_id=child.flow_id,
            parameters={},
            context={"k": "v"},
            labels=["x"],
            run_name="kid",
        )
    with caplog.at_level(logging.INFO):
        state, states = _run(flow)
    assert state.is_successful()
    run_id = states["create_flow_run"].result
    view = FlowRunView.from_flow_run_id(run_id)
    assert view.flow_id == child.flow_id
    assert view.name == "kid"
    assert view.labels == ["x"]
    assert view.context == {"k": "v"}
    url = f"http://localhost:8080/default/flow-run/{run_id}"
    assert prefect.config.server.ui.endpoint == "http://localhost:8080"
    assert "Creating flow run 'kid' for flow 'child'..." in caplog.text
    assert f"Created flow run 'kid': {url}" in caplog.text


def test_create_flow_run_by_name_and_project(child, caplog):
    with Flow("parent") as flow:
        create_flow_run(flow_name="child", project_name="kids")
    with caplog.at_level(logging.INFO):
        state, states = _run(flow)
    run_id = states["create_flow_run"].result
    assert FlowRunView.from_flow_run_id(run_id).flow_id == child.flow_id
    assert "Creating flow run '<generated-name>' for flow 'child'..." in caplog.text


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "Both `flow_id` and `flow_name` are null"),
        ({"flow_id": "a", "flow_name": "b"}, "Received both `flow_id` and `flow_name`"),
    ],
)
def test_create_flow_run_needs_exactly_one_identifier(kwargs, message):
    with pytest.raises(ValueError, match=message):
        create_flow_run.run(**kwargs)


def test_create_flow_run_defaults_from_the_context(child):
    start = timedelta(minutes=5)
    with prefect.context(task_run_id="parent-task-run", map_index=1, flow_run_name="big"):
        first = create_flow_run.run(flow_id=child.flow_id, scheduled_start_time=start)
        again = create_flow_run.run(flow_id=child.flow_id, scheduled_start_time=start)
    # The task run id (and map index) is the idempotency key: a retry makes no second run.
    assert first == again
    view = FlowRunView.from_flow_run_id(first)
    assert view.name == "big-child"
    expected = pendulum.now("UTC") + start
    assert abs((view.state.start_time - expected).total_seconds()) < 30
    with prefect.context(task_run_id="parent-task-run", map_index=2):
        assert create_flow_run.run(flow_id=child.flow_id) != first


def test_wait_for_a_finished_run_returns_its_view(child, caplog):
    run_id = child.client.create_flow_run(flow_id=child.flow_id, run_name="kid")
    _finish(child, run_id)
    with caplog.at_level(logging.INFO):
        view = wait_for_flow_run.run(run_id, stream_logs=True)
    assert isinstance(view, FlowRunView)
    assert isinstance(view.state, Success)
    assert "Flow 'kid': Entered state <Success>: All reference tasks succeeded." in caplog.text


def test_wait_follows_a_run_finished_from_another_thread(child, fast_polls):
    run_id = child.client.create_flow_run(flow_id=child.flow_id)
    started = threading.Event()
    finisher = threading.Thread(target=lambda: (started.wait(90), _finish(child, run_id)))
    finisher.start()

    with Flow("parent") as flow:
        wait_for_flow_run(run_id, raise_final_state=True)

    original = flow_run_module.FlowRunView.get_latest

    def get_latest(self, *args, **kwargs):
        started.set()
        return original(self, *args, **kwargs)

    flow_run_module.FlowRunView.get_latest = get_latest  # type: ignore[method-assign]
    try:
        state, states = _run(flow)
    finally:
        flow_run_module.FlowRunView.get_latest = original  # type: ignore[method-assign]
        finisher.join()
    assert state.is_successful()
    assert isinstance(states["wait_for_flow_run"], Success)
    assert isinstance(states["wait_for_flow_run"].result, FlowRunView)


def test_raise_final_state_fails_the_task_with_the_child(child):
    run_id = child.client.create_flow_run(flow_id=child.flow_id)
    _finish(child, run_id, final=Failed("child broke"))
    with Flow("parent") as flow:
        wait_for_flow_run(run_id, raise_final_state=True)
    state, states = _run(flow)
    assert state.is_failed()
    task_state = states["wait_for_flow_run"]
    assert isinstance(task_state, Failed)
    assert (
        task_state.message
        == f"{run_id} finished in state {FlowRunView.from_flow_run_id(run_id).state}"
    )

    with Flow("lenient") as flow:
        wait_for_flow_run(run_id)
    state, states = _run(flow)
    assert state.is_successful()
    assert isinstance(states["wait_for_flow_run"].result.state, Failed)


def test_get_task_run_result_of_children_and_parent(child):
    run_id = child.client.create_flow_run(flow_id=child.flow_id)
    _finish(child, run_id)
    with Flow("parent") as flow:
        get_task_run_result(run_id, "emit-1", map_index=1)
    state, states = _run(flow)
    assert states["get_task_run_result"].result == 2
    assert get_task_run_result.run(run_id, "emit-1") == [1, 2]


def test_get_task_run_result_waits_for_the_task_run(child, caplog):
    client = child.client
    run_id = client.create_flow_run(flow_id=child.flow_id)
    scheduled = client.get_flow_run_info(run_id).state
    client.set_flow_run_state(run_id, Submitted("Submitted for execution", state=scheduled))
    client.set_flow_run_state(run_id, Running("Running flow."))
    info = client.get_task_run_info(run_id, child.task_id("emit-1"), map_index=0)
    client.set_task_run_state(info.id, Running("Starting task run."))

    def finish_when_waited():
        deadline = time.monotonic() + 90
        while "Waiting for task run" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.01)
        client.set_task_run_state(info.id, Success("ok", result=PrefectResult().write(7)))

    finisher = threading.Thread(target=finish_when_waited)
    finisher.start()
    with caplog.at_level(logging.INFO):
        value = get_task_run_result.run(run_id, "emit-1", map_index=0, poll_time=0.05)
    finisher.join()
    assert value == 7
    assert (
        "Waiting for task run 'emit-1[0]' to finish before retrieving its result..." in caplog.text
    )


def test_get_task_run_result_refuses_bad_arguments():
    with pytest.raises(ValueError, match="Required argument `task_slug` is empty"):
        get_task_run_result.run("some-run", "")
    with prefect.context(flow_run_id="same"):
        with pytest.raises(ValueError, match="cannot be called on its own flow run"):
            get_task_run_result.run("same", "emit-1")


def test_start_flow_run_creates_a_run(child, caplog):
    start = StartFlowRun(flow_name="child", project_name="kids", parameters={}, run_name="s")
    assert start.name == "Flow child"
    with Flow("parent") as flow:
        start()
    with caplog.at_level(logging.INFO):
        state, states = _run(flow)
    run_id = states["Flow child"].result
    view = FlowRunView.from_flow_run_id(run_id)
    assert view.flow_id == child.flow_id and view.name == "s"
    assert f"Flow Run: http://localhost:8080/default/flow-run/{run_id}" in caplog.text


def test_start_flow_run_waits_and_takes_the_final_state(child):
    finished_ids: list[str] = []
    original = prefect.Client.create_flow_run

    def create_and_finish(self, *args, **kwargs):
        run_id = original(self, *args, **kwargs)
        _finish(child, run_id, final=Failed("child failed"))
        finished_ids.append(run_id)
        return run_id

    prefect.Client.create_flow_run = create_and_finish  # type: ignore[method-assign]
    try:
        start = StartFlowRun(
            flow_name="child", project_name="kids", wait=True, poll_interval=timedelta(0)
        )
        with Flow("parent") as flow:
            start()
        state, states = _run(flow)
    finally:
        prefect.Client.create_flow_run = original  # type: ignore[method-assign]
    task_state = states["Flow child"]
    assert isinstance(task_state, Failed)
    assert task_state.message.startswith(f"{finished_ids[0]} finished in state <Failed")


def test_start_flow_run_errors(child, monkeypatch):
    with pytest.raises(ValueError, match="Must provide a flow name."):
        StartFlowRun().run()
    with pytest.raises(ValueError, match="Flow 'nope' not found."):
        StartFlowRun(flow_name="nope", project_name="kids").run()
    with pytest.raises(ValueError, match="Flow 'child' not found."):
        StartFlowRun(flow_name="child", project_name="other").run()
    # Prefect Server: no project needed (any project matches).
    assert StartFlowRun(flow_name="child").run()
    monkeypatch.setitem(prefect.config, "backend", "cloud")
    with pytest.raises(ValueError, match="Must provide a project name."):
        StartFlowRun(flow_name="child").run()
