"""`FlowRunView`, its logs, `watch_flow_run` and `check_for_compatible_agents` against the
test server (protocol section 4.4)."""

from __future__ import annotations

import logging
import re
import threading
import time
from datetime import timedelta

import pendulum
import pytest

import prefect
from prefect.backend import FlowRunView, FlowView, TaskRunView
from prefect.backend import flow_run as flow_run_module
from prefect.backend.flow_run import (
    FlowRunLog,
    check_for_compatible_agents,
    stream_flow_run_logs,
    watch_flow_run,
)
from prefect.engine.state import Mapped, Running, Scheduled, Submitted, Success
from prefect.run_configs import UniversalRun


def test_view_of_a_finished_run_has_every_property(registered, completed_run):
    view = FlowRunView.from_flow_run_id(completed_run.flow_run_id)
    assert view.flow_run_id == completed_run.flow_run_id
    assert view.name == "done-run"
    assert view.flow_id == registered.flow_id
    assert view.labels == ["here"]
    assert view.parameters == {"n": 3}
    assert view.context == {}
    assert isinstance(view.state, Success)
    assert view.state.message == "All reference tasks succeeded."
    assert [type(s).__name__ for s in view.states] == [
        "Scheduled",
        "Submitted",
        "Running",
        "Success",
    ]
    timestamps = [s.timestamp for s in view.states]
    assert timestamps == sorted(timestamps)
    assert all(isinstance(t, pendulum.DateTime) for t in timestamps)
    assert isinstance(view.updated_at, pendulum.DateTime)
    assert view.updated_at >= timestamps[-1]
    assert isinstance(view.run_config, UniversalRun)
    assert "FlowRunView(" in repr(view) and completed_run.flow_run_id in repr(view)


def test_unknown_flow_run_id_is_a_value_error(registered):
    with pytest.raises(ValueError, match="No flow run found"):
        FlowRunView.from_flow_run_id("00000000-0000-0000-0000-000000000000")


def test_load_static_tasks_caches_finished_unmapped_task_runs(registered, completed_run):
    view = FlowRunView.from_flow_run_id(completed_run.flow_run_id, load_static_tasks=True)
    cached = view._task_runs
    assert set(cached) == set(completed_run.task_run_ids.values())
    assert all(task_run.map_index == -1 for task_run in cached.values())

    latest = view.get_latest()
    assert set(latest._task_runs) == set(cached)
    assert latest is not view


def test_get_logs_maps_level_names_and_respects_bounds(registered, completed_run):
    view = FlowRunView.from_flow_run_id(completed_run.flow_run_id)
    logs = view.get_logs()
    assert [log.message for log in logs] == ["first", "second", "third"]
    assert [log.level for log in logs] == [logging.INFO, logging.WARNING, logging.ERROR]
    assert all(isinstance(log, FlowRunLog) for log in logs)
    assert [log.timestamp for log in logs] == completed_run.log_times

    first, second, third = completed_run.log_times
    assert [log.message for log in view.get_logs(start_time=first)] == ["second", "third"]
    assert [log.message for log in view.get_logs(end_time=second)] == ["first", "second"]
    assert [log.message for log in view.get_logs(start_time=first, end_time=second)] == ["second"]


def test_get_logs_ends_at_the_time_the_view_was_taken(registered, completed_run):
    view = FlowRunView.from_flow_run_id(completed_run.flow_run_id)
    registered.client.write_run_logs(
        [
            {
                "flow_run_id": completed_run.flow_run_id,
                "name": "late",
                "level": "INFO",
                "message": "after the view",
                "timestamp": pendulum.now("UTC").add(minutes=5).isoformat(),
            }
        ]
    )
    assert "after the view" not in [log.message for log in view.get_logs()]
    later = view.get_logs(end_time=pendulum.now("UTC").add(minutes=10))
    assert later[-1].message == "after the view"


