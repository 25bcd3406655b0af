from __future__ import annotations

import asyncio
import datetime
import re

import pytest
import sqlalchemy as sa
from tests.server.api import _factories as f

from prefect.engine.state import Running, Success
from prefect.server.api import runs as api
from prefect.server.api import states as states_api
from prefect.server.database import models
from prefect.server.errors import ServerError

MISSING_ID = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
async def flow_id(db, tenant_id):
    return await f.create_flow(db, tenant_id)


async def count(db, table, *where):
    async with db.read() as conn:
        return (
            await conn.execute(sa.select(sa.func.count()).select_from(table).where(*where))
        ).scalar_one()


# ------------------------------------------------------------------------- create_flow_run


async def test_create_flow_run_needs_a_flow(db):
    with pytest.raises(ServerError) as raised:
        await api.create_flow_run(db)
    assert raised.value.message == "A flow id or version group ID must be provided."
    with pytest.raises(ServerError) as raised:
        await api.create_flow_run(db, flow_id=MISSING_ID)
    assert raised.value.message == f"Flow {MISSING_ID} not found"
    with pytest.raises(ServerError) as raised:
        await api.create_flow_run(db, version_group_id="nothing-here")
    assert raised.value.message == "Version group nothing-here has no unarchived flows."


async def test_archived_flows_cannot_run(db, tenant_id):
    flow_id = await f.create_flow(db, tenant_id, archived=True, version_group_id="group")
    with pytest.raises(ServerError) as raised:
        await api.create_flow_run(db, flow_id=flow_id)
    assert raised.value.message == f"Flow {flow_id} is archived."
    with pytest.raises(ServerError, match="Version group group has no unarchived flows."):
        await api.create_flow_run(db, version_group_id="group")
    assert await count(db, models.flow_run) == 0


async def test_version_group_runs_its_newest_unarchived_flow(db, tenant_id):
    group_id = await f.create_flow_group(db, tenant_id)
    project_id = await f.create_project(db, tenant_id)
    common = {"flow_group_id": group_id, "project_id": project_id, "version_group_id": "vg"}
    await f.create_flow(db, tenant_id, version=1, **common)
    newest = await f.create_flow(db, tenant_id, version=2, **common)
    await f.create_flow(db, tenant_id, version=3, archived=True, **common)
    run_id = await api.create_flow_run(db, version_group_id="vg")
    assert (await f.fetch(db, models.flow_run, run_id)).flow_id == newest


async def test_new_flow_run_is_scheduled_through_the_state_path(db, tenant_id, flow_id):
    before = models.utcnow()
    run_id = await api.create_flow_run(db, flow_id=flow_id)
    run = await f.fetch(db, models.flow_run, run_id)
    assert run.tenant_id == tenant_id
    assert before <= run.scheduled_start_time <= models.utcnow()
    assert run.version == 1
    assert run.state == "Scheduled"
    assert run.state_message == "Flow run scheduled."
    assert run.state_start_time == run.scheduled_start_time
    assert run.serialized_state["type"] == "Scheduled"
    assert run.serialized_state["message"] == "Flow run scheduled."
    assert run.serialized_state["__version__"]
    assert run.context == {} and run.parameters == {} and run.labels == []
    assert run.auto_scheduled is False and run.times_resurrected == 0
    assert run.start_time is None and run.end_time is None and run.heartbeat is None
    assert re.fullmatch(r"[a-z]+-[a-z]+", run.name)
    (state,) = await f.fetch_all(
        db, models.flow_run_state, models.flow_run_state.c.flow_run_id == run_id
    )
    assert (state.version, state.state, state.message) == (1, "Scheduled", "Flow run scheduled.")
    assert state.start_time == run.scheduled_start_time
    assert state.serialized_state == run.serialized_state
    assert state.timestamp == run.state_timestamp


