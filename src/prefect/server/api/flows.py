"""Flows: registration with versioning and idempotency, tasks and edges, delete, archive
(protocol §5.3-§5.5, §6.2, §6.9). The schedule functions (`schedules`) and the heartbeat and
Lazarus switches (`flow_groups`) are re-exported here.

Registration is one transaction: the flow row, its group, its tasks and edges, and the
archiving of the group's older versions all commit together or not at all. What needs other
transactions (cancelling the old versions' ad-hoc runs, scheduling the new version's runs)
happens after the commit.
"""

from __future__ import annotations

import base64
import datetime
import gzip
import json
import logging
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from prefect.server.api import schedules as _schedules
from prefect.server.api.flow_groups import (
    disable_flow_heartbeat,
    disable_flow_lazarus_process,
    enable_flow_heartbeat,
    enable_flow_lazarus_process,
)
from prefect.server.database import Database, models
from prefect.server.errors import ServerError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = [
    "archive_flow",
    "create_flow",
    "create_flow_from_compressed_string",
    "delete_flow",
    "disable_flow_heartbeat",
    "disable_flow_lazarus_process",
    "enable_flow_heartbeat",
    "enable_flow_lazarus_process",
    "register_edges",
    "register_tasks",
    "schedule_flow_runs",
    "set_schedule_active",
    "set_schedule_inactive",
    "update_flow_project",
]

logger = logging.getLogger(__name__)

# The schedule rules live in `schedules`; these names are part of this module's interface too.
schedule_flow_runs = _schedules.schedule_flow_runs
set_schedule_active = _schedules.set_schedule_active
set_schedule_inactive = _schedules.set_schedule_inactive

# Rows per INSERT statement (the original server's `insert_many_batch_size`).
BATCH_SIZE = 200
# Flow runs deleted per transaction by `delete_flow`, so one huge flow never holds the lock long.
_RUNS_PER_DELETE = 100
# Oldest core version whose flows the server accepts.
CORE_VERSION_CUTOFF = (0, 6, 1)
_VERSION_PREFIX = re.compile(r"(\d+)(?:\.(\d+))?(?:\.(\d+))?")

EDGES_ERROR = (
    "Edges could not be registered - some edges reference tasks that do not exist within this flow."
)


def new_flow_group_settings(idempotency_key: str | None) -> dict[str, Any]:
    """The settings a flow group starts with."""
    return {
        "heartbeat_enabled": True,
        "lazarus_enabled": True,
        "version_locking_enabled": False,
        "idempotency_key": idempotency_key,
    }


def _core_version(text: Any) -> tuple[int, int, int] | None:
    """The numeric (major, minor, patch) prefix of a version string, or None if it has none."""
    if not isinstance(text, str):
        return None
    match = _VERSION_PREFIX.match(text.strip())
    if match is None:
        return None
    major, minor, patch = (int(part) if part else 0 for part in match.groups())
    return (major, minor, patch)


async def _advisory_lock(conn: AsyncConnection, key: str) -> None:
    """Serialize PostgreSQL transactions working on `key` (SQLite writers are serialized already)."""
    if conn.dialect.name == "postgresql":
        await conn.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(key))))


def _retry_delay(value: Any) -> datetime.timedelta | None:
    if value is None:
        return None
    if isinstance(value, datetime.timedelta):
        return value
    if isinstance(value, bool):
        raise ServerError(f"Invalid retry_delay {value!r}: expected a number of seconds.")
    try:
        return datetime.timedelta(seconds=float(value))
    except (TypeError, ValueError):
        raise ServerError(f"Invalid retry_delay {value!r}: expected a number of seconds.") from None


def _trigger(value: Any) -> str | None:
    """The trigger's function name: serialized triggers are `{"fn", "kwargs"}` or a plain string."""
    if isinstance(value, dict):
        fn = value.get("fn")
        return None if fn is None else str(fn)
    return None if value is None else str(value)


def _task_row(tenant_id: str, flow_id: str, task: Any) -> dict[str, Any]:
    if not isinstance(task, dict) or not isinstance(task.get("slug"), str):
        raise ServerError(f"Invalid task {task!r}: every task needs a string slug.")
    tags = task.get("tags") or []
    return {
        "id": models.new_id(),
        "tenant_id": tenant_id,
        "flow_id": flow_id,
        "name": task.get("name"),
        "slug": task["slug"],
        "type": task.get("type"),
        "max_retries": task.get("max_retries"),
        "retry_delay": _retry_delay(task.get("retry_delay")),
        "tags": sorted(tags) if all(isinstance(tag, str) for tag in tags) else list(tags),
        "trigger": _trigger(task.get("trigger")),
        "auto_generated": bool(task.get("auto_generated") or False),
        "cache_key": task.get("cache_key"),
    }