def test_flow_run_log_from_dict():
    log = FlowRunLog.from_dict(
        {"timestamp": "2024-01-02T03:04:05+00:00", "level": "DEBUG", "message": "m"}
    )
    assert log == (pendulum.datetime(2024, 1, 2, 3, 4, 5), logging.DEBUG, "m")


def test_get_task_run_by_slug_id_and_map_index(registered, completed_run):
    view = FlowRunView.from_flow_run_id(completed_run.flow_run_id)
    numbers = view.get_task_run(task_slug=registered.slugs["numbers"])
    assert isinstance(numbers, TaskRunView)
    assert numbers.task_run_id == completed_run.task_run_ids["numbers"]
    assert numbers.map_index == -1
    # Finished task runs are cached: the same object comes back without a query.
    assert view.get_task_run(task_slug=registered.slugs["numbers"]) is numbers
    assert view.get_task_run(task_run_id=numbers.task_run_id) is numbers

    child = view.get_task_run(task_slug=registered.slugs["square"], map_index=2)
    assert child.task_run_id == completed_run.child_ids[2]
    assert child.get_result() == 4

    fresh = FlowRunView.from_flow_run_id(completed_run.flow_run_id)
    by_id = fresh.get_task_run(task_run_id=completed_run.child_ids[1])
    assert by_id.map_index == 1


def test_get_task_run_needs_an_identifier_and_the_right_flow_run(registered, completed_run):
    view = FlowRunView.from_flow_run_id(completed_run.flow_run_id)
    with pytest.raises(ValueError, match="task_slug"):
        view.get_task_run()
    with pytest.raises(ValueError, match="No task run found"):
        view.get_task_run(task_slug="no-such-task")

    other = registered.client.create_flow_run(flow_id=registered.flow_id)
    other_view = FlowRunView.from_flow_run_id(other)
    with pytest.raises(ValueError, match="belongs to flow run"):
        other_view.get_task_run(task_run_id=completed_run.task_run_ids["numbers"])


def test_get_all_task_runs_and_ids(registered, completed_run):
    view = FlowRunView.from_flow_run_id(completed_run.flow_run_id, load_static_tasks=True)
    expected = set(completed_run.task_run_ids.values()) | set(completed_run.child_ids)
    assert set(view.get_task_run_ids()) == expected
    # Cached for a finished run.
    assert view._task_run_ids is not None

    task_runs = view.get_all_task_runs()
    assert len(task_runs) == len(expected)
    assert {task_run.task_run_id for task_run in task_runs} == expected
    assert sorted(t.map_index for t in task_runs if t.task_slug == registered.slugs["square"]) == [
        -1,
        0,
        1,
        2,
    ]


def test_task_run_ids_of_an_unfinished_run_are_not_cached(registered):
    run_id = registered.client.create_flow_run(flow_id=registered.flow_id)
    view = FlowRunView.from_flow_run_id(run_id)
    assert isinstance(view.state, Scheduled)
    # The server pre-creates one task run per task.
    assert len(view.get_task_run_ids()) == len(registered.flow.tasks)
    assert view._task_run_ids is None


def test_get_all_task_runs_refuses_more_than_1000(registered, completed_run, monkeypatch):
    view = FlowRunView.from_flow_run_id(completed_run.flow_run_id)
    monkeypatch.setattr(view, "get_task_run_ids", lambda: ["x"] * 1001)
    with pytest.raises(ValueError, match="Refusing to load all 1001 task runs"):
        view.get_all_task_runs()


def test_get_flow_metadata_is_cached(registered, completed_run):
    view = FlowRunView.from_flow_run_id(completed_run.flow_run_id)
    flow = view.get_flow_metadata()
    assert isinstance(flow, FlowView)
    assert flow.flow_id == registered.flow_id
    assert view.get_flow_metadata() is flow
    assert view.get_flow_metadata(no_cache=True) is not flow


@pytest.fixture
def fast_polls(monkeypatch):
    monkeypatch.setattr(flow_run_module, "_POLL_MIN", 0.05)
    monkeypatch.setattr(flow_run_module, "_POLL_MAX", 0.1)


