"""Agents and agent configs: registration (deduplicated, so a restarted agent keeps its id),
deletion, and the plain CRUD of `agent_config` rows (protocol §6.8)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from prefect.server.database import Database, models
from prefect.server.errors import ServerError

__all__ = [
    "create_agent_config",
    "delete_agent",
    "delete_agent_config",
    "register_agent",
    "update_agent_config",
]


async def register_agent(
    db: Database,
    *,
    type: str,
    tenant_id: str | None = None,
    name: str | None = None,
    labels: list[str] | None = None,
    agent_config_id: str | None = None,
    core_version: str | None = None,
) -> str:
    """Register an agent, or find the one already registered with the same identity.

    An agent is the same when tenant, name, type, core version and sorted labels all match.

    Args:
        db: the server database
        type: the agent's class name, e.g. `LocalAgent`
        tenant_id: its tenant; default the first tenant
        name: its name
        labels: its labels (stored sorted)
        agent_config_id: an `agent_config` row it uses
        core_version: the `X-PREFECT-CORE-VERSION` it sent

    Returns:
        the agent id

    Raises:
        ServerError: there is no tenant to register into
    """
    from prefect.server.api.tenants import first_tenant_id

    sorted_labels = sorted(labels or [])
    async with db.write() as conn:
        if tenant_id is None:
            tenant_id = await first_tenant_id(conn)
            if tenant_id is None:
                raise ServerError("Invalid tenant ID.")
        agent = models.agent.c
        candidates = await conn.execute(
            sa.select(agent.id, agent.labels)
            .where(
                agent.tenant_id == tenant_id,
                agent.name.is_(None) if name is None else agent.name == name,
                agent.type == type,
                agent.core_version.is_(None)
                if core_version is None
                else agent.core_version == core_version,
            )
            .order_by(agent.created)
        )
        for candidate in candidates.all():
            if sorted(candidate.labels or []) == sorted_labels:
                return str(candidate.id)
        created = await conn.execute(
            sa.insert(models.agent)
            .values(
                tenant_id=tenant_id,
                name=name,
                type=type,
                labels=sorted_labels,
                agent_config_id=agent_config_id,
                core_version=core_version,
                last_queried=models.utcnow(),
            )
            .returning(agent.id)
        )
        return str(created.scalar_one())


async def delete_agent(db: Database, agent_id: str) -> bool:
    """Delete an agent (its flow runs keep running, unlinked); whether it existed."""
    async with db.write() as conn:
        result = await conn.execute(sa.delete(models.agent).where(models.agent.c.id == agent_id))
        return bool(result.rowcount)


async def create_agent_config(
    db: Database, *, tenant_id: str, name: str | None = None, settings: dict | None = None
) -> str:
    """Create an agent config; returns its id."""
    async with db.write() as conn:
        result = await conn.execute(
            sa.insert(models.agent_config)
            .values(tenant_id=tenant_id, name=name, settings=settings or {})
            .returning(models.agent_config.c.id)
        )
        return str(result.scalar_one())


async def update_agent_config(
    db: Database, agent_config_id: str, *, name: str | None = None, settings: dict | None = None
) -> bool:
    """Change an agent config's name and/or settings (fields left None stay); whether it exists."""
    values: dict[str, Any] = {}
    if name is not None:
        values["name"] = name
    if settings is not None:
        values["settings"] = settings
    config = models.agent_config.c
    async with db.write() as conn:
        if not values:
            found = await conn.execute(sa.select(config.id).where(config.id == agent_config_id))
            return found.scalar_one_or_none() is not None
        result = await conn.execute(
            sa.update(models.agent_config).where(config.id == agent_config_id).values(**values)
        )
        return bool(result.rowcount)


async def delete_agent_config(db: Database, agent_config_id: str) -> bool:
    """Delete an agent config (agents using it are unlinked); whether it existed."""
    async with db.write() as conn:
        result = await conn.execute(
            sa.delete(models.agent_config).where(models.agent_config.c.id == agent_config_id)
        )
        return bool(result.rowcount)
