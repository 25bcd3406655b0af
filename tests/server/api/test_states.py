from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from tests.server.api import _factories as f

import prefect
from prefect.engine.results import PrefectResult
from prefect.engine.state import (
    Cancelled,
    Cancelling,
    Failed,
    Pending,
    Queued,
    Retrying,
    Running,
    Scheduled,
    Submitted,
    Success,
)
from prefect.serialization._state_codec import state_to_dict
from prefect.server.api import states as api
from prefect.server.database import models
from prefect.server.errors import ServerError, VersionLockError

MISSING_ID = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
async def flow_id(db, tenant_id):
    return await f.create_flow(db, tenant_id)


@pytest.fixture
async def task_id(db, flow_id):
    return (await f.create_tasks(db, flow_id, 1))[0]


async def history(db, table, run_column, run_id):
    return await f.fetch_all(db, table, run_column == run_id, order_by=table.c.version)


async def flow_run_history(db, run_id):
    return await history(db, models.flow_run_state, models.flow_run_state.c.flow_run_id, run_id)


async def task_run_history(db, run_id):
    return await history(db, models.task_run_state, models.task_run_state.c.task_run_id, run_id)


# ----------------------------------------------------------------------------- flow runs


async def test_flow_run_state_appends_history_and_mirrors_it_on_the_run(db, flow_id):
    run_id = await f.create_flow_run(db, flow_id, state="Scheduled", version=1)
    payload = await api.set_flow_run_state(db, run_id, state_to_dict(Running("go")))

    assert payload == {"id": run_id, "status": "SUCCESS", "message": None}
    rows = await flow_run_history(db, run_id)
    assert [(row.version, row.state) for row in rows] == [(1, "Scheduled"), (2, "Running")]
    newest = rows[-1]
    assert newest.message == "go"
    assert newest.serialized_state["type"] == "Running"
    assert newest.serialized_state["__version__"] == prefect.__version__
    assert newest.result is None and newest.start_time is None
    run = await f.fetch(db, models.flow_run, run_id)
    assert run.version == 2
    assert run.state == "Running"
    assert run.serialized_state == newest.serialized_state
    assert run.state_timestamp == newest.timestamp
    assert run.state_message == "go"
    assert run.state_start_time is None


async def test_state_object_is_accepted_and_its_start_time_is_recorded(db, flow_id):
    run_id = await f.create_flow_run(db, flow_id, state="Running")
    retry_at = models.utcnow().replace(microsecond=0)
    await api.set_flow_run_state(db, run_id, Retrying("again", start_time=retry_at))

    run = await f.fetch(db, models.flow_run, run_id)
    assert run.state == "Retrying"
    assert run.state_start_time == retry_at
    assert (await flow_run_history(db, run_id))[-1].start_time == retry_at


async def test_running_sets_start_time_once_and_end_states_set_the_latest_end_time(db, flow_id):
    run_id = await f.create_flow_run(db, flow_id)
    await api.set_flow_run_state(db, run_id, Running())
    first_running = (await flow_run_history(db, run_id))[-1].timestamp
    await api.set_flow_run_state(db, run_id, Failed())
    await api.set_flow_run_state(db, run_id, Scheduled())
    await api.set_flow_run_state(db, run_id, Running())
    run = await f.fetch(db, models.flow_run, run_id)
    assert run.start_time == first_running
    first_end = (await flow_run_history(db, run_id))[2].timestamp
    assert run.end_time == first_end

    await api.set_flow_run_state(db, run_id, Success())
    run = await f.fetch(db, models.flow_run, run_id)
    assert run.end_time == (await flow_run_history(db, run_id))[-1].timestamp > first_end
    assert run.start_time == first_running


async def test_non_end_finished_states_do_not_set_end_time(db, flow_id):
    run_id = await f.create_flow_run(db, flow_id)
    await api.set_flow_run_state(db, run_id, {"type": "Skipped", "message": "skip"})
    assert (await f.fetch(db, models.flow_run, run_id)).end_time is None


