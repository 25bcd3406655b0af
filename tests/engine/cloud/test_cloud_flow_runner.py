"""`CloudFlowRunner` against a real server: every state, task run, log and heartbeat of a run
is written as `server-protocol.md` §4.2 describes, and cancellation ends a run `Cancelled`."""

from __future__ import annotations

import datetime
import threading
import time

import pendulum
import pytest

import prefect
from prefect import Flow, Parameter, task
from prefect.client import Client
from prefect.engine.cloud import CloudFlowRunner, CloudTaskRunner
from prefect.engine.results import LocalResult
from prefect.engine.state import Cancelled, Failed, Queued, Running, Success
from prefect.exceptions import VersionLockMismatchSignal
from prefect.storage import Local
from prefect.utilities._cloud_logs import flush_run_logs
from prefect.utilities.graphql import EnumValue, GraphQLResult, with_args

pytestmark = pytest.mark.timeout(120)  # generous: a server starts for each test


@task
def numbers(n: int) -> list[int]:
    return list(range(n))


@task
def square(x: int) -> int:
    prefect.context.logger.info("squaring %s", x)
    return x * x


@task(max_retries=2, retry_delay=datetime.timedelta(seconds=0))
def flaky_total(xs: list[int]) -> int:
    if prefect.context.get("task_run_count") == 1:
        raise RuntimeError("first attempt fails")
    return sum(xs)


LONG_WORK_SECONDS = 120


@task
def long_work() -> None:
    # Two minutes of "work" in short naps, interrupted by the cancellation watcher long before.
    deadline = time.monotonic() + LONG_WORK_SECONDS
    while time.monotonic() < deadline:
        time.sleep(0.05)


def children_command_lines() -> list[list[str]]:
    """The command lines of this process's live children (one may exit while we look)."""
    import psutil

    lines = []
    for child in psutil.Process().children():
        try:
            lines.append(child.cmdline())
        except psutil.NoSuchProcess:  # gone since it was listed
            pass
    return lines


@pytest.fixture
def quick_backend(prefect_server, monkeypatch):
    """Short intervals, thread heartbeats, and a run process's context."""
    monkeypatch.setitem(prefect.config.cloud, "heartbeat_interval", 0.2)
    monkeypatch.setitem(prefect.config.cloud, "heartbeat_mode", "thread")
    monkeypatch.setitem(prefect.config.cloud, "check_cancellation_interval", 0.2)
    monkeypatch.setitem(prefect.config.cloud, "logging_heartbeat", 0.2)
    yield
    # Logs queued after a run's own flush go out while this test's server still runs.
    flush_run_logs()


def register(flow: Flow, tmp_path) -> str:
    client = Client()
    client.create_project("cloud-tests")
    flow.storage = Local(directory=str(tmp_path / "flows"))
    flow.result = LocalResult(str(tmp_path / "results"))
    return flow.register(project_name="cloud-tests", no_url=True)  # type: ignore[return-value]


def run_in_process(flow: Flow, flow_run_id: str, **kwargs) -> prefect.engine.state.State:
    with prefect.context(flow_run_id=flow_run_id, running_with_backend=True):
        return CloudFlowRunner(flow=flow).run(**kwargs)


def task_runs(flow_run_id: str) -> list:
    query = {
        "query": {
            with_args(
                "task_run",
                {
                    "where": {"flow_run_id": {"_eq": flow_run_id}},
                    "order_by": {"map_index": EnumValue("asc")},
                },
            ): {
                "id": True,
                "map_index": True,
                "version": True,
                "state": True,
                "serialized_state": True,
                "task": {"slug": True},
                with_args("states", {"order_by": {"version": EnumValue("asc")}}): {
                    "state": True,
                    "version": True,
                    "start_time": True,
                    "message": True,
                },
            }
        }
    }
    return list(Client().graphql(query).data.task_run)


def flow_run(flow_run_id: str):
    query = {
        "query": {
            with_args("flow_run_by_pk", {"id": flow_run_id}): {
                "state": True,
                "version": True,
                "heartbeat": True,
                with_args("states", {"order_by": {"version": EnumValue("asc")}}): {
                    "state": True,
                    "message": True,
                },
                with_args("logs", {"order_by": {"timestamp": EnumValue("asc")}}): {
                    "name": True,
                    "level": True,
                    "message": True,
                    "task_run_id": True,
                },
            }
        }
    }
    return Client().graphql(query).data.flow_run_by_pk


def states_of(run) -> list[str]:
    return [s.state for s in run.states]


