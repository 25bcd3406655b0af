"""State writes for flow runs and task runs: the server's hot path (protocol §6.4, §8.3).

A write loads the state document (`dict_to_state`), re-serializes it (`state_to_dict`), and in
one transaction reads the run row (`FOR NO KEY UPDATE` on PostgreSQL, so concurrent writers of
the same run queue up without blocking foreign-key checks from inserts that reference the run),
appends a `*_state` history row with `version = row version + 1`, and mirrors that row onto the
run row. The run row also keeps `start_time` (earliest `Running` timestamp) and `end_time`
(latest timestamp of a state in `models.END_STATES`). Three statements per write, all built
once at import so SQLAlchemy reuses their compiled form.

Client versions are ignored unless `server.api.version_locking` is on. Transitions out of
finished states are allowed (Lazarus and manual restarts rely on them).
"""

from __future__ import annotations

import datetime
import json
import logging
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

import prefect
from prefect.engine.state import Cancelled, State
from prefect.serialization._state_codec import dict_to_state, state_to_dict
from prefect.server.api import _pg_states
from prefect.server.database import models
from prefect.server.database._raw import RawStatement
from prefect.server.database.engine import Database
from prefect.server.errors import ServerError, VersionLockError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = [
    "FINISHED_STATES",
    "RUNNING_STATES",
    "SCHEDULED_STATES",
    "PreparedState",
    "prepare_state",
    "run_columns",
    "set_flow_run_state",
    "set_flow_run_states",
    "set_task_run_state",
    "set_task_run_states",
    "state_row",
    "write_flow_run_state",
    "write_task_run_state",
]

logger = logging.getLogger(__name__)

# `Finished` and its subclasses (states.md): runs in these states are done.
FINISHED_STATES = frozenset(
    {
        "Finished",
        "Success",
        "Cached",
        "Mapped",
        "Skipped",
        "Looped",
        "Failed",
        "TimedOut",
        "TriggerFailed",
        "ValidationFailed",
        "Cancelled",
    }
)
# `Running` and its subclass: a task run may only enter these while its flow run is Running.
RUNNING_STATES = frozenset({"Running", "Cancelling"})
# "Scheduled-like" states an agent picks up (protocol §5.1, §6.7).
SCHEDULED_STATES = frozenset({"Scheduled", "Paused", "Queued", "Resume", "Retrying"})

_END_STATES = models.END_STATES
_JSON_SCALARS = (str, int, float, bool)

_flow_run = models.flow_run
_task_run = models.task_run
_flow_run_state = models.flow_run_state
_task_run_state = models.task_run_state

_SELECT_FLOW_RUN = (
    sa.select(
        _flow_run.c.tenant_id,
        _flow_run.c.version,
        _flow_run.c.start_time,
        _flow_run.c.end_time,
    )
    .where(_flow_run.c.id == sa.bindparam("b_id"))
    .with_for_update(key_share=True)
)
# The flow run's state comes along in the same statement (the Running check); only the task run
# row is locked.
_SELECT_TASK_RUN = (
    sa.select(
        _task_run.c.tenant_id,
        _task_run.c.version,
        _task_run.c.start_time,
        _task_run.c.end_time,
        _task_run.c.serialized_state["cached_inputs"].label("cached_inputs"),
        _task_run.c.flow_run_id,
        _flow_run.c.state.label("flow_run_state"),
    )
    .select_from(_task_run.join(_flow_run, _flow_run.c.id == _task_run.c.flow_run_id))
    .where(_task_run.c.id == sa.bindparam("b_id"))
    .with_for_update(of=_task_run, key_share=True)
)
_SELECT_UNFINISHED_TASK_RUNS = (
    sa.select(
        _task_run.c.id,
        _task_run.c.tenant_id,
        _task_run.c.version,
        _task_run.c.start_time,
        _task_run.c.end_time,
    )
    .where(
        _task_run.c.flow_run_id == sa.bindparam("b_flow_run_id"),
        sa.or_(_task_run.c.state.is_(None), _task_run.c.state.not_in(sorted(FINISHED_STATES))),
    )
    .with_for_update(key_share=True)
)
_INSERT_FLOW_RUN_STATE = sa.insert(_flow_run_state)
_INSERT_TASK_RUN_STATE = sa.insert(_task_run_state)
# The statements of one state write, run without SQLAlchemy's per-call cost on SQLite.
_RAW_SELECT_FLOW_RUN = RawStatement(_SELECT_FLOW_RUN)
_RAW_SELECT_TASK_RUN = RawStatement(_SELECT_TASK_RUN)
_RAW_INSERT_FLOW_RUN_STATE = RawStatement(_INSERT_FLOW_RUN_STATE)
_RAW_INSERT_TASK_RUN_STATE = RawStatement(_INSERT_TASK_RUN_STATE)
# SET columns come from the keys of the execution parameters.
_UPDATE_FLOW_RUN = sa.update(_flow_run).where(_flow_run.c.id == sa.bindparam("b_id"))
_UPDATE_TASK_RUN = sa.update(_task_run).where(_task_run.c.id == sa.bindparam("b_id"))
_RAW_UPDATE_FLOW_RUN = RawStatement(_UPDATE_FLOW_RUN)
_RAW_UPDATE_TASK_RUN = RawStatement(_UPDATE_TASK_RUN)
# Submitted from an agent: record the agent only when its row exists (else keep the old value).
_UPDATE_FLOW_RUN_WITH_AGENT = _UPDATE_FLOW_RUN.values(
    agent_id=sa.func.coalesce(
        sa.select(models.agent.c.id)
        .where(models.agent.c.id == sa.bindparam("b_agent_id"))
        .scalar_subquery(),
        _flow_run.c.agent_id,
    )
)