def _batches(rows: list[dict[str, Any]]) -> Iterable[list[dict[str, Any]]]:
    for start in range(0, len(rows), BATCH_SIZE):
        yield rows[start : start + BATCH_SIZE]


async def insert_tasks(
    conn: AsyncConnection, tenant_id: str, flow_id: str, tasks: list[Any]
) -> list[dict[str, Any]]:
    """Insert task rows for serialized tasks, ignoring slugs the flow already has.

    Returns:
        the task dicts that were new (first occurrence of each new slug)
    """
    from prefect.server.api.tenants import dialect_insert

    existing_query = sa.select(models.task.c.slug).where(models.task.c.flow_id == flow_id)
    seen = set((await conn.execute(existing_query)).scalars())
    rows: list[dict[str, Any]] = []
    new_tasks: list[dict[str, Any]] = []
    for task in tasks:
        row = _task_row(tenant_id, flow_id, task)
        if row["slug"] in seen:
            continue
        seen.add(row["slug"])
        rows.append(row)
        new_tasks.append(task)
    for batch in _batches(rows):
        statement = dialect_insert(conn, models.task).on_conflict_do_nothing(
            index_elements=["flow_id", "slug"]
        )
        await conn.execute(statement, batch)
    return new_tasks


def _edge_slug(end: Any) -> Any:
    return end.get("slug") if isinstance(end, dict) else None


async def insert_edges(
    conn: AsyncConnection, tenant_id: str, flow_id: str, edges: list[Any]
) -> None:
    """Insert edge rows for serialized edges, resolving task slugs within the flow.

    Raises:
        ServerError: an edge names a task slug the flow does not have
    """
    from prefect.server.api.tenants import dialect_insert

    if not edges:
        return
    query = sa.select(models.task.c.slug, models.task.c.id).where(models.task.c.flow_id == flow_id)
    task_ids = {row.slug: row.id for row in await conn.execute(query)}
    rows: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for edge in edges:
        if not isinstance(edge, dict):
            raise ServerError(EDGES_ERROR)
        upstream = task_ids.get(_edge_slug(edge.get("upstream_task")))
        downstream = task_ids.get(_edge_slug(edge.get("downstream_task")))
        if upstream is None or downstream is None:
            raise ServerError(EDGES_ERROR)
        if (upstream, downstream) in seen:
            continue
        seen.add((upstream, downstream))
        rows.append(
            {
                "id": models.new_id(),
                "tenant_id": tenant_id,
                "flow_id": flow_id,
                "upstream_task_id": upstream,
                "downstream_task_id": downstream,
                "key": edge.get("key"),
                "mapped": bool(edge.get("mapped") or False),
            }
        )
    for batch in _batches(rows):
        statement = dialect_insert(conn, models.edge).on_conflict_do_nothing(
            index_elements=["flow_id", "downstream_task_id", "upstream_task_id"]
        )
        await conn.execute(statement, batch)


def decompress_flow(serialized_flow: str) -> dict[str, Any]:
    """The flow dict of `create_flow_from_compressed_string`: base64 of gzip of JSON text.

    Raises:
        ServerError: `Unable to decompress serialized flow`
    """
    try:
        flow = json.loads(gzip.decompress(base64.b64decode(serialized_flow)).decode("utf-8"))
    except Exception:
        raise ServerError("Unable to decompress serialized flow") from None
    if not isinstance(flow, dict):
        raise ServerError("Unable to decompress serialized flow")
    return flow


async def create_flow_from_compressed_string(
    db: Database,
    *,
    serialized_flow: str,
    project_id: str,
    version_group_id: str | None = None,
    set_schedule_active: bool = True,
    description: str | None = None,
    idempotency_key: str | None = None,
) -> str:
    """`create_flow` for a flow sent as base64(gzip(JSON)) (what `prefect register` sends)."""
    return await create_flow(
        db,
        serialized_flow=decompress_flow(serialized_flow),
        project_id=project_id,
        version_group_id=version_group_id,
        set_schedule_active=set_schedule_active,
        description=description,
        idempotency_key=idempotency_key,
    )