async def test_create_flow_run_stores_what_it_is_given(db, flow_id):
    when = datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    run_id = await api.create_flow_run(
        db,
        flow_id=flow_id,
        scheduled_start_time=when.isoformat(),
        context={"a": 1},
        flow_run_name="my run",
        auto_scheduled=True,
    )
    run = await f.fetch(db, models.flow_run, run_id)
    assert run.scheduled_start_time == when == run.state_start_time
    assert run.context == {"a": 1}
    assert run.name == "my run"
    assert run.auto_scheduled is True


async def test_generated_names_vary(db, flow_id):
    names = {api.generate_run_name() for _ in range(50)}
    assert len(names) > 10
    assert all(re.fullmatch(r"[a-z]+-[a-z]+", name) for name in names)


async def test_labels_come_from_the_first_source_that_has_them(db, tenant_id):
    run_config = {"type": "LocalRun", "labels": ["from-flow-run-config"]}
    environment = {"type": "LocalEnvironment", "labels": ["from-environment"]}

    async def labels_of(group: dict, flow: dict, **given) -> list[str]:
        group_id = await f.create_flow_group(db, tenant_id, **group)
        flow_id = await f.create_flow(db, tenant_id, flow_group_id=group_id, **flow)
        run_id = await api.create_flow_run(db, flow_id=flow_id, **given)
        return (await f.fetch(db, models.flow_run, run_id)).labels

    group = {"labels": ["group-b", "group-a"], "run_config": {"labels": ["group-run-config"]}}
    flow = {"run_config": run_config, "environment": environment}
    assert await labels_of(group, flow, labels=["z", "a"]) == ["a", "z"]
    assert await labels_of(group, flow, labels=[]) == []
    assert await labels_of(group, flow, run_config={"labels": ["given-rc"]}) == ["given-rc"]
    assert await labels_of(group, flow, run_config={"type": "X"}) == ["group-a", "group-b"]
    assert await labels_of({"run_config": group["run_config"]}, flow) == ["group-run-config"]
    assert await labels_of({}, flow) == ["from-flow-run-config"]
    assert await labels_of({}, {"environment": environment}) == ["from-environment"]
    assert await labels_of({}, {}) == []


async def test_run_config_comes_from_input_then_flow_group_then_flow(db, tenant_id):
    async def run_config_of(group: dict, flow: dict, **given):
        group_id = await f.create_flow_group(db, tenant_id, **group)
        flow_id = await f.create_flow(db, tenant_id, flow_group_id=group_id, **flow)
        run_id = await api.create_flow_run(db, flow_id=flow_id, **given)
        return (await f.fetch(db, models.flow_run, run_id)).run_config

    group = {"run_config": {"type": "GroupRun"}}
    flow = {"run_config": {"type": "FlowRun"}}
    given = {"type": "GivenRun"}
    assert await run_config_of(group, flow, run_config=given) == given
    assert await run_config_of(group, flow) == group["run_config"]
    assert await run_config_of({}, flow) == flow["run_config"]
    assert await run_config_of({}, {}) is None


async def test_parameters_overlay_truthy_defaults_group_defaults_and_input(db, tenant_id):
    group_id = await f.create_flow_group(
        db, tenant_id, default_parameters={"b": "group", "c": "group"}
    )
    parameters = [
        f.parameter("a", default="flow"),
        f.parameter("b", default="flow"),
        f.parameter("c", default="flow"),
        f.parameter("zero", default=0),
        f.parameter("empty", default=[]),
    ]
    flow_id = await f.create_flow(db, tenant_id, flow_group_id=group_id, parameters=parameters)
    run_id = await api.create_flow_run(
        db, flow_id=flow_id, parameters={"c": "input", "extra": [1, 2]}
    )
    run = await f.fetch(db, models.flow_run, run_id)
    assert run.parameters == {"a": "flow", "b": "group", "c": "input", "extra": [1, 2]}


