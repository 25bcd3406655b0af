"""Schema of flows: the JSON `Flow.serialize` gives and `Flow.register` sends to the backend.

A flow dumps its name and class, its schedule, parameters, tasks, edges and explicitly chosen
reference tasks, its run config and its storage (no executor, result or environment: the
backend never runs user code). Parameters, tasks and edges are listed sorted by slug, so the
same flow always gives the same JSON, and each task is named by the slug the flow gave it.

Loading gives a `Flow` of placeholder tasks (`Parameter`s for the parameters) with the stored
slugs and settings, joined by the stored edges: the flow's shape, not its code.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import fields, post_load

from prefect.core.edge import Edge
from prefect.core.flow import Flow
from prefect.core.parameter import Parameter
from prefect.core.task import Task
from prefect.serialization.edge import EdgeSchema
from prefect.serialization.task import (
    ParameterSchema,
    TaskSchema,
    _dumping,
    _qualified_type,
    _task_cache_scope,
)
from prefect.utilities.serialization import Nested, ObjectSchema

__all__ = ["FlowSchema", "get_edges", "get_parameters", "get_reference_tasks", "get_tasks"]


def _slug(flow: Flow, task: Task) -> str:
    return flow.slugs.get(task) or task.slug or ""


def get_parameters(obj: Any, context: dict) -> Any:
    """The flow's parameters, sorted by slug (a mapping's own ``parameters``).

    Args:
        obj: the flow being dumped.
        context: the schema context (unused).

    Returns:
        the parameters to serialize.
    """
    if not isinstance(obj, Flow):
        return obj.get("parameters") if isinstance(obj, Mapping) else None
    return sorted(obj.parameters(), key=lambda p: _slug(obj, p))


def get_tasks(obj: Any, context: dict) -> Any:
    """The flow's tasks (parameters included), sorted by slug (a mapping's own ``tasks``).

    Args:
        obj: the flow being dumped.
        context: the schema context (unused).

    Returns:
        the tasks to serialize.
    """
    if not isinstance(obj, Flow):
        return obj.get("tasks") if isinstance(obj, Mapping) else None
    return sorted(obj.tasks, key=lambda t: _slug(obj, t))


def get_edges(obj: Any, context: dict) -> Any:
    """The flow's edges, sorted by upstream slug, downstream slug and key (a mapping's own
    ``edges``).

    Args:
        obj: the flow being dumped.
        context: the schema context (unused).

    Returns:
        the edges to serialize.
    """
    if not isinstance(obj, Flow):
        return obj.get("edges") if isinstance(obj, Mapping) else None

    def order(edge: Edge) -> tuple[str, str, str]:
        return (_slug(obj, edge.upstream_task), _slug(obj, edge.downstream_task), edge.key or "")

    return sorted(obj.edges, key=order)


def get_reference_tasks(obj: Any, context: dict) -> Any:
    """The reference tasks chosen with `set_reference_tasks`, sorted by slug (empty when the
    flow uses its terminal tasks; a mapping's own ``reference_tasks``).

    Args:
        obj: the flow being dumped.
        context: the schema context (unused).

    Returns:
        the tasks to serialize (by slug).
    """
    if not isinstance(obj, Flow):
        return obj.get("reference_tasks") if isinstance(obj, Mapping) else None
    return sorted(obj._reference_tasks, key=lambda t: _slug(obj, t))


def _schedule_schema() -> Any:
    from prefect.serialization.schedule import ScheduleSchema

    return ScheduleSchema


def _run_config_schema() -> Any:
    from prefect.serialization.run_config import RunConfigSchema

    return RunConfigSchema


def _storage_schema() -> Any:
    from prefect.serialization.storage import StorageSchema

    return StorageSchema


class FlowSchema(ObjectSchema):
    """A flow; loads as a `Flow` of placeholder tasks with the stored slugs and edges."""

    class Meta:
        object_class = Flow
        exclude_fields = ["type", "parameters"]

    # Loading follows this order: parameters and tasks are built before the edges and
    # reference tasks that name them by slug.
    type = fields.Function(_qualified_type, lambda name: name)
    name = fields.String(required=True)
    schedule = Nested(lambda: _schedule_schema()(), allow_none=True)
    parameters = Nested(
        ParameterSchema, value_selection_fn=get_parameters, many=True, allow_none=True
    )
    tasks = Nested(TaskSchema, value_selection_fn=get_tasks, many=True, allow_none=True)
    edges = Nested(EdgeSchema, value_selection_fn=get_edges, many=True, allow_none=True)
    reference_tasks = Nested(
        TaskSchema,
        value_selection_fn=get_reference_tasks,
        many=True,
        only=["slug"],
        allow_none=True,
    )
    run_config = Nested(lambda: _run_config_schema()(), allow_none=True)
    storage = Nested(lambda: _storage_schema()(), allow_none=True)

    def _serialize(self, obj: Any, *, many: bool = False) -> Any:
        if not many and isinstance(obj, Flow):
            with _dumping(obj):
                return super()._serialize(obj, many=False)
        return super()._serialize(obj, many=many)

    def load(  # type: ignore[override]
        self, data: Any, *, create_object: bool = True, **kwargs: Any
    ) -> Any:
        """Load a flow; its edges and reference tasks are joined to its loaded tasks by slug.

        Args:
            data: the serialized flow.
            create_object: when false, return the validated dict.
            **kwargs: passed to `marshmallow.Schema.load`.

        Returns:
            the flow (or dict).
        """
        with _task_cache_scope(create_object) as create:
            return super().load(data, create_object=create, **kwargs)

    @post_load
    def create_object(self, data: dict, **kwargs: Any) -> Any:
        """Build the flow from its loaded parts, without re-checking edges against the
        placeholder tasks' `run` signatures.

        Args:
            data: the loaded fields.
            **kwargs: marshmallow's hook arguments.

        Returns:
            the flow (or ``data`` when no object is to be built).
        """
        if not self._create_object:
            return data
        parameters = data.get("parameters") or []
        tasks = list(data.get("tasks") or [])
        # Parameters are among the tasks already (the same objects); a payload listing them
        # only under "parameters" still gives a flow that has them.
        known = {id(t) for t in tasks}
        tasks.extend(p for p in parameters if isinstance(p, Parameter) and id(p) not in known)
        flow = super().create_object(
            {
                **data,
                "tasks": tasks,
                "edges": data.get("edges") or [],
                "reference_tasks": data.get("reference_tasks") or [],
                "validate": False,
            },
            **kwargs,
        )
        if data.get("type") is not None:
            flow.__dict__["_serialized_type"] = data["type"]
        return flow
