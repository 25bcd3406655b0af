"""Run logs sent by flow runners and agents (protocol §5.9, §6.8).

Entries are checked one by one and the valid ones written in one batch insert; an entry that
fails validation (or names a run that does not exist) is skipped, never the whole batch.
"""

from __future__ import annotations

import datetime
import logging
import uuid
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from prefect.server.database import models
from prefect.server.database.engine import Database

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["LOG_LEVELS", "write_run_logs"]

logger = logging.getLogger(__name__)

LOG_LEVELS = frozenset({"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"})

_log = models.log
_INSERT_LOGS = sa.insert(_log)


def _uuid_text(value: Any) -> str | None:
    """The canonical text of a uuid (as the database returns it), or None if it is not one."""
    if type(value) is not str:
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def _log_row(entry: Any, now: datetime.datetime) -> dict[str, Any] | None:
    """The `log` row of one entry, or None when the entry is invalid."""
    if not isinstance(entry, dict):
        return None
    flow_run_id = _uuid_text(entry.get("flow_run_id"))
    task_run_id = entry.get("task_run_id")
    if task_run_id is not None:
        task_run_id = _uuid_text(task_run_id)
        if task_run_id is None:
            return None
    if flow_run_id is None:
        return None
    tenant_id = entry.get("tenant_id")
    if tenant_id is not None:
        # Not validated (protocol §6.8): a malformed tenant id is dropped, not the entry.
        tenant_id = _uuid_text(tenant_id)
    timestamp = entry.get("timestamp")
    if timestamp is None:
        timestamp = now
    elif isinstance(timestamp, str):
        try:
            timestamp = models.parse_timestamp(timestamp)
        except ValueError:
            return None
    elif not isinstance(timestamp, datetime.datetime):
        return None
    level = entry.get("level") or "INFO"
    if isinstance(level, str):
        level = level.upper()
    if level not in LOG_LEVELS:
        return None
    message = entry.get("message")
    name = entry.get("name")
    if (message is not None and not isinstance(message, str)) or (
        name is not None and not isinstance(name, str)
    ):
        return None
    return {
        "id": models.new_id(),
        "created": now,
        "updated": now,
        "tenant_id": tenant_id,
        "flow_run_id": flow_run_id,
        "task_run_id": task_run_id,
        "timestamp": timestamp,
        "name": name,
        "level": level,
        "message": message,
        "info": entry.get("info"),
        "is_loaded_from_archive": False,
    }


async def write_run_logs(db: Database, logs: list[dict[str, Any]] | dict[str, Any]) -> None:
    """Store log entries of flow and task runs.

    Args:
        db: the database.
        logs: entries `{"flow_run_id", "task_run_id", "timestamp", "name", "level", "message",
            "info"}` (GraphQL may hand over a single entry as a dict), plus an optional
            `tenant_id` (services set it; unknown tenants are stored as null). `timestamp`
            defaults to now, `level` to `INFO`.
    """
    if isinstance(logs, dict):
        logs = [logs]
    now = models.utcnow()
    rows = [row for row in map(_log_row, logs, [now] * len(logs)) if row is not None]
    if not rows:
        return
    try:
        async with db.write() as conn:
            await conn.execute(_INSERT_LOGS, rows)
        return
    except IntegrityError:
        pass
    # Some entry names a run (or tenant) that does not exist: keep the entries whose runs do.
    async with db.write() as conn:
        flow_runs = await _existing(conn, models.flow_run, rows, "flow_run_id")
        task_runs = await _existing(conn, models.task_run, rows, "task_run_id")
        tenants = await _existing(conn, models.tenant, rows, "tenant_id")
        kept = []
        for row in rows:
            if row["flow_run_id"] in flow_runs and (
                row["task_run_id"] is None or row["task_run_id"] in task_runs
            ):
                if row["tenant_id"] not in tenants:
                    row["tenant_id"] = None
                kept.append(row)
        if len(kept) < len(rows):
            logger.debug("Skipped %d log entries of unknown runs", len(rows) - len(kept))
        if kept:
            await conn.execute(_INSERT_LOGS, kept)


async def _existing(
    conn: AsyncConnection, table: sa.Table, rows: list[dict[str, Any]], key: str
) -> set[str]:
    """Which of the ids the rows name under `key` exist in `table`."""
    ids = list({row[key] for row in rows if row[key] is not None})
    if not ids:
        return set()
    query = sa.select(table.c.id).where(table.c.id.in_(sa.bindparam("b_ids", expanding=True)))
    return {str(row_id) for row_id in (await conn.execute(query, {"b_ids": ids})).scalars()}
