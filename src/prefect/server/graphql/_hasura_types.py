"""The GraphQL types of the Hasura-shaped table surface, generated from the models.

For every table `T` of `models.TABLES` this builds the object type `T` (its columns and its
relationships from `models.RELATIONSHIPS`), `T_aggregate` and its field types, and the input types
`T_bool_exp`, `T_order_by` (with `<array relationship>_aggregate` keys of type
`T_aggregate_order_by`) and the `T_select_column` enum, plus the shared comparison types
(`uuid_comparison_exp`, `String_comparison_exp`, ...) and the `order_by` enum. Types are built
once per process (`table_types()`); the resolvers live in `hasura.py`.

Every field of a generated object type reads its value from the row dict under the field's
*response key* (alias or name): the root resolver fetches whole trees of rows at once, and two
aliases of one relationship may carry different arguments.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from graphql import (
    GraphQLArgument,
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLEnumValue,
    GraphQLField,
    GraphQLFloat,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLScalarType,
    GraphQLString,
)

from prefect.server.database import models
from prefect.server.graphql import scalars

__all__ = ["COLUMN_KINDS", "ORDER_BY", "TableTypes", "column_kind", "table_types"]

# Column kinds by the name of their GraphQL scalar.
_SCALARS: dict[str, GraphQLScalarType] = {
    "uuid": scalars.uuid_scalar,
    "timestamptz": scalars.timestamptz,
    "jsonb": scalars.jsonb,
    "interval": scalars.interval,
    "Int": GraphQLInt,
    "Float": GraphQLFloat,
    "String": GraphQLString,
    "Boolean": GraphQLBoolean,
}

# Kinds whose max/min Hasura offers, and those it sums and averages.
_ORDERED_KINDS = frozenset({"Int", "Float", "String", "timestamptz"})
_NUMERIC_KINDS = frozenset({"Int", "Float"})

_DIRECTIONS = (
    "asc",
    "asc_nulls_first",
    "asc_nulls_last",
    "desc",
    "desc_nulls_first",
    "desc_nulls_last",
)

ORDER_BY = GraphQLEnumType(
    "order_by",
    {name: GraphQLEnumValue(name) for name in _DIRECTIONS},
    description="Sort direction: asc is nulls last, desc is nulls first (as in PostgreSQL).",
)


def column_kind(column: sa.Column[Any]) -> str:
    """The GraphQL scalar name of a column: uuid, timestamptz, jsonb, interval, Int, Float,
    String or Boolean."""
    type_ = column.type
    if isinstance(type_, models.Timestamp):
        return "timestamptz"
    if isinstance(type_, sa.Uuid):
        return "uuid"
    if isinstance(type_, sa.JSON):
        return "jsonb"
    if isinstance(type_, sa.Interval):
        return "interval"
    if isinstance(type_, sa.Boolean):
        return "Boolean"
    if isinstance(type_, sa.Integer):
        return "Int"
    if isinstance(type_, (sa.Float, sa.Numeric)):
        return "Float"
    if isinstance(type_, sa.String):
        return "String"
    raise TypeError(f"Column {column} has type {type_!r}, which the table surface cannot expose")


# Column name -> kind, per table.
COLUMN_KINDS: dict[str, dict[str, str]] = {
    name: {column.name: column_kind(column) for column in table.columns}
    for name, table in models.TABLES.items()
}


@dataclass(frozen=True, slots=True)
class TableTypes:
    """The generated types of one table and the arguments its list fields take."""

    object: GraphQLObjectType
    aggregate: GraphQLObjectType
    bool_exp: GraphQLInputObjectType
    order_by: GraphQLInputObjectType
    aggregate_order_by: GraphQLInputObjectType
    select_column: GraphQLEnumType
    list_args: dict[str, GraphQLArgument]


def resolve_by_response_key(source: Any, info: GraphQLResolveInfo, **_args: Any) -> Any:
    """The value the root resolver stored under this field's response key."""
    return source.get(info.path.key)