def test_a_run_reports_every_task_run_state_and_log(prefect_server, quick_backend, tmp_path):
    with Flow("cloud-e2e") as flow:
        total = flaky_total(square.map(numbers(Parameter("n", default=2))))
    flow_id = register(flow, tmp_path)
    flow_run_id = Client().create_flow_run(flow_id=flow_id, parameters={"n": 3})

    state = run_in_process(flow, flow_run_id, return_tasks=[total])

    assert isinstance(state, Success)
    assert state.result[total].result == 0 + 1 + 4  # the run's parameter n=3 was used
    run = flow_run(flow_run_id)
    assert run.state == "Success"
    assert states_of(run) == ["Scheduled", "Running", "Success"]
    assert run.heartbeat is not None

    runs = task_runs(flow_run_id)
    by_slug: dict[str, list] = {}
    for task_run in runs:
        by_slug.setdefault(task_run.task.slug, []).append(task_run)
    assert [r.map_index for r in by_slug["square-1"]] == [-1, 0, 1, 2]
    parent, *children = by_slug["square-1"]
    assert states_of(parent) == ["Pending", "Mapped"]
    for child in children:
        # Children are created by the runner (`get_or_create_task_run_info`).
        assert states_of(child) == ["Pending", "Running", "Success"]
        assert child.state == "Success"
    (numbers_run,) = by_slug["numbers-1"]
    assert states_of(numbers_run) == ["Pending", "Running", "Success"]
    assert [s.version for s in numbers_run.states] == [0, 1, 2]
    # Checkpointed with the flow's result: the location is stored with the state.
    assert numbers_run.serialized_state["_result"]["location"]
    (parameter_run,) = by_slug["n"]
    assert states_of(parameter_run) == ["Pending", "Running", "Success"]

    (flaky,) = by_slug["flaky_total-1"]
    assert states_of(flaky) == ["Pending", "Running", "Failed", "Retrying", "Running", "Success"]
    retrying = flaky.states[3]
    assert retrying.start_time is not None
    assert retrying.message == "Retrying Task (after attempt 1 of 3)"

    logs = run.logs
    messages = [log.message for log in logs]
    assert messages[0] == "Beginning Flow run for 'cloud-e2e'"
    assert "Flow run SUCCESS: all reference tasks succeeded" in messages
    assert {log.name for log in logs} >= {
        "prefect.CloudFlowRunner",
        "prefect.CloudTaskRunner",
        "prefect.square",
    }
    child_ids = {child.id for child in children}
    squaring = [log for log in logs if log.message.startswith("squaring")]
    assert len(squaring) == 3 and {log.task_run_id for log in squaring} == child_ids
    flow_level = [log for log in logs if log.name == "prefect.CloudFlowRunner"]
    assert all(log.task_run_id is None for log in flow_level)


def test_context_and_parameters_come_from_the_backend(prefect_server, quick_backend, tmp_path):
    seen: dict = {}

    @task
    def record(x):
        seen.update(
            {
                key: prefect.context.get(key)
                for key in (
                    "flow_run_id",
                    "flow_id",
                    "flow_run_name",
                    "project_name",
                    "task_run_id",
                    "task_id",
                    "custom",
                    "checkpointing",
                )
            }
        )
        seen["x"] = x

    with Flow("ctx") as flow:
        record(Parameter("x"))
    flow_id = register(flow, tmp_path)
    client = Client()
    flow_run_id = client.create_flow_run(
        flow_id=flow_id, parameters={"x": 1}, context={"custom": "yes"}, run_name="my-run"
    )
    assert run_in_process(flow, flow_run_id).is_successful()
    assert seen["x"] == 1
    assert seen["flow_run_id"] == flow_run_id and seen["flow_id"] == flow_id
    assert seen["flow_run_name"] == "my-run"
    assert seen["project_name"] == "cloud-tests"
    assert seen["custom"] == "yes"
    assert seen["checkpointing"] is True
    record_run = next(r for r in task_runs(flow_run_id) if r.task.slug == "record-1")
    assert seen["task_run_id"] == record_run.id

    # Call parameters win over the run's.
    flow_run_id = client.create_flow_run(flow_id=flow_id, parameters={"x": 1})
    assert run_in_process(flow, flow_run_id, parameters={"x": 5}).is_successful()
    assert seen["x"] == 5


def test_a_task_run_of_an_unknown_slug_fails_the_run(prefect_server, quick_backend, tmp_path):
    with Flow("slugs") as flow:
        numbers(2)
    flow_id = register(flow, tmp_path)
    flow_run_id = Client().create_flow_run(flow_id=flow_id)
    with Flow("slugs") as other:
        square(2)
    state = run_in_process(other, flow_run_id)
    assert isinstance(state, Failed)
    assert "Task slug numbers-1 is not found in the current Flow" in state.message
    assert flow_run(flow_run_id).state == "Failed"


def test_a_finished_run_is_not_run_again(prefect_server, quick_backend, tmp_path):
    with Flow("once") as flow:
        numbers(2)
    flow_run_id = Client().create_flow_run(flow_id=register(flow, tmp_path))
    assert run_in_process(flow, flow_run_id).is_successful()
    version = flow_run(flow_run_id).version
    assert run_in_process(flow, flow_run_id).is_successful()
    assert flow_run(flow_run_id).version == version


