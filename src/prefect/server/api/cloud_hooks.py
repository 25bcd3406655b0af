"""Cloud hooks: notification rules (a webhook, Slack, ...) for flow run state changes.

The rows are kept and served as the protocol describes; the open-source server this replaces
fired them on state writes, which this server does not do yet (`test_cloud_hook` only checks
that the hook exists).
"""

from __future__ import annotations

import sqlalchemy as sa

from prefect.server.database import Database, models
from prefect.server.errors import ServerError

__all__ = [
    "CLOUD_HOOK_TYPES",
    "create_cloud_hook",
    "delete_cloud_hook",
    "set_cloud_hook_active",
    "set_cloud_hook_inactive",
    "test_cloud_hook",
]

CLOUD_HOOK_TYPES = frozenset({"PAGERDUTY", "SLACK_WEBHOOK", "TWILIO", "WEBHOOK", "PREFECT_MESSAGE"})


async def create_cloud_hook(
    db: Database,
    *,
    tenant_id: str,
    type: str,
    states: list[str],
    name: str | None = None,
    version_group_id: str | None = None,
    config: dict | None = None,
) -> str:
    """Create an active cloud hook.

    Args:
        db: the server database
        tenant_id: its tenant
        type: one of `CLOUD_HOOK_TYPES`
        states: the state names that fire it
        name: display name
        version_group_id: limit it to one flow's versions
        config: the type's settings (URL, ...)

    Returns:
        the hook id

    Raises:
        ServerError: an unknown hook type
    """
    if type not in CLOUD_HOOK_TYPES:
        known = ", ".join(sorted(CLOUD_HOOK_TYPES))
        raise ServerError(f"Invalid cloud hook type {type!r}; expected one of {known}.")
    async with db.write() as conn:
        result = await conn.execute(
            sa.insert(models.cloud_hook)
            .values(
                tenant_id=tenant_id,
                type=type,
                states=list(states or []),
                name=name,
                version_group_id=version_group_id,
                config=config or {},
                active=True,
            )
            .returning(models.cloud_hook.c.id)
        )
        return str(result.scalar_one())


async def delete_cloud_hook(db: Database, cloud_hook_id: str) -> bool:
    """Delete a cloud hook; whether it existed."""
    async with db.write() as conn:
        result = await conn.execute(
            sa.delete(models.cloud_hook).where(models.cloud_hook.c.id == cloud_hook_id)
        )
        return bool(result.rowcount)


async def _set_active(db: Database, cloud_hook_id: str, active: bool) -> bool:
    async with db.write() as conn:
        result = await conn.execute(
            sa.update(models.cloud_hook)
            .where(models.cloud_hook.c.id == cloud_hook_id)
            .values(active=active)
        )
        return bool(result.rowcount)


async def set_cloud_hook_active(db: Database, cloud_hook_id: str) -> bool:
    """Switch a cloud hook on; whether it exists."""
    return await _set_active(db, cloud_hook_id, True)


async def set_cloud_hook_inactive(db: Database, cloud_hook_id: str) -> bool:
    """Switch a cloud hook off; whether it exists."""
    return await _set_active(db, cloud_hook_id, False)


async def test_cloud_hook(
    db: Database,
    cloud_hook_id: str,
    flow_run_id: str | None = None,
    state_type: str | None = None,
) -> bool:
    """Check a cloud hook exists (hooks are not fired by this server); returns True.

    Raises:
        ServerError: no hook has this id
    """
    async with db.read() as conn:
        found = await conn.execute(
            sa.select(models.cloud_hook.c.id).where(models.cloud_hook.c.id == cloud_hook_id)
        )
        if found.scalar_one_or_none() is None:
            raise ServerError(f"Cloud hook {cloud_hook_id} not found")
    return True