async def test_missing_required_parameters_are_refused(db, tenant_id):
    parameters = [f.parameter("x", required=True), f.parameter("y", default=1)]
    flow_id = await f.create_flow(db, tenant_id, parameters=parameters)
    with pytest.raises(ServerError) as raised:
        await api.create_flow_run(db, flow_id=flow_id, parameters={"y": 2})
    assert raised.value.message == "Required parameters were not supplied: {'x'}"
    assert await count(db, models.flow_run) == 0
    await api.create_flow_run(db, flow_id=flow_id, parameters={"x": None})

    with pytest.raises(ServerError, match="Invalid parameters: expected an object"):
        await api.create_flow_run(db, flow_id=flow_id, parameters=["x"])

    group_id = await f.create_flow_group(db, tenant_id, default_parameters={"x": 1})
    flow_id = await f.create_flow(db, tenant_id, flow_group_id=group_id, parameters=parameters)
    await api.create_flow_run(db, flow_id=flow_id)


async def test_task_runs_are_created_with_the_flow_run(db, tenant_id, flow_id):
    task_ids = await f.create_tasks(db, flow_id, 3, cache_key="key")
    run_id = await api.create_flow_run(db, flow_id=flow_id)
    task_runs = await f.fetch_all(db, models.task_run, models.task_run.c.flow_run_id == run_id)
    assert sorted(task_run.task_id for task_run in task_runs) == sorted(task_ids)
    for task_run in task_runs:
        assert task_run.tenant_id == tenant_id
        assert task_run.map_index == -1
        assert task_run.cache_key == "key"
        assert task_run.version == 0
        assert task_run.state == "Pending"
        assert task_run.state_message == "Task run created"
        assert task_run.serialized_state == {"type": "Pending", "message": "Task run created"}
        (state,) = await f.fetch_all(
            db, models.task_run_state, models.task_run_state.c.task_run_id == task_run.id
        )
        assert (state.version, state.state) == (0, "Pending")
        assert state.serialized_state == task_run.serialized_state


async def test_idempotency_key_returns_the_existing_run(db, tenant_id, flow_id):
    await f.create_tasks(db, flow_id, 2)
    first = await api.create_flow_run(db, flow_id=flow_id, idempotency_key="k")
    again = await api.create_flow_run(
        db, flow_id=flow_id, idempotency_key="k", parameters={"other": 1}
    )
    assert again == first
    assert await count(db, models.flow_run) == 1
    assert await count(db, models.flow_run_state) == 1
    assert await count(db, models.task_run) == 2
    assert (await f.fetch(db, models.flow_run, first)).parameters == {}

    other_flow = await f.create_flow(db, tenant_id)
    assert await api.create_flow_run(db, flow_id=other_flow, idempotency_key="k") != first
    assert await api.create_flow_run(db, flow_id=flow_id, idempotency_key="k2") != first
    no_key = {await api.create_flow_run(db, flow_id=flow_id) for _ in range(2)}
    assert len(no_key) == 2


async def test_concurrent_creation_with_one_idempotency_key_makes_one_run(db, flow_id):
    await f.create_tasks(db, flow_id, 2)
    ids = await asyncio.gather(
        *(api.create_flow_run(db, flow_id=flow_id, idempotency_key="same") for _ in range(8))
    )
    assert len(set(ids)) == 1
    assert await count(db, models.flow_run) == 1
    assert await count(db, models.task_run) == 2


# ---------------------------------------------------------------------------- cancel / delete