# Flow run id -> monotonic time until which another Submitted state is refused. In memory, per
# server process, as in the 1.x server.
_submitted_until: dict[str, float] = {}
_SUBMITTED_PRUNE_SIZE = 10_000


@dataclass(slots=True)
class PreparedState:
    """A state validated and re-serialized once, ready to be written to any number of runs."""

    name: str
    message: str | None
    start_time: datetime.datetime | None
    result: Any
    serialized: dict[str, Any]


def prepare_state(state: State | dict[str, Any]) -> PreparedState:
    """Validate a state (an object or its JSON form) and compute what a write stores.

    Raises:
        ServerError: the document is too large or is not a valid state.
    """
    if isinstance(state, dict):
        limit = prefect.config.server.api.max_state_payload_bytes
        try:
            size = len(json.dumps(state))
        except (TypeError, ValueError) as exc:
            raise ServerError(f"Invalid state: it is not JSON ({exc}).") from None
        if size > limit:
            raise ServerError("State payload is too large.")
        try:
            state = dict_to_state(state)
        except Exception as exc:
            # The client's document is bad; say why, and do not write anything.
            raise ServerError(f"Invalid state: {_describe(exc)}") from None
    elif not isinstance(state, State):
        raise ServerError(f"Invalid state: expected a state document, got {type(state).__name__}.")
    try:
        serialized = state_to_dict(state)
    except Exception as exc:
        raise ServerError(f"Invalid state: {_describe(exc)}") from None
    result = state.result
    return PreparedState(
        name=type(state).__name__,
        message=serialized.get("message"),
        start_time=getattr(state, "start_time", None),
        result=result if isinstance(result, _JSON_SCALARS) else None,
        serialized=serialized,
    )


def _describe(exc: Exception) -> str:
    messages = getattr(exc, "messages", None)
    return str(messages if messages is not None else exc) or type(exc).__name__


def run_columns(
    prepared: PreparedState,
    now: datetime.datetime,
    version: int,
    start_time: datetime.datetime | None,
    end_time: datetime.datetime | None,
) -> dict[str, Any]:
    """The run-row columns that mirror a new state row (§8.3), given the row's old times."""
    name = prepared.name
    if name == "Running" and (start_time is None or now < start_time):
        start_time = now
    if name in _END_STATES and (end_time is None or now > end_time):
        end_time = now
    return {
        "version": version,
        "state": name,
        "serialized_state": prepared.serialized,
        "state_timestamp": now,
        "state_message": prepared.message,
        "state_result": prepared.result,
        "state_start_time": prepared.start_time,
        "start_time": start_time,
        "end_time": end_time,
        "updated": now,
    }


def state_row(
    prepared: PreparedState, now: datetime.datetime, version: int, tenant_id: str
) -> dict[str, Any]:
    """The values of a new `*_state` history row (without the run id column)."""
    return {
        "id": models.new_id(),
        "created": now,
        "updated": now,
        "tenant_id": tenant_id,
        "timestamp": now,
        "state": prepared.name,
        "message": prepared.message,
        "result": prepared.result,
        "start_time": prepared.start_time,
        "serialized_state": prepared.serialized,
        "version": version,
    }


def _is_uuid(value: Any) -> bool:
    if type(value) is not str:
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _check_version(kind: str, run_id: str, given: int | None, stored: int) -> None:
    if given is not None and given != stored and prefect.config.server.api.version_locking:
        raise VersionLockError(
            f"State update failed for {kind} run ID {run_id}: version {given} was given but the "
            f"run is at version {stored}; read the run again and retry with its current version."
        )


# --------------------------------------------------------------------------------- flow runs


