"""Connections to the server's database: SQLite (embedded default) or PostgreSQL.

`Database.read()` gives a connection for queries; `Database.write()` a connection inside one
transaction that commits on success and rolls back on error. Both are `AsyncConnection`-shaped
(`await conn.execute(...)`), so the rules in `api/` are written once for both databases.

PostgreSQL goes through SQLAlchemy's asyncio engine on asyncpg. SQLite runs the standard library
driver directly on the event loop thread (`_LoopConnection`): a SQLite statement on a local file
takes microseconds, while the thread-hopping async drivers cost one thread switch per driver call
(16 for one small read through SQLAlchemy + aiosqlite; measured at 2-4 ms on this machine against
about 70 µs for the whole transaction done directly). On SQLite every write transaction
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
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import event

from prefect.server.database.models import metadata

if TYPE_CHECKING:
    # Imported only for PostgreSQL at run time: `sqlalchemy.ext.asyncio` loads the ORM, about
    # 0.2 s of a SQLite server's start-up.
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

__all__ = ["Database", "async_url"]

_SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    # Another process (a second server, `prefect server database upgrade`) holding the lock; this
    # blocks the event loop while it waits, so keep it short.
    "PRAGMA busy_timeout=10000",
)


def async_url(url: str) -> str:
    """The SQLAlchemy URL with the async driver we use for its database.

    `sqlite:///PATH` (a leading `~` is expanded) becomes `sqlite+pysqlite:///PATH` (run on the event
    loop, see the module docstring); `postgresql://`,
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
        return f"sqlite+pysqlite:///{path}"
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
        self._write_lock: asyncio.Lock | None = None
        self._batch: _Batch | None = None
        self._writer: sa.Connection | None = None
        self._autocommit_engine: AsyncEngine | None = None
        self.path: str | None = None
        if self.dialect == "sqlite":
            path = self.sqlalchemy_url.split(":///", 1)[1]
            if path and path != ":memory:":
                os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            self.path = path
            self.sync_engine: sa.Engine = sa.create_engine(
                self.sqlalchemy_url,
                echo=echo,
                connect_args={"check_same_thread": False},
                pool_size=10,
                max_overflow=40,
            )
            _configure_sqlite(self.sync_engine)
            self.engine: AsyncEngine | None = None
        else:
            from sqlalchemy.ext.asyncio import create_async_engine

            self.engine = create_async_engine(
                self.sqlalchemy_url, echo=echo, pool_size=20, max_overflow=20
            )
            # Reads and single-statement writes: no BEGIN, no ROLLBACK when the connection goes
            # back to the pool, so one round trip per statement.
            self._autocommit_engine = create_async_engine(
                self.sqlalchemy_url,
                echo=echo,
                pool_size=20,
                max_overflow=20,
                isolation_level="AUTOCOMMIT",
                pool_reset_on_return=None,
            )
            self.sync_engine = self.engine.sync_engine

    def __repr__(self) -> str:
        return f"Database({self.url!r})"

    @property
    def sync_engines(self) -> list[sa.Engine]:
        """Every engine this database runs statements on (for event listeners in tests)."""
        engines = [self.sync_engine]
        if self._autocommit_engine is not None:
            engines.append(self._autocommit_engine.sync_engine)
        return engines

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reads (on PostgreSQL each statement sees its own snapshot)."""
        if self._autocommit_engine is not None:
            async with self._autocommit_engine.connect() as conn:
                yield conn
            return
        with self.sync_engine.connect() as sync_conn:
            reader = _LoopConnection(sync_conn)
            try:
                yield reader  # type: ignore[misc]
            finally:
                reader.close_results()

    @asynccontextmanager
    async def autocommit(self) -> AsyncIterator[AsyncConnection]:
        """A PostgreSQL connection without a transaction: each statement commits on its own.

        For single-statement writes (no BEGIN/COMMIT round trips). Not available on SQLite.
        """
        if self._autocommit_engine is None:
            raise RuntimeError("autocommit() is for PostgreSQL; use write() on SQLite")
        async with self._autocommit_engine.connect() as conn:
            yield conn

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A connection inside one write transaction: commit on success, roll back on error.

        The block's changes are committed (and durable) when the `async with` exits without an
        error; an error undoes the block's changes and nothing else. Never open a `write()`
        inside another one.
        """
        if self.engine is not None:
            async with self.engine.begin() as conn:
                yield conn
            return
        # SQLite: group commit. Blocks queued on the writer lock at the same time share one
        # transaction, each inside its own SAVEPOINT, and one COMMIT: a commit writes every
        # page the transaction touched to the WAL (16 page writes for one state write), so
        # concurrent writers amortise it. Each block still waits for that commit before its
        # `async with` returns, so an acknowledged write is a committed one.
        if self._write_lock is None:
            self._write_lock = asyncio.Lock()
        async with self._write_lock:
            batch = self._batch
            if batch is None:
                batch = self._batch = self._open_batch()
            # A SAVEPOINT per block, issued on the driver: SQLAlchemy's own savepoint constructs
            # are compiled anew on every use (two compilations per state write).
            driver = batch.connection.connection.dbapi_connection
            assert driver is not None
            driver.execute("SAVEPOINT prefect_block")
            writer = _LoopConnection(batch.connection)
            try:
                yield writer  # type: ignore[misc]
            except BaseException:
                writer.close_results()
                driver.execute("ROLLBACK TO SAVEPOINT prefect_block")
                driver.execute("RELEASE SAVEPOINT prefect_block")
                raise
            else:
                writer.close_results()
                driver.execute("RELEASE SAVEPOINT prefect_block")
        await asyncio.shield(batch.committed)

    def _open_batch(self) -> _Batch:
        # One writer connection, kept open: a pool checkout and return (with its reset
        # ROLLBACK) per transaction cost more than the state write itself.
        connection = self._writer
        if connection is None or connection.closed:
            connection = self._writer = self.sync_engine.connect()
            connection.execution_options(prefect_write=True)
        transaction = connection.begin()
        batch = _Batch(connection, transaction, asyncio.get_running_loop().create_future())
        # Queued behind the blocks already waiting for the lock, so they join this batch.
        batch.committer = asyncio.ensure_future(self._commit_batch(batch))
        return batch

    async def _commit_batch(self, batch: _Batch) -> None:
        assert self._write_lock is not None
        async with self._write_lock:
            self._batch = None
            try:
                batch.transaction.commit()
            except BaseException as exc:
                # Start the next batch on a fresh connection.
                self._writer = None
                batch.connection.invalidate()
                batch.connection.close()
                if not batch.committed.done():
                    batch.committed.set_exception(exc)
                    # Every waiter sees the failure; keep asyncio from warning about it too.
                    batch.committed.exception()
                if not isinstance(exc, Exception):
                    raise
            else:
                batch.committed.set_result(None)

    async def create_all(self) -> None:
        """Create every table and index that does not exist yet (tests; migrations otherwise)."""
        async with self.write() as conn:
            await conn.run_sync(metadata.create_all)

    async def drop_all(self) -> None:
        async with self.write() as conn:
            await conn.run_sync(metadata.drop_all)

    async def clear(self) -> None:
        """Delete every row of every table (tests)."""
        async with self.write() as conn:
            if self.dialect == "postgresql":
                # One round trip of DELETEs: on small tables ~10x faster than TRUNCATE, which
                # replaces every table's files.
                deletes = "; ".join(
                    f'DELETE FROM "{t.name}"' for t in reversed(metadata.sorted_tables)
                )
                raw = await conn.get_raw_connection()
                await raw.driver_connection.execute(deletes)  # type: ignore[union-attr]
            else:
                for table in reversed(metadata.sorted_tables):
                    await conn.execute(table.delete())

    async def dispose(self) -> None:
        if self._batch is not None and self._batch.committer is not None:
            await asyncio.shield(self._batch.committer)
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self.engine is not None:
            await self.engine.dispose()
            if self._autocommit_engine is not None:
                await self._autocommit_engine.dispose()
        else:
            self.sync_engine.dispose()


