"""Schema of edges: which task feeds which, under which keyword, mapped or flattened.

Each end is named by its slug only (``{"slug": ..., "__version__": ...}``); the backend
resolves slugs to the task rows of the same flow.
"""

from __future__ import annotations

from typing import Any

from marshmallow import fields

from prefect.core.edge import Edge
from prefect.serialization.task import TaskSchema, _task_cache_scope
from prefect.utilities.serialization import ObjectSchema

__all__ = ["EdgeSchema"]


class EdgeSchema(ObjectSchema):
    """An edge; loads as an `Edge` between the tasks its slugs name (placeholders when the
    tasks were not loaded in the same load)."""

    class Meta:
        object_class = Edge

    upstream_task = fields.Nested(TaskSchema, only=["slug"])
    downstream_task = fields.Nested(TaskSchema, only=["slug"])
    key = fields.String(allow_none=True)
    mapped = fields.Boolean(allow_none=True)
    flattened = fields.Boolean(allow_none=True)

    def load(  # type: ignore[override]
        self, data: Any, *, create_object: bool = True, **kwargs: Any
    ) -> Any:
        """Load an edge; both ends with the same slug are the same task.

        Args:
            data: the serialized edge.
            create_object: when false, return the validated dict.
            **kwargs: passed to `marshmallow.Schema.load`.

        Returns:
            the edge (or dict).
        """
        with _task_cache_scope(create_object) as create:
            return super().load(data, create_object=create, **kwargs)
