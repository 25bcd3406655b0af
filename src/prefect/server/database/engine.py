"""Connections to the server's database: SQLite (embedded default) or PostgreSQL.

`Database.read()` gives a connection for queries; `Database.write()` a connection inside one
transaction that commits on success and rolls back on error. On SQLite every write transaction
takes the database lock up front (`BEGIN IMMEDIATE`) after an in-process lock, so a transaction that
reads and then writes never fails half-way with "database is locked" (a busy timeout does not
cover that upgrade), and writers queue in order instead of polling. The database runs in WAL mode
with `synchronous=NORMAL`: readers never block the writer, and a committed transaction survives a
killed server process.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from prefect.server.database.models import metadata

__all__ = ["Database", "async_url"]

_SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=30000",
)


def async_url(url: str) -> str:
    """The SQLAlchemy URL with the async driver we use for its database.

    `sqlite:///PATH` (a leading `~` is expanded) becomes `sqlite+aiosqlite:///PATH`; `postgresql://`,
    `postgres://` and `postgresql+<any driver>://` become `postgresql+asyncpg://`.

    Raises:
        ValueError: the URL is neither SQLite nor PostgreSQL.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError(
            f"Invalid database URL {url!r}: expected sqlite:///PATH or postgresql://USER@HOST/DB"
        )
    base = scheme.split("+", 1)[0].lower()
    if base == "sqlite":
        path = rest[1:] if rest.startswith("/") else rest
        if path.startswith("~"):
            path = os.path.expanduser(path)
        return f"sqlite+aiosqlite:///{path}"
    if base in ("postgresql", "postgres"):
        return f"postgresql+asyncpg://{rest}"
    raise ValueError(
        f"Unsupported database URL {url!r}: the server runs on SQLite (sqlite:///PATH) "
        "or PostgreSQL (postgresql://USER:PASSWORD@HOST:PORT/DB)"
    )


class Database:
    """The server's database: an async engine plus the transaction discipline above.

    Args:
        url: a SQLAlchemy-style URL (`sqlite:///...` or `postgresql://...`); the driver part is
            chosen here.
        echo: log every statement (debugging).
    """

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.sqlalchemy_url = async_url(url)
        self.dialect = "sqlite" if self.sqlalchemy_url.startswith("sqlite") else "postgresql"
        kwargs: dict[str, Any] = {"echo": echo}
        if self.dialect == "sqlite":
            path = self.sqlalchemy_url.split(":///", 1)[1]
            if path and path != ":memory:":
                os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            self.path: str | None = path
        else:
            self.path = None
            kwargs.update(pool_size=20, max_overflow=20, pool_pre_ping=False)
        self.engine: AsyncEngine = create_async_engine(self.sqlalchemy_url, **kwargs)
        self._write_lock: asyncio.Lock | None = None
        if self.dialect == "sqlite":
            _configure_sqlite(self.engine)

    def __repr__(self) -> str:
        return f"Database({self.url!r})"

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reads (its implicit transaction is rolled back at the end)."""
        async with self.engine.connect() as conn:
            yield conn

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A connection inside one write transaction: commit on success, roll back on error."""
        if self.dialect != "sqlite":
            async with self.engine.begin() as conn:
                yield conn
            return
        if self._write_lock is None:
            self._write_lock = asyncio.Lock()
        async with self._write_lock:
            async with self.engine.connect() as conn:
                await conn.execution_options(prefect_write=True)
                async with conn.begin():
                    yield conn

    async def create_all(self) -> None:
        """Create every table and index that does not exist yet (tests; migrations otherwise)."""
        async with self.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)

    async def drop_all(self) -> None:
        async with self.engine.begin() as conn:
            await conn.run_sync(metadata.drop_all)

    async def clear(self) -> None:
        """Delete every row of every table (tests)."""
        async with self.write() as conn:
            if self.dialect == "postgresql":
                names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
                await conn.execute(sa.text(f"TRUNCATE {names} CASCADE"))
            else:
                for table in reversed(metadata.sorted_tables):
                    await conn.execute(table.delete())

    async def dispose(self) -> None:
        await self.engine.dispose()


def _configure_sqlite(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below issue BEGIN itself (pysqlite's own implicit
        # transactions start too late and always DEFERRED).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in _SQLITE_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        if conn.get_execution_options().get("prefect_write"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")