async def test_invalid_state_document_is_refused_with_the_problem(db, flow_id):
    run_id = await f.create_flow_run(db, flow_id)
    with pytest.raises(ServerError, match="Invalid state") as raised:
        await api.set_flow_run_state(db, run_id, {"type": "NoSuchState"})
    assert "NoSuchState" in raised.value.message
    assert len(await flow_run_history(db, run_id)) == 1


async def test_oversized_state_payload_is_refused(db, flow_id, monkeypatch):
    monkeypatch.setitem(prefect.config.server.api, "max_state_payload_bytes", 200)
    run_id = await f.create_flow_run(db, flow_id)
    with pytest.raises(ServerError) as raised:
        await api.set_flow_run_state(db, run_id, state_to_dict(Running("x" * 300)))
    assert raised.value.message == "State payload is too large."
    await api.set_flow_run_state(db, run_id, state_to_dict(Running("small")))


async def test_unknown_runs_are_refused_with_the_protocol_texts(db):
    with pytest.raises(ServerError) as raised:
        await api.set_flow_run_state(db, MISSING_ID, Running())
    assert raised.value.message == f"State update failed for flow run ID {MISSING_ID}"
    with pytest.raises(ServerError) as raised:
        await api.set_task_run_state(db, MISSING_ID, Running())
    assert raised.value.message == f"State update failed for task run ID {MISSING_ID}"
    with pytest.raises(ServerError) as raised:
        await api.set_task_run_state(db, "not-a-uuid", Pending())
    assert raised.value.message == "State update failed for task run ID not-a-uuid"


async def test_versions_are_ignored_without_version_locking(db, flow_id):
    run_id = await f.create_flow_run(db, flow_id, version=3)
    await api.set_flow_run_state(db, run_id, Running(), version=99)
    assert (await f.fetch(db, models.flow_run, run_id)).version == 4


async def test_version_locking_refuses_a_stale_version(db, flow_id, task_id, monkeypatch):
    monkeypatch.setitem(prefect.config.server.api, "version_locking", True)
    run_id = await f.create_flow_run(db, flow_id, version=3)
    with pytest.raises(VersionLockError, match="version 2 was given but the run is at version 3"):
        await api.set_flow_run_state(db, run_id, Running(), version=2)
    await api.set_flow_run_state(db, run_id, Running(), version=3)
    await api.set_flow_run_state(db, run_id, Running(), version=None)
    assert (await f.fetch(db, models.flow_run, run_id)).version == 5

    task_run_id = await f.create_task_run(db, run_id, task_id, version=0)
    with pytest.raises(VersionLockError) as raised:
        await api.set_task_run_state(db, task_run_id, Running(), version=7)
    assert raised.value.code == "VERSION_LOCKING_ERROR"
    await api.set_task_run_state(db, task_run_id, Running(), version=0)


async def test_second_submitted_within_the_lock_window_is_refused(db, flow_id):
    run_id = await f.create_flow_run(db, flow_id)
    await api.set_flow_run_state(db, run_id, Submitted(state=Scheduled()))
    with pytest.raises(ServerError) as raised:
        await api.set_flow_run_state(db, run_id, Submitted(state=Scheduled()))
    assert raised.value.message == "State update failed: this run has already been submitted."
    # Other runs and other states are not affected.
    other = await f.create_flow_run(db, flow_id)
    await api.set_flow_run_state(db, other, Submitted())
    await api.set_flow_run_state(db, run_id, Running())
    assert [row.state for row in await flow_run_history(db, run_id)] == [
        "Scheduled",
        "Submitted",
        "Running",
    ]


async def test_submitted_lock_expires(db, flow_id, monkeypatch):
    monkeypatch.setitem(prefect.config.server.api, "submitted_lock_seconds", 0)
    run_id = await f.create_flow_run(db, flow_id)
    await api.set_flow_run_state(db, run_id, Submitted())
    await api.set_flow_run_state(db, run_id, Submitted())
    assert (await f.fetch(db, models.flow_run, run_id)).version == 3


