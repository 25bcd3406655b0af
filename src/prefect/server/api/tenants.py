"""Tenants: create, rename, re-slug, settings, and the `default` tenant the server always has.

The open-source server is single-tenant in practice: `ensure_default_tenant` runs at start-up and
every client resolves "the first tenant" (protocol §1.7, §6.1).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from prefect.server.database import Database, models
from prefect.server.errors import ServerError, UniquenessViolation

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = [
    "create_tenant",
    "delete_tenant",
    "ensure_default_tenant",
    "update_tenant_name",
    "update_tenant_settings",
    "update_tenant_slug",
]

# What a slugifier leaves unchanged: lower-case letters and digits in hyphen-separated words.
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_SLUG_ERROR = 'Slug must be "slugified" (lowercase; no spaces)'
DEFAULT_TENANT = "default"


def is_slug(value: str) -> bool:
    """Whether `value` is already slug-shaped (lower case, digits, single hyphens)."""
    return isinstance(value, str) and _SLUG.fullmatch(value) is not None


def dialect_insert(conn: AsyncConnection, table: sa.Table) -> Any:
    """An INSERT of the connection's dialect, which supports `on_conflict_do_nothing`."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


async def first_tenant_id(conn: AsyncConnection) -> str | None:
    """The id of the first tenant by slug (the one clients resolve), or None without tenants."""
    query = sa.select(models.tenant.c.id).order_by(models.tenant.c.slug).limit(1)
    return (await conn.execute(query)).scalar_one_or_none()


async def create_tenant(db: Database, name: str, slug: str) -> str:
    """Create a tenant.

    Args:
        db: the server database
        name: display name
        slug: unique, already slug-shaped identifier

    Returns:
        the new tenant's id

    Raises:
        ServerError: the slug is not slug-shaped
        UniquenessViolation: another tenant has this slug
    """
    if not is_slug(slug):
        raise ServerError(_SLUG_ERROR)
    try:
        async with db.write() as conn:
            result = await conn.execute(
                sa.insert(models.tenant)
                .values(name=name, slug=slug, settings={})
                .returning(models.tenant.c.id)
            )
            return str(result.scalar_one())
    except IntegrityError:
        raise UniquenessViolation() from None


async def delete_tenant(db: Database, tenant_id: str) -> bool:
    """Delete a tenant and everything it owns; whether a row was deleted."""
    async with db.write() as conn:
        result = await conn.execute(sa.delete(models.tenant).where(models.tenant.c.id == tenant_id))
        return bool(result.rowcount)


async def _update(db: Database, tenant_id: str, values: dict[str, Any]) -> str:
    try:
        async with db.write() as conn:
            result = await conn.execute(
                sa.update(models.tenant).where(models.tenant.c.id == tenant_id).values(**values)
            )
            if not result.rowcount:
                raise ServerError("Update failed")
    except IntegrityError:
        raise UniquenessViolation() from None
    return tenant_id


async def update_tenant_name(db: Database, tenant_id: str, name: str) -> str:
    """Rename a tenant; returns its id. Raises `ServerError("Update failed")` for an unknown id."""
    return await _update(db, tenant_id, {"name": name})


async def update_tenant_slug(db: Database, tenant_id: str, slug: str) -> str:
    """Change a tenant's slug; returns its id.

    Raises:
        ServerError: the slug is not slug-shaped, or the tenant does not exist
        UniquenessViolation: another tenant has this slug
    """
    if not is_slug(slug):
        raise ServerError(_SLUG_ERROR)
    return await _update(db, tenant_id, {"slug": slug})


async def update_tenant_settings(db: Database, tenant_id: str, settings: dict | None) -> str:
    """Merge `settings` into the tenant's settings (keys given replace keys stored); returns its id.

    Raises:
        ServerError: the tenant does not exist
    """
    async with db.write() as conn:
        query = (
            sa.select(models.tenant.c.settings)
            .where(models.tenant.c.id == tenant_id)
            .with_for_update()
        )
        row = (await conn.execute(query)).one_or_none()
        if row is None:
            raise ServerError("Update failed")
        merged = {**(row.settings or {}), **(settings or {})}
        await conn.execute(
            sa.update(models.tenant).where(models.tenant.c.id == tenant_id).values(settings=merged)
        )
    return tenant_id


async def ensure_default_tenant(db: Database) -> str:
    """Make sure a tenant exists and return the first one's id (by slug).

    Creates the `default` tenant (name and slug "default") when there is none. Safe to call
    concurrently and on every start: a racing insert of the same slug is ignored.
    """
    async with db.read() as conn:
        existing = await first_tenant_id(conn)
    if existing is not None:
        return str(existing)
    async with db.write() as conn:
        await conn.execute(
            dialect_insert(conn, models.tenant)
            .values(
                id=models.new_id(),
                name=DEFAULT_TENANT,
                slug=DEFAULT_TENANT,
                settings={},
                created=models.utcnow(),
                updated=models.utcnow(),
            )
            .on_conflict_do_nothing(index_elements=["slug"])
        )
        tenant_id = await first_tenant_id(conn)
    assert tenant_id is not None
    return str(tenant_id)
