"""The scalar types of the schema.

The hand-written (Python-schema) operations use `UUID`, `DateTime` and `JSON`, as Prefect Server
did; the generated table surface uses Hasura's names `uuid`, `timestamptz`, `jsonb` and
`interval`. The 1.4.1 client never declares a variable of any of them (protocol §2.4), but the
UI does, so both sets exist and behave the same way:

* uuids are validated and returned as canonical lower-case hyphenated text;
* timestamps are accepted as ISO-8601 text with any offset (stored in UTC) and returned as
  ISO-8601 text with an offset;
* JSON values pass through as JSON; inline literals in the query text are converted to the
  equivalent JSON value (objects, lists, strings, numbers, booleans, null).
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from graphql import (
    BooleanValueNode,
    EnumValueNode,
    FloatValueNode,
    GraphQLError,
    GraphQLScalarType,
    IntValueNode,
    ListValueNode,
    NullValueNode,
    ObjectValueNode,
    StringValueNode,
    ValueNode,
    VariableNode,
)

from prefect.server.database.models import parse_timestamp

__all__ = [
    "JSON",
    "UUID",
    "DateTime",
    "interval",
    "jsonb",
    "parse_uuid",
    "timestamptz",
    "uuid_scalar",
]


def parse_uuid(value: Any) -> str:
    """Canonical text of a uuid given as text; a GraphQLError naming the value otherwise."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if not isinstance(value, str):
        raise GraphQLError(f"Invalid UUID {value!r}: expected a string")
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise GraphQLError(f"Invalid UUID {value!r}") from None


def _parse_uuid_literal(node: ValueNode, _variables: Any = None) -> str:
    if isinstance(node, StringValueNode):
        return parse_uuid(node.value)
    raise GraphQLError("Invalid UUID: expected a string literal", node)


def _serialize_uuid(value: Any) -> str:
    return str(value)


def serialize_datetime(value: Any) -> str:
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        return value.isoformat()
    if isinstance(value, str):
        return value
    raise GraphQLError(f"Invalid DateTime value {value!r}")


def parse_datetime(value: Any) -> datetime.datetime:
    """A UTC datetime from ISO-8601 text; a GraphQLError naming the value otherwise."""
    if isinstance(value, datetime.datetime):
        return value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)
    if not isinstance(value, str):
        raise GraphQLError(f"Invalid DateTime {value!r}: expected an ISO-8601 string")
    try:
        return parse_timestamp(value)
    except ValueError:
        raise GraphQLError(f"Invalid DateTime {value!r}: expected an ISO-8601 string") from None


def _parse_datetime_literal(node: ValueNode, _variables: Any = None) -> datetime.datetime:
    if isinstance(node, StringValueNode):
        return parse_datetime(node.value)
    raise GraphQLError("Invalid DateTime: expected an ISO-8601 string literal", node)


def json_from_literal(node: ValueNode, variables: dict[str, Any] | None = None) -> Any:
    """The JSON value a GraphQL literal spells (variables inside it are substituted)."""
    if isinstance(node, NullValueNode):
        return None
    if isinstance(node, StringValueNode):
        return node.value
    if isinstance(node, BooleanValueNode):
        return node.value
    if isinstance(node, IntValueNode):
        return int(node.value)
    if isinstance(node, FloatValueNode):
        return float(node.value)
    if isinstance(node, EnumValueNode):
        return node.value
    if isinstance(node, ListValueNode):
        return [json_from_literal(item, variables) for item in node.values]
    if isinstance(node, ObjectValueNode):
        return {
            field.name.value: json_from_literal(field.value, variables) for field in node.fields
        }
    if isinstance(node, VariableNode):
        return (variables or {}).get(node.name.value)
    raise GraphQLError("Invalid JSON literal", node)


def _identity(value: Any) -> Any:
    return value


def _serialize_interval(value: Any) -> str:
    if isinstance(value, datetime.timedelta):
        return str(value)
    return str(value)


def _make_uuid(name: str) -> GraphQLScalarType:
    return GraphQLScalarType(
        name,
        serialize=_serialize_uuid,
        parse_value=parse_uuid,
        parse_literal=_parse_uuid_literal,
        description="A uuid, as canonical lower-case hyphenated text.",
    )


def _make_datetime(name: str) -> GraphQLScalarType:
    return GraphQLScalarType(
        name,
        serialize=serialize_datetime,
        parse_value=parse_datetime,
        parse_literal=_parse_datetime_literal,
        description="A timestamp: ISO-8601 text with an offset (stored in UTC).",
    )


def _make_json(name: str) -> GraphQLScalarType:
    return GraphQLScalarType(
        name,
        serialize=_identity,
        parse_value=_identity,
        parse_literal=json_from_literal,
        description="Any JSON value.",
    )


UUID = _make_uuid("UUID")
DateTime = _make_datetime("DateTime")
JSON = _make_json("JSON")
uuid_scalar = _make_uuid("uuid")
timestamptz = _make_datetime("timestamptz")
jsonb = _make_json("jsonb")
interval = GraphQLScalarType(
    "interval",
    serialize=_serialize_interval,
    parse_value=_identity,
    description="A duration, as Postgres interval text (e.g. 0:00:02).",
)
