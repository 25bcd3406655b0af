"""Load plans of the table surface: what a selection asks for, read once from the query.

`Planner` turns the field nodes below a root field (fragments, `@skip`/`@include` and aliases
included) into a `RowsPlan` or `AggregatePlan`: per table, the response keys and their columns,
and the relationships below with their coerced arguments. `hasura._Loader` runs the plans.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLIncludeDirective,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSkipDirective,
    InlineFragmentNode,
    ListValueNode,
    ObjectValueNode,
    SelectionSetNode,
    ValueNode,
    get_argument_values,
    get_directive_values,
)

from prefect.server.database import models
from prefect.server.graphql._hasura_types import COLUMN_KINDS, table_types

__all__ = [
    "AggregateItem",
    "AggregatePlan",
    "Child",
    "Planner",
    "RowsPlan",
    "with_literal_order",
]

_AGGREGATE_FUNCTIONS = frozenset({"max", "min", "sum", "avg"})


@dataclass(slots=True)
class Child:
    """A relationship field below a row: its response key, relationship and arguments."""

    key: str
    rel: models.Relationship
    args: dict[str, Any]
    rows: RowsPlan | None = None
    aggregate: AggregatePlan | None = None
    index: int = -1  # where the parent's select list carries rel.local_column


@dataclass(slots=True)
class RowsPlan:
    """What to load from one table: response keys with their columns (the select list starts
    with them, join columns follow) and the relationships below."""

    table: str
    keys: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    objects: list[Child] = field(default_factory=list)
    arrays: list[Child] = field(default_factory=list)
    aggregates: list[Child] = field(default_factory=list)

    def column_index(self, column: str) -> int:
        if column in self.columns:
            return self.columns.index(column)
        self.columns.append(column)
        return len(self.columns) - 1


@dataclass(slots=True)
class AggregateItem:
    """One field of `T_aggregate_fields`: `count(...)` or max/min/sum/avg with its columns."""

    key: str
    function: str
    columns: list[str] | None = None
    distinct: bool = False
    fields: list[tuple[str, str]] = field(default_factory=list)  # (response key, column)


@dataclass(slots=True)
class AggregatePlan:
    table: str
    aggregates: list[tuple[str, list[AggregateItem]]] = field(default_factory=list)
    nodes: list[tuple[str, RowsPlan]] = field(default_factory=list)

    def columns(self) -> list[str]:
        needed: dict[str, None] = {}
        for _key, items in self.aggregates:
            for item in items:
                needed.update(dict.fromkeys(item.columns or ()))
                needed.update(dict.fromkeys(column for _k, column in item.fields))
        return list(needed) or ["id"]

    def empty(self) -> dict[str, Any]:
        """The output for no rows: counts 0, other aggregates null, no nodes."""
        out: dict[str, Any] = {}
        for key, items in self.aggregates:
            out[key] = {
                item.key: 0
                if item.function == "count"
                else dict.fromkeys(k for k, _c in item.fields)
                for item in items
            }
        for key, _plan in self.nodes:
            out[key] = []
        return out


class Planner:
    """Reads a selection (fragments, @skip/@include and aliases included) into load plans."""

    __slots__ = ("info", "types")

    def __init__(self, info: GraphQLResolveInfo) -> None:
        self.info = info
        self.types = table_types()

    def rows(self, name: str, nodes: Sequence[FieldNode]) -> RowsPlan:
        plan = RowsPlan(name)
        object_type = self.types[name].object
        relationships = models.RELATIONSHIPS[name]
        kinds = COLUMN_KINDS[name]
        for key, field_nodes in self._collect(name, nodes).items():
            node = field_nodes[0]
            field_name = node.name.value
            if field_name in kinds:
                plan.keys.append(key)
                plan.columns.append(field_name)
            elif field_name in relationships:
                rel = relationships[field_name]
                child = Child(key, rel, {}, rows=self.rows(rel.target, field_nodes))
                if rel.kind == "object":
                    plan.objects.append(child)
                else:
                    child.args = self._arguments(object_type, field_name, node)
                    plan.arrays.append(child)
            elif field_name.endswith("_aggregate") and field_name[:-10] in relationships:
                rel = relationships[field_name[:-10]]
                args = self._arguments(object_type, field_name, node)
                aggregate = self.aggregate(rel.target, field_nodes)
                plan.aggregates.append(Child(key, rel, args, aggregate=aggregate))
            # Anything else is __typename, which the executor answers itself.
        for child in (*plan.objects, *plan.arrays, *plan.aggregates):
            child.index = plan.column_index(child.rel.local_column)
        if not plan.columns:
            plan.columns.append("id")
        return plan

    def aggregate(self, name: str, nodes: Sequence[FieldNode]) -> AggregatePlan:
        plan = AggregatePlan(name)
        aggregate_type = self.types[name].aggregate
        fields_type = aggregate_type.fields["aggregate"].type
        assert isinstance(fields_type, GraphQLObjectType)
        for key, field_nodes in self._collect(aggregate_type.name, nodes).items():
            field_name = field_nodes[0].name.value
            if field_name == "nodes":
                plan.nodes.append((key, self.rows(name, field_nodes)))
            elif field_name == "aggregate":
                plan.aggregates.append((key, self._aggregate_items(fields_type, field_nodes)))
        return plan

    def _aggregate_items(
        self, fields_type: GraphQLObjectType, nodes: Sequence[FieldNode]
    ) -> list[AggregateItem]:
        items: list[AggregateItem] = []
        for key, field_nodes in self._collect(fields_type.name, nodes).items():
            function = field_nodes[0].name.value
            if function == "count":
                args = get_argument_values(
                    fields_type.fields["count"], field_nodes[0], self.info.variable_values
                )
                columns = args.get("columns") or None
                items.append(AggregateItem(key, "count", columns, bool(args.get("distinct"))))
            elif function in _AGGREGATE_FUNCTIONS:
                columns_type = fields_type.fields[function].type
                assert isinstance(columns_type, GraphQLObjectType)
                collected = self._collect(columns_type.name, field_nodes)
                pairs = [
                    (k, n[0].name.value)
                    for k, n in collected.items()
                    if n[0].name.value != "__typename"
                ]
                items.append(AggregateItem(key, function, fields=pairs))
        return items

    def _arguments(
        self, object_type: GraphQLObjectType, field_name: str, node: FieldNode
    ) -> dict[str, Any]:
        args = get_argument_values(object_type.fields[field_name], node, self.info.variable_values)
        return with_literal_order(args, node)

    def _collect(self, type_name: str, nodes: Sequence[FieldNode]) -> dict[str, list[FieldNode]]:
        fields: dict[str, list[FieldNode]] = {}
        seen: set[str] = set()
        for node in nodes:
            if node.selection_set is not None:
                self._visit(type_name, node.selection_set, fields, seen)
        return fields

    def _visit(
        self,
        type_name: str,
        selection_set: SelectionSetNode,
        fields: dict[str, list[FieldNode]],
        seen: set[str],
    ) -> None:
        for selection in selection_set.selections:
            if selection.directives and not self._included(selection):
                continue
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                fields.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                if condition is None or condition.name.value == type_name:
                    self._visit(type_name, selection.selection_set, fields, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name in seen:
                    continue
                seen.add(name)
                fragment = self.info.fragments.get(name)
                if fragment is not None and fragment.type_condition.name.value == type_name:
                    self._visit(type_name, fragment.selection_set, fields, seen)

    def _included(self, selection: Any) -> bool:
        variables = self.info.variable_values
        skip = get_directive_values(GraphQLSkipDirective, selection, variables)
        if skip is not None and skip.get("if"):
            return False
        include = get_directive_values(GraphQLIncludeDirective, selection, variables)
        return include is None or bool(include.get("if"))


def with_literal_order(args: dict[str, Any], node: FieldNode) -> dict[str, Any]:
    """`args` with each `order_by` object's keys in the order the query text wrote them.

    Input coercion rebuilds objects in the input type's field order, but
    `order_by: {name: asc, version: desc}` means name first, whatever the column order.
    """
    order_by = args.get("order_by")
    if not order_by or not node.arguments:
        return args
    for argument in node.arguments:
        if argument.name.value == "order_by":
            literal = argument.value
            items = literal.values if isinstance(literal, ListValueNode) else (literal,)
            if len(items) == len(order_by):
                reordered = [_reorder(value, item) for value, item in zip(order_by, items)]
                args = {**args, "order_by": reordered}
            break
    return args


def _reorder(value: Any, node: ValueNode) -> Any:
    if not isinstance(node, ObjectValueNode) or not isinstance(value, dict):
        return value
    out = {}
    for item in node.fields:
        name = item.name.value
        if name in value:
            out[name] = _reorder(value[name], item.value)
    for name, item_value in value.items():
        out.setdefault(name, item_value)
    return out
