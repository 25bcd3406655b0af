"""A short path through GraphQL for the documents flow runs send thousands of times.

A flow run's state writes, task-run look-ups, heartbeats and log batches are each one mutation
with one root field whose payload is plain data (`set_task_run_states { states { id status
message } }`). For such a document graphql-core's executor spends about three times as many
instructions as the rest of the request (measured: ~440 k of ~640 k per `set_task_run_states`),
mostly on bookkeeping that a payload of dicts and scalars does not need.

`plan()` looks at a parsed, validated document once and accepts it only when the short path
gives exactly what the executor would: one operation, one root field (no alias, directive or
fragment), nested fields with the default resolver and no arguments. `FastOperation.run()` then
coerces the variables and arguments with graphql-core's own functions (so every input error is
graphql-core's, raised before anything runs), calls the root resolver, and completes the value
by walking the planned selection (scalars serialized, nulls checked as the executor does). It
returns a graphql-core `ExecutionResult`, so the transport formats both paths the same way.
Anything the plan did not foresee (variables that do not coerce) returns None before the
resolver runs, and the caller uses the executor.
"""

from __future__ import annotations

from collections.abc import Mapping
from inspect import isawaitable
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLScalarType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    Undefined,
    VariableNode,
    located_error,
    type_from_ast,
)
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values
from graphql.pyutils import Path

__all__ = ["FastOperation", "plan"]

# A planned selection: (response key, field name, field type, sub-selection or None)
_Selection = tuple[tuple[str, str, GraphQLOutputType, Any], ...]


class _Unplannable(Exception):
    pass


class _Slow(Exception):
    """A value the direct coercion leaves to graphql-core (which then reports any error)."""


def _coerce(value: Any, type_: Any) -> Any:
    """`value` coerced to the input type `type_`, as graphql-core's `coerce_input_value` does
    for valid input; anything unusual or invalid raises `_Slow`."""
    if isinstance(type_, GraphQLNonNull):
        if value is None:
            raise _Slow
        type_ = type_.of_type
    if value is None:
        return None
    if isinstance(type_, GraphQLList):
        item_type = type_.of_type
        if isinstance(value, list):
            return [_coerce(item, item_type) for item in value]
        return [_coerce(value, item_type)]
    if isinstance(type_, GraphQLInputObjectType):
        if type(value) is not dict:
            raise _Slow
        fields = type_.fields
        if not fields.keys() >= value.keys():
            raise _Slow
        coerced = {}
        for name, field in fields.items():
            if field.out_name is not None:
                raise _Slow
            if name in value:
                coerced[name] = _coerce(value[name], field.type)
            elif field.default_value is not Undefined or isinstance(field.type, GraphQLNonNull):
                raise _Slow
        if getattr(type_, "is_one_of", False):
            raise _Slow
        return type_.out_type(coerced) if type_.out_type is not None else coerced
    if isinstance(type_, (GraphQLScalarType, GraphQLEnumType)):
        try:
            result = type_.parse_value(value)
        except Exception:
            raise _Slow from None
        if result is Undefined:
            raise _Slow
        return result
    raise _Slow


class FastOperation:
    """One planned document: its root field and the shape of the payload to complete."""

    __slots__ = (
        "direct",
        "field_def",
        "field_name",
        "field_node",
        "operation",
        "parent_type",
        "schema",
        "selection",
    )

    def __init__(
        self,
        schema: GraphQLSchema,
        operation: OperationDefinitionNode,
        parent_type: GraphQLObjectType,
        field_node: FieldNode,
        field_def: GraphQLField,
        selection: _Selection | None,
    ) -> None:
        self.schema = schema
        self.operation = operation
        self.parent_type = parent_type
        self.field_node = field_node
        self.field_def = field_def
        self.field_name = field_node.name.value
        self.selection = selection
        self.direct = _direct_arguments(schema, operation, field_node, field_def)

    def _direct_arguments(
        self, raw_variables: Mapping[str, Any]
    ) -> tuple[VariableValues, dict[str, Any]] | None:
        """Arguments given as whole variables, coerced without graphql-core's bookkeeping."""
        if self.direct is None:
            return None
        arguments = {}
        coerced = {}
        try:
            for argument, variable, type_ in self.direct:
                if variable not in raw_variables:
                    return None
                value = _coerce(raw_variables[variable], type_)
                coerced[variable] = arguments[argument] = value
        except _Slow:
            return None
        if len(raw_variables) != len(coerced):
            return None
        return VariableValues({}, coerced), arguments

    async def run(
        self, context: Any, raw_variables: Mapping[str, Any] | None
    ) -> ExecutionResult | None:
        """Execute the document; None when the variables do not coerce (use the executor)."""
        direct = self._direct_arguments(raw_variables or {})
        if direct is not None:
            coerced, arguments = direct
        else:
            values = get_variable_values(
                self.schema, self.operation.variable_definitions or (), dict(raw_variables or {})
            )
            if not isinstance(values, VariableValues):
                return None
            coerced = values
            try:
                arguments = get_argument_values(self.field_def, self.field_node, coerced)
            except GraphQLError:
                return None
        path = Path(None, self.field_name, self.parent_type.name)
        info = GraphQLResolveInfo(
            self.field_name,
            [self.field_node],
            self.field_def.type,
            self.parent_type,
            path,
            self.schema,
            {},
            None,
            self.operation,
            coerced,
            context,
            isawaitable,  # type: ignore[arg-type]
            None,  # type: ignore[arg-type]
            None,  # type: ignore[arg-type]
        )
        try:
            assert self.field_def.resolve is not None
            value = self.field_def.resolve(None, info, **arguments)
            if isawaitable(value):
                value = await value
            data = _complete(self.field_def.type, value, self.selection, (self.field_name,))
        except Exception as exc:
            error = located_error(
                exc, [self.field_node], getattr(exc, "_fast_path", [self.field_name])
            )
            return ExecutionResult({self.field_name: None}, [error])
        return ExecutionResult({self.field_name: data}, None)


