"""Alembic migrations of the server's database, configured in code (no `alembic.ini`).

`upgrade(url)` / `downgrade(url, revision)` are what `prefect server database upgrade|downgrade`
run. `prepare(db)` is the start-up path of `prefect server start`: it reads the database's
revision with one query and only loads Alembic when an existing database is behind
`HEAD_REVISION` (importing Alembic and reading the revision scripts costs about as much as
importing SQLAlchemy: a large share of the start-up time).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

if TYPE_CHECKING:
    from alembic.config import Config

    from prefect.server.database.engine import Database

__all__ = [
    "HEAD_REVISION",
    "MIGRATIONS_DIR",
    "alembic_config",
    "current_revision",
    "downgrade",
    "prepare",
    "upgrade",
]

MIGRATIONS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "migrations")

# The newest revision in migrations/versions/; a test keeps it equal to Alembic's `head`.
HEAD_REVISION = "0001"

_VERSION_TABLE = "alembic_version"


def alembic_config(url: str | None = None) -> Config:
    """An Alembic `Config` for our migrations (script location set; `url` for the CLI path)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", MIGRATIONS_DIR.replace("%", "%%"))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _run_command(connection: sa.Connection, name: str, revision: str) -> None:
    from alembic import command

    config = alembic_config()
    config.attributes["connection"] = connection
    getattr(command, name)(config, revision)


async def _run(db: Database, name: str, revision: str) -> None:
    # One write transaction: the migration is all or nothing, and on SQLite no other writer of
    # this process gets in between.
    async with db.write() as conn:
        await conn.run_sync(_run_command, name, revision)


async def current_revision(db: Database) -> str | None:
    """The database's Alembic revision, or None when it was never migrated."""

    def _read(connection: sa.Connection) -> str | None:
        if not sa.inspect(connection).has_table(_VERSION_TABLE):
            return None
        rows = connection.execute(sa.text(f"SELECT version_num FROM {_VERSION_TABLE}")).all()
        return str(rows[0][0]) if rows else None

    async with db.read() as conn:
        return await conn.run_sync(_read)


async def prepare(db: Database) -> bool:
    """Bring the database to the newest revision unless it is there already.

    A database without any table is built from the models and stamped with `HEAD_REVISION`
    (Alembic's recipe for new databases, without importing Alembic); the tests hold the models
    and `upgrade head` to the same schema. Any other database is upgraded by Alembic.

    Returns:
        whether the schema was created or migrated.
    """
    if await current_revision(db) == HEAD_REVISION:
        return False
    async with db.write() as conn:
        created = await conn.run_sync(_create_if_empty)
    if not created:
        await _run(db, "upgrade", "head")
    return True


def _create_if_empty(connection: sa.Connection) -> bool:
    from prefect.server.database.models import metadata

    if sa.inspect(connection).get_table_names():
        return False
    metadata.create_all(connection, checkfirst=False)
    version = sa.Table(
        _VERSION_TABLE,
        sa.MetaData(),
        # The table exactly as Alembic creates it.
        sa.Column("version_num", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
    )
    version.create(connection)
    connection.execute(version.insert().values(version_num=HEAD_REVISION))
    return True


async def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at `url` up to `revision` (default: the newest).

    Args:
        url: `sqlite:///PATH` or `postgresql://...`.
        revision: an Alembic revision id, `head`, or a relative step such as `+1`.
    """
    await _with_database(url, "upgrade", revision)


async def downgrade(url: str, revision: str) -> None:
    """Migrate the database at `url` down to `revision`.

    Args:
        url: `sqlite:///PATH` or `postgresql://...`.
        revision: an Alembic revision id, `-1` (one step), or `base` (drop every table).
    """
    await _with_database(url, "downgrade", revision)


async def _with_database(url: str, name: str, revision: str) -> None:
    from prefect.server.database.engine import Database

    db = Database(url)
    try:
        await _run(db, name, revision)
    finally:
        await db.dispose()


def head_revision() -> Any:
    """Alembic's own idea of the newest revision (reads every revision script; tests)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()
