"""Property test of the state history the server keeps for a flow run and one of its task runs.

A hypothesis state machine writes random states (as JSON documents, the way clients send them)
and checks after every step that the history is append-only, versions go up by one, the run row
mirrors its newest history row, and start/end times follow the Running and end states.

Hypothesis drives its machine synchronously; the machine runs in a worker thread and hands each
database call to the test's event loop.
"""

from __future__ import annotations

import asyncio
import datetime
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)
from tests.server.api import _factories as f

import prefect
from prefect.server.api import states as api
from prefect.server.database import models
from prefect.server.errors import ServerError

UTC = datetime.timezone.utc
STATE_NAMES = [
    "Pending",
    "Scheduled",
    "Paused",
    "Resume",
    "Retrying",
    "Submitted",
    "Queued",
    "Running",
    "Cancelling",
    "Success",
    "Failed",
    "Cached",
    "Skipped",
    "TimedOut",
    "TriggerFailed",
    "Looped",
    "Cancelled",
]
WITH_START_TIME = {"Scheduled", "Paused", "Resume", "Retrying", "Queued"}

messages = st.none() | st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=12
)
start_times = st.none() | st.datetimes(
    min_value=datetime.datetime(2000, 1, 1),
    max_value=datetime.datetime(2100, 1, 1),
    timezones=st.just(UTC),
)


def document(name: str, message: str | None, start_time: datetime.datetime | None) -> dict:
    doc: dict[str, Any] = {"type": name, "message": message}
    if name in WITH_START_TIME and start_time is not None:
        doc["start_time"] = start_time.isoformat()
    if name == "Looped":
        doc["loop_count"] = 2
    return doc


def check_history(run: Any, rows: list[Any], previous: list[Any]) -> None:
    assert rows[: len(previous)] == previous, "history rows changed or disappeared"
    versions = [row.version for row in rows]
    assert versions == list(range(versions[0], versions[0] + len(rows)))
    timestamps = [row.timestamp for row in rows]
    assert timestamps == sorted(timestamps)
    newest = rows[-1]
    assert run.version == newest.version
    assert run.state == newest.state
    assert run.serialized_state == newest.serialized_state
    assert run.state_timestamp == newest.timestamp
    assert run.state_message == newest.message
    assert run.state_start_time == newest.start_time
    assert run.state_result == newest.result
    running = [row.timestamp for row in rows if row.state == "Running"]
    ended = [row.timestamp for row in rows if row.state in models.END_STATES]
    assert run.start_time == (min(running) if running else None)
    assert run.end_time == (max(ended) if ended else None)


async def test_state_history_invariants(db, tenant_id, monkeypatch):
    monkeypatch.setitem(prefect.config.server.api, "submitted_lock_seconds", 0)
    flow_id = await f.create_flow(db, tenant_id)
    task_id = (await f.create_tasks(db, flow_id, 1))[0]
    loop = asyncio.get_running_loop()

    def call(coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result(timeout=60)

    async def load(run_id: str, task_run_id: str) -> tuple[Any, ...]:
        found = []
        async with db.read() as conn:
            for run_table, state_table, key, row_id in (
                (models.flow_run, models.flow_run_state, "flow_run_id", run_id),
                (models.task_run, models.task_run_state, "task_run_id", task_run_id),
            ):
                query = sa.select(run_table).where(run_table.c.id == row_id)
                found.append((await conn.execute(query)).one())
                history = (
                    sa.select(state_table)
                    .where(state_table.c[key] == row_id)
                    .order_by(state_table.c.version)
                )
                found.append(list((await conn.execute(history)).all()))
        return tuple(found)

    class StateHistory(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.flow_run_id = call(f.create_flow_run(db, flow_id, state="Scheduled"))
            self.task_run_id = call(f.create_task_run(db, self.flow_run_id, task_id))
            self.flow_state = "Scheduled"
            self.flow_rows: list[Any] = []
            self.task_rows: list[Any] = []

        @rule(name=st.sampled_from(STATE_NAMES), message=messages, start_time=start_times)
        def write_flow_run_state(self, name, message, start_time):
            doc = document(name, message, start_time)
            call(api.set_flow_run_state(db, self.flow_run_id, doc))
            self.flow_state = name

        @rule(name=st.sampled_from(STATE_NAMES), message=messages, start_time=start_times)
        def write_task_run_state(self, name, message, start_time):
            doc = document(name, message, start_time)
            if name in ("Running", "Cancelling") and self.flow_state != "Running":
                try:
                    call(api.set_task_run_state(db, self.task_run_id, doc))
                except ServerError as exc:
                    assert "is not in a running state" in exc.message
                else:
                    raise AssertionError("a running task state was accepted")
            else:
                call(api.set_task_run_state(db, self.task_run_id, doc))

        @invariant()
        def histories_are_consistent(self):
            flow_run, flow_rows, task_run, task_rows = call(
                load(self.flow_run_id, self.task_run_id)
            )
            check_history(flow_run, flow_rows, self.flow_rows)
            check_history(task_run, task_rows, self.task_rows)
            self.flow_rows, self.task_rows = flow_rows, task_rows

    await asyncio.to_thread(
        run_state_machine_as_test,
        StateHistory,
        settings=settings(
            max_examples=20,
            stateful_step_count=10,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