def test_watch_a_finished_run_yields_its_states_then_logs(registered, completed_run):
    logs = list(watch_flow_run(completed_run.flow_run_id))
    messages = [log.message for log in logs]
    assert messages[:4] == [
        "Entered state <Scheduled>: Flow run scheduled.",
        "Entered state <Submitted>: Submitted for execution",
        "Entered state <Running>: Running flow.",
        "Entered state <Success>: All reference tasks succeeded.",
    ]
    assert messages[4:] == ["first", "second", "third"]
    assert all(log.level == logging.INFO for log in logs[:4])

    only_states = list(watch_flow_run(completed_run.flow_run_id, stream_logs=False))
    assert len(only_states) == 4
    only_logs = list(watch_flow_run(completed_run.flow_run_id, stream_states=False))
    assert [log.message for log in only_logs] == ["first", "second", "third"]


def test_watch_follows_a_run_to_the_end(registered, fast_polls):
    client = registered.client
    run_id = client.create_flow_run(flow_id=registered.flow_id)
    scheduled = client.get_flow_run_info(run_id).state
    seen: list[str] = []
    done = threading.Event()

    def drive():
        deadline = time.monotonic() + 90
        # Wait for the watcher to report the first state before moving on.
        while "Scheduled" not in " ".join(seen) and time.monotonic() < deadline:
            time.sleep(0.01)
        client.set_flow_run_state(run_id, Submitted("Submitted for execution", state=scheduled))
        client.set_flow_run_state(run_id, Running("Running flow."))
        client.write_run_logs(
            [
                {
                    "flow_run_id": run_id,
                    "name": "prefect.CloudFlowRunner",
                    "level": "INFO",
                    "message": "working",
                    "timestamp": pendulum.now("UTC").isoformat(),
                }
            ]
        )
        client.set_flow_run_state(run_id, Success("done"))
        done.set()

    driver = threading.Thread(target=drive)
    driver.start()
    for log in watch_flow_run(run_id, max_duration=timedelta(seconds=90)):
        seen.append(log.message)
    driver.join()
    assert done.is_set()
    assert seen[0] == "Entered state <Scheduled>: Flow run scheduled."
    assert seen[-1] in ("Entered state <Success>: done", "working")
    assert "Entered state <Success>: done" in seen
    assert "working" in seen


def test_watch_gives_up_after_max_duration(registered, fast_polls):
    run_id = registered.client.create_flow_run(flow_id=registered.flow_id)
    with pytest.raises(RuntimeError, match="timed out"):
        for _ in watch_flow_run(run_id, stream_logs=False, max_duration=timedelta(seconds=0.2)):
            pass


def test_watch_warns_when_no_agent_takes_the_run(registered, fast_polls, monkeypatch):
    monkeypatch.setattr(flow_run_module, "_AGENT_WARNING_AFTER", 0.1)
    run_id = registered.client.create_flow_run(flow_id=registered.flow_id, labels=["nobody"])
    warnings = []
    with pytest.raises(RuntimeError):
        for log in watch_flow_run(run_id, max_duration=timedelta(seconds=0.4)):
            if log.level == logging.WARNING:
                warnings.append(log.message)
    assert len(warnings) == 1
    # The seconds are those the watch really took: 0 on a quick machine, more on a loaded one.
    assert re.match(
        r"It has been \d+ seconds and your flow run has not been submitted", warnings[0]
    ), warnings[0]
    assert "There are no healthy agents in your tenant" in warnings[0]
    assert "labels ['nobody']" in warnings[0]


def test_stream_flow_run_logs_prints_lines(registered, completed_run, capsys):
    stream_flow_run_logs(completed_run.flow_run_id)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 7
    assert lines[0].endswith("| INFO    | Entered state <Scheduled>: Flow run scheduled.")
    assert lines[-1].endswith("| ERROR   | third")


