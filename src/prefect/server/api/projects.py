"""Projects: the named folders of a tenant that flows are registered into (protocol §6.1)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from prefect.server.database import Database, models
from prefect.server.errors import ServerError, UniquenessViolation

__all__ = ["create_project", "delete_project", "set_project_description", "set_project_name"]


async def create_project(
    db: Database, tenant_id: str, name: str, description: str | None = None
) -> str:
    """Create a project in a tenant.

    Returns:
        the new project's id

    Raises:
        ServerError: the tenant does not exist
        UniquenessViolation: the tenant already has a project with this name (the 1.x client
            matches this exact text to treat `create_project` as idempotent)
    """
    try:
        async with db.write() as conn:
            tenant = await conn.execute(
                sa.select(models.tenant.c.id).where(models.tenant.c.id == tenant_id)
            )
            if tenant.scalar_one_or_none() is None:
                raise ServerError("Invalid tenant ID.")
            result = await conn.execute(
                sa.insert(models.project)
                .values(tenant_id=tenant_id, name=name, description=description)
                .returning(models.project.c.id)
            )
            return str(result.scalar_one())
    except IntegrityError:
        raise UniquenessViolation() from None


async def delete_project(db: Database, project_id: str) -> bool:
    """Delete a project with its flows, their runs, states and logs; whether it existed.

    Flow groups left without any flow go too (a group shared with a flow moved to another
    project stays).
    """
    async with db.write() as conn:
        groups_query = sa.select(models.flow.c.flow_group_id).where(
            models.flow.c.project_id == project_id
        )
        group_ids = set((await conn.execute(groups_query)).scalars())
        result = await conn.execute(
            sa.delete(models.project).where(models.project.c.id == project_id)
        )
        if group_ids:
            still_used = sa.select(models.flow.c.id).where(
                models.flow.c.flow_group_id == models.flow_group.c.id
            )
            await conn.execute(
                sa.delete(models.flow_group).where(
                    models.flow_group.c.id.in_(group_ids), ~sa.exists(still_used)
                )
            )
        return bool(result.rowcount)


async def _update(db: Database, project_id: str, values: dict[str, Any]) -> str:
    try:
        async with db.write() as conn:
            result = await conn.execute(
                sa.update(models.project).where(models.project.c.id == project_id).values(**values)
            )
            if not result.rowcount:
                raise ServerError("Update failed")
    except IntegrityError:
        raise UniquenessViolation() from None
    return project_id


async def set_project_name(db: Database, project_id: str, name: str) -> str:
    """Rename a project; returns its id.

    Raises:
        ServerError: `Update failed` when no project has this id
        UniquenessViolation: the tenant already has a project with this name
    """
    return await _update(db, project_id, {"name": name})


async def set_project_description(db: Database, project_id: str, description: str | None) -> str:
    """Set (or clear) a project's description; returns its id.

    Raises:
        ServerError: `Update failed` when no project has this id
    """
    return await _update(db, project_id, {"description": description})
