"""Edges: the dependencies between tasks, optionally carrying data under a keyword."""

from __future__ import annotations

import keyword
from typing import TYPE_CHECKING, Any

from prefect.utilities.edges import EdgeAnnotation

if TYPE_CHECKING:
    from prefect.core.flow import Flow
    from prefect.core.task import Task

__all__ = ["Edge", "is_valid_identifier"]


def is_valid_identifier(string: str) -> bool:
    """Whether `string` can be used as a Python keyword argument name."""
    return string.isidentifier() and not keyword.iskeyword(string)


class Edge:
    """A dependency of `downstream_task` on `upstream_task`.

    Args:
        upstream_task: the task that runs first (a non-task value becomes a `Constant`)
        downstream_task: the task that runs after it
        key: when given, the upstream result is passed to the downstream task's `run` under this
            keyword
        mapped: whether the downstream task is mapped over the upstream result
        flattened: whether the upstream result is flattened one level first
        flow: the flow used to bind collection tasks made from non-task values

    Raises:
        ValueError: if `key` is not a valid Python identifier
    """

    __slots__ = ("upstream_task", "downstream_task", "key", "mapped", "flattened")

    def __init__(
        self,
        upstream_task: Any,
        downstream_task: Any,
        key: str | None = None,
        mapped: bool | None = None,
        flattened: bool | None = None,
        flow: Flow | None = None,
    ):
        from prefect.utilities.tasks import as_task

        if isinstance(upstream_task, EdgeAnnotation):
            annotations = upstream_task.annotations
            if mapped is None:
                mapped = annotations.get("mapped")
            if flattened is None:
                flattened = annotations.get("flattened")
            upstream_task = upstream_task.value
        if key is not None and not (isinstance(key, str) and is_valid_identifier(key)):
            raise ValueError(
                f"Key must be a valid identifier (received {key!r}): it is passed to the "
                "downstream task's `run` as a keyword argument."
            )
        self.upstream_task: Task = as_task(upstream_task, flow=flow)
        self.downstream_task: Task = as_task(downstream_task, flow=flow)
        self.key = key
        self.mapped = bool(mapped)
        self.flattened = bool(flattened)

    @property
    def tasks(self) -> set[Task]:
        """The upstream and downstream tasks."""
        return {self.upstream_task, self.downstream_task}

    def __repr__(self) -> str:
        return "<Edge{k}: {u} to {d}>".format(
            u=self.upstream_task.name,
            d=self.downstream_task.name,
            k=f" (key={self.key})" if self.key else "",
        )

    def __eq__(self, other: object) -> bool:
        if type(self) is not type(other):
            return False
        assert isinstance(other, Edge)
        return (
            self.upstream_task is other.upstream_task
            and self.downstream_task is other.downstream_task
            and self.key == other.key
            and self.mapped == other.mapped
            and self.flattened == other.flattened
        )

    def __hash__(self) -> int:
        # Tasks hash by identity; equal edges share their ends and key, so this is enough
        # (and edges are hashed for every upstream state of every task run).
        return hash((self.upstream_task, self.downstream_task, self.key))

    def serialize(self) -> dict:
        """The edge as the 1.x JSON (`prefect.serialization.edge.EdgeSchema`)."""
        from prefect.serialization.edge import EdgeSchema

        return EdgeSchema().dump(self)
