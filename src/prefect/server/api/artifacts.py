"""Task run artifacts: markdown and link documents a task attaches to its run (protocol §6.8)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from prefect.server.database import Database, models
from prefect.server.errors import ServerError

__all__ = ["create_task_run_artifact", "delete_task_run_artifact", "update_task_run_artifact"]


async def create_task_run_artifact(
    db: Database, *, task_run_id: str, kind: str, data: Any, tenant_id: str | None = None
) -> str:
    """Attach an artifact to a task run; it belongs to the task run's tenant.

    Returns:
        the artifact id

    Raises:
        ServerError: `Task run <id> not found`, or `Invalid tenant ID.` when `tenant_id` is
            given and is not the task run's
    """
    async with db.write() as conn:
        run_tenant = (
            await conn.execute(
                sa.select(models.task_run.c.tenant_id).where(models.task_run.c.id == task_run_id)
            )
        ).scalar_one_or_none()
        if run_tenant is None:
            raise ServerError(f"Task run {task_run_id} not found")
        if tenant_id is not None and str(tenant_id) != str(run_tenant):
            raise ServerError("Invalid tenant ID.")
        result = await conn.execute(
            sa.insert(models.task_run_artifact)
            .values(tenant_id=run_tenant, task_run_id=task_run_id, kind=kind, data=data)
            .returning(models.task_run_artifact.c.id)
        )
        return str(result.scalar_one())


async def update_task_run_artifact(db: Database, task_run_artifact_id: str, data: Any) -> bool:
    """Replace an artifact's data; whether it exists."""
    async with db.write() as conn:
        result = await conn.execute(
            sa.update(models.task_run_artifact)
            .where(models.task_run_artifact.c.id == task_run_artifact_id)
            .values(data=data)
        )
        return bool(result.rowcount)


async def delete_task_run_artifact(db: Database, task_run_artifact_id: str) -> bool:
    """Delete an artifact; whether it existed."""
    async with db.write() as conn:
        result = await conn.execute(
            sa.delete(models.task_run_artifact).where(
                models.task_run_artifact.c.id == task_run_artifact_id
            )
        )
        return bool(result.rowcount)