def _poll_agents(client, labels):
    """`get_runs_in_queue` is what marks an agent as having queried."""
    client.graphql(
        {
            "mutation($input: get_runs_in_queue_input!)": {
                "get_runs_in_queue(input: $input)": {"flow_run_ids"}
            }
        },
        variables={"input": {"tenant_id": client.tenant_id, "labels": labels}},
    )


def test_check_for_compatible_agents_messages(prefect_server):
    client = prefect.Client()
    assert check_for_compatible_agents(["a"]).startswith(
        "There are no healthy agents in your tenant"
    )

    agent_id = client.register_agent(agent_type="LocalAgent", name="one", labels=["a", "b"])
    agent_client = prefect.Client()
    agent_client.attach_headers({"X-PREFECT-AGENT-ID": agent_id})
    _poll_agents(agent_client, ["a", "b"])

    message = check_for_compatible_agents(["a"])
    assert message.startswith(f"Agent {agent_id} (one) has matching labels and last queried")
    assert message.endswith("It should deploy your flow run.")

    assert check_for_compatible_agents(["c"]) == (
        "You have 1 healthy agents in your tenant but do not have an agent with labels "
        "['c']. Start an agent with matching labels to deploy your flow run."
    )
    # An agent with labels does not run runs without labels.
    assert "do not have an agent with empty labels" in check_for_compatible_agents([])

    second = client.register_agent(agent_type="LocalAgent", name="two", labels=["a"])
    second_client = prefect.Client()
    second_client.attach_headers({"X-PREFECT-AGENT-ID": second})
    _poll_agents(second_client, ["a"])
    assert check_for_compatible_agents(["a"]).startswith(
        "Found 2 healthy agents with matching labels."
    )


def test_check_for_compatible_agents_reports_unhealthy_agents(prefect_server, monkeypatch):
    client = prefect.Client()
    agent_id = client.register_agent(agent_type="LocalAgent", name="old", labels=["a"])
    agent_client = prefect.Client()
    agent_client.attach_headers({"X-PREFECT-AGENT-ID": agent_id})
    _poll_agents(agent_client, ["a"])
    # Two minutes later the agent has not queried within the last minute.
    later = pendulum.now("UTC").add(minutes=2)
    monkeypatch.setattr(flow_run_module, "_now", lambda: later)
    message = check_for_compatible_agents(["a"])
    assert message.startswith(f"Agent {agent_id} (old) has matching labels and last queried")
    assert "it looks unhealthy" in message
    assert "labels ['a']" in message


def test_views_compare_task_runs_by_id_and_state(registered, completed_run):
    view = FlowRunView.from_flow_run_id(completed_run.flow_run_id)
    parent = view.get_task_run(task_slug=registered.slugs["square"])
    assert isinstance(parent.state, Mapped)
    assert parent == TaskRunView.from_task_run_id(parent.task_run_id)
    assert parent != view.get_task_run(task_slug=registered.slugs["numbers"])
    assert parent != "something else"
    assert Running() != parent.state


def test_watch_shows_logs_written_while_the_state_does_not_change(registered, fast_polls):
    client = registered.client
    run_id = client.create_flow_run(flow_id=registered.flow_id)
    scheduled = client.get_flow_run_info(run_id).state
    client.set_flow_run_state(run_id, Submitted("Submitted for execution", state=scheduled))
    client.set_flow_run_state(run_id, Running("Running flow."))
    messages: list[str] = []

    def log(message):
        client.write_run_logs(
            [
                {
                    "flow_run_id": run_id,
                    "name": "prefect.task",
                    "level": "INFO",
                    "message": message,
                    "timestamp": pendulum.now("UTC").isoformat(),
                }
            ]
        )

    log("still working")
    for entry in watch_flow_run(run_id, stream_states=False, max_duration=timedelta(seconds=90)):
        messages.append(entry.message)
        if entry.message == "still working":
            client.set_flow_run_state(run_id, Success("done"))
    assert messages == ["still working"]