@pytest.mark.timeout(LONG_WORK_SECONDS + 30)
def test_a_cancelled_run_ends_cancelled(prefect_server, quick_backend, tmp_path):
    with Flow("cancel-me") as flow:
        long_work()
    flow_run_id = Client().create_flow_run(flow_id=register(flow, tmp_path))

    def cancel_when_running() -> None:
        client = Client()
        deadline = time.monotonic() + LONG_WORK_SECONDS / 2
        while time.monotonic() < deadline:
            runs = task_runs(flow_run_id)
            if runs and runs[0].state == "Running":
                client.cancel_flow_run(flow_run_id)
                return
            time.sleep(0.05)

    canceller = threading.Thread(target=cancel_when_running)
    canceller.start()
    started = time.monotonic()
    try:
        state = run_in_process(flow, flow_run_id)
    finally:
        canceller.join()
    # Did not wait for the two minutes of work (reaching it, cancelling and stopping take
    # seconds, more on a loaded machine).
    elapsed = time.monotonic() - started
    assert elapsed < LONG_WORK_SECONDS / 2, f"the run took {elapsed:.1f} s"
    assert isinstance(state, Cancelled)
    assert state.message == "Flow run is cancelled"
    run = flow_run(flow_run_id)
    assert run.state == "Cancelled"
    assert states_of(run)[-2:] == ["Cancelling", "Cancelled"]
    # The server cancels the unfinished task run with the flow run.
    assert task_runs(flow_run_id)[0].state == "Cancelled"


def test_flow_settings_can_turn_heartbeats_off(prefect_server, quick_backend, tmp_path):
    with Flow("beats") as flow:
        numbers(2)
    flow_id = register(flow, tmp_path)
    flow_run_id = Client().create_flow_run(flow_id=flow_id)
    runner = CloudFlowRunner(flow=flow)
    with prefect.context(flow_run_id=flow_run_id):
        assert runner._heartbeat() is True
    assert runner.heartbeat_cmd[-4:] == ["heartbeat", "flow-run", "-i", flow_run_id]
    assert flow_run(flow_run_id).heartbeat is not None

    # The open server has no mutation for a flow's own settings: answer the settings query
    # as a backend with `heartbeat_enabled: false` would.
    runner = CloudFlowRunner(flow=flow)
    sent = []
    runner.client.update_flow_run_heartbeat = sent.append  # type: ignore[method-assign]
    runner.client.graphql = lambda query, **kwargs: GraphQLResult(  # type: ignore[method-assign]
        {"data": {"flow_run_by_pk": {"flow": {"settings": {"heartbeat_enabled": False}}}}}
    )
    with prefect.context(flow_run_id=flow_run_id):
        assert runner._heartbeat() is False
    assert sent == [flow_run_id]


@pytest.mark.integration
def test_process_heartbeats_come_from_a_child_process(
    prefect_server, quick_backend, tmp_path, monkeypatch
):
    monkeypatch.setitem(prefect.config.cloud, "heartbeat_mode", "process")
    seen: dict = {}

    @task
    def watch_heartbeats() -> None:
        flow_run_id = prefect.context.flow_run_id
        seen["children"] = [line[-5:] for line in children_command_lines()]
        # The child beats every 0.2 s once started (Python and Prefect start in it first, which
        # takes seconds on a loaded machine): two more changes show it beating on its own.
        beats = [flow_run(flow_run_id).heartbeat]
        deadline = time.monotonic() + 60
        while len(beats) < 3 and time.monotonic() < deadline:
            current = flow_run(flow_run_id).heartbeat
            if current != beats[-1]:
                beats.append(current)
            time.sleep(0.05)
        seen["beats"] = beats

    with Flow("process-beats") as flow:
        watch_heartbeats()
    flow_run_id = Client().create_flow_run(flow_id=register(flow, tmp_path))
    runner = CloudFlowRunner(flow=flow)
    with prefect.context(flow_run_id=flow_run_id, running_with_backend=True):
        assert runner.run().is_successful()
    assert ["heartbeat", "flow-run", "-i", flow_run_id] in [c[-4:] for c in seen["children"]]
    assert len(seen["beats"]) == 3
    # The child is killed when the run ends.
    assert not [line for line in children_command_lines() if "heartbeat" in " ".join(line)]


def test_the_runner_runs_tasks_with_cloud_task_runners(prefect_server, quick_backend, tmp_path):
    runners: list = []
    with Flow("kinds") as flow:
        square.map(numbers(2))
    flow_run_id = Client().create_flow_run(flow_id=register(flow, tmp_path))
    state = run_in_process(
        flow, flow_run_id, task_runner_state_handlers=[lambda r, old, new: runners.append(r)]
    )
    assert state.is_successful()
    assert runners and all(type(r) is CloudTaskRunner for r in runners)
    assert CloudFlowRunner(flow=flow).task_runner_cls is CloudTaskRunner


