from __future__ import annotations

import asyncio
import datetime

import pytest
import sqlalchemy as sa

from prefect.server.database import Database, models
from prefect.server.database.engine import async_url


def test_async_url_picks_our_drivers():
    assert async_url("sqlite:////tmp/x.db") == "sqlite+pysqlite:////tmp/x.db"
    assert async_url("postgresql://u:p@h:5432/d") == "postgresql+asyncpg://u:p@h:5432/d"
    assert async_url("postgres://u@h/d") == "postgresql+asyncpg://u@h/d"
    assert async_url("postgresql+psycopg2://u@h/d") == "postgresql+asyncpg://u@h/d"


def test_async_url_refuses_other_databases():
    with pytest.raises(ValueError, match="mysql://x"):
        async_url("mysql://x")
    with pytest.raises(ValueError, match="Invalid database URL"):
        async_url("not a url")


async def test_timestamps_come_back_in_utc(db: Database, tenant_id: str):
    given = "2024-01-02T03:04:05.123456+02:00"
    async with db.write() as conn:
        await conn.execute(sa.update(models.tenant).values(created=given))
    async with db.read() as conn:
        created = (await conn.execute(sa.select(models.tenant.c.created))).scalar_one()
    assert created == datetime.datetime(2024, 1, 2, 1, 4, 5, 123456, tzinfo=datetime.timezone.utc)


async def test_failed_write_changes_nothing(db: Database, tenant_id: str):
    with pytest.raises(RuntimeError):
        async with db.write() as conn:
            await conn.execute(sa.update(models.tenant).values(name="changed"))
            raise RuntimeError("boom")
    async with db.read() as conn:
        assert (await conn.execute(sa.select(models.tenant.c.name))).scalar_one() == "default"


async def test_concurrent_read_then_write_transactions_never_lose_an_update(
    db: Database, tenant_id
):
    async with db.write() as conn:
        await conn.execute(sa.update(models.tenant).values(settings={"n": 0}))

    async def bump() -> None:
        async with db.write() as conn:
            query = sa.select(models.tenant.c.settings).with_for_update()
            settings = (await conn.execute(query)).scalar_one()
            await conn.execute(sa.update(models.tenant).values(settings={"n": settings["n"] + 1}))

    await asyncio.gather(*(bump() for _ in range(32)))
    async with db.read() as conn:
        assert (await conn.execute(sa.select(models.tenant.c.settings))).scalar_one() == {"n": 32}


async def test_json_none_is_sql_null(db: Database, tenant_id: str):
    async with db.write() as conn:
        await conn.execute(sa.update(models.tenant).values(info=None))
    async with db.read() as conn:
        count = await conn.execute(
            sa.select(sa.func.count())
            .select_from(models.tenant)
            .where(models.tenant.c.info.is_(None))
        )
        assert count.scalar_one() == 1