async def create_flow(
    db: Database,
    *,
    serialized_flow: dict,
    project_id: str,
    version_group_id: str | None = None,
    set_schedule_active: bool = True,
    description: str | None = None,
    idempotency_key: str | None = None,
) -> str:
    """Register a flow: a new version in its version group, with its tasks and edges.

    Args:
        db: the server database
        serialized_flow: the flow as `Flow.serialize()` gives it (with or without tasks/edges)
        project_id: the project to register into (its tenant becomes the flow's)
        version_group_id: the version group; default: that of the newest flow with the same
            name in the project, else a new one
        set_schedule_active: turn the schedule on (when the flow or its group has one)
        description: stored on the flow row
        idempotency_key: when the group's stored key equals this non-empty key, nothing is
            created and the newest unarchived flow of the group is returned

    Returns:
        the id of the new (or, by idempotency, existing) flow

    Raises:
        ServerError: `Invalid project.`, a core version below 0.6.1, invalid tasks, or edges
            naming unknown tasks; nothing is written then
    """
    if not isinstance(serialized_flow, dict):
        raise ServerError("Invalid flow: serialized_flow must be a JSON object.")
    name = serialized_flow.get("name")
    if not isinstance(name, str) or not name:
        raise ServerError("Invalid flow: serialized_flow has no name.")
    core_version = serialized_flow.get("__version__")
    parsed_version = _core_version(core_version)
    if parsed_version is not None and parsed_version < CORE_VERSION_CUTOFF:
        raise ServerError(
            f"Flows serialized by Prefect core {core_version} are not supported: "
            "core version 0.6.1 or later is required."
        )
    tasks = serialized_flow.get("tasks") or []
    edges = serialized_flow.get("edges") or []
    if not isinstance(tasks, list) or not isinstance(edges, list):
        raise ServerError("Invalid flow: tasks and edges must be lists.")
    parameters = serialized_flow.get("parameters") or []

    async with db.write() as conn:
        project_query = sa.select(models.project.c.tenant_id).where(
            models.project.c.id == project_id
        )
        tenant_id = (await conn.execute(project_query)).scalar_one_or_none()
        if tenant_id is None:
            raise ServerError("Invalid project.")

        if version_group_id is None:
            await _advisory_lock(conn, f"flow-name:{project_id}:{name}")
            latest = await conn.execute(
                sa.select(models.flow.c.version_group_id)
                .where(models.flow.c.project_id == project_id, models.flow.c.name == name)
                .order_by(models.flow.c.created.desc(), models.flow.c.version.desc())
                .limit(1)
            )
            version_group_id = latest.scalar_one_or_none() or models.new_id()
        await _advisory_lock(conn, f"version-group:{version_group_id}")

        flow_group_id, reused_id = await _flow_group_for(
            conn, tenant_id, version_group_id, idempotency_key
        )
        if reused_id is not None:
            return reused_id

        max_version = await conn.execute(
            sa.select(sa.func.max(models.flow.c.version)).where(
                models.flow.c.version_group_id == version_group_id
            )
        )
        version = (max_version.scalar_one_or_none() or 0) + 1
        inserted = await conn.execute(
            sa.insert(models.flow)
            .values(
                tenant_id=tenant_id,
                project_id=project_id,
                flow_group_id=flow_group_id,
                name=name,
                version=version,
                version_group_id=version_group_id,
                description=description,
                archived=False,
                serialized_flow=serialized_flow,
                environment=serialized_flow.get("environment"),
                run_config=serialized_flow.get("run_config"),
                storage=serialized_flow.get("storage"),
                parameters=parameters,
                core_version=core_version if isinstance(core_version, str) else None,
                schedule=serialized_flow.get("schedule"),
                is_schedule_active=False,
                settings={},
            )
            .returning(models.flow.c.id)
        )
        flow_id = str(inserted.scalar_one())
        await insert_tasks(conn, tenant_id, flow_id, tasks)
        await insert_edges(conn, tenant_id, flow_id, edges)

        older = await conn.execute(
            sa.select(models.flow.c.id).where(
                models.flow.c.version_group_id == version_group_id,
                models.flow.c.id != flow_id,
                models.flow.c.archived.is_(False),
            )
        )
        to_cancel: list[tuple[str, str]] = []
        for older_id in list(older.scalars()):
            to_cancel.extend(await archive_flow_rows(conn, str(older_id)))

        group_schedule = (
            await conn.execute(
                sa.select(models.flow_group.c.schedule).where(
                    models.flow_group.c.id == flow_group_id
                )
            )
        ).scalar_one_or_none()
        has_schedule = bool(serialized_flow.get("schedule") or group_schedule)

    await cancel_archived_runs(db, to_cancel)
    if has_schedule and set_schedule_active:
        try:
            await _schedules.set_schedule_active(db, flow_id)
        except Exception:
            # Registration succeeded; a schedule that cannot run yet is reported in the log only.
            logger.exception("Could not activate the schedule of flow %s", flow_id)

    return flow_id


