"""Rows for the service tests, inserted directly with SQLAlchemy Core (no api rules involved)."""

from __future__ import annotations

import datetime
from typing import Any

import sqlalchemy as sa

from prefect.engine import state as state_module
from prefect.serialization._state_codec import state_to_dict
from prefect.server.database import Database, models


def ago(seconds: float) -> datetime.datetime:
    """A UTC time `seconds` in the past."""
    return models.utcnow() - datetime.timedelta(seconds=seconds)


async def insert(db: Database, table: sa.Table, **values: Any) -> str:
    async with db.write() as conn:
        result = await conn.execute(sa.insert(table).values(**values).returning(table.c.id))
        return str(result.scalar_one())


async def create_flow(
    db: Database,
    tenant_id: str,
    *,
    settings: dict[str, Any] | None = None,
    name: str = "flow",
    is_schedule_active: bool = False,
    archived: bool = False,
    schedule: dict[str, Any] | None = None,
) -> str:
    """A project, a flow group (with `settings`) and a flow; returns the flow id."""
    project_id = await insert(
        db, models.project, tenant_id=tenant_id, name=f"project-{name}-{models.new_id()}"
    )
    group_id = await insert(
        db, models.flow_group, tenant_id=tenant_id, name=f"group-{name}", settings=settings or {}
    )
    return await insert(
        db,
        models.flow,
        tenant_id=tenant_id,
        project_id=project_id,
        flow_group_id=group_id,
        name=name,
        version=1,
        is_schedule_active=is_schedule_active,
        archived=archived,
        schedule=schedule,
    )


async def create_task(
    db: Database,
    tenant_id: str,
    flow_id: str,
    *,
    slug: str = "task-1",
    name: str = "task",
    max_retries: int | None = 0,
    retry_delay: datetime.timedelta | None = None,
) -> str:
    return await insert(
        db,
        models.task,
        tenant_id=tenant_id,
        flow_id=flow_id,
        slug=slug,
        name=name,
        max_retries=max_retries,
        retry_delay=retry_delay,
    )


def _state_columns(state: str | None, updated: datetime.datetime | None) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if state is not None:
        values.update(
            state=state,
            serialized_state=state_to_dict(getattr(state_module, state)()),
            state_timestamp=updated or models.utcnow(),
        )
    if updated is not None:
        values["updated"] = updated
    return values


async def create_flow_run(
    db: Database,
    tenant_id: str,
    flow_id: str,
    *,
    state: str = "Running",
    heartbeat: datetime.datetime | None = None,
    updated: datetime.datetime | None = None,
    times_resurrected: int = 0,
    version: int = 1,
) -> str:
    return await insert(
        db,
        models.flow_run,
        tenant_id=tenant_id,
        flow_id=flow_id,
        heartbeat=heartbeat,
        times_resurrected=times_resurrected,
        version=version,
        **_state_columns(state, updated),
    )


async def create_task_run(
    db: Database,
    tenant_id: str,
    flow_run_id: str,
    task_id: str,
    *,
    state: str = "Running",
    name: str | None = None,
    map_index: int = -1,
    version: int = 1,
) -> str:
    return await insert(
        db,
        models.task_run,
        tenant_id=tenant_id,
        flow_run_id=flow_run_id,
        task_id=task_id,
        map_index=map_index,
        name=name,
        version=version,
        **_state_columns(state, None),
    )


async def add_task_run_state(db: Database, tenant_id: str, task_run_id: str, state: str) -> str:
    """A history row only (the run row is left as it is)."""
    return await insert(
        db,
        models.task_run_state,
        tenant_id=tenant_id,
        task_run_id=task_run_id,
        state=state,
        serialized_state=state_to_dict(getattr(state_module, state)()),
    )


async def fetch_one(db: Database, table: sa.Table, row_id: str) -> sa.Row[Any]:
    async with db.read() as conn:
        return (await conn.execute(sa.select(table).where(table.c.id == row_id))).one()


async def fetch_logs(db: Database) -> list[sa.Row[Any]]:
    async with db.read() as conn:
        query = sa.select(models.log).order_by(models.log.c.timestamp, models.log.c.id)
        return list((await conn.execute(query)).all())


async def fetch_states(db: Database, table: sa.Table, column: str, run_id: str) -> list[str]:
    """State names of a run's history, oldest first."""
    async with db.read() as conn:
        query = (
            sa.select(table.c.state)
            .where(table.c[column] == run_id)
            .order_by(table.c.version, table.c.timestamp)
        )
        return list((await conn.execute(query)).scalars())