async def test_failed_submitted_write_releases_the_lock(db, flow_id, monkeypatch):
    monkeypatch.setitem(prefect.config.server.api, "version_locking", True)
    run_id = await f.create_flow_run(db, flow_id, version=1)
    with pytest.raises(VersionLockError):
        await api.set_flow_run_state(db, run_id, Submitted(), version=0)
    await api.set_flow_run_state(db, run_id, Submitted(), version=1)


async def test_concurrent_submitted_states_let_exactly_one_through(db, flow_id):
    run_id = await f.create_flow_run(db, flow_id)
    outcomes = await asyncio.gather(
        *(api.set_flow_run_state(db, run_id, Submitted()) for _ in range(8)),
        return_exceptions=True,
    )
    assert sum(isinstance(outcome, dict) for outcome in outcomes) == 1
    assert all(
        isinstance(outcome, dict) or "already been submitted" in str(outcome)
        for outcome in outcomes
    )


async def test_submitted_records_an_existing_agent_only(db, tenant_id, flow_id):
    agent_id = await f.create_agent(db, tenant_id, name="agent")
    unknown = await f.create_flow_run(db, flow_id)
    await api.set_flow_run_state(db, unknown, Submitted(), agent_id=MISSING_ID)
    assert (await f.fetch(db, models.flow_run, unknown)).agent_id is None

    run_id = await f.create_flow_run(db, flow_id)
    await api.set_flow_run_state(db, run_id, Running(), agent_id=agent_id)
    assert (await f.fetch(db, models.flow_run, run_id)).agent_id is None
    await api.set_flow_run_state(db, run_id, Submitted(), agent_id=agent_id)
    assert (await f.fetch(db, models.flow_run, run_id)).agent_id == agent_id
    # A later Submitted from an unknown agent keeps the recorded one.
    await api.set_flow_run_states(
        db,
        [{"flow_run_id": run_id, "state": state_to_dict(Scheduled())}],
        agent_id=MISSING_ID,
    )
    assert (await f.fetch(db, models.flow_run, run_id)).agent_id == agent_id


async def test_running_and_submitted_set_the_flow_run_heartbeat(db, flow_id, monkeypatch):
    monkeypatch.setitem(prefect.config.server.api, "submitted_lock_seconds", 0)
    run_id = await f.create_flow_run(db, flow_id)
    await api.set_flow_run_state(db, run_id, Scheduled())
    assert (await f.fetch(db, models.flow_run, run_id)).heartbeat is None
    await api.set_flow_run_state(db, run_id, Submitted())
    submitted = await f.fetch(db, models.flow_run, run_id)
    assert submitted.heartbeat == submitted.state_timestamp
    await api.set_flow_run_state(db, run_id, Running())
    running = await f.fetch(db, models.flow_run, run_id)
    assert running.heartbeat == running.state_timestamp > submitted.heartbeat


async def test_cancelled_cascades_to_unfinished_task_runs(db, flow_id):
    run_id = await f.create_flow_run(db, flow_id, state="Running")
    task_ids = await f.create_tasks(db, flow_id, 3)
    pending = await f.create_task_run(db, run_id, task_ids[0], state="Pending", version=0)
    running = await f.create_task_run(db, run_id, task_ids[1], state="Running", version=4)
    done = await f.create_task_run(db, run_id, task_ids[2], state="Success", version=2)

    await api.set_flow_run_state(db, run_id, Cancelled("stop"))

    for task_run_id, version in ((pending, 1), (running, 5)):
        task_run = await f.fetch(db, models.task_run, task_run_id)
        assert (task_run.state, task_run.version) == ("Cancelled", version)
        assert task_run.end_time == task_run.state_timestamp
        newest = (await task_run_history(db, task_run_id))[-1]
        assert (newest.state, newest.version, newest.message) == ("Cancelled", version, "stop")
    untouched = await f.fetch(db, models.task_run, done)
    assert (untouched.state, untouched.version) == ("Success", 2)
    assert len(await task_run_history(db, done)) == 1


