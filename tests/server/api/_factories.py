"""Small row factories for server api tests, inserting directly with SQLAlchemy Core.

They bypass every api rule (no flow registration, no state path), so a test of one api module
does not depend on another. Each returns the new row's id (a str). Usage:

    flow_id = await create_flow(db, tenant_id, parameters=[parameter("x", required=True)])
    task_ids = await create_tasks(db, flow_id, 3)
    run_id = await create_flow_run(db, flow_id, state="Running")
    task_run_id = await create_task_run(db, run_id, task_ids[0], state="Pending")

`create_flow_run` / `create_task_run` give the run row a current state and a matching
version-`version` history row, as the api would leave them.
"""

from __future__ import annotations

import datetime
from typing import Any

import sqlalchemy as sa

from prefect.engine import state as state_module
from prefect.serialization._state_codec import state_to_dict
from prefect.server.database import Database, models


async def insert(db: Database, table: sa.Table, **values: Any) -> str:
    """Insert one row into `table`; returns its id."""
    async with db.write() as conn:
        result = await conn.execute(sa.insert(table).values(**values).returning(table.c.id))
        return str(result.scalar_one())


async def fetch(db: Database, table: sa.Table, row_id: str) -> Any:
    """The row of `table` with this id (a SQLAlchemy Row), or None."""
    async with db.read() as conn:
        return (await conn.execute(sa.select(table).where(table.c.id == row_id))).first()


async def fetch_all(db: Database, table: sa.Table, *where: Any, order_by: Any = None) -> list[Any]:
    """Rows of `table` matching the `where` clauses, in `order_by` order."""
    query = sa.select(table).where(*where)
    if order_by is not None:
        query = query.order_by(order_by)
    async with db.read() as conn:
        return list((await conn.execute(query)).all())


def parameter(name: str, *, default: Any = None, required: bool = False) -> dict[str, Any]:
    """A serialized Parameter as a flow's `parameters` column holds it."""
    return {"name": name, "slug": name, "default": default, "required": required}


async def create_project(db: Database, tenant_id: str, name: str = "project") -> str:
    return await insert(db, models.project, tenant_id=tenant_id, name=name)


async def create_flow_group(db: Database, tenant_id: str, **values: Any) -> str:
    """A flow group; `values` sets columns (`labels`, `run_config`, `default_parameters`...)."""
    values.setdefault("name", models.new_id())
    return await insert(db, models.flow_group, tenant_id=tenant_id, **values)


async def create_flow(
    db: Database,
    tenant_id: str,
    *,
    project_id: str | None = None,
    flow_group_id: str | None = None,
    name: str = "flow",
    version: int = 1,
    version_group_id: str | None = None,
    **values: Any,
) -> str:
    """A flow (creating a project and a flow group unless given); `values` sets columns
    (`parameters`, `run_config`, `environment`, `archived`, ...)."""
    if project_id is None:
        project_id = await create_project(db, tenant_id, name=f"project-{models.new_id()}")
    if flow_group_id is None:
        flow_group_id = await create_flow_group(db, tenant_id)
    return await insert(
        db,
        models.flow,
        tenant_id=tenant_id,
        project_id=project_id,
        flow_group_id=flow_group_id,
        name=name,
        version=version,
        version_group_id=version_group_id or models.new_id(),
        **values,
    )


async def create_tasks(db: Database, flow_id: str, count: int, **values: Any) -> list[str]:
    """`count` tasks of a flow, slugs `task-0`, `task-1`, ...; returns their ids in order."""
    async with db.read() as conn:
        tenant_id = (
            await conn.execute(
                sa.select(models.flow.c.tenant_id).where(models.flow.c.id == flow_id)
            )
        ).scalar_one()
    return [
        await insert(
            db,
            models.task,
            tenant_id=tenant_id,
            flow_id=flow_id,
            name=f"task-{index}",
            slug=f"task-{index}",
            **values,
        )
        for index in range(count)
    ]


def _state_values(state: str, version: int, timestamp: datetime.datetime) -> dict[str, Any]:
    serialized = state_to_dict(getattr(state_module, state)(message=f"{state} (factory)"))
    return {
        "version": version,
        "state": state,
        "serialized_state": serialized,
        "state_timestamp": timestamp,
        "state_message": serialized["message"],
        "state_start_time": serialized.get("start_time"),
    }


async def create_flow_run(
    db: Database, flow_id: str, *, state: str = "Scheduled", version: int = 1, **values: Any
) -> str:
    """A flow run of `flow_id` in `state` (a state class name), with a matching history row."""
    now = models.utcnow()
    async with db.write() as conn:
        tenant_id = (
            await conn.execute(
                sa.select(models.flow.c.tenant_id).where(models.flow.c.id == flow_id)
            )
        ).scalar_one()
        row = _state_values(state, version, now)
        row.update(values)
        run_id = models.new_id()
        await conn.execute(
            sa.insert(models.flow_run).values(
                id=run_id, tenant_id=tenant_id, flow_id=flow_id, name="factory-run", **row
            )
        )
        await conn.execute(
            sa.insert(models.flow_run_state).values(
                tenant_id=tenant_id,
                flow_run_id=run_id,
                timestamp=now,
                state=state,
                message=row["state_message"],
                start_time=row["state_start_time"],
                serialized_state=row["serialized_state"],
                version=version,
            )
        )
    return run_id


async def create_task_run(
    db: Database,
    flow_run_id: str,
    task_id: str,
    *,
    state: str = "Pending",
    version: int = 0,
    map_index: int = -1,
    **values: Any,
) -> str:
    """A task run in `state` (a state class name), with a matching history row."""
    now = models.utcnow()
    async with db.write() as conn:
        tenant_id = (
            await conn.execute(
                sa.select(models.flow_run.c.tenant_id).where(models.flow_run.c.id == flow_run_id)
            )
        ).scalar_one()
        row = _state_values(state, version, now)
        row.update(values)
        run_id = models.new_id()
        await conn.execute(
            sa.insert(models.task_run).values(
                id=run_id,
                tenant_id=tenant_id,
                flow_run_id=flow_run_id,
                task_id=task_id,
                map_index=map_index,
                **row,
            )
        )
        await conn.execute(
            sa.insert(models.task_run_state).values(
                tenant_id=tenant_id,
                task_run_id=run_id,
                timestamp=now,
                state=state,
                message=row["state_message"],
                start_time=row["state_start_time"],
                serialized_state=row["serialized_state"],
                version=version,
            )
        )
    return run_id


async def create_agent(db: Database, tenant_id: str, **values: Any) -> str:
    """An agent row (`labels`, `name`, `type`, ...)."""
    return await insert(db, models.agent, tenant_id=tenant_id, **values)