async def _flow_group_for(
    conn: AsyncConnection, tenant_id: str, version_group_id: str, idempotency_key: str | None
) -> tuple[str, str | None]:
    """The version group's flow group id (created on first use), and the id of the flow to
    return instead of registering when the idempotency key matches."""
    group = (
        await conn.execute(
            sa.select(models.flow_group.c.id, models.flow_group.c.settings)
            .where(
                models.flow_group.c.tenant_id == tenant_id,
                models.flow_group.c.name == version_group_id,
            )
            .order_by(models.flow_group.c.created)
            .limit(1)
            .with_for_update()
        )
    ).one_or_none()
    if group is None:
        created = await conn.execute(
            sa.insert(models.flow_group)
            .values(
                tenant_id=tenant_id,
                name=version_group_id,
                settings=new_flow_group_settings(idempotency_key),
                default_parameters={},
            )
            .returning(models.flow_group.c.id)
        )
        return str(created.scalar_one()), None
    settings = dict(group.settings or {})
    if idempotency_key and settings.get("idempotency_key") == idempotency_key:
        newest = await conn.execute(
            sa.select(models.flow.c.id)
            .where(models.flow.c.flow_group_id == group.id, models.flow.c.archived.is_(False))
            .order_by(models.flow.c.version.desc())
            .limit(1)
        )
        newest_id = newest.scalar_one_or_none()
        if newest_id is not None:
            return str(group.id), str(newest_id)
    if settings.get("idempotency_key") != idempotency_key or "idempotency_key" not in settings:
        settings["idempotency_key"] = idempotency_key
        await conn.execute(
            sa.update(models.flow_group)
            .where(models.flow_group.c.id == group.id)
            .values(settings=settings)
        )
    return str(group.id), None


async def register_tasks(db: Database, flow_id: str, serialized_tasks: list[dict]) -> bool:
    """Add tasks to a registered flow (slugs it already has are ignored).

    New task dicts are also appended to the flow's `serialized_flow["tasks"]`. Returns True.

    Raises:
        ServerError: the flow does not exist, or a task has no slug
    """
    if not isinstance(serialized_tasks, list):
        raise ServerError("Invalid tasks: expected a list of serialized tasks.")
    async with db.write() as conn:
        row = (
            await conn.execute(
                sa.select(models.flow.c.tenant_id, models.flow.c.serialized_flow)
                .where(models.flow.c.id == flow_id)
                .with_for_update()
            )
        ).one_or_none()
        if row is None:
            raise ServerError(f"Flow {flow_id} not found")
        await insert_tasks(conn, row.tenant_id, flow_id, serialized_tasks)
        serialized_flow = dict(row.serialized_flow or {})
        known = list(serialized_flow.get("tasks") or [])
        known_slugs = {task.get("slug") for task in known if isinstance(task, dict)}
        added = False
        for task in serialized_tasks:
            if task.get("slug") not in known_slugs:
                known_slugs.add(task.get("slug"))
                known.append(task)
                added = True
        if added:
            serialized_flow["tasks"] = known
            await conn.execute(
                sa.update(models.flow)
                .where(models.flow.c.id == flow_id)
                .values(serialized_flow=serialized_flow)
            )
    return True


async def register_edges(db: Database, flow_id: str, serialized_edges: list[dict]) -> bool:
    """Add edges between tasks of a registered flow (duplicates are ignored). Returns True.

    Raises:
        ServerError: the flow does not exist, or an edge names a task the flow does not have
    """
    if not isinstance(serialized_edges, list):
        raise ServerError("Invalid edges: expected a list of serialized edges.")
    async with db.write() as conn:
        tenant_id = (
            await conn.execute(
                sa.select(models.flow.c.tenant_id).where(models.flow.c.id == flow_id)
            )
        ).scalar_one_or_none()
        if tenant_id is None:
            raise ServerError(f"Flow {flow_id} not found")
        await insert_edges(conn, tenant_id, flow_id, serialized_edges)
    return True


async def delete_flow(db: Database, flow_id: str) -> bool:
    """Delete a flow with its runs (a transaction per batch of runs), tasks and edges.

    A flow group left without flows is deleted too. Returns whether the flow row was deleted.
    """
    return await delete_flow_rows(db, flow_id, delete_empty_group=True)