def plan(schema: GraphQLSchema, document: DocumentNode) -> FastOperation | None:
    """A FastOperation for a validated document, or None when the executor must run it."""
    definitions = document.definitions
    if len(definitions) != 1 or not isinstance(definitions[0], OperationDefinitionNode):
        return None
    operation = definitions[0]
    if operation.operation is not OperationType.MUTATION or operation.directives:
        return None
    parent_type = schema.mutation_type
    selections = operation.selection_set.selections
    if parent_type is None or len(selections) != 1:
        return None
    node = selections[0]
    if not isinstance(node, FieldNode) or node.alias or node.directives:
        return None
    field_def = parent_type.fields.get(node.name.value)
    if field_def is None or field_def.resolve is None:
        return None
    try:
        selection = _plan_selection(field_def.type, node)
    except _Unplannable:
        return None
    return FastOperation(schema, operation, parent_type, node, field_def, selection)


def _direct_arguments(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    node: FieldNode,
    field_def: GraphQLField,
) -> tuple[tuple[str, str, Any], ...] | None:
    """(argument, variable, variable type) when every argument is one whole variable without a
    default, each variable is used once, and every argument of the field is given; else None."""
    definitions = {
        definition.variable.name.value: definition
        for definition in operation.variable_definitions or ()
    }
    given = node.arguments or ()
    if not given or len(given) != len(field_def.args) or len(definitions) != len(given):
        return None
    direct = []
    for argument in given:
        name = argument.name.value
        arg_def = field_def.args.get(name)
        if arg_def is None or arg_def.out_name is not None:
            return None
        if not isinstance(argument.value, VariableNode):
            return None
        variable = argument.value.name.value
        definition = definitions.get(variable)
        if definition is None or definition.default_value is not None:
            return None
        type_ = type_from_ast(schema, definition.type)
        if type_ is None:
            return None
        direct.append((name, variable, type_))
    if len({variable for _, variable, _ in direct}) != len(direct):
        return None
    return tuple(direct)


def _named(type_: Any) -> Any:
    while isinstance(type_, (GraphQLNonNull, GraphQLList)):
        type_ = type_.of_type
    return type_


def _plan_selection(type_: GraphQLOutputType, node: FieldNode) -> _Selection | None:
    named = _named(type_)
    if isinstance(named, (GraphQLScalarType, GraphQLEnumType)):
        return None
    if not isinstance(named, GraphQLObjectType) or node.selection_set is None:
        raise _Unplannable
    planned = []
    for child in node.selection_set.selections:
        if not isinstance(child, FieldNode) or child.directives or child.arguments:
            raise _Unplannable
        name = child.name.value
        field = named.fields.get(name)
        if field is None or field.resolve is not None:
            raise _Unplannable
        key = child.alias.value if child.alias else name
        planned.append((key, name, field.type, _plan_selection(field.type, child)))
    keys = [item[0] for item in planned]
    if len(set(keys)) != len(keys):  # merged fields: leave them to the executor
        raise _Unplannable
    return tuple(planned)


def _complete(type_: Any, value: Any, selection: _Selection | None, path: tuple[Any, ...]) -> Any:
    if isinstance(type_, GraphQLNonNull):
        if value is None:
            error = TypeError(
                f"Cannot return null for non-nullable field {'.'.join(map(str, path))}."
            )
            error._fast_path = list(path)  # type: ignore[attr-defined]
            raise error
        type_ = type_.of_type
    if value is None:
        return None
    if isinstance(type_, GraphQLList):
        return [
            _complete(type_.of_type, item, selection, (*path, index))
            for index, item in enumerate(value)
        ]
    if isinstance(type_, (GraphQLScalarType, GraphQLEnumType)):
        return type_.serialize(value)
    assert selection is not None
    out = {}
    if isinstance(value, Mapping):
        for key, name, field_type, sub in selection:
            out[key] = _complete(field_type, value.get(name), sub, (*path, key))
    else:
        for key, name, field_type, sub in selection:
            out[key] = _complete(field_type, getattr(value, name, None), sub, (*path, key))
    return out
