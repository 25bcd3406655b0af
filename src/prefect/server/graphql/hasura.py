"""The Hasura-shaped table query surface (protocol §2, §4.7), generated from the models alone.

`table_query_fields()` gives, for every table `T` of `models.TABLES`, the root fields `T`,
`T_by_pk` and `T_aggregate`. Each root resolver plans the whole selection below it (columns,
object and array relationships, `<rel>_aggregate` fields, each with its own arguments), then
loads it level by level on one read connection: one statement per relationship level, for all
parents at once (`key IN (...)`), never one per row. Only the requested columns are selected, plus
the keys that join the levels. The result is a tree of dicts keyed by response key (alias or field
name), which the generated object types read back (`_hasura_types`).
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from graphql import (
    GraphQLArgument,
    GraphQLError,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLResolveInfo,
)

from prefect.server.database import models
from prefect.server.graphql import scalars
from prefect.server.graphql._hasura_plan import (
    AggregatePlan,
    Planner,
    RowsPlan,
    with_literal_order,
)
from prefect.server.graphql._hasura_sql import (
    PARENT_KEYS,
    PRIMARY_KEY,
    QueryBuilder,
    ensure_sqlite_functions,
)
from prefect.server.graphql._hasura_types import table_types

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["table_query_fields"]

# Parent keys per statement: well under the bound-parameter limits of SQLite and asyncpg.
_CHUNK = 5000


def table_query_fields() -> dict[str, GraphQLField]:
    """The root query fields of the table surface: `T`, `T_aggregate` and `T_by_pk` per table.

    The types behind them are built once per process; the returned dict is the caller's own.
    """
    return dict(_root_fields())


@functools.cache
def _root_fields() -> dict[str, GraphQLField]:
    types = table_types()
    fields: dict[str, GraphQLField] = {}
    for name in models.TABLES:
        table = types[name]
        fields[name] = GraphQLField(
            GraphQLNonNull(_list_of(table.object)),
            args=table.list_args,
            resolve=_rows_resolver(name),
            description=f'Rows of "{name}".',
        )
        fields[f"{name}_aggregate"] = GraphQLField(
            GraphQLNonNull(table.aggregate),
            args=table.list_args,
            resolve=_aggregate_resolver(name),
            description=f'Aggregates over rows of "{name}".',
        )
        fields[f"{name}_by_pk"] = GraphQLField(
            table.object,
            args={"id": GraphQLArgument(GraphQLNonNull(scalars.uuid_scalar))},
            resolve=_by_pk_resolver(name),
            description=f'One row of "{name}" by id, or null.',
        )
    return fields


def _list_of(object_type: GraphQLObjectType) -> GraphQLList[Any]:
    return GraphQLList(GraphQLNonNull(object_type))


# ------------------------------------------------------------------------------------ resolvers

_Resolver = Callable[..., Any]


def _rows_resolver(name: str) -> _Resolver:
    async def resolve(_source: Any, info: GraphQLResolveInfo, **args: Any) -> list[dict[str, Any]]:
        plan = Planner(info).rows(name, info.field_nodes)
        args = with_literal_order(args, info.field_nodes[0])
        async with _loading(info) as loader:
            _rows, outputs = await loader.rows(plan, args)
        return outputs

    return resolve


def _by_pk_resolver(name: str) -> _Resolver:
    async def resolve(_source: Any, info: GraphQLResolveInfo, id: str) -> dict[str, Any] | None:
        plan = Planner(info).rows(name, info.field_nodes)
        async with _loading(info) as loader:
            _rows, outputs = await loader.rows(plan, {}, pk=id)
        return outputs[0] if outputs else None

    return resolve


def _aggregate_resolver(name: str) -> _Resolver:
    async def resolve(_source: Any, info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
        plan = Planner(info).aggregate(name, info.field_nodes)
        args = with_literal_order(args, info.field_nodes[0])
        async with _loading(info) as loader:
            results = await loader.aggregate(plan, args)
        return _merge(plan.empty(), results.get(None))

    return resolve


@asynccontextmanager
async def _loading(info: GraphQLResolveInfo) -> AsyncIterator[_Loader]:
    db = info.context["db"]
    try:
        async with db.read() as conn:
            if db.dialect == "sqlite":
                await ensure_sqlite_functions(conn)
            yield _Loader(conn, db.dialect)
    except sa.exc.DBAPIError as exc:
        raise GraphQLError(f"The database refused the query: {exc.orig}") from exc


# ------------------------------------------------------------------------------------ loading

# Built statements by (dialect, shape, arguments). Relationship levels and `_by_pk` leave their
# keys as parameters, so the nested levels of a query repeat exactly from one request to the
# next (agents and the UI poll the same documents) and skip building and cache-keying SQL. A root
# statement with a filter carries the filter's values, which rarely repeat: it is not kept.
_STATEMENTS: dict[tuple[Any, ...], Any] = {}
_STATEMENTS_MAX = 500


def _cached(key: tuple[Any, ...], build: Callable[[], Any], keep: bool = True) -> Any:
    found = _STATEMENTS.get(key)
    if found is None:
        found = build()
        if keep:
            if len(_STATEMENTS) >= _STATEMENTS_MAX:
                del _STATEMENTS[next(iter(_STATEMENTS))]
            _STATEMENTS[key] = found
    return found


class _Loader:
    """Runs the plans of one root field on one connection, one statement per level."""

    __slots__ = ("conn", "dialect", "sql")

    def __init__(self, conn: AsyncConnection, dialect: str) -> None:
        self.conn = conn
        self.dialect = dialect
        self.sql = QueryBuilder(dialect)

    async def rows(
        self,
        plan: RowsPlan,
        args: dict[str, Any],
        link: tuple[str, list[Any]] | None = None,
        pk: str | None = None,
    ) -> tuple[list[sa.Row[Any]], list[dict[str, Any]]]:
        """The rows of a plan: with `link` (column, parent keys) those of every parent key, the
        key last in each row; with `pk` the row with that id."""
        column = link[0] if link is not None else None
        key = (
            self.dialect,
            "rows",
            plan.table,
            tuple(plan.columns),
            column,
            pk is None,
            repr(args),
        )
        keep = column is not None or pk is not None or not args.get("where")
        stmt = _cached(
            key, lambda: self.sql.rows(plan.table, plan.columns, args, column, pk is not None), keep
        )
        if link is None:
            parameters = {PRIMARY_KEY: pk} if pk is not None else None
            rows = list((await self.conn.execute(stmt, parameters)).all())
        else:
            values = link[1]
            rows = []
            for start in range(0, len(values), _CHUNK):
                chunk = {PARENT_KEYS: values[start : start + _CHUNK]}
                rows.extend((await self.conn.execute(stmt, chunk)).all())
        keys = plan.keys
        outputs = [dict(zip(keys, row)) for row in rows]
        if rows and (plan.objects or plan.arrays or plan.aggregates):
            await self._attach(plan, rows, outputs)
        return rows, outputs

    async def _attach(
        self, plan: RowsPlan, rows: list[sa.Row[Any]], outputs: list[dict[str, Any]]
    ) -> None:
        for child in plan.objects:
            assert child.rows is not None
            i = child.index
            found: dict[Any, dict[str, Any]] = {}
            values = _distinct_keys(rows, i)
            if values:
                link = (child.rel.remote_column, values)
                child_rows, child_outputs = await self.rows(child.rows, {}, link)
                k = len(child.rows.columns)
                found = {row[k]: out for row, out in zip(child_rows, child_outputs)}
            for row, out in zip(rows, outputs):
                out[child.key] = found.get(row[i])
        for child in plan.arrays:
            assert child.rows is not None
            i = child.index
            groups: dict[Any, list[dict[str, Any]]] = {}
            values = _distinct_keys(rows, i)
            if values:
                link = (child.rel.remote_column, values)
                child_rows, child_outputs = await self.rows(child.rows, child.args, link)
                k = len(child.rows.columns)
                for row, out in zip(child_rows, child_outputs):
                    groups.setdefault(row[k], []).append(out)
            for row, out in zip(rows, outputs):
                out[child.key] = groups.get(row[i], [])
        for child in plan.aggregates:
            assert child.aggregate is not None
            i = child.index
            values = _distinct_keys(rows, i)
            results: dict[Any, dict[str, Any]] = {}
            if values:
                link = (child.rel.remote_column, values)
                results = await self.aggregate(child.aggregate, child.args, link)
            empty = child.aggregate.empty()
            for row, out in zip(rows, outputs):
                out[child.key] = _merge(empty, results.get(row[i]))

    async def aggregate(
        self,
        plan: AggregatePlan,
        args: dict[str, Any],
        link: tuple[str, list[Any]] | None = None,
    ) -> dict[Any, dict[str, Any]]:
        """Aggregate outputs by parent key (the root's under None); keys without rows are absent."""
        results: dict[Any, dict[str, Any]] = {}
        if plan.aggregates:
            column = link[0] if link is not None else None
            cache_key = (
                self.dialect,
                "aggregate",
                repr(plan.aggregates),
                plan.table,
                column,
                repr(args),
            )
            keep = column is not None or not args.get("where")
            statements = _cached(
                cache_key, lambda: self._aggregate_statements(plan, args, column), keep
            )
            if link is None:
                await self._run_aggregate(statements, None, results)
            else:
                for start in range(0, len(link[1]), _CHUNK):
                    chunk = {PARENT_KEYS: link[1][start : start + _CHUNK]}
                    await self._run_aggregate(statements, chunk, results)
        for key, nodes_plan in plan.nodes:
            rows, outputs = await self.rows(nodes_plan, args, link)
            if link is None:
                results.setdefault(None, {})[key] = outputs
                continue
            k = len(nodes_plan.columns)
            for row, out in zip(rows, outputs):
                results.setdefault(row[k], {}).setdefault(key, []).append(out)
        return results

    async def _run_aggregate(
        self,
        statements: _AggregateStatements,
        parameters: dict[str, Any] | None,
        results: dict[Any, dict[str, Any]],
    ) -> None:
        stmt, layout, separate = statements
        if stmt is not None:
            for row in (await self.conn.execute(stmt, parameters)).all():
                # Column 0 is the parent key (None at the root); the aggregates follow.
                out = results.setdefault(row[0], {})
                for aggregate_key, item_key, where in layout:
                    part = out.setdefault(aggregate_key, {})
                    if isinstance(where, int):
                        part[item_key] = row[1 + where]
                    else:
                        part[item_key] = {sub: row[1 + j] for sub, j in where}
        for aggregate_key, item_key, count_stmt in separate:
            for parent, count in (await self.conn.execute(count_stmt, parameters)).all():
                results.setdefault(parent, {}).setdefault(aggregate_key, {})[item_key] = count

    def _aggregate_statements(
        self, plan: AggregatePlan, args: dict[str, Any], link: str | None
    ) -> _AggregateStatements:
        source, by_name, key, conditions = self.sql.aggregate_source(
            plan.table, plan.columns(), args, link
        )
        head = key if key is not None else sa.null()
        exprs: list[sa.ColumnElement[Any]] = []
        layout: list[tuple[str, str, int | list[tuple[str, int]]]] = []
        separate: list[tuple[str, str, Any]] = []
        for aggregate_key, items in plan.aggregates:
            for item in items:
                if item.function != "count":
                    subs = []
                    for sub_key, column in item.fields:
                        expr = getattr(sa.func, item.function)(by_name[column])
                        if item.function == "avg":
                            expr = sa.cast(expr, sa.Float)
                        subs.append((sub_key, len(exprs)))
                        exprs.append(expr)
                    layout.append((aggregate_key, item.key, subs))
                    continue
                columns = [by_name[c] for c in item.columns or ()]
                if not columns:
                    expr = sa.func.count()
                elif len(columns) == 1:
                    only = columns[0]
                    expr = sa.func.count(sa.distinct(only) if item.distinct else only)
                elif not item.distinct:
                    all_set = sa.and_(*(c.is_not(None) for c in columns))
                    expr = sa.func.count(sa.case((all_set, 1)))
                else:
                    # count(columns: [a, b], distinct: true): distinct non-null (a, b) rows.
                    distinct_rows = (
                        sa.select(
                            head.label("_k"), *(c.label(f"d{j}") for j, c in enumerate(columns))
                        )
                        .select_from(source)
                        .where(*conditions, *(c.is_not(None) for c in columns))
                        .distinct()
                        .subquery()
                    )
                    count_stmt = sa.select(distinct_rows.c._k, sa.func.count()).group_by(
                        distinct_rows.c._k
                    )
                    separate.append((aggregate_key, item.key, count_stmt))
                    continue
                layout.append((aggregate_key, item.key, len(exprs)))
                exprs.append(expr)
        stmt = None
        if exprs:
            stmt = sa.select(head, *exprs).select_from(source).where(*conditions)
            if key is not None:
                stmt = stmt.group_by(key)
        return stmt, layout, separate


_AggregateStatements = tuple[
    Any, list[tuple[str, str, "int | list[tuple[str, int]]"]], list[tuple[str, str, Any]]
]


def _distinct_keys(rows: list[sa.Row[Any]], index: int) -> list[Any]:
    return list(dict.fromkeys(row[index] for row in rows if row[index] is not None))


def _merge(empty: dict[str, Any], found: dict[str, Any] | None) -> dict[str, Any]:
    """An aggregate output: what was found over the no-rows defaults, one level deep."""
    if not found:
        return empty
    out = dict(empty)
    for key, value in found.items():
        default = empty.get(key)
        out[key] = {**default, **value} if isinstance(default, dict) else value
    return out
