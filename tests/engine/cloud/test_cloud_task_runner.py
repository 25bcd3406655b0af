"""`CloudTaskRunner` against a real server: task runs are looked up or created, every state is
written (with the run version only for `Running`), caches and names go to the backend, and a
state that cannot be written ends the task `ClientFailed`."""

from __future__ import annotations

import datetime

import pytest

import prefect
from prefect import Flow, task
from prefect.client import Client
from prefect.client.client import TaskRunInfoResult
from prefect.core import Edge
from prefect.engine.cloud import CloudFlowRunner, CloudTaskRunner
from prefect.engine.results import LocalResult
from prefect.engine.state import (
    Cached,
    ClientFailed,
    Failed,
    Pending,
    Running,
    Success,
)
from prefect.exceptions import VersionLockMismatchSignal
from prefect.storage import Local
from prefect.utilities._cloud_logs import flush_run_logs
from prefect.utilities.graphql import EnumValue, with_args

pytestmark = pytest.mark.timeout(120)  # generous: a server starts for each test


@task
def double(x: int) -> int:
    return 2 * x


@pytest.fixture
def quick_backend(prefect_server, monkeypatch):
    monkeypatch.setitem(prefect.config.cloud, "heartbeat_mode", "off")
    monkeypatch.setitem(prefect.config.cloud, "check_cancellation_interval", 0.2)
    yield
    # Logs queued after a run's own flush go out while this test's server still runs.
    flush_run_logs()


def register(flow: Flow, tmp_path) -> str:
    client = Client()
    client.create_project("task-tests")
    flow.storage = Local(directory=str(tmp_path / "flows"))
    flow.result = LocalResult(str(tmp_path / "results"))
    return flow.register(project_name="task-tests", no_url=True)  # type: ignore[return-value]


def task_run_rows(flow_run_id: str, slug: str) -> list:
    query = {
        "query": {
            with_args(
                "task_run",
                {
                    "where": {"flow_run_id": {"_eq": flow_run_id}, "task": {"slug": {"_eq": slug}}},
                    "order_by": {"map_index": EnumValue("asc")},
                },
            ): {
                "id": True,
                "name": True,
                "map_index": True,
                "state": True,
                with_args("states", {"order_by": {"version": EnumValue("asc")}}): {"state"},
            }
        }
    }
    return list(Client().graphql(query).data.task_run)


def running_flow_run(flow: Flow, tmp_path) -> tuple[str, str]:
    """A flow run set to Running, and the id of the flow."""
    flow_id = register(flow, tmp_path)
    client = Client()
    flow_run_id = client.create_flow_run(flow_id=flow_id)
    client.set_flow_run_state(flow_run_id, Running("Running flow."))
    return flow_id, flow_run_id


def task_context(flow: Flow, flow_run_id: str, task) -> dict:
    info = Client().get_flow_run_info(flow_run_id)
    (task_run,) = [r for r in info.task_runs if r.task_slug == flow.slugs[task]]
    return dict(
        flow_run_id=flow_run_id,
        task_id=task_run.task_id,
        task_slug=flow.slugs[task],
    )


def test_each_state_is_written_with_the_version_only_for_running(
    prefect_server, quick_backend, tmp_path
):
    with Flow("versions") as flow:
        double(2)
    _, flow_run_id = running_flow_run(flow, tmp_path)
    (t,) = [t for t in flow.tasks if t.name == "double"]
    context = task_context(flow, flow_run_id, t)
    runner = CloudTaskRunner(task=t)
    sent: list[tuple[str, int | None]] = []
    real = runner.client.set_task_run_state

    def spy(task_run_id, state, version=None, cache_for=None):
        sent.append((type(state).__name__, version))
        return real(task_run_id=task_run_id, state=state, version=version, cache_for=cache_for)

    runner.client.set_task_run_state = spy  # type: ignore[method-assign]
    with prefect.context(context):
        state = runner.run(
            upstream_states={Edge(task(lambda: 2), t, key="x"): Success(result=2)},
            context=context,
        )
    assert isinstance(state, Success) and state.result == 4
    assert sent == [("Running", 0), ("Success", None)]
    (row,) = task_run_rows(flow_run_id, flow.slugs[t])
    assert [s.state for s in row.states] == ["Pending", "Running", "Success"]