def _claim_submitted(flow_run_id: str) -> None:
    now = time.monotonic()
    until = _submitted_until.get(flow_run_id)
    if until is not None and until > now:
        raise ServerError("State update failed: this run has already been submitted.")
    if len(_submitted_until) >= _SUBMITTED_PRUNE_SIZE:
        for key in [key for key, value in _submitted_until.items() if value <= now]:
            del _submitted_until[key]
    _submitted_until[flow_run_id] = now + prefect.config.server.api.submitted_lock_seconds


async def write_flow_run_state(
    conn: AsyncConnection,
    flow_run_id: str,
    prepared: PreparedState,
    *,
    version: int | None = None,
    agent_id: str | None = None,
) -> None:
    """Write a state to a flow run inside the caller's transaction (no Submitted lock here).

    Raises:
        ServerError: the flow run does not exist.
        VersionLockError: version locking is on and `version` is not the run's version.
    """
    rows = (
        await _RAW_SELECT_FLOW_RUN.fetch(conn, {"b_id": flow_run_id})
        if _is_uuid(flow_run_id)
        else None
    )
    found = rows[0] if rows else None
    if found is None:
        raise ServerError(f"State update failed for flow run ID {flow_run_id}")
    tenant_id, stored_version, start_time, end_time = found
    _check_version("flow", flow_run_id, version, stored_version)
    now = models.utcnow()
    new_version = stored_version + 1
    history = state_row(prepared, now, new_version, tenant_id)
    history["flow_run_id"] = flow_run_id
    await _RAW_INSERT_FLOW_RUN_STATE.run(conn, history)
    values = run_columns(prepared, now, new_version, start_time, end_time)
    values["b_id"] = flow_run_id
    name = prepared.name
    if name == "Running" or name == "Submitted":
        values["heartbeat"] = now
    if name == "Submitted" and agent_id is not None and _is_uuid(agent_id):
        values["b_agent_id"] = agent_id
        await conn.execute(_UPDATE_FLOW_RUN_WITH_AGENT, values)
    else:
        await _RAW_UPDATE_FLOW_RUN.run(conn, values)
    if name == "Cancelled":
        await _cancel_task_runs(conn, flow_run_id, prepared, now)


async def _cancel_task_runs(
    conn: AsyncConnection, flow_run_id: str, prepared: PreparedState, now: datetime.datetime
) -> None:
    """Give every unfinished task run of a flow run the flow run's Cancelled state, in batches."""
    rows = (await conn.execute(_SELECT_UNFINISHED_TASK_RUNS, {"b_flow_run_id": flow_run_id})).all()
    if not rows:
        return
    if prepared.name != "Cancelled":
        prepared = prepare_state(Cancelled("Flow run is cancelled"))
    histories = []
    updates = []
    for task_run_id, tenant_id, stored_version, start_time, end_time in rows:
        history = state_row(prepared, now, stored_version + 1, tenant_id)
        history["task_run_id"] = task_run_id
        histories.append(history)
        values = run_columns(prepared, now, stored_version + 1, start_time, end_time)
        values["b_id"] = task_run_id
        updates.append(values)
    await conn.execute(_INSERT_TASK_RUN_STATE, histories)
    await conn.execute(_UPDATE_TASK_RUN, updates)


async def set_flow_run_state(
    db: Database,
    flow_run_id: str,
    state: State | dict[str, Any],
    *,
    version: int | None = None,
    agent_id: str | None = None,
) -> dict[str, Any]:
    """Set a flow run's state (protocol §6.4).

    Args:
        db: the database.
        flow_run_id: the run.
        state: a state, or its JSON form as the client sends it.
        version: the version the client read; checked only with `server.api.version_locking`.
        agent_id: the agent sending the request (`X-PREFECT-AGENT-ID`); recorded on the run
            with a Submitted state when that agent exists.

    Returns:
        `{"id": flow_run_id, "status": "SUCCESS", "message": None}`.

    Raises:
        ServerError: invalid or oversized state, unknown run, or a second Submitted state within
            `server.api.submitted_lock_seconds`.
        VersionLockError: version locking is on and `version` is stale.
    """
    prepared = prepare_state(state)
    submitted = prepared.name == "Submitted"
    if submitted:
        _claim_submitted(flow_run_id)
    try:
        if (
            db.dialect == "postgresql"
            and prepared.name != "Cancelled"
            and not (submitted and agent_id is not None)
            and (version is None or not prefect.config.server.api.version_locking)
            and _is_uuid(flow_run_id)
            and await _pg_states.write_flow_run_state(db, flow_run_id, prepared)
        ):
            return {"id": flow_run_id, "status": "SUCCESS", "message": None}
        # The general path: also the one that says why a write is refused.
        async with db.write() as conn:
            await write_flow_run_state(
                conn, flow_run_id, prepared, version=version, agent_id=agent_id
            )
    except BaseException:
        if submitted:
            # The run was not submitted after all: another Submitted may try again.
            _submitted_until.pop(flow_run_id, None)
        raise
    return {"id": flow_run_id, "status": "SUCCESS", "message": None}