def _comparison_type(kind: str) -> GraphQLInputObjectType:
    scalar = _SCALARS[kind]
    fields: dict[str, GraphQLInputField] = {
        op: GraphQLInputField(scalar) for op in ("_eq", "_neq", "_gt", "_gte", "_lt", "_lte")
    }
    fields["_in"] = GraphQLInputField(GraphQLList(GraphQLNonNull(scalar)))
    fields["_nin"] = GraphQLInputField(GraphQLList(GraphQLNonNull(scalar)))
    fields["_is_null"] = GraphQLInputField(GraphQLBoolean)
    if kind == "String":
        for op in ("_like", "_ilike", "_nlike", "_nilike"):
            fields[op] = GraphQLInputField(GraphQLString)
    elif kind == "jsonb":
        fields["_contains"] = GraphQLInputField(scalar)
        fields["_contained_in"] = GraphQLInputField(scalar)
        fields["_has_key"] = GraphQLInputField(GraphQLString)
        fields["_has_keys_any"] = GraphQLInputField(GraphQLList(GraphQLNonNull(GraphQLString)))
        fields["_has_keys_all"] = GraphQLInputField(GraphQLList(GraphQLNonNull(GraphQLString)))
    return GraphQLInputObjectType(
        f"{kind}_comparison_exp",
        fields,
        description=f"Conditions on a {kind} column; a null operand is no condition.",
    )


@functools.cache
def _comparison_types() -> dict[str, GraphQLInputObjectType]:
    return {kind: _comparison_type(kind) for kind in _SCALARS}


def _output_type(column: sa.Column[Any], kind: str) -> Any:
    scalar = _SCALARS[kind]
    return scalar if column.nullable else GraphQLNonNull(scalar)


def _aggregate_fields_type(
    name: str, table: sa.Table, select_column: GraphQLEnumType
) -> GraphQLObjectType:
    kinds = COLUMN_KINDS[name]
    fields: dict[str, GraphQLField] = {
        "count": GraphQLField(
            GraphQLNonNull(GraphQLInt),
            args={
                "columns": GraphQLArgument(GraphQLList(GraphQLNonNull(select_column))),
                "distinct": GraphQLArgument(GraphQLBoolean),
            },
            resolve=resolve_by_response_key,
        )
    }

    def columns_type(suffix: str, wanted: frozenset[str], scalar: Any = None) -> GraphQLObjectType:
        return GraphQLObjectType(
            f"{name}_{suffix}_fields",
            {
                column: GraphQLField(scalar or _SCALARS[kind], resolve=resolve_by_response_key)
                for column, kind in kinds.items()
                if kind in wanted
            },
        )

    fields["max"] = GraphQLField(
        columns_type("max", _ORDERED_KINDS), resolve=resolve_by_response_key
    )
    fields["min"] = GraphQLField(
        columns_type("min", _ORDERED_KINDS), resolve=resolve_by_response_key
    )
    if any(kind in _NUMERIC_KINDS for kind in kinds.values()):
        fields["sum"] = GraphQLField(
            columns_type("sum", _NUMERIC_KINDS), resolve=resolve_by_response_key
        )
        fields["avg"] = GraphQLField(
            columns_type("avg", _NUMERIC_KINDS, GraphQLFloat), resolve=resolve_by_response_key
        )
    return GraphQLObjectType(f"{name}_aggregate_fields", fields)


@functools.cache
def table_types() -> dict[str, TableTypes]:
    """The generated types of every table in `models.TABLES`, built once per process."""
    comparisons = _comparison_types()
    built: dict[str, TableTypes] = {}

    # The object and input types refer to each other through relationships, so their fields are
    # thunks that look the other tables up in `built` once every table has its entry.
    for name, table in models.TABLES.items():
        built[name] = _table_types(name, table, built, comparisons)
    return built