async def delete_flow_rows(db: Database, flow_id: str, *, delete_empty_group: bool) -> bool:
    """`delete_flow`, optionally keeping the flow's group even when it ends up empty."""
    runs_query = (
        sa.select(models.flow_run.c.id)
        .where(models.flow_run.c.flow_id == flow_id)
        .limit(_RUNS_PER_DELETE)
    )
    while True:
        async with db.write() as conn:
            run_ids = list((await conn.execute(runs_query)).scalars())
            if run_ids:
                await conn.execute(
                    sa.delete(models.flow_run).where(models.flow_run.c.id.in_(run_ids))
                )
        if len(run_ids) < _RUNS_PER_DELETE:
            break
    async with db.write() as conn:
        group_id = (
            await conn.execute(
                sa.select(models.flow.c.flow_group_id).where(models.flow.c.id == flow_id)
            )
        ).scalar_one_or_none()
        result = await conn.execute(sa.delete(models.flow).where(models.flow.c.id == flow_id))
        if delete_empty_group and group_id is not None:
            still_used = sa.select(models.flow.c.id).where(models.flow.c.flow_group_id == group_id)
            await conn.execute(
                sa.delete(models.flow_group).where(
                    models.flow_group.c.id == group_id, ~sa.exists(still_used)
                )
            )
        return bool(result.rowcount)


async def archive_flow_rows(conn: AsyncConnection, flow_id: str) -> list[tuple[str, str]]:
    """Archive a flow inside a transaction: set `archived` and delete its auto-scheduled runs
    still in `Scheduled`.

    Returns:
        (flow run id, flow id) of the ad-hoc `Scheduled` runs, to cancel after the commit
    """
    await conn.execute(
        sa.update(models.flow).where(models.flow.c.id == flow_id).values(archived=True)
    )
    await conn.execute(
        sa.delete(models.flow_run).where(
            models.flow_run.c.flow_id == flow_id,
            models.flow_run.c.state == "Scheduled",
            models.flow_run.c.auto_scheduled.is_(True),
        )
    )
    ad_hoc = await conn.execute(
        sa.select(models.flow_run.c.id).where(
            models.flow_run.c.flow_id == flow_id,
            models.flow_run.c.state == "Scheduled",
            models.flow_run.c.auto_scheduled.is_(False),
        )
    )
    return [(str(run_id), flow_id) for run_id in ad_hoc.scalars()]


async def cancel_archived_runs(db: Database, runs: list[tuple[str, str]]) -> None:
    """Cancel the ad-hoc scheduled runs of archived flows (`Flow <id> was archived.`)."""
    if not runs:
        return
    from prefect.engine.state import Cancelled
    from prefect.server.api.states import set_flow_run_state

    for run_id, flow_id in runs:
        try:
            await set_flow_run_state(db, run_id, Cancelled(message=f"Flow {flow_id} was archived."))
        except Exception:
            # The archive itself is committed; a run that moved on (or went away) since it was
            # read has nothing left to cancel, and one failure must not stop the others.
            logger.exception("Could not cancel flow run %s of archived flow %s", run_id, flow_id)


async def archive_flow(db: Database, flow_id: str) -> bool:
    """Archive a flow: no new runs; its auto-scheduled `Scheduled` runs are deleted and its
    ad-hoc `Scheduled` runs cancelled. Returns False for an unknown flow."""
    async with db.write() as conn:
        exists = await conn.execute(
            sa.select(models.flow.c.id).where(models.flow.c.id == flow_id).with_for_update()
        )
        if exists.scalar_one_or_none() is None:
            return False
        to_cancel = await archive_flow_rows(conn, flow_id)
    await cancel_archived_runs(db, to_cancel)
    return True


async def update_flow_project(db: Database, flow_id: str, project_id: str) -> str:
    """Move a flow to another project of the same tenant; returns the flow id.

    Raises:
        ServerError: `Invalid project.` (unknown, or another tenant's) or an unknown flow
    """
    async with db.write() as conn:
        flow_tenant = (
            await conn.execute(
                sa.select(models.flow.c.tenant_id).where(models.flow.c.id == flow_id)
            )
        ).scalar_one_or_none()
        if flow_tenant is None:
            raise ServerError(f"Flow {flow_id} not found")
        project_tenant = (
            await conn.execute(
                sa.select(models.project.c.tenant_id).where(models.project.c.id == project_id)
            )
        ).scalar_one_or_none()
        if project_tenant is None or str(project_tenant) != str(flow_tenant):
            raise ServerError("Invalid project.")
        await conn.execute(
            sa.update(models.flow).where(models.flow.c.id == flow_id).values(project_id=project_id)
        )
    return flow_id
