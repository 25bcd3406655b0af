"""What every mutation of the Python schema shares: payload types and the resolver plumbing.

Each mutation takes one argument, `input: <name>_input!` (the 1.x client sends the input type
name literally, protocol §3.2), calls one `prefect.server.api` function and shapes its answer as
a payload. The mutations themselves live by topic: `mutations_flows` (tenants, projects, flows,
flow groups), `mutations_runs` (flow and task runs, states, logs, the agent queue) and
`mutations_agents` (agents, agent configs, artifacts, cloud hooks, messages).

The api modules are looked up when a resolver runs, never at import time: the schema is built
from this package alone, and the api layer never depends on GraphQL.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLBoolean,
    GraphQLField,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLString,
)

from prefect.server.errors import ServerError
from prefect.server.graphql.scalars import UUID

__all__ = [
    "Resolver",
    "api",
    "id_payload",
    "input_object",
    "json_value",
    "mutation",
    "success",
    "success_payload",
]

Context = dict[str, Any]
Resolver = Callable[[Context, dict[str, Any]], Awaitable[Any]]


def api(name: str) -> Any:
    """The module `prefect.server.api.<name>` (imported on first use, then from `sys.modules`)."""
    module = sys.modules.get(f"prefect.server.api.{name}")
    if module is None:
        module = importlib.import_module(f"prefect.server.api.{name}")
    return module


def input_object(name: str, fields: Mapping[str, Any]) -> GraphQLInputObjectType:
    """An input object type whose fields have no defaults (absent keys stay absent)."""
    input_fields: dict[str, GraphQLInputField] = {
        key: GraphQLInputField(type_) for key, type_ in fields.items()
    }
    return GraphQLInputObjectType(name, input_fields)


def mutation(
    input_type: GraphQLInputObjectType,
    payload: GraphQLOutputType,
    resolve: Resolver,
    description: str | None = None,
) -> GraphQLField:
    """A mutation field `name(input: <input_type>!): payload` answered by `resolve(context, input)`."""

    async def _resolve(_root: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> Any:
        return await resolve(info.context, input)

    return GraphQLField(
        payload,
        args={"input": GraphQLArgument(GraphQLNonNull(input_type))},
        resolve=_resolve,
        description=description or resolve.__doc__,
    )


def json_value(value: Any, field: str) -> Any:
    """A JSON input that may also arrive as JSON text (the Python service accepted both)."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise ServerError(f"Invalid JSON in `{field}`: expected a JSON object") from None
    return value


success_payload = GraphQLObjectType(
    "success_payload",
    {"success": GraphQLField(GraphQLBoolean), "error": GraphQLField(GraphQLString)},
)


def success(value: Any) -> dict[str, Any]:
    """The `success_payload` of an api call's boolean answer."""
    return {"success": bool(value), "error": None}


def _id_payload(name: str) -> GraphQLObjectType:
    return GraphQLObjectType(name, {"id": GraphQLField(UUID)})


id_payload: dict[str, GraphQLObjectType] = {
    name: _id_payload(f"{name}_id_payload")
    for name in (
        "flow",
        "flow_run",
        "task_run",
        "project",
        "tenant",
        "agent",
        "agent_config",
        "task_run_artifact",
        "cloud_hook",
    )
}