async def test_cancel_flow_run_depends_on_the_current_state(db, flow_id):
    task_id = (await f.create_tasks(db, flow_id, 1))[0]
    scheduled = await api.create_flow_run(db, flow_id=flow_id)
    assert await api.cancel_flow_run(db, scheduled) == "Cancelled"
    run = await f.fetch(db, models.flow_run, scheduled)
    assert (run.state, run.state_message) == ("Cancelled", "Flow run is cancelled")
    (task_run,) = await f.fetch_all(db, models.task_run, models.task_run.c.flow_run_id == scheduled)
    assert task_run.state == "Cancelled"

    running = await f.create_flow_run(db, flow_id, state="Running")
    child = await f.create_task_run(db, running, task_id, state="Running")
    assert await api.cancel_flow_run(db, running) == "Cancelling"
    run = await f.fetch(db, models.flow_run, running)
    assert (run.state, run.state_message) == ("Cancelling", "Flow run is cancelling")
    assert (await f.fetch(db, models.task_run, child)).state == "Running"
    assert await api.cancel_flow_run(db, running) == "Cancelling"
    assert (await f.fetch(db, models.flow_run, running)).version == 3

    finished = await f.create_flow_run(db, flow_id, state="Failed", version=5)
    assert await api.cancel_flow_run(db, finished) == "Failed"
    assert (await f.fetch(db, models.flow_run, finished)).version == 5

    with pytest.raises(ServerError, match=f"Flow run {MISSING_ID} not found"):
        await api.cancel_flow_run(db, MISSING_ID)


async def test_delete_flow_run_removes_its_states_task_runs_and_logs(db, flow_id):
    await f.create_tasks(db, flow_id, 2)
    run_id = await api.create_flow_run(db, flow_id=flow_id)
    keep = await api.create_flow_run(db, flow_id=flow_id)
    task_run_ids = [
        row.id
        for row in await f.fetch_all(db, models.task_run, models.task_run.c.flow_run_id == run_id)
    ]
    await f.insert(db, models.log, flow_run_id=run_id, message="flow log")
    await f.insert(
        db, models.log, flow_run_id=run_id, task_run_id=task_run_ids[0], message="task log"
    )
    await f.insert(db, models.log, flow_run_id=keep, message="other")

    assert await api.delete_flow_run(db, run_id) is True
    assert await f.fetch(db, models.flow_run, run_id) is None
    assert await count(db, models.task_run, models.task_run.c.flow_run_id == run_id) == 0
    assert (
        await count(
            db, models.task_run_state, models.task_run_state.c.task_run_id.in_(task_run_ids)
        )
        == 0
    )
    assert (
        await count(db, models.flow_run_state, models.flow_run_state.c.flow_run_id == run_id) == 0
    )
    assert await count(db, models.log) == 1
    assert await count(db, models.task_run) == 2
    assert await api.delete_flow_run(db, run_id) is False
    assert await api.delete_flow_run(db, "bogus") is False


# ------------------------------------------------------------------------------- task runs


async def test_get_or_create_task_run_info_returns_existing_runs(db, flow_id):
    task_id = (await f.create_tasks(db, flow_id, 1))[0]
    run_id = await api.create_flow_run(db, flow_id=flow_id)
    (parent,) = await f.fetch_all(db, models.task_run, models.task_run.c.flow_run_id == run_id)
    info = await api.get_or_create_task_run_info(db, run_id, task_id)
    assert info == {
        "id": parent.id,
        "version": 0,
        "state": "Pending",
        "serialized_state": {"type": "Pending", "message": "Task run created"},
    }
    assert await api.get_or_create_task_run(db, run_id, task_id, -1) == parent.id
    assert await api.get_task_run_info(db, parent.id) == info


async def test_get_or_create_task_run_info_creates_mapped_children(db, tenant_id, flow_id):
    task_id = (await f.create_tasks(db, flow_id, 1, cache_key="ck"))[0]
    run_id = await api.create_flow_run(db, flow_id=flow_id)
    info = await api.get_or_create_task_run_info(db, run_id, task_id, map_index=3)
    assert info["version"] == 0 and info["state"] == "Pending"
    assert info["serialized_state"]["type"] == "Pending"
    assert info["serialized_state"]["message"] == "Task run created"
    assert "__version__" in info["serialized_state"]
    child = await f.fetch(db, models.task_run, info["id"])
    assert (child.map_index, child.cache_key, child.tenant_id) == (3, "ck", tenant_id)
    assert child.serialized_state == info["serialized_state"]
    (state,) = await f.fetch_all(
        db, models.task_run_state, models.task_run_state.c.task_run_id == info["id"]
    )
    assert (state.version, state.state) == (0, "Pending")
    assert await api.get_or_create_task_run(db, run_id, task_id, 3) == info["id"]
    assert await api.get_task_run_info(db, info["id"]) == info

    # The next state write continues the history at version 1.
    await states_api.set_task_run_state(db, info["id"], Success())
    assert (await api.get_task_run_info(db, info["id"]))["version"] == 1