async def test_set_flow_run_states_processes_items_in_order_and_stops_at_a_failure(db, flow_id):
    first = await f.create_flow_run(db, flow_id)
    second = await f.create_flow_run(db, flow_id)
    items = [
        {"flow_run_id": first, "version": None, "state": state_to_dict(Running())},
        {"flow_run_id": first, "version": None, "state": state_to_dict(Success())},
        {"flow_run_id": second, "state": state_to_dict(Running())},
    ]
    payload = await api.set_flow_run_states(db, items)
    assert payload == [
        {"id": first, "status": "SUCCESS", "message": None},
        {"id": first, "status": "SUCCESS", "message": None},
        {"id": second, "status": "SUCCESS", "message": None},
    ]
    assert (await f.fetch(db, models.flow_run, first)).state == "Success"

    with pytest.raises(ServerError, match=MISSING_ID):
        await api.set_flow_run_states(
            db,
            [
                {"flow_run_id": second, "state": state_to_dict(Success())},
                {"flow_run_id": MISSING_ID, "state": state_to_dict(Success())},
            ],
        )
    assert (await f.fetch(db, models.flow_run, second)).state == "Success"


# ----------------------------------------------------------------------------- task runs


async def test_task_run_state_appends_history_and_mirrors_it_on_the_run(db, flow_id, task_id):
    run_id = await f.create_flow_run(db, flow_id, state="Running")
    task_run_id = await f.create_task_run(db, run_id, task_id, version=0)
    payload = await api.set_task_run_states(
        db,
        [
            {
                "task_run_id": task_run_id,
                "version": 0,
                "flow_run_version": 1,
                "state": state_to_dict(Running("running")),
            }
        ],
    )
    assert payload == [{"id": task_run_id, "status": "SUCCESS", "message": None}]
    await api.set_task_run_state(db, task_run_id, Success("done", result=PrefectResult(value=1)))

    rows = await task_run_history(db, task_run_id)
    assert [(row.version, row.state) for row in rows] == [
        (0, "Pending"),
        (1, "Running"),
        (2, "Success"),
    ]
    task_run = await f.fetch(db, models.task_run, task_run_id)
    assert task_run.version == 2
    assert task_run.serialized_state == rows[-1].serialized_state
    assert task_run.serialized_state["_result"]["type"] == "PrefectResult"
    assert task_run.start_time == rows[1].timestamp
    assert task_run.end_time == rows[2].timestamp
    assert task_run.heartbeat == rows[1].timestamp


async def test_running_task_run_needs_a_running_flow_run(db, flow_id, task_id):
    for flow_state in ("Scheduled", "Submitted", "Cancelling", "Success"):
        run_id = await f.create_flow_run(db, flow_id, state=flow_state)
        task_run_id = await f.create_task_run(db, run_id, task_id)
        for state in (Running, Cancelling):
            with pytest.raises(ServerError) as raised:
                await api.set_task_run_state(db, task_run_id, state())
            assert raised.value.message == (
                f"State update failed for task run ID {task_run_id}: provided a running state "
                f"but associated flow run {run_id} is not in a running state."
            )
        assert (await f.fetch(db, models.task_run, task_run_id)).version == 0
        # Non-running states need nothing of the flow run.
        await api.set_task_run_state(db, task_run_id, Failed())
        assert (await f.fetch(db, models.task_run, task_run_id)).version == 1


async def test_cached_inputs_are_carried_forward(db, flow_id, task_id):
    run_id = await f.create_flow_run(db, flow_id, state="Running")
    task_run_id = await f.create_task_run(db, run_id, task_id)
    inputs = {"x": PrefectResult(location="1")}
    await api.set_task_run_state(db, task_run_id, Retrying(cached_inputs=inputs))
    stored = (await f.fetch(db, models.task_run, task_run_id)).serialized_state["cached_inputs"]
    assert stored["x"]["location"] == "1"

    await api.set_task_run_state(db, task_run_id, Running())
    await api.set_task_run_state(db, task_run_id, state_to_dict(Failed("no inputs")))
    task_run = await f.fetch(db, models.task_run, task_run_id)
    assert task_run.serialized_state["cached_inputs"] == stored
    assert (await task_run_history(db, task_run_id))[-1].serialized_state["cached_inputs"] == stored

    # New inputs replace the old ones.
    await api.set_task_run_state(
        db, task_run_id, Retrying(cached_inputs={"y": PrefectResult(location="2")})
    )
    task_run = await f.fetch(db, models.task_run, task_run_id)
    assert set(task_run.serialized_state["cached_inputs"]) == {"y"}