async def set_flow_run_states(
    db: Database, states: list[dict[str, Any]], *, agent_id: str | None = None
) -> list[dict[str, Any]]:
    """Set the states of several flow runs, in order, one transaction each.

    Args:
        db: the database.
        states: items `{"flow_run_id", "version" (optional), "state"}`.
        agent_id: the requesting agent (see `set_flow_run_state`).

    Returns:
        one `{"id", "status", "message"}` per item.

    Raises:
        ServerError: the first item that fails; the items before it stay written.
    """
    return [
        await set_flow_run_state(
            db, item["flow_run_id"], item["state"], version=item.get("version"), agent_id=agent_id
        )
        for item in states
    ]


# --------------------------------------------------------------------------------- task runs


async def write_task_run_state(
    conn: AsyncConnection,
    task_run_id: str,
    prepared: PreparedState,
    *,
    version: int | None = None,
) -> None:
    """Write a state to a task run inside the caller's transaction.

    Raises:
        ServerError: the task run does not exist, or a running state was given while its flow
            run is not Running.
        VersionLockError: version locking is on and `version` is not the run's version.
    """
    rows = (
        await _RAW_SELECT_TASK_RUN.fetch(conn, {"b_id": task_run_id})
        if _is_uuid(task_run_id)
        else None
    )
    found = rows[0] if rows else None
    if found is None:
        raise ServerError(f"State update failed for task run ID {task_run_id}")
    tenant_id, stored_version, start_time, end_time, cached_inputs, flow_run_id, flow_state = found
    name = prepared.name
    if name in RUNNING_STATES and flow_state != "Running":
        raise ServerError(
            f"State update failed for task run ID {task_run_id}: provided a running state but "
            f"associated flow run {flow_run_id} is not in a running state."
        )
    _check_version("task", task_run_id, version, stored_version)
    if cached_inputs and not prepared.serialized.get("cached_inputs"):
        # Carry the inputs forward so a later retry can still use them; copy, since a prepared
        # state may be shared.
        prepared = PreparedState(
            prepared.name,
            prepared.message,
            prepared.start_time,
            prepared.result,
            {**prepared.serialized, "cached_inputs": cached_inputs},
        )
    now = models.utcnow()
    new_version = stored_version + 1
    history = state_row(prepared, now, new_version, tenant_id)
    history["task_run_id"] = task_run_id
    await _RAW_INSERT_TASK_RUN_STATE.run(conn, history)
    values = run_columns(prepared, now, new_version, start_time, end_time)
    values["b_id"] = task_run_id
    if name == "Running":
        values["heartbeat"] = now
    await _RAW_UPDATE_TASK_RUN.run(conn, values)


async def set_task_run_state(
    db: Database,
    task_run_id: str,
    state: State | dict[str, Any],
    *,
    version: int | None = None,
    flow_run_version: int | None = None,
) -> dict[str, Any]:
    """Set a task run's state (protocol §6.4).

    Args:
        db: the database.
        task_run_id: the run.
        state: a state, or its JSON form as the client sends it.
        version: the version the client read; checked only with `server.api.version_locking`.
        flow_run_version: accepted for the 1.x client and ignored (the flow run's version moves
            on independently of its task runs).

    Returns:
        `{"id": task_run_id, "status": "SUCCESS", "message": None}`.

    Raises:
        ServerError: invalid or oversized state, unknown run, or a running state while the flow
            run is not Running.
        VersionLockError: version locking is on and `version` is stale.
    """
    prepared = prepare_state(state)
    if (
        db.dialect == "postgresql"
        and (version is None or not prefect.config.server.api.version_locking)
        and _is_uuid(task_run_id)
        and await _pg_states.write_task_run_state(db, task_run_id, prepared, RUNNING_STATES)
    ):
        return {"id": task_run_id, "status": "SUCCESS", "message": None}
    # The general path: also the one that says why a write is refused.
    async with db.write() as conn:
        await write_task_run_state(conn, task_run_id, prepared, version=version)
    return {"id": task_run_id, "status": "SUCCESS", "message": None}


async def set_task_run_states(db: Database, states: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Set the states of several task runs, in order, one transaction each.

    Args:
        db: the database.
        states: items `{"task_run_id", "version", "state", "flow_run_version"}` (versions
            optional).

    Returns:
        one `{"id", "status", "message"}` per item.

    Raises:
        ServerError: the first item that fails; the items before it stay written.
    """
    return [
        await set_task_run_state(
            db,
            item["task_run_id"],
            item["state"],
            version=item.get("version"),
            flow_run_version=item.get("flow_run_version"),
        )
        for item in states
    ]