def test_a_refused_state_ends_the_task_client_failed(prefect_server, quick_backend, tmp_path):
    with Flow("refused") as flow:
        double(2)
    flow_id = register(flow, tmp_path)
    # The flow run is still Scheduled: the server refuses Running task states.
    flow_run_id = Client().create_flow_run(flow_id=flow_id)
    (t,) = [t for t in flow.tasks if t.name == "double"]
    context = task_context(flow, flow_run_id, t)
    with prefect.context(context):
        state = CloudTaskRunner(task=t).run(
            upstream_states={Edge(task(lambda: 2), t, key="x"): Success(result=2)},
            context=context,
        )
    assert isinstance(state, ClientFailed)
    assert isinstance(state.state, Running)  # the state it tried to write
    (row,) = task_run_rows(flow_run_id, flow.slugs[t])
    assert row.state == "Pending"


def test_an_unreachable_backend_fails_the_task_run(monkeypatch):
    runner = CloudTaskRunner(task=double)

    def unreachable(**kwargs):
        raise ConnectionError("no backend")

    monkeypatch.setattr(runner.client, "get_task_run_info", unreachable)
    state = runner.run(context={"flow_run_id": "f", "task_id": "t"})
    assert isinstance(state, Failed)
    assert state.message == "Could not retrieve state from Prefect Cloud"


def test_a_version_conflict_carries_on_from_the_backend_state(monkeypatch):
    runner = CloudTaskRunner(task=double)
    monkeypatch.setattr(
        runner.client,
        "get_task_run_info",
        lambda **kw: TaskRunInfoResult(
            id="tr", task_id="t", task_slug="double", version=3, state=Pending()
        ),
    )

    def conflict(**kwargs):
        raise VersionLockMismatchSignal("VERSION_LOCKING_ERROR")

    monkeypatch.setattr(runner.client, "set_task_run_state", conflict)
    # Running elsewhere: this run ends in the backend's state.
    monkeypatch.setattr(runner.client, "get_task_run_state", lambda task_run_id: Running("there"))
    state = runner.run(
        upstream_states={Edge(task(lambda: 1), double, key="x"): Success(result=1)},
        context={"flow_run_id": "f", "task_id": "t"},
    )
    assert isinstance(state, Running) and state.message == "there"


def test_mapped_children_are_created_with_their_map_index(prefect_server, quick_backend, tmp_path):
    with Flow("map") as flow:
        double.map([1, 2, 3])
    flow_id = register(flow, tmp_path)
    flow_run_id = Client().create_flow_run(flow_id=flow_id)
    with prefect.context(flow_run_id=flow_run_id):
        assert CloudFlowRunner(flow=flow).run().is_successful()
    rows = task_run_rows(flow_run_id, "double-1")
    assert [r.map_index for r in rows] == [-1, 0, 1, 2]
    assert [s.state for s in rows[0].states] == ["Pending", "Mapped"]
    assert all(r.state == "Success" for r in rows[1:])


def test_task_run_names_are_sent(prefect_server, quick_backend, tmp_path):
    @task(task_run_name="double-{x}")
    def named(x: int) -> int:
        return 2 * x

    with Flow("names") as flow:
        named.map([1, 2])
    flow_run_id = Client().create_flow_run(flow_id=register(flow, tmp_path))
    with prefect.context(flow_run_id=flow_run_id):
        assert CloudFlowRunner(flow=flow).run().is_successful()
    rows = task_run_rows(flow_run_id, "named-1")
    assert [r.name for r in rows[1:]] == ["double-1", "double-2"]


def test_cached_states_come_from_the_backend(prefect_server, quick_backend, tmp_path):
    calls: list[int] = []

    @task(cache_for=datetime.timedelta(hours=1))
    def expensive(x: int) -> int:
        calls.append(x)
        return x * 10

    with Flow("cache") as flow:
        result = expensive(4)
    flow_id = register(flow, tmp_path)
    client = Client()
    for _ in range(2):
        flow_run_id = client.create_flow_run(flow_id=flow_id)
        with prefect.context(flow_run_id=flow_run_id):
            state = CloudFlowRunner(flow=flow).run(return_tasks=[result])
        assert state.is_successful()
        assert isinstance(state.result[result], Cached)
        assert state.result[result].result == 40
    # The second run found the first run's Cached state: the task ran once.
    assert calls == [4]
    (row,) = task_run_rows(flow_run_id, flow.slugs[result])
    assert [s.state for s in row.states] == ["Pending", "Cached"]
