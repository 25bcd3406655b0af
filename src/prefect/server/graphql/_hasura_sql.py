"""SQL for the table surface: Hasura boolean expressions, ordering, and row/aggregate selects.

Everything here turns already-coerced GraphQL argument values into SQLAlchemy Core statements
that run unchanged on SQLite and PostgreSQL:

* `where` follows Hasura with `BOOLEAN_NULL_COLLAPSE` on (protocol §2.2): a null operand is no
  condition, `{}` is true, keys are ANDed, a relationship filter is an `EXISTS` over the related
  rows (for an object relationship the one related row, for an array relationship at least one).
* `distinct_on` is a `row_number()` window (PostgreSQL's `DISTINCT ON` needs the order to start
  with the distinct columns; the window keeps whatever order the query asks for, on both
  databases).
* Rows of a relationship are loaded for many parents at once (`key IN (...)`); a per-parent
  limit/offset is another `row_number()` window partitioned by the parent key.

jsonb operators on SQLite run in a small Python function registered on each connection
(`ensure_sqlite_functions`), with PostgreSQL's `@>`/`?` semantics.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from graphql import GraphQLError
from sqlalchemy.dialects import postgresql

from prefect.server.database import models
from prefect.server.graphql._hasura_types import COLUMN_KINDS

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = [
    "PARENT_KEYS",
    "PRIMARY_KEY",
    "QueryBuilder",
    "ensure_sqlite_functions",
    "parse_interval",
]

# Bind parameters the statements leave open, so one statement serves every set of parents (and
# every id of a `_by_pk` query) and can be cached.
PARENT_KEYS = "parent_keys"
PRIMARY_KEY = "pk"

# PostgreSQL's own defaults: asc puts nulls last, desc puts them first.
_NULLS_FIRST = frozenset({"asc_nulls_first", "desc", "desc_nulls_first"})

_SQLITE_FUNCTION = "prefect_jsonb"

_INTERVAL = re.compile(
    r"^\s*(?:(?P<days>-?\d+)\s+days?,?\s*)?(?P<sign>-)?(?P<h>\d+):(?P<m>\d{1,2})"
    r"(?::(?P<s>\d{1,2}(?:\.\d+)?))?\s*$"
)


def parse_interval(value: Any) -> datetime.timedelta:
    """A duration from interval text (`0:00:02`, `1 day, 2:00:00`) or a number of seconds."""
    if isinstance(value, datetime.timedelta):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.timedelta(seconds=value)
    match = _INTERVAL.match(value) if isinstance(value, str) else None
    if match is None:
        raise GraphQLError(
            f"Invalid interval {value!r}: expected text like '0:00:02' or '1 day, 2:00:00',"
            " or a number of seconds"
        )
    clock = datetime.timedelta(
        hours=int(match["h"]), minutes=int(match["m"]), seconds=float(match["s"] or 0)
    )
    if match["sign"]:
        clock = -clock
    return datetime.timedelta(days=int(match["days"] or 0)) + clock


def _like_to_glob(pattern: str) -> str:
    """A SQLite GLOB pattern (case-sensitive) equal to a PostgreSQL LIKE pattern."""
    out = []
    chars = iter(pattern)
    for char in chars:
        if char == "\\":
            char = next(chars, "\\")
            out.append(f"[{char}]" if char in "*?[" else char)
        elif char == "%":
            out.append("*")
        elif char == "_":
            out.append("?")
        elif char in "*?[":
            out.append(f"[{char}]")
        else:
            out.append(char)
    return "".join(out)


def _ordered(expr: sa.ColumnElement[Any], direction: str) -> sa.UnaryExpression[Any]:
    ordered = expr.desc() if direction.startswith("desc") else expr.asc()
    return ordered.nulls_first() if direction in _NULLS_FIRST else ordered.nulls_last()


class QueryBuilder:
    """Builds the statements of one request for one database dialect ("sqlite" or "postgresql")."""

    __slots__ = ("dialect",)

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect

    # ---------------------------------------------------------------- where

    def where(
        self, name: str, source: sa.FromClause, exp: dict[str, Any] | None
    ) -> sa.ColumnElement[bool] | None:
        """The condition of a `<name>_bool_exp` value on `source` (the table or an alias of it).

        None means "no condition" (the expression is empty or collapses to true).
        """
        if not exp:
            return None
        parts: list[sa.ColumnElement[bool]] = []
        relationships = models.RELATIONSHIPS[name]
        kinds = COLUMN_KINDS[name]
        for key, value in exp.items():
            if value is None:
                continue
            if key == "_and":
                for item in value:
                    condition = self.where(name, source, item)
                    if condition is not None:
                        parts.append(condition)
            elif key == "_or":
                branches = [self.where(name, source, item) for item in value]
                present = [branch for branch in branches if branch is not None]
                if len(present) < len(branches):
                    continue  # one branch is always true
                parts.append(sa.or_(*present) if present else sa.false())
            elif key == "_not":
                condition = self.where(name, source, value)
                parts.append(sa.false() if condition is None else sa.not_(condition))
            elif key in relationships:
                rel = relationships[key]
                target = models.TABLES[rel.target].alias()
                link = target.c[rel.remote_column] == source.c[rel.local_column]
                inner = self.where(rel.target, target, value)
                condition = link if inner is None else sa.and_(link, inner)
                parts.append(sa.exists().where(condition))
            else:
                condition = self._compare(source.c[key], kinds[key], value)
                if condition is not None:
                    parts.append(condition)
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else sa.and_(*parts)

    def _compare(
        self, column: sa.ColumnElement[Any], kind: str, ops: dict[str, Any]
    ) -> sa.ColumnElement[bool] | None:
        parts: list[sa.ColumnElement[bool]] = []
        for op, value in ops.items():
            if value is None:
                continue
            if op == "_is_null":
                parts.append(column.is_(None) if value else column.is_not(None))
                continue
            if kind == "interval":
                value = (
                    [parse_interval(v) for v in value]
                    if op in ("_in", "_nin")
                    else parse_interval(value)
                )
            if kind == "jsonb":
                parts.append(self._compare_json(column, op, value))
            elif op == "_eq":
                parts.append(column == value)
            elif op == "_neq":
                parts.append(column != value)
            elif op == "_gt":
                parts.append(column > value)
            elif op == "_gte":
                parts.append(column >= value)
            elif op == "_lt":
                parts.append(column < value)
            elif op == "_lte":
                parts.append(column <= value)
            elif op == "_in":
                parts.append(column.in_(value))
            elif op == "_nin":
                parts.append(column.not_in(value))
            elif op in ("_like", "_nlike"):
                if self.dialect == "sqlite":
                    # SQLite's LIKE ignores case; GLOB is the case-sensitive match.
                    like = column.op("GLOB", is_comparison=True)(_like_to_glob(value))
                else:
                    like = column.like(value)
                parts.append(like if op == "_like" else sa.not_(like))
            elif op in ("_ilike", "_nilike"):
                ilike = column.ilike(value, escape="\\")
                parts.append(ilike if op == "_ilike" else sa.not_(ilike))
            else:
                raise GraphQLError(f"Unsupported comparison operator {op!r} for a {kind} column")
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else sa.and_(*parts)

    def _compare_json(
        self, column: sa.ColumnElement[Any], op: str, value: Any
    ) -> sa.ColumnElement[bool]:
        if op in ("_in", "_nin"):
            matches = [self._compare_json(column, "_eq", item) for item in value]
            any_match = sa.or_(*matches) if matches else sa.false()
            return any_match if op == "_in" else sa.not_(any_match)
        if self.dialect == "sqlite":
            return sa.func.prefect_jsonb(op, column, json.dumps(value), type_=sa.Boolean)
        jsonb_value = sa.bindparam(None, value, type_=postgresql.JSONB(none_as_null=True))
        if op in _PG_JSON_OPERATORS:
            return column.op(_PG_JSON_OPERATORS[op], is_comparison=True)(jsonb_value)
        if op == "_has_key":
            return column.op("?", is_comparison=True)(sa.bindparam(None, value, type_=sa.Text))
        keys = sa.bindparam(None, list(value), type_=postgresql.ARRAY(sa.Text))
        if op == "_has_keys_any":
            return column.op("?|", is_comparison=True)(keys)
        if op == "_has_keys_all":
            return column.op("?&", is_comparison=True)(keys)
        raise GraphQLError(f"Unsupported comparison operator {op!r} for a jsonb column")

    # ---------------------------------------------------------------- order

    def order(
        self, name: str, source: sa.FromClause, order_by: Sequence[dict[str, Any]] | None
    ) -> list[tuple[sa.ColumnElement[Any], str]]:
        """(expression, direction) pairs of an `order_by` value, in order."""
        out: list[tuple[sa.ColumnElement[Any], str]] = []
        for item in order_by or ():
            self._order_item(name, source, item, out)
        return out

    def _order_item(
        self,
        name: str,
        source: sa.FromClause,
        item: dict[str, Any],
        out: list[tuple[sa.ColumnElement[Any], str]],
    ) -> None:
        relationships = models.RELATIONSHIPS[name]
        for key, value in item.items():
            if value is None:
                continue
            rel = relationships.get(key)
            if rel is None and key.endswith("_aggregate"):
                self._order_by_aggregate(source, relationships[key[:-10]], value, out)
                continue
            if rel is None:
                out.append((source.c[key], value))
                continue
            target = models.TABLES[rel.target].alias()
            nested: list[tuple[sa.ColumnElement[Any], str]] = []
            self._order_item(rel.target, target, value, nested)
            link = target.c[rel.remote_column] == source.c[rel.local_column]
            for expr, direction in nested:
                out.append((sa.select(expr).where(link).scalar_subquery(), direction))

    def _order_by_aggregate(
        self,
        source: sa.FromClause,
        rel: models.Relationship,
        value: dict[str, Any],
        out: list[tuple[sa.ColumnElement[Any], str]],
    ) -> None:
        """`{<array relationship>_aggregate: {count: desc, max: {col: asc}}}`: correlated
        aggregates over the related rows."""
        target = models.TABLES[rel.target].alias()
        link = target.c[rel.remote_column] == source.c[rel.local_column]
        for function, spec in value.items():
            if spec is None:
                continue
            if function == "count":
                out.append((sa.select(sa.func.count()).where(link).scalar_subquery(), spec))
                continue
            for column, direction in spec.items():
                if direction is not None:
                    expr = getattr(sa.func, function)(target.c[column])
                    out.append((sa.select(expr).where(link).scalar_subquery(), direction))

    # ---------------------------------------------------------------- selects

    def rows(
        self,
        name: str,
        columns: Sequence[str],
        args: dict[str, Any],
        link: str | None = None,
        by_pk: bool = False,
    ) -> sa.Select[Any]:
        """The rows of `name` that `args` (where/order_by/limit/offset/distinct_on) select.

        The statement's columns are `columns` (labelled c0, c1, ...), then, with a `link` (a
        column of `name`), that column labelled `_k`: the rows are those whose link column is in
        the `PARENT_KEYS` parameter, and limit and offset apply per parent key. `by_pk` keeps the
        row whose id is the `PRIMARY_KEY` parameter.
        """
        table = models.TABLES[name]
        outputs: list[sa.ColumnElement[Any]] = [
            table.c[column].label(f"c{i}") for i, column in enumerate(columns)
        ]
        conditions: list[sa.ColumnElement[bool]] = []
        key = None
        if link is not None:
            key = table.c[link]
            outputs.append(key.label("_k"))
            conditions.append(key.in_(_parent_keys(key)))
        if by_pk:
            conditions.append(table.c.id == sa.bindparam(PRIMARY_KEY, type_=table.c.id.type))
        condition = self.where(name, table, args.get("where"))
        if condition is not None:
            conditions.append(condition)
        orders = self.order(name, table, args.get("order_by"))
        distinct = args.get("distinct_on") or None
        limit = args.get("limit")
        offset = args.get("offset") or 0
        if (limit is not None and limit < 0) or offset < 0:
            raise GraphQLError("limit and offset must not be negative")
        if distinct and not orders:
            orders = [(table.c[column], "asc") for column in distinct]
        per_parent = key is not None and (limit is not None or offset > 0)

        if not distinct and not per_parent:
            stmt = sa.select(*outputs).where(*conditions)
            stmt = stmt.order_by(*(_ordered(expr, d) for expr, d in orders))
            if key is None:
                stmt = stmt.limit(limit).offset(offset or None)
            return stmt

        names = [output.name for output in outputs]  # type: ignore[attr-defined]
        order_labels = [expr.label(f"o{i}") for i, (expr, _d) in enumerate(orders)]
        window_order = [_ordered(expr, d) for expr, d in orders]
        inner: list[sa.ColumnElement[Any]] = [*outputs, *order_labels]
        if distinct:
            partition = ([key] if key is not None else []) + [table.c[c] for c in distinct]
            inner.append(
                sa.func.row_number()
                .over(partition_by=partition, order_by=window_order or None)
                .label("_d")
            )
        else:
            inner.append(
                sa.func.row_number()
                .over(partition_by=key, order_by=window_order or None)
                .label("_r")
            )
        sub = sa.select(*inner).where(*conditions).subquery()
        filters: list[sa.ColumnElement[bool]] = []
        if distinct:
            filters.append(sub.c._d == 1)
            if per_parent:
                sub_order = [_ordered(sub.c[f"o{i}"], d) for i, (_e, d) in enumerate(orders)]
                kept = [sub.c[n] for n in names] + [sub.c[f"o{i}"] for i in range(len(orders))]
                numbered = sa.func.row_number().over(
                    partition_by=sub.c._k, order_by=sub_order or None
                )
                sub = sa.select(*kept, numbered.label("_r")).where(*filters).subquery()
                filters = []
        if per_parent:
            filters.append(sub.c._r > offset)
            if limit is not None:
                filters.append(sub.c._r <= offset + limit)
        stmt = sa.select(*(sub.c[n] for n in names)).where(*filters)
        stmt = stmt.order_by(*(_ordered(sub.c[f"o{i}"], d) for i, (_e, d) in enumerate(orders)))
        if key is None:
            stmt = stmt.limit(limit).offset(offset or None)
        return stmt

    def aggregate_source(
        self,
        name: str,
        columns: Sequence[str],
        args: dict[str, Any],
        link: str | None,
    ) -> tuple[Any, dict[str, Any], Any, list[Any]]:
        """What an aggregate reads: (from clause, column by name, parent key column, conditions).

        Without distinct_on/limit/offset that is the table itself with the filter as conditions;
        otherwise the selected rows as a subquery.
        """
        table = models.TABLES[name]
        if not (args.get("distinct_on") or args.get("limit") is not None or args.get("offset")):
            conditions: list[Any] = []
            key = None
            if link is not None:
                key = table.c[link]
                conditions.append(key.in_(_parent_keys(key)))
            condition = self.where(name, table, args.get("where"))
            if condition is not None:
                conditions.append(condition)
            return table, {c.name: c for c in table.columns}, key, conditions
        sub = self.rows(name, columns, args, link).subquery()
        by_name = {column: sub.c[f"c{i}"] for i, column in enumerate(columns)}
        return sub, by_name, (sub.c._k if link is not None else None), []


_PG_JSON_OPERATORS = {"_eq": "=", "_neq": "<>", "_contains": "@>", "_contained_in": "<@"}
_PG_JSON_OPERATORS.update({"_gt": ">", "_gte": ">=", "_lt": "<", "_lte": "<="})


def _parent_keys(column: sa.ColumnElement[Any]) -> sa.BindParameter[Any]:
    return sa.bindparam(PARENT_KEYS, expanding=True, type_=column.type)


async def ensure_sqlite_functions(conn: AsyncConnection) -> None:
    """Register the jsonb helper function on this SQLite connection (once per connection)."""
    await conn.run_sync(_register_sqlite_functions)


def _register_sqlite_functions(sync_conn: sa.Connection) -> None:
    pooled = sync_conn.connection
    if pooled.info.get(_SQLITE_FUNCTION):
        return
    driver = pooled.driver_connection
    assert driver is not None
    driver.create_function(_SQLITE_FUNCTION, 3, _sqlite_jsonb, deterministic=True)
    pooled.info[_SQLITE_FUNCTION] = True


def _sqlite_jsonb(op: str, document: str | None, operand: str) -> int | None:
    if document is None:
        return None
    try:
        doc = json.loads(document)
        arg = json.loads(operand)
    except (TypeError, ValueError):
        return None
    if op == "_eq":
        result = _json_equal(doc, arg)
    elif op == "_neq":
        result = not _json_equal(doc, arg)
    elif op == "_contains":
        result = _json_contains(doc, arg)
    elif op == "_contained_in":
        result = _json_contains(arg, doc)
    elif op == "_has_key":
        result = _json_has_key(doc, arg)
    elif op == "_has_keys_any":
        result = any(_json_has_key(doc, k) for k in arg)
    elif op == "_has_keys_all":
        result = all(_json_has_key(doc, k) for k in arg)
    else:
        left, right = _json_sort_key(doc), _json_sort_key(arg)
        result = {
            "_gt": left > right,
            "_gte": left >= right,
            "_lt": left < right,
            "_lte": left <= right,
        }.get(op, False)
    return int(result)


def _json_category(value: Any) -> int:
    # PostgreSQL's jsonb order: null < string < number < boolean < array < object.
    if value is None:
        return 0
    if isinstance(value, str):
        return 1
    if isinstance(value, bool):
        return 3
    if isinstance(value, (int, float)):
        return 2
    if isinstance(value, list):
        return 4
    return 5


def _json_sort_key(value: Any) -> tuple[Any, ...]:
    category = _json_category(value)
    if category == 4:
        return (category, len(value), [_json_sort_key(item) for item in value])
    if category == 5:
        items = sorted(value.items(), key=lambda kv: (len(kv[0]), kv[0]))
        return (category, len(value), [(k, _json_sort_key(v)) for k, v in items])
    return (category, value if value is not None else 0)


def _json_equal(left: Any, right: Any) -> bool:
    if _json_category(left) != _json_category(right):
        return False
    if isinstance(left, list):
        return len(left) == len(right) and all(map(_json_equal, left, right))
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(_json_equal(left[k], right[k]) for k in left)
    return bool(left == right)


def _json_contains(container: Any, contained: Any, top: bool = True) -> bool:
    """PostgreSQL's `container @> contained` on decoded JSON values."""
    if isinstance(container, dict):
        return isinstance(contained, dict) and all(
            key in container and _json_contains(container[key], value, False)
            for key, value in contained.items()
        )
    if isinstance(container, list):
        if isinstance(contained, list):
            return all(
                any(_json_contains(item, want, False) for item in container) for want in contained
            )
        # Only a top-level array also contains a primitive that is one of its elements.
        return (
            top
            and _json_category(contained) < 4
            and any(_json_equal(item, contained) for item in container)
        )
    return _json_equal(container, contained)


def _json_has_key(document: Any, key: Any) -> bool:
    """PostgreSQL's `document ? key`: an object key, a string element, or the string itself."""
    if isinstance(document, dict):
        return key in document
    if isinstance(document, list):
        return any(isinstance(item, str) and item == key for item in document)
    return isinstance(document, str) and document == key