async def test_concurrent_get_or_create_makes_one_task_run(db, flow_id):
    task_id = (await f.create_tasks(db, flow_id, 1))[0]
    run_id = await api.create_flow_run(db, flow_id=flow_id)
    ids = await asyncio.gather(
        *(api.get_or_create_task_run(db, run_id, task_id, 0) for _ in range(8))
    )
    assert len(set(ids)) == 1
    assert await count(db, models.task_run) == 2


async def test_task_run_lookups_refuse_unknown_ids(db, flow_id):
    run_id = await api.create_flow_run(db, flow_id=flow_id)
    for task_id in (MISSING_ID, "bogus"):
        with pytest.raises(ServerError) as raised:
            await api.get_or_create_task_run_info(db, run_id, task_id, 0)
        assert raised.value.message == "Invalid task ID"
    for task_run_id in (MISSING_ID, "bogus"):
        with pytest.raises(ServerError) as raised:
            await api.get_task_run_info(db, task_run_id)
        assert raised.value.message == "Invalid task run ID"


# ------------------------------------------------------------- heartbeats, names and labels


async def test_heartbeats(db, flow_id):
    task_id = (await f.create_tasks(db, flow_id, 1))[0]
    run_id = await api.create_flow_run(db, flow_id=flow_id)
    task_run_id = await api.get_or_create_task_run(db, run_id, task_id)
    before = models.utcnow()
    await api.update_flow_run_heartbeat(db, run_id)
    await api.update_task_run_heartbeat(db, task_run_id)
    assert (await f.fetch(db, models.flow_run, run_id)).heartbeat >= before
    assert (await f.fetch(db, models.task_run, task_run_id)).heartbeat >= before
    await api.update_flow_run_heartbeat(db, MISSING_ID)
    await api.update_flow_run_heartbeat(db, "bogus")
    await api.update_task_run_heartbeat(db, MISSING_ID)


async def test_names_and_labels(db, flow_id):
    task_id = (await f.create_tasks(db, flow_id, 1))[0]
    run_id = await api.create_flow_run(db, flow_id=flow_id)
    task_run_id = await api.get_or_create_task_run(db, run_id, task_id)

    assert await api.set_flow_run_name(db, run_id, "renamed") is True
    assert (await f.fetch(db, models.flow_run, run_id)).name == "renamed"
    assert await api.set_task_run_name(db, task_run_id, "task name") is True
    assert (await f.fetch(db, models.task_run, task_run_id)).name == "task name"
    assert await api.set_flow_run_name(db, MISSING_ID, "x") is False
    assert await api.set_task_run_name(db, MISSING_ID, "x") is False
    for setter, run in ((api.set_flow_run_name, run_id), (api.set_task_run_name, task_run_id)):
        with pytest.raises(ServerError) as raised:
            await setter(db, run, "")
        assert raised.value.message == "Invalid name"

    assert await api.set_flow_run_labels(db, run_id, ["b", "c", "a"]) is True
    assert (await f.fetch(db, models.flow_run, run_id)).labels == ["a", "b", "c"]
    assert await api.set_flow_run_labels(db, MISSING_ID, ["a"]) is False