@task
def wait_for_two_heartbeats() -> int:
    flow_run_id = prefect.context.flow_run_id
    beats = [flow_run(flow_run_id).heartbeat]
    deadline = time.monotonic() + 60  # they come every 0.2 s: only a failing run waits long
    while len(beats) < 3 and time.monotonic() < deadline:
        current = flow_run(flow_run_id).heartbeat
        if current != beats[-1]:
            beats.append(current)
        time.sleep(0.05)
    return len(beats)


def test_thread_heartbeats_are_sent_every_interval(prefect_server, quick_backend, tmp_path):
    with Flow("thread-beats") as flow:
        beats = wait_for_two_heartbeats()
    flow_run_id = Client().create_flow_run(flow_id=register(flow, tmp_path))
    state = run_in_process(flow, flow_run_id, return_tasks=[beats])
    assert state.result[beats].result == 3


def test_heartbeat_mode_off_sends_none(prefect_server, quick_backend, tmp_path, monkeypatch):
    monkeypatch.setitem(prefect.config.cloud, "heartbeat_mode", "off")
    sent: list[str] = []
    monkeypatch.setattr(
        Client, "update_flow_run_heartbeat", lambda self, run_id: sent.append(run_id)
    )
    with Flow("no-beats") as flow:
        numbers(2)
    flow_run_id = Client().create_flow_run(flow_id=register(flow, tmp_path))
    assert run_in_process(flow, flow_run_id).is_successful()
    assert sent == []


def test_a_queued_run_is_run_again_after_the_queue_delay(
    prefect_server, quick_backend, tmp_path, monkeypatch
):
    monkeypatch.setitem(prefect.config.cloud, "queue_interval", 0.1)
    with Flow("queued") as flow:
        numbers(2)
    flow_run_id = Client().create_flow_run(flow_id=register(flow, tmp_path))
    runner = CloudFlowRunner(flow=flow)
    real = runner.client.set_flow_run_state
    answers: list[str] = []

    def queue_first_running(flow_run_id, state, version=None):
        if state.is_running() and not answers:
            answers.append("QUEUED")
            # What the client makes of a QUEUED answer; nothing is written.
            return Queued(start_time=pendulum.now("utc").add(seconds=0.1))
        answers.append("SUCCESS")
        return real(flow_run_id=flow_run_id, state=state, version=version)

    runner.client.set_flow_run_state = queue_first_running  # type: ignore[method-assign]
    with prefect.context(flow_run_id=flow_run_id, running_with_backend=True):
        state = runner.run()
    assert isinstance(state, Success)
    assert answers == ["QUEUED", "SUCCESS", "SUCCESS"]
    assert states_of(flow_run(flow_run_id)) == ["Scheduled", "Running", "Success"]


def test_a_version_conflict_on_running_ends_the_run_in_the_backend_state(
    prefect_server, quick_backend, tmp_path
):
    with Flow("locked") as flow:
        numbers(2)
    flow_run_id = Client().create_flow_run(flow_id=register(flow, tmp_path))
    runner = CloudFlowRunner(flow=flow)

    def conflict(flow_run_id, state, version=None):
        raise VersionLockMismatchSignal("VERSION_LOCKING_ERROR")

    runner.client.set_flow_run_state = conflict  # type: ignore[method-assign]
    runner.client.get_flow_run_state = lambda flow_run_id: Running("elsewhere")  # type: ignore[method-assign]
    with prefect.context(flow_run_id=flow_run_id, running_with_backend=True):
        state = runner.run()
    assert isinstance(state, Running) and state.message == "elsewhere"
    # No task ran here.
    assert {r.state for r in task_runs(flow_run_id)} == {"Pending"}


def test_flow_states_carry_the_run_version_only_when_running(
    prefect_server, quick_backend, tmp_path
):
    with Flow("flow-versions") as flow:
        numbers(2)
    flow_run_id = Client().create_flow_run(flow_id=register(flow, tmp_path))
    version = Client().get_flow_run_info(flow_run_id).version
    runner = CloudFlowRunner(flow=flow)
    real = runner.client.set_flow_run_state
    sent: list[tuple[str, int | None]] = []

    def spy(flow_run_id, state, version=None):
        sent.append((type(state).__name__, version))
        return real(flow_run_id=flow_run_id, state=state, version=version)

    runner.client.set_flow_run_state = spy  # type: ignore[method-assign]
    with prefect.context(flow_run_id=flow_run_id, running_with_backend=True):
        assert runner.run().is_successful()
    assert sent == [("Running", version), ("Success", None)]