def _table_types(
    name: str,
    table: sa.Table,
    built: dict[str, TableTypes],
    comparisons: dict[str, GraphQLInputObjectType],
) -> TableTypes:
    kinds = COLUMN_KINDS[name]
    relationships = models.RELATIONSHIPS[name]
    select_column = GraphQLEnumType(
        f"{name}_select_column",
        {column: GraphQLEnumValue(column) for column in kinds},
        description=f"The columns of {name}.",
    )

    def bool_exp_fields() -> dict[str, GraphQLInputField]:
        fields: dict[str, GraphQLInputField] = {
            "_and": GraphQLInputField(GraphQLList(GraphQLNonNull(bool_exp))),
            "_or": GraphQLInputField(GraphQLList(GraphQLNonNull(bool_exp))),
            "_not": GraphQLInputField(bool_exp),
        }
        for column, kind in kinds.items():
            fields[column] = GraphQLInputField(comparisons[kind])
        for field, rel in relationships.items():
            fields[field] = GraphQLInputField(built[rel.target].bool_exp)
        return fields

    bool_exp = GraphQLInputObjectType(
        f"{name}_bool_exp",
        bool_exp_fields,
        description=f"A filter on {name} rows; keys are ANDed and null operands are ignored.",
    )

    def order_by_fields() -> dict[str, GraphQLInputField]:
        fields = {column: GraphQLInputField(ORDER_BY) for column in kinds}
        for field, rel in relationships.items():
            if rel.kind == "object":
                fields[field] = GraphQLInputField(built[rel.target].order_by)
            else:
                fields[f"{field}_aggregate"] = GraphQLInputField(
                    built[rel.target].aggregate_order_by
                )
        return fields

    order_by = GraphQLInputObjectType(
        f"{name}_order_by",
        order_by_fields,
        description=f"Ordering of {name} rows, one key per object (keys apply in text order).",
    )

    def ordered_columns(function: str) -> GraphQLInputObjectType:
        return GraphQLInputObjectType(
            f"{name}_{function}_order_by",
            {
                column: GraphQLInputField(ORDER_BY)
                for column, k in kinds.items()
                if k in _ORDERED_KINDS
            },
        )

    aggregate_order_by = GraphQLInputObjectType(
        f"{name}_aggregate_order_by",
        {
            "count": GraphQLInputField(ORDER_BY),
            "max": GraphQLInputField(ordered_columns("max")),
            "min": GraphQLInputField(ordered_columns("min")),
        },
        description=f"Ordering by an aggregate of related {name} rows.",
    )

    list_args = {
        "where": GraphQLArgument(bool_exp),
        "order_by": GraphQLArgument(GraphQLList(GraphQLNonNull(order_by))),
        "limit": GraphQLArgument(GraphQLInt),
        "offset": GraphQLArgument(GraphQLInt),
        "distinct_on": GraphQLArgument(GraphQLList(GraphQLNonNull(select_column))),
    }

    def object_fields() -> dict[str, GraphQLField]:
        fields = {
            column.name: GraphQLField(
                _output_type(column, kinds[column.name]), resolve=resolve_by_response_key
            )
            for column in table.columns
        }
        for field, rel in relationships.items():
            target = built[rel.target]
            if rel.kind == "object":
                fields[field] = GraphQLField(target.object, resolve=resolve_by_response_key)
            else:
                fields[field] = GraphQLField(
                    GraphQLNonNull(GraphQLList(GraphQLNonNull(target.object))),
                    args=target.list_args,
                    resolve=resolve_by_response_key,
                )
                fields[f"{field}_aggregate"] = GraphQLField(
                    GraphQLNonNull(target.aggregate),
                    args=target.list_args,
                    resolve=resolve_by_response_key,
                )
        return fields

    object_type = GraphQLObjectType(name, object_fields, description=f"A row of {name}.")
    aggregate = GraphQLObjectType(
        f"{name}_aggregate",
        lambda: {
            "aggregate": GraphQLField(
                _aggregate_fields_type(name, table, select_column),
                resolve=resolve_by_response_key,
            ),
            "nodes": GraphQLField(
                GraphQLNonNull(GraphQLList(GraphQLNonNull(object_type))),
                resolve=resolve_by_response_key,
            ),
        },
    )
    return TableTypes(
        object_type, aggregate, bool_exp, order_by, aggregate_order_by, select_column, list_args
    )