async def test_mapped_children_summarises_the_children_of_a_parent(db, flow_id):
    task_id, other_task = await f.create_tasks(db, flow_id, 2)
    run_id = await f.create_flow_run(db, flow_id, state="Running")
    parent = await f.create_task_run(db, run_id, task_id, state="Mapped")
    t0 = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
    hour = datetime.timedelta(hours=1)
    await f.create_task_run(
        db, run_id, task_id, map_index=0, state="Success", start_time=t0, end_time=t0 + hour
    )
    await f.create_task_run(
        db,
        run_id,
        task_id,
        map_index=1,
        state="Success",
        start_time=t0 + hour,
        end_time=t0 + 3 * hour,
    )
    await f.create_task_run(db, run_id, task_id, map_index=2, state="Failed", start_time=t0 - hour)
    # Not children: another task, another flow run.
    await f.create_task_run(db, run_id, other_task, map_index=0, start_time=t0 - 9 * hour)
    other_run = await f.create_flow_run(db, flow_id, state="Running")
    await f.create_task_run(db, other_run, task_id, map_index=0, end_time=t0 + 9 * hour)

    summary = await api.mapped_children(db, parent)
    assert summary == {
        "min_start_time": t0 - hour,
        "max_end_time": t0 + 3 * hour,
        "state_counts": {"Success": 2, "Failed": 1},
    }
    assert await api.mapped_children(db, MISSING_ID) == {
        "min_start_time": None,
        "max_end_time": None,
        "state_counts": {},
    }


async def test_running_flow_run_from_create_accepts_task_states(db, flow_id):
    task_id = (await f.create_tasks(db, flow_id, 1))[0]
    run_id = await api.create_flow_run(db, flow_id=flow_id)
    task_run_id = await api.get_or_create_task_run(db, run_id, task_id)
    await states_api.set_flow_run_state(db, run_id, Running())
    await states_api.set_task_run_state(db, task_run_id, Running())
    assert (await api.get_task_run_info(db, task_run_id))["state"] == "Running"


# ----------------------------------------------- PostgreSQL: a concurrent insert commits first


async def _commit_first(db, insert, racer):
    """Insert a row in another transaction, start `racer`, wait until it blocks on that row's
    unique key, then commit: the racer must then return the committed row's id."""
    if db.dialect != "postgresql":
        pytest.skip("SQLite writers never overlap")
    async with db.engine.connect() as other, db.engine.connect() as watcher:
        transaction = await other.begin()
        row_id = await insert(other)
        pending = asyncio.ensure_future(racer())
        deadline = asyncio.get_running_loop().time() + 30
        waiting = sa.text("SELECT count(*) FROM pg_locks WHERE NOT granted")
        while not (await watcher.execute(waiting)).scalar_one():
            assert not pending.done(), pending.result()
            assert asyncio.get_running_loop().time() < deadline, "the racer never blocked"
            await watcher.rollback()
            await asyncio.sleep(0.01)
        await transaction.commit()
    assert await pending == row_id


async def test_get_or_create_returns_a_row_committed_concurrently(db, tenant_id, flow_id):
    task_id = (await f.create_tasks(db, flow_id, 1))[0]
    run_id = await f.create_flow_run(db, flow_id)

    async def insert(conn):
        row_id = models.new_id()
        await conn.execute(
            sa.insert(models.task_run).values(
                id=row_id, tenant_id=tenant_id, flow_run_id=run_id, task_id=task_id, map_index=7
            )
        )
        return row_id

    await _commit_first(db, insert, lambda: api.get_or_create_task_run(db, run_id, task_id, 7))


async def test_create_flow_run_returns_a_run_committed_concurrently_with_its_key(
    db, tenant_id, flow_id
):
    async def insert(conn):
        row_id = models.new_id()
        await conn.execute(
            sa.insert(models.flow_run).values(
                id=row_id, tenant_id=tenant_id, flow_id=flow_id, idempotency_key="raced"
            )
        )
        return row_id

    await _commit_first(
        db, insert, lambda: api.create_flow_run(db, flow_id=flow_id, idempotency_key="raced")
    )
    assert await count(db, models.flow_run) == 1