class _Batch:
    """One SQLite write transaction shared by the blocks of a group commit."""

    __slots__ = ("committed", "committer", "connection", "transaction")

    def __init__(
        self, connection: sa.Connection, transaction: sa.RootTransaction, committed: Any
    ) -> None:
        self.connection = connection
        self.transaction = transaction
        self.committed: asyncio.Future[None] = committed
        self.committer: asyncio.Future[None] | None = None


class _LoopConnection:
    """The `AsyncConnection` methods the server uses, over a synchronous SQLite connection.

    Each call runs to completion on the event loop thread. Results that a caller leaves
    unread are closed when the block ends: Python 3.11's sqlite3 does not reset statements on
    ROLLBACK, so an open cursor would keep the pooled connection's read snapshot alive and a
    later read on it would miss committed rows.
    """

    __slots__ = ("_results", "sync_connection")

    def __init__(self, sync_connection: sa.Connection) -> None:
        self.sync_connection = sync_connection
        self._results: list[Any] = []

    def close_results(self) -> None:
        for result in self._results:
            result.close()
        self._results.clear()

    def _track(self, result: Any) -> Any:
        if result.returns_rows:
            self._results.append(result)
        return result

    @property
    def dialect(self) -> sa.Dialect:
        return self.sync_connection.dialect

    async def execute(self, statement: Any, parameters: Any = None, **kwargs: Any) -> Any:
        return self._track(self.sync_connection.execute(statement, parameters, **kwargs))

    async def exec_driver_sql(self, statement: str, parameters: Any = None, **kwargs: Any) -> Any:
        return self._track(self.sync_connection.exec_driver_sql(statement, parameters, **kwargs))

    async def scalar(self, statement: Any, parameters: Any = None, **kwargs: Any) -> Any:
        return self.sync_connection.scalar(statement, parameters, **kwargs)

    async def scalars(self, statement: Any, parameters: Any = None, **kwargs: Any) -> Any:
        return self._track(self.sync_connection.execute(statement, parameters, **kwargs)).scalars()

    async def stream(self, statement: Any, parameters: Any = None, **kwargs: Any) -> Any:
        return _AsyncRows(
            self._track(self.sync_connection.execute(statement, parameters, **kwargs))
        )

    async def run_sync(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return fn(self.sync_connection, *args, **kwargs)

    def begin_nested(self) -> _LoopTransaction:
        return _LoopTransaction(self.sync_connection.begin_nested())

    def in_transaction(self) -> bool:
        return self.sync_connection.in_transaction()

    def in_nested_transaction(self) -> bool:
        return self.sync_connection.in_nested_transaction()

    async def commit(self) -> None:
        self.sync_connection.commit()

    async def rollback(self) -> None:
        self.sync_connection.rollback()

    def get_execution_options(self) -> Any:
        return self.sync_connection.get_execution_options()


class _LoopTransaction:
    """A SAVEPOINT usable as `async with conn.begin_nested():` (rolled back on error)."""

    __slots__ = ("transaction",)

    def __init__(self, transaction: sa.NestedTransaction) -> None:
        self.transaction = transaction

    async def __aenter__(self) -> _LoopTransaction:
        return self

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.transaction.commit()
        else:
            self.transaction.rollback()

    def __await__(self) -> Any:
        async def _self() -> _LoopTransaction:
            return self

        return _self().__await__()

    async def commit(self) -> None:
        self.transaction.commit()

    async def rollback(self) -> None:
        self.transaction.rollback()


class _AsyncRows:
    """`async for row in await conn.stream(...)` over an already executed result."""

    __slots__ = ("result",)

    def __init__(self, result: Any) -> None:
        self.result = result

    def __aiter__(self) -> Any:
        return self._rows()

    async def _rows(self) -> Any:
        for row in self.result:
            yield row

    def __getattr__(self, name: str) -> Any:
        return getattr(self.result, name)


def _configure_sqlite(sync_engine: sa.Engine) -> None:
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
        # On the driver: through `exec_driver_sql` SQLAlchemy's execution machinery cost about
        # a tenth of a state write here.
        driver = conn.connection.dbapi_connection
        assert driver is not None
        if conn.get_execution_options().get("prefect_write"):
            driver.execute("BEGIN IMMEDIATE")
        else:
            driver.execute("BEGIN")
