"""Flow runs and task runs: creation, cancellation, deletion, names, labels, heartbeats
(protocol §6.3, §6.5, §6.6, §6.8).

State writes themselves live in `prefect.server.api.states`; this module composes them (a
cancellation, a new task run's first Pending state) inside its own transactions. Creating flow
runs is in `_runs_create` and exported here.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from prefect.engine.state import Cancelled, Cancelling, Pending
from prefect.server.api._runs_create import create_flow_run, generate_run_name
from prefect.server.api.states import (
    FINISHED_STATES,
    RUNNING_STATES,
    _is_uuid,
    prepare_state,
    run_columns,
    state_row,
    write_flow_run_state,
)
from prefect.server.database import models
from prefect.server.database._raw import RawStatement
from prefect.server.database.engine import Database
from prefect.server.errors import ServerError

__all__ = [
    "cancel_flow_run",
    "create_flow_run",
    "delete_flow_run",
    "generate_run_name",
    "get_or_create_task_run",
    "get_or_create_task_run_info",
    "get_task_run_info",
    "mapped_children",
    "set_flow_run_labels",
    "set_flow_run_name",
    "set_task_run_name",
    "update_flow_run_heartbeat",
    "update_task_run_heartbeat",
]

_flow_run = models.flow_run
_task = models.task
_task_run = models.task_run

# ------------------------------------------------------------------------ cancel / delete

_SELECT_FLOW_RUN_STATE = (
    sa.select(_flow_run.c.state)
    .where(_flow_run.c.id == sa.bindparam("b_id"))
    .with_for_update(key_share=True)
)


async def cancel_flow_run(db: Database, flow_run_id: str) -> str:
    """Cancel a flow run (protocol §6.5).

    A finished run is left alone; a running one gets `Cancelling` (its flow runner then ends it
    `Cancelled`); any other run gets `Cancelled` at once, and so do its unfinished task runs.

    Returns:
        the name of the run's state afterwards.

    Raises:
        ServerError: the flow run does not exist.
    """
    async with db.write() as conn:
        current = (
            (await conn.execute(_SELECT_FLOW_RUN_STATE, {"b_id": flow_run_id})).first()
            if _is_uuid(flow_run_id)
            else None
        )
        if current is None:
            raise ServerError(f"Flow run {flow_run_id} not found")
        name = current.state
        if name in FINISHED_STATES:
            return str(name)
        if name in RUNNING_STATES:
            prepared = prepare_state(Cancelling("Flow run is cancelling"))
        else:
            prepared = prepare_state(Cancelled("Flow run is cancelled"))
        await write_flow_run_state(conn, flow_run_id, prepared)
    return prepared.name


_TASK_RUNS_OF = sa.select(_task_run.c.id).where(_task_run.c.flow_run_id == sa.bindparam("b_id"))
_DELETE_FLOW_RUN_STATEMENTS = (
    sa.delete(models.task_run_state).where(models.task_run_state.c.task_run_id.in_(_TASK_RUNS_OF)),
    sa.delete(models.task_run_artifact).where(
        models.task_run_artifact.c.task_run_id.in_(_TASK_RUNS_OF)
    ),
    sa.delete(models.log).where(
        sa.or_(
            models.log.c.flow_run_id == sa.bindparam("b_id"),
            models.log.c.task_run_id.in_(_TASK_RUNS_OF),
        )
    ),
    sa.delete(_task_run).where(_task_run.c.flow_run_id == sa.bindparam("b_id")),
    sa.delete(models.flow_run_state).where(
        models.flow_run_state.c.flow_run_id == sa.bindparam("b_id")
    ),
)
_DELETE_FLOW_RUN = sa.delete(_flow_run).where(_flow_run.c.id == sa.bindparam("b_id"))


async def delete_flow_run(db: Database, flow_run_id: str) -> bool:
    """Delete a flow run with its states, task runs (and their states, artifacts) and logs.

    Returns:
        whether the run existed.
    """
    if not _is_uuid(flow_run_id):
        return False
    params = {"b_id": flow_run_id}
    async with db.write() as conn:
        for statement in _DELETE_FLOW_RUN_STATEMENTS:
            await conn.execute(statement, params)
        deleted = await conn.execute(_DELETE_FLOW_RUN, params)
    return bool(deleted.rowcount)


# -------------------------------------------------------------------------------- task runs

_TASK_RUN_INFO_COLUMNS = (
    _task_run.c.id,
    _task_run.c.version,
    _task_run.c.state,
    _task_run.c.serialized_state,
)
_SELECT_TASK_RUN_BY_KEY = sa.select(*_TASK_RUN_INFO_COLUMNS).where(
    _task_run.c.flow_run_id == sa.bindparam("b_flow_run_id"),
    _task_run.c.task_id == sa.bindparam("b_task_id"),
    _task_run.c.map_index == sa.bindparam("b_map_index"),
)
_SELECT_TASK_RUN_BY_ID = sa.select(*_TASK_RUN_INFO_COLUMNS).where(
    _task_run.c.id == sa.bindparam("b_id")
)
_RAW_SELECT_TASK_RUN_BY_KEY = RawStatement(_SELECT_TASK_RUN_BY_KEY)
_INSERT_TASK_RUN = sa.insert(_task_run)
_INSERT_TASK_RUN_STATE = sa.insert(models.task_run_state)
_SELECT_TASK = sa.select(_task.c.tenant_id, _task.c.cache_key).where(
    _task.c.id == sa.bindparam("b_id")
)


def _task_run_info(row: Any) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "version": row.version,
        "state": row.state,
        "serialized_state": row.serialized_state,
    }


async def get_or_create_task_run_info(
    db: Database, flow_run_id: str, task_id: str, map_index: int | None = None
) -> dict[str, Any]:
    """The task run of `(flow_run_id, task_id, map_index)`, created Pending if missing (§6.6).

    Args:
        db: the database.
        flow_run_id: the flow run.
        task_id: the task.
        map_index: the child index of a mapped task; None (an unmapped task or the parent of a
            map) is stored as -1.

    Returns:
        `{"id", "version", "state", "serialized_state"}` of the task run.

    Raises:
        ServerError: `Invalid task ID` when the task does not exist; an unknown flow run.
    """
    if not _is_uuid(task_id):
        raise ServerError("Invalid task ID")
    if not _is_uuid(flow_run_id):
        raise ServerError(f"Flow run {flow_run_id} not found")
    key = {
        "b_flow_run_id": flow_run_id,
        "b_task_id": task_id,
        "b_map_index": -1 if map_index is None else map_index,
    }
    # Parents and unmapped tasks exist since the flow run was created: read without the lock.
    async with db.read() as conn:
        rows = await _RAW_SELECT_TASK_RUN_BY_KEY.fetch(conn, key)
    if rows:
        found_id, version, state, serialized_state = rows[0]
        return {
            "id": str(found_id),
            "version": version,
            "state": state,
            "serialized_state": serialized_state,
        }
    async with db.write() as conn:
        row = (await conn.execute(_SELECT_TASK_RUN_BY_KEY, key)).first()
        if row is not None:
            return _task_run_info(row)
        task = (await conn.execute(_SELECT_TASK, {"b_id": task_id})).first()
        if task is None:
            raise ServerError("Invalid task ID")
        prepared = prepare_state(Pending("Task run created"))
        now = models.utcnow()
        task_run_id = models.new_id()
        values = run_columns(prepared, now, 0, None, None)
        values.update(
            id=task_run_id,
            created=now,
            tenant_id=task.tenant_id,
            flow_run_id=flow_run_id,
            task_id=task_id,
            map_index=key["b_map_index"],
            cache_key=task.cache_key,
        )
        try:
            # On PostgreSQL a concurrent request may insert the same key first; the savepoint
            # keeps the transaction usable to read that row (SQLite writers never overlap).
            async with conn.begin_nested():
                await conn.execute(_INSERT_TASK_RUN, values)
        except IntegrityError:
            row = (await conn.execute(_SELECT_TASK_RUN_BY_KEY, key)).first()
            if row is None:
                raise ServerError(f"Flow run {flow_run_id} not found") from None
            return _task_run_info(row)
        history = state_row(prepared, now, 0, task.tenant_id)
        history["task_run_id"] = task_run_id
        await conn.execute(_INSERT_TASK_RUN_STATE, history)
    return {
        "id": task_run_id,
        "version": 0,
        "state": prepared.name,
        "serialized_state": prepared.serialized,
    }


async def get_or_create_task_run(
    db: Database, flow_run_id: str, task_id: str, map_index: int | None = None
) -> str:
    """The id of the task run of `(flow_run_id, task_id, map_index)`, created if missing.

    See `get_or_create_task_run_info`.
    """
    info = await get_or_create_task_run_info(db, flow_run_id, task_id, map_index)
    return str(info["id"])


async def get_task_run_info(db: Database, task_run_id: str) -> dict[str, Any]:
    """`{"id", "version", "state", "serialized_state"}` of a task run.

    Raises:
        ServerError: `Invalid task run ID` when it does not exist.
    """
    if not _is_uuid(task_run_id):
        raise ServerError("Invalid task run ID")
    async with db.read() as conn:
        row = (await conn.execute(_SELECT_TASK_RUN_BY_ID, {"b_id": task_run_id})).first()
    if row is None:
        raise ServerError("Invalid task run ID")
    return _task_run_info(row)


# ------------------------------------------------------------- heartbeats, names and labels

_SET_FLOW_RUN_HEARTBEAT = sa.update(_flow_run).where(_flow_run.c.id == sa.bindparam("b_id"))
_SET_TASK_RUN_HEARTBEAT = sa.update(_task_run).where(_task_run.c.id == sa.bindparam("b_id"))


async def update_flow_run_heartbeat(db: Database, flow_run_id: str) -> None:
    """Record that a flow run is alive (an unknown id is silently ignored)."""
    await _touch(db, _SET_FLOW_RUN_HEARTBEAT, flow_run_id)


async def update_task_run_heartbeat(db: Database, task_run_id: str) -> None:
    """Record that a task run is alive (an unknown id is silently ignored)."""
    await _touch(db, _SET_TASK_RUN_HEARTBEAT, task_run_id)


async def _touch(db: Database, statement: sa.Update, run_id: str) -> None:
    if not _is_uuid(run_id):
        return
    now = models.utcnow()
    async with db.write() as conn:
        await conn.execute(statement, {"b_id": run_id, "heartbeat": now, "updated": now})


async def set_flow_run_name(db: Database, flow_run_id: str, name: str) -> bool:
    """Rename a flow run.

    Returns:
        whether a run was renamed.

    Raises:
        ServerError: `Invalid name` when the name is empty.
    """
    return await _update_run(db, _flow_run, flow_run_id, name=_valid_name(name))


async def set_task_run_name(db: Database, task_run_id: str, name: str) -> bool:
    """Rename a task run.

    Returns:
        whether a run was renamed.

    Raises:
        ServerError: `Invalid name` when the name is empty.
    """
    return await _update_run(db, _task_run, task_run_id, name=_valid_name(name))


async def set_flow_run_labels(db: Database, flow_run_id: str, labels: list[str]) -> bool:
    """Replace a flow run's labels (stored sorted).

    Returns:
        whether the run exists.
    """
    return await _update_run(db, _flow_run, flow_run_id, labels=sorted(labels or ()))


def _valid_name(name: str) -> str:
    if not name or not isinstance(name, str):
        raise ServerError("Invalid name")
    return name


async def _update_run(db: Database, table: sa.Table, run_id: str, **values: Any) -> bool:
    if not _is_uuid(run_id):
        return False
    async with db.write() as conn:
        result = await conn.execute(sa.update(table).where(table.c.id == run_id).values(**values))
    return bool(result.rowcount)


# --------------------------------------------------------------------------- mapped children

_children = _task_run.alias("child")
_parent = _task_run.alias("parent")
_CHILDREN_OF = sa.and_(
    _children.c.flow_run_id == _parent.c.flow_run_id,
    _children.c.task_id == _parent.c.task_id,
    _children.c.map_index >= 0,
    _parent.c.id == sa.bindparam("b_id"),
)
_SELECT_CHILDREN_TIMES = sa.select(
    sa.func.min(_children.c.start_time), sa.func.max(_children.c.end_time)
).where(_CHILDREN_OF)
_SELECT_CHILDREN_STATE_COUNTS = (
    sa.select(_children.c.state, sa.func.count()).where(_CHILDREN_OF).group_by(_children.c.state)
)


async def mapped_children(db: Database, task_run_id: str) -> dict[str, Any]:
    """Summary of the mapped children of a parent task run (for the UI).

    Returns:
        `{"min_start_time", "max_end_time", "state_counts"}`: the earliest start and latest end
        among the children, and the number of children per state name.
    """
    if not _is_uuid(task_run_id):
        return {"min_start_time": None, "max_end_time": None, "state_counts": {}}
    params = {"b_id": task_run_id}
    async with db.read() as conn:
        min_start, max_end = (await conn.execute(_SELECT_CHILDREN_TIMES, params)).one()
        counts = (await conn.execute(_SELECT_CHILDREN_STATE_COUNTS, params)).all()
    return {
        "min_start_time": min_start,
        "max_end_time": max_end,
        "state_counts": {state: count for state, count in counts},
    }
