"""Messages: the UI's notifications of a tenant, marked read or unread and deleted."""

from __future__ import annotations

import sqlalchemy as sa

from prefect.server.database import Database, models

__all__ = ["create_message", "delete_message", "mark_message_as_read", "mark_message_as_unread"]


async def create_message(
    db: Database,
    *,
    tenant_id: str,
    text: str | None = None,
    type: str | None = None,
    content: dict | None = None,
) -> str:
    """Create an unread message for a tenant; returns its id."""
    async with db.write() as conn:
        result = await conn.execute(
            sa.insert(models.message)
            .values(tenant_id=tenant_id, text=text, type=type, content=content or {}, read=False)
            .returning(models.message.c.id)
        )
        return str(result.scalar_one())


async def _set_read(db: Database, message_id: str, read: bool) -> bool:
    async with db.write() as conn:
        result = await conn.execute(
            sa.update(models.message).where(models.message.c.id == message_id).values(read=read)
        )
        return bool(result.rowcount)


async def mark_message_as_read(db: Database, message_id: str) -> bool:
    """Mark a message read; whether it exists."""
    return await _set_read(db, message_id, True)


async def mark_message_as_unread(db: Database, message_id: str) -> bool:
    """Mark a message unread; whether it exists."""
    return await _set_read(db, message_id, False)


async def delete_message(db: Database, message_id: str) -> bool:
    """Delete a message; whether it existed."""
    async with db.write() as conn:
        result = await conn.execute(
            sa.delete(models.message).where(models.message.c.id == message_id)
        )
        return bool(result.rowcount)
