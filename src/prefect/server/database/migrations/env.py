"""Alembic's environment script for the server's database.

`prefect.server.database.migrate` runs Alembic commands inside `AsyncConnection.run_sync` and hands
the synchronous connection over in `config.attributes["connection"]`; the migrations then run in
that connection's transaction, which the caller commits. Run from the `alembic` command line
instead (with `sqlalchemy.url` set), this script opens the connection itself on our async engine.
"""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from alembic import context

from prefect.server.database.engine import async_url
from prefect.server.database.models import metadata

config = context.config


def _configure(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # ALTER TABLE on SQLite needs Alembic's copy-and-move batch mode.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def _run_on(connection: sa.Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_own_engine(url: str) -> None:
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(async_url(url))
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_run_on)
    finally:
        await engine.dispose()


def _run_offline(url: str) -> None:
    context.configure(url=url, target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


_connection = config.attributes.get("connection")
if _connection is not None:
    _run_on(_connection)
else:
    _url = config.get_main_option("sqlalchemy.url")
    if not _url:
        raise RuntimeError(
            "No database to migrate: run `prefect server database upgrade --database-url URL` "
            "(or set sqlalchemy.url for the alembic command line)."
        )
    if context.is_offline_mode():
        _run_offline(_url)
    else:
        asyncio.run(_run_with_own_engine(_url))
