"""The query root fields of the Python schema that are not tables (protocol §3.1, §1.6).

`hello` is the client's liveness probe; `api` and `reference_data` describe the server to the UI;
`get_task_run_info` and `mapped_children` read one task run through `prefect.server.api.runs`.
"""

from __future__ import annotations

import functools
from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLField,
    GraphQLInt,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLString,
)

import prefect
from prefect.server.graphql.mutations import api
from prefect.server.graphql.scalars import JSON, UUID, DateTime

__all__ = ["HELLO", "api_info", "reference_data", "root_query_fields"]

HELLO = "👋"


def api_info() -> dict[str, Any]:
    """What the `api` field answers: which backend this is and its versions."""
    return {
        "backend": "SERVER",
        "mode": "normal",
        "version": prefect.__version__,
        "core_version": prefect.__version__,
        "release_timestamp": None,
    }


@functools.lru_cache(maxsize=1)
def reference_data() -> dict[str, Any]:
    """State names with their descendants (`state_hierarchy`) and colors (`state_info`)."""
    from prefect.engine import state as state_module

    classes = [
        value
        for name, value in vars(state_module).items()
        if isinstance(value, type)
        and issubclass(value, state_module.State)
        and value is not state_module.State
        and not name.startswith("_")
        and value.__module__ == state_module.__name__
    ]
    hierarchy = {
        cls.__name__: [cls.__name__]
        + sorted(other.__name__ for other in classes if other is not cls and issubclass(other, cls))
        for cls in classes
    }
    info = {cls.__name__: {"color": cls.color} for cls in classes}
    return {"state_hierarchy": hierarchy, "state_info": info}


async def _resolve_get_task_run_info(_root: Any, info: GraphQLResolveInfo, task_run_id: str) -> Any:
    return await api("runs").get_task_run_info(info.context["db"], task_run_id)


async def _resolve_mapped_children(_root: Any, info: GraphQLResolveInfo, task_run_id: str) -> Any:
    return await api("runs").mapped_children(info.context["db"], task_run_id)


def root_query_fields() -> dict[str, GraphQLField]:
    """The non-table query fields, by name."""
    task_run_id = {"task_run_id": GraphQLArgument(GraphQLNonNull(UUID))}
    return {
        "hello": GraphQLField(
            GraphQLNonNull(GraphQLString),
            resolve=lambda _root, _info: HELLO,
            description="A greeting: proves the server answers.",
        ),
        "api": GraphQLField(
            GraphQLObjectType(
                "api_info",
                {
                    "backend": GraphQLField(GraphQLString),
                    "mode": GraphQLField(GraphQLString),
                    "version": GraphQLField(GraphQLString),
                    "core_version": GraphQLField(GraphQLString),
                    "release_timestamp": GraphQLField(GraphQLString),
                },
            ),
            resolve=lambda _root, _info: api_info(),
            description="Which backend this is, and its versions.",
        ),
        "reference_data": GraphQLField(
            GraphQLObjectType(
                "reference_data",
                {
                    "state_hierarchy": GraphQLField(GraphQLNonNull(JSON)),
                    "state_info": GraphQLField(GraphQLNonNull(JSON)),
                },
            ),
            resolve=lambda _root, _info: reference_data(),
            description="State names with their descendants and colors (for the UI).",
        ),
        "get_task_run_info": GraphQLField(
            GraphQLObjectType(
                "task_run_info_payload",
                {
                    "id": GraphQLField(UUID),
                    "version": GraphQLField(GraphQLInt),
                    "serialized_state": GraphQLField(JSON),
                    "state": GraphQLField(GraphQLString),
                },
            ),
            args=task_run_id,
            resolve=_resolve_get_task_run_info,
            description="Id, version and state of a task run.",
        ),
        "mapped_children": GraphQLField(
            GraphQLObjectType(
                "mapped_children_payload",
                {
                    "min_start_time": GraphQLField(DateTime),
                    "max_end_time": GraphQLField(DateTime),
                    "state_counts": GraphQLField(JSON),
                },
            ),
            args=task_run_id,
            resolve=_resolve_mapped_children,
            description="Start, end and state counts of a mapped task run's children.",
        ),
    }
