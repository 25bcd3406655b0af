"""Alembic migrations: `upgrade head` builds exactly the schema of `models`, on SQLite and
PostgreSQL, and `downgrade base` removes it again."""

from __future__ import annotations

import uuid
import warnings
from collections.abc import AsyncIterator
from typing import Any

import pytest
import sqlalchemy as sa

from prefect.server.database import migrate
from prefect.server.database.engine import Database
from prefect.server.database.models import metadata

# SQLite cannot reflect expression indexes (Alembic warns and reports them as changed), so
# this one is checked through its stored SQL instead.
_EXPRESSION_INDEX = "ix_flow_run__flow_id"


@pytest.fixture(params=["sqlite", "postgresql"])
async def empty_url(request, tmp_path) -> AsyncIterator[str]:
    """The URL of a new, empty database (a fresh PostgreSQL database in the session cluster)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    import asyncpg

    base_url = request.getfixturevalue("postgres_url")
    name = f"prefect_migrations_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(base_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    yield base_url.rsplit("/", 1)[0] + "/" + name
    admin = await asyncpg.connect(base_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def _inspect(url: str, func: Any) -> Any:
    db = Database(url)
    try:
        async with db.read() as conn:
            return await conn.run_sync(func)
    finally:
        await db.dispose()


def _schema_differences(connection: sa.Connection) -> list[Any]:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    context = MigrationContext.configure(connection, opts={"compare_type": True})
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*expression-based index.*")
        diffs = compare_metadata(context, metadata)
    if connection.dialect.name == "sqlite":
        diffs = [
            diff
            for diff in diffs
            if not (diff[0] in ("add_index", "remove_index") and diff[1].name == _EXPRESSION_INDEX)
        ]
    return diffs


def _table_names(connection: sa.Connection) -> set[str]:
    return set(sa.inspect(connection).get_table_names())


def test_head_revision_constant_is_alembics_head():
    assert migrate.head_revision() == migrate.HEAD_REVISION


async def test_upgrade_head_creates_exactly_the_schema_of_the_models(empty_url):
    await migrate.upgrade(empty_url)

    assert await _inspect(empty_url, _schema_differences) == []
    assert await _inspect(empty_url, _table_names) == set(metadata.tables) | {"alembic_version"}


async def test_upgrade_creates_the_descending_index_on_flow_runs(empty_url):
    await migrate.upgrade(empty_url)

    def index_sql(connection: sa.Connection) -> str:
        if connection.dialect.name == "sqlite":
            query = "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = :name"
        else:
            query = "SELECT indexdef FROM pg_indexes WHERE indexname = :name"
        return str(connection.execute(sa.text(query), {"name": _EXPRESSION_INDEX}).scalar_one())

    sql = (await _inspect(empty_url, index_sql)).lower()
    assert "flow_id" in sql and "scheduled_start_time desc" in sql


async def test_downgrade_base_drops_every_table_and_upgrade_recreates_them(empty_url):
    await migrate.upgrade(empty_url)
    await migrate.downgrade(empty_url, "base")

    assert await _inspect(empty_url, _table_names) == {"alembic_version"}
    db = Database(empty_url)
    try:
        assert await migrate.current_revision(db) is None
    finally:
        await db.dispose()

    await migrate.upgrade(empty_url, "head")
    assert await _inspect(empty_url, _schema_differences) == []


async def test_prepare_builds_a_new_database_once_then_skips(empty_url):
    db = Database(empty_url)
    try:
        assert await migrate.current_revision(db) is None
        assert await migrate.prepare(db) is True
        assert await migrate.current_revision(db) == migrate.HEAD_REVISION
        assert await migrate.prepare(db) is False
    finally:
        await db.dispose()


def _version_table(connection: sa.Connection) -> Any:
    inspector = sa.inspect(connection)
    columns = [
        (c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns("alembic_version")
    ]
    return columns, inspector.get_pk_constraint("alembic_version")


async def test_prepare_on_a_new_database_gives_what_alembic_upgrade_gives(empty_url, tmp_path):
    db = Database(empty_url)
    try:
        await migrate.prepare(db)
    finally:
        await db.dispose()
    reference = f"sqlite:///{tmp_path / 'reference.db'}"
    await migrate.upgrade(reference)

    assert await _inspect(empty_url, _schema_differences) == []
    if empty_url.startswith("sqlite"):
        assert await _inspect(empty_url, _version_table) == await _inspect(
            reference, _version_table
        )


async def test_alembic_takes_over_a_database_prepared_from_scratch(empty_url):
    db = Database(empty_url)
    try:
        await migrate.prepare(db)
    finally:
        await db.dispose()

    await migrate.downgrade(empty_url, "base")
    assert await _inspect(empty_url, _table_names) == {"alembic_version"}

    # Not empty any more (the version table is left): prepare() goes through Alembic.
    db = Database(empty_url)
    try:
        assert await migrate.prepare(db) is True
        assert await migrate.current_revision(db) == migrate.HEAD_REVISION
    finally:
        await db.dispose()
    assert await _inspect(empty_url, _schema_differences) == []


async def test_migrated_database_accepts_rows_of_the_models(empty_url):
    await migrate.upgrade(empty_url)
    db = Database(empty_url)
    try:
        async with db.write() as conn:
            await conn.execute(sa.insert(metadata.tables["tenant"]).values(name="t", slug="t"))
        async with db.read() as conn:
            rows = (await conn.execute(sa.select(metadata.tables["tenant"].c.slug))).all()
        assert [row.slug for row in rows] == ["t"]
    finally:
        await db.dispose()


async def test_a_migration_that_fails_halfway_leaves_nothing_behind(empty_url):
    # `message` is the last table 0001 creates: a table of that name already there makes the
    # upgrade fail after every other table was created in its transaction.
    db = Database(empty_url)
    try:
        async with db.write() as conn:
            await conn.execute(sa.text("CREATE TABLE message (id INTEGER PRIMARY KEY)"))
    finally:
        await db.dispose()

    with pytest.raises(sa.exc.DBAPIError):
        await migrate.upgrade(empty_url)

    assert await _inspect(empty_url, _table_names) == {"message"}
