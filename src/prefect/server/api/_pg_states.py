"""State writes on PostgreSQL in one statement: one round trip, no explicit transaction.

The timestamp is the API server's clock, as on the general path, but never earlier than the
run's current state (`GREATEST(:now, state_timestamp)`): the clock is read before the row lock
is taken, so a writer that waited for the lock must not stamp its state before the one it
waited for.

The general path (`states.write_*_run_state`) reads the run row, inserts the history row and
updates the run row: with BEGIN and COMMIT that is five round trips through SQLAlchemy's asyncpg
adapter for every state. Here the same write is one `WITH ... UPDATE` statement run in
autocommit mode (a single statement is its own transaction): the run row is locked by the
`FOR NO KEY UPDATE` of its first step, so concurrent writers of one run queue up and each sees
the version the previous one wrote, exactly as on the general path. It covers the common case;
`states` keeps the general path for version locking, Submitted states from an agent and Cancelled
flow runs (which cascade), and for reporting why a write was refused (no row comes back).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from prefect.server.database import models
from prefect.server.database.engine import Database

__all__ = ["write_flow_run_state", "write_task_run_state"]

_UUID = sa.Uuid(as_uuid=False)
_JSONB = postgresql.JSONB(none_as_null=True)

_BINDS = (
    sa.bindparam("run_id", type_=_UUID),
    sa.bindparam("state_id", type_=_UUID),
    sa.bindparam("now", type_=models.Timestamp()),
    sa.bindparam("state_start_time", type_=models.Timestamp()),
    sa.bindparam("state", type_=sa.String()),
    sa.bindparam("message", type_=sa.String()),
    sa.bindparam("result", type_=_JSONB),
    sa.bindparam("serialized", type_=_JSONB),
    sa.bindparam("is_running", type_=sa.Boolean()),
    sa.bindparam("is_end", type_=sa.Boolean()),
    sa.bindparam("beat", type_=sa.Boolean()),
)

# Run-row columns that mirror the new state (models.END_STATES / "Running" rules of
# states.run_columns, evaluated against the locked row).
_MIRROR = """
    version = doc.version + 1,
    state = :state,
    serialized_state = doc.serialized,
    state_timestamp = doc.now,
    state_message = :message,
    state_result = :result,
    state_start_time = :state_start_time,
    start_time = CASE WHEN :is_running AND (doc.start_time IS NULL OR doc.now < doc.start_time)
                      THEN doc.now ELSE doc.start_time END,
    end_time = CASE WHEN :is_end AND (doc.end_time IS NULL OR doc.now > doc.end_time)
                    THEN doc.now ELSE doc.end_time END,
    heartbeat = CASE WHEN :beat THEN doc.now ELSE {table}.heartbeat END,
    updated = doc.now
"""

_HISTORY_COLUMNS = (
    "id, created, updated, tenant_id, {fk}, timestamp, state, message, result, start_time, "
    "serialized_state, version"
)

_FLOW_RUN_WRITE = sa.text(
    f"""
WITH run AS MATERIALIZED (
    SELECT id, tenant_id, version, start_time, end_time, state_timestamp
    FROM flow_run WHERE id = :run_id
    FOR NO KEY UPDATE
), doc AS (
    SELECT run.*, :serialized AS serialized, GREATEST(:now, run.state_timestamp) AS now
    FROM run
), history AS (
    INSERT INTO flow_run_state ({_HISTORY_COLUMNS.format(fk="flow_run_id")})
    SELECT :state_id, doc.now, doc.now, doc.tenant_id, doc.id, doc.now, :state, :message,
           :result, :state_start_time, doc.serialized, doc.version + 1
    FROM doc
)
UPDATE flow_run SET {_MIRROR.format(table="flow_run")}
FROM doc WHERE flow_run.id = doc.id
RETURNING flow_run.version
"""
).bindparams(*_BINDS)

_TASK_RUN_WRITE = sa.text(
    f"""
WITH run AS MATERIALIZED (
    SELECT task_run.id, task_run.tenant_id, task_run.version, task_run.start_time,
           task_run.end_time, task_run.state_timestamp,
           task_run.serialized_state -> 'cached_inputs' AS cached_inputs,
           flow_run.state AS flow_run_state
    FROM task_run JOIN flow_run ON flow_run.id = task_run.flow_run_id
    WHERE task_run.id = :run_id
    FOR NO KEY UPDATE OF task_run
), doc AS (
    SELECT run.id, run.tenant_id, run.version, run.start_time, run.end_time,
           GREATEST(:now, run.state_timestamp) AS now,
           CASE WHEN :carry AND run.cached_inputs IS NOT NULL
                     AND run.cached_inputs NOT IN ('{{}}'::jsonb, 'null'::jsonb)
                THEN jsonb_set(:serialized, '{{cached_inputs}}', run.cached_inputs)
                ELSE :serialized END AS serialized
    FROM run
    WHERE NOT (:running_state AND run.flow_run_state IS DISTINCT FROM 'Running')
), history AS (
    INSERT INTO task_run_state ({_HISTORY_COLUMNS.format(fk="task_run_id")})
    SELECT :state_id, doc.now, doc.now, doc.tenant_id, doc.id, doc.now, :state, :message,
           :result, :state_start_time, doc.serialized, doc.version + 1
    FROM doc
)
UPDATE task_run SET {_MIRROR.format(table="task_run")}
FROM doc WHERE task_run.id = doc.id
RETURNING task_run.version
"""
).bindparams(
    *_BINDS,
    sa.bindparam("carry", type_=sa.Boolean()),
    sa.bindparam("running_state", type_=sa.Boolean()),
)


def _params(run_id: str, prepared: Any, heartbeat: bool) -> dict[str, Any]:
    name = prepared.name
    return {
        "run_id": run_id,
        "state_id": models.new_id(),
        "now": models.utcnow(),
        "state_start_time": prepared.start_time,
        "state": name,
        "message": prepared.message,
        "result": prepared.result,
        "serialized": prepared.serialized,
        "is_running": name == "Running",
        "is_end": name in models.END_STATES,
        "beat": heartbeat,
    }


async def write_flow_run_state(db: Database, flow_run_id: str, prepared: Any) -> bool:
    """Write a prepared state to a flow run; False when no run row was written (unknown run)."""
    name = prepared.name
    params = _params(flow_run_id, prepared, name == "Running" or name == "Submitted")
    async with db.autocommit() as conn:
        return (await conn.execute(_FLOW_RUN_WRITE, params)).first() is not None


async def write_task_run_state(
    db: Database, task_run_id: str, prepared: Any, running_states: frozenset[str]
) -> bool:
    """Write a prepared state to a task run; False when nothing was written (unknown run, or a
    running state while the flow run is not Running)."""
    params = _params(task_run_id, prepared, prepared.name == "Running")
    params["carry"] = not prepared.serialized.get("cached_inputs")
    params["running_state"] = prepared.name in running_states
    async with db.autocommit() as conn:
        return (await conn.execute(_TASK_RUN_WRITE, params)).first() is not None
