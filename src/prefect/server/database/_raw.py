"""SQLAlchemy statements compiled once and run straight on the SQLite driver.

On the hot path (state writes) SQLAlchemy's execution machinery costs about 150 k instructions
per statement against about 25 k for the same statement on the `sqlite3` cursor (measured with
`perf stat` on this project's state-write statements). `RawStatement` keeps the statement
defined once with SQLAlchemy Core (same SQL, same bind and result processing: uuids, UTC
timestamps, JSON), compiles it once per dialect and parameter set, and on SQLite executes the
compiled text directly on the connection's `sqlite3` handle inside the caller's transaction.
On PostgreSQL it simply executes the statement through SQLAlchemy.
"""

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from prefect.server.database.engine import _LoopConnection
from prefect.server.database.models import Timestamp

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

_TIMESTAMP_PROCESSOR = Timestamp()._cached_bind_processor(sqlite.dialect()) or (lambda v: v)

__all__ = ["RawStatement"]

_Processor = Callable[[Any], Any] | None


class _Compiled:
    """SQL text, and per positional parameter: (params key, bind processor), or (None, the
    processed value of a literal fixed in the statement)."""

    __slots__ = ("binds", "results", "sql")

    def __init__(
        self, sql: str, binds: list[tuple[str | None, Any]], results: list[_Processor] | None
    ) -> None:
        self.sql = sql
        self.binds = binds
        self.results = results


class RawStatement:
    """One Core statement (select, insert or update), run without SQLAlchemy's per-call cost.

    Args:
        statement: the statement; its bind parameters are named as in `execute`'s `params`
            (column keys for insert/update values, `bindparam` names elsewhere).
    """

    __slots__ = ("_compiled", "statement")

    def __init__(self, statement: Any) -> None:
        self.statement = statement
        self._compiled: dict[tuple[str, tuple[str, ...]], _Compiled] = {}

    def _compile(self, dialect: sa.Dialect, keys: tuple[str, ...]) -> _Compiled:
        compiled = self.statement.compile(dialect=dialect, column_keys=list(keys))
        names = compiled.positiontup
        if names is None:
            raise TypeError("RawStatement needs a positional paramstyle (SQLite's qmark)")
        by_name = {name: bind for bind, name in compiled.bind_names.items()}
        binds = []
        for name in names:
            bind = by_name[name]
            processor = _sqlite_bind_processor(bind.type) or bind.type._cached_bind_processor(
                dialect
            )
            if bind.key in keys:
                binds.append((bind.key, processor))
            else:
                # A literal inside the statement (e.g. the key of a JSON path): fixed value.
                value = bind.effective_value
                binds.append((None, value if processor is None else processor(value)))
        results = None
        if compiled.returning or isinstance(self.statement, sa.Select):
            columns = (
                compiled.returning if compiled.returning else list(self.statement.selected_columns)
            )
            results = [column.type._cached_result_processor(dialect, None) for column in columns]
        return _Compiled(compiled.string, binds, results)

    def _prepare(self, conn: Any, params: Mapping[str, Any]) -> tuple[Any, _Compiled]:
        sync = conn.sync_connection
        dialect = sync.dialect
        key = (dialect.name, tuple(params))
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = self._compile(dialect, key[1])
        return sync.connection.dbapi_connection, compiled

    async def fetch(
        self, conn: AsyncConnection, params: Mapping[str, Any]
    ) -> list[tuple[Any, ...]]:
        """The processed rows of a select (or an insert/update with RETURNING)."""
        if not _is_raw(conn):
            return [tuple(row) for row in (await conn.execute(self.statement, dict(params))).all()]
        dbapi, compiled = self._prepare(conn, params)
        values = _values(compiled, params)
        cursor = dbapi.execute(compiled.sql, values)
        try:
            rows = cursor.fetchall()
        finally:
            cursor.close()
        processors = compiled.results
        if not processors or all(processor is None for processor in processors):
            return [tuple(row) for row in rows]
        return [
            tuple(
                value if processor is None or value is None else processor(value)
                for value, processor in zip(row, processors)
            )
            for row in rows
        ]

    async def run(self, conn: AsyncConnection, params: Mapping[str, Any]) -> int:
        """Execute an insert/update/delete; the number of rows it changed."""
        if not _is_raw(conn):
            return int((await conn.execute(self.statement, dict(params))).rowcount)
        dbapi, compiled = self._prepare(conn, params)
        values = _values(compiled, params)
        cursor = dbapi.execute(compiled.sql, values)
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()


def _sqlite_uuid(value: Any) -> Any:
    # What sa.Uuid(as_uuid=False) stores on SQLite: 32 lower-case hex digits.
    if type(value) is str and len(value) == 36:
        return value.replace("-", "")
    if value is None:
        return None
    return uuid.UUID(str(value)).hex


def _sqlite_timestamp(value: Any) -> Any:
    # What models.Timestamp stores on SQLite: naive UTC text with microseconds, as
    # SQLAlchemy's SQLite DATETIME writes it.
    if type(value) is datetime.datetime and value.tzinfo is datetime.timezone.utc:
        return value.replace(tzinfo=None).isoformat(" ", "microseconds")
    return _TIMESTAMP_PROCESSOR(value)


# The last JSON value serialized and its text: a state write stores the same document in its
# history row and on its run row.
_last_json: list[Any] = [None, None]


def _sqlite_json(value: Any) -> Any:
    if value is None:
        return None
    if value is _last_json[0]:
        return _last_json[1]
    text = json.dumps(value)
    _last_json[0] = value
    _last_json[1] = text
    return text


def _sqlite_bind_processor(type_: Any) -> Callable[[Any], Any] | None:
    """A faster equal of SQLAlchemy's SQLite bind processor for our column types, or None."""
    if isinstance(type_, sa.Uuid) and not type_.as_uuid:
        return _sqlite_uuid
    if isinstance(type_, Timestamp):
        return _sqlite_timestamp
    if isinstance(type_, sa.JSON) and type_.none_as_null:
        return _sqlite_json
    return None


def _values(compiled: _Compiled, params: Mapping[str, Any]) -> list[Any]:
    values = []
    for name, processor in compiled.binds:
        if name is None:
            values.append(processor)
        elif processor is None:
            values.append(params[name])
        else:
            values.append(processor(params[name]))
    return values


def _is_raw(conn: Any) -> bool:
    # The SQLite connections of `Database` run on the event loop.
    return isinstance(conn, _LoopConnection)