async def test_queued_state_keeps_its_start_time(db, flow_id, task_id):
    run_id = await f.create_flow_run(db, flow_id, state="Running")
    task_run_id = await f.create_task_run(db, run_id, task_id)
    when = models.utcnow().replace(microsecond=0)
    await api.set_task_run_state(db, task_run_id, Queued(state=Running(), start_time=when))
    assert (await f.fetch(db, models.task_run, task_run_id)).state_start_time == when


# ---------------------------------------------------------------------------- concurrency


async def test_32_concurrent_writers_on_different_runs(db, flow_id):
    run_id = await f.create_flow_run(db, flow_id, state="Running")
    task_ids = await f.create_tasks(db, flow_id, 32)
    task_run_ids = [await f.create_task_run(db, run_id, task) for task in task_ids]
    await asyncio.gather(
        *(api.set_task_run_state(db, task_run, Running()) for task_run in task_run_ids)
    )
    async with db.read() as conn:
        versions = (
            await conn.execute(
                sa.select(models.task_run.c.version, models.task_run.c.state).where(
                    models.task_run.c.flow_run_id == run_id
                )
            )
        ).all()
    assert sorted(versions) == [(1, "Running")] * 32


async def test_32_concurrent_writers_on_the_same_run_get_increasing_versions(db, flow_id, task_id):
    run_id = await f.create_flow_run(db, flow_id, state="Running")
    task_run_id = await f.create_task_run(db, run_id, task_id, version=0)
    await asyncio.gather(
        *(api.set_task_run_state(db, task_run_id, Running(f"write {index}")) for index in range(32))
    )
    rows = await task_run_history(db, task_run_id)
    assert [row.version for row in rows] == list(range(33))
    timestamps = [row.timestamp for row in rows]
    assert timestamps == sorted(timestamps)
    task_run = await f.fetch(db, models.task_run, task_run_id)
    assert task_run.version == 32
    assert task_run.state_message == rows[-1].message


# ------------------------------------------------------------------- hot-path statement count


async def test_a_state_write_takes_three_statements_on_sqlite_and_one_on_postgresql(
    db, flow_id, task_id
):
    run_id = await f.create_flow_run(db, flow_id, state="Running")
    task_run_id = await f.create_task_run(db, run_id, task_id)
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        verb = statement.lstrip().split(None, 1)[0].upper()
        if verb in ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH"):
            statements.append(verb)

    if db.dialect == "sqlite":
        # The hot statements run straight on the sqlite3 handle (database._raw): trace the
        # driver itself, on fresh connections.
        def trace(sql: str) -> None:
            record(None, None, sql, None, None, False)

        def on_connect(dbapi_connection, _record):
            dbapi_connection.set_trace_callback(trace)

        await db.dispose()  # the writer connection too
        sa.event.listen(db.sync_engine, "connect", on_connect)
    else:
        for engine in db.sync_engines:
            sa.event.listen(engine, "before_cursor_execute", record)
    # PostgreSQL does the three steps in one statement (api._pg_states).
    expected = ["SELECT", "INSERT", "UPDATE"] if db.dialect == "sqlite" else ["WITH"]
    try:
        await api.set_task_run_state(db, task_run_id, state_to_dict(Running()))
        assert statements == expected
        statements.clear()
        await api.set_flow_run_state(db, run_id, state_to_dict(Success()))
        assert statements == expected
    finally:
        if db.dialect == "sqlite":
            sa.event.remove(db.sync_engine, "connect", on_connect)
            await db.dispose()
        else:
            for engine in db.sync_engines:
                sa.event.remove(engine, "before_cursor_execute", record)
