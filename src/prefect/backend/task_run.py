"""`TaskRunView`: a read-only view of a task run stored in the backend, with its result.

Views are snapshots: `TaskRunView.get_latest` queries again. Every lookup sends one
``task_run(where: ...)`` query selecting
``id name task { id slug } map_index serialized_state flow_run_id``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator

from prefect.backend._query import plain, query_rows
from prefect.utilities.graphql import EnumValue, with_args
from prefect.utilities.logging import get_logger

if TYPE_CHECKING:
    from prefect.engine.state import State

__all__ = ["NotLoaded", "TaskRunView"]

# A result that was not read yet (a loaded result may itself be `None`).
NotLoaded = object()

logger = get_logger("backend.flow_run")

_TASK_RUN_SELECTION = {
    "id": True,
    "name": True,
    "task": {"id": True, "slug": True},
    "map_index": True,
    "serialized_state": True,
    "flow_run_id": True,
}


class TaskRunView:
    """A task run as the backend knows it.

    Args:
        task_run_id: the task run's id.
        task_id: the id of its task.
        task_slug: the slug of its task (unique in the flow).
        name: the task run's name (may be ``None``).
        state: its current state.
        map_index: its index among mapped children (``-1`` when not a child).
        flow_run_id: the flow run it belongs to.
    """

    def __init__(
        self,
        task_run_id: str,
        task_id: str,
        task_slug: str,
        name: str,
        state: State,
        map_index: int,
        flow_run_id: str,
    ) -> None:
        self.task_run_id = task_run_id
        self.name = name
        self.task_id = task_id
        self.task_slug = task_slug
        self.state = state
        self.map_index = map_index
        self.flow_run_id = flow_run_id
        self._result: Any = NotLoaded

    def get_result(self) -> Any:
        """The task run's result, read from its location the first time it is asked for.

        For a mapped task the result is the list of its children's results, in map order.
        """
        if self._result is NotLoaded:
            self._result = self._load_result()
        return self._result

    def _load_result(self) -> Any:
        if self.state.is_mapped():
            return [child.get_result() for child in self._mapped_children()]
        self.state.load_result()
        return self.state.result

    def _mapped_children(self) -> list[TaskRunView]:
        rows = self._query_for_task_runs(
            where={
                "task": {"slug": {"_eq": self.task_slug}},
                "flow_run_id": {"_eq": self.flow_run_id},
                "map_index": {"_neq": -1},
            },
            order_by={"map_index": EnumValue("asc")},
            error_on_empty=False,
        )
        return [self._from_task_run_data(row) for row in rows]

    def iter_mapped(self) -> Iterator[TaskRunView]:
        """Views of the mapped children, one query per child, in map order.

        Raises:
            TypeError: this task run is not a mapped parent.
        """
        from prefect.engine.state import Mapped

        if not isinstance(self.state, Mapped):
            raise TypeError(
                f"Task run {self.task_run_id!r} ({self.task_slug}) is not a mapped task; "
                f"its state is {self.state!r}."
            )
        for map_index in range(self.state.n_map_states):
            yield self.from_task_slug(
                task_slug=self.task_slug, flow_run_id=self.flow_run_id, map_index=map_index
            )

    @classmethod
    def _from_task_run_data(cls, task_run: dict) -> TaskRunView:
        from prefect.engine.state import Scheduled, State

        task_run = plain(task_run)
        serialized_state = task_run.get("serialized_state")
        # A task run the backend holds no state for yet has not started.
        state = State.deserialize(serialized_state) if serialized_state else Scheduled()
        task = task_run.get("task") or {}
        return cls(
            task_run_id=task_run["id"],
            task_id=task["id"],
            task_slug=task["slug"],
            name=task_run.get("name"),  # type: ignore[arg-type]
            state=state,
            map_index=task_run["map_index"],
            flow_run_id=task_run["flow_run_id"],
        )

    @classmethod
    def from_task_run_id(cls, task_run_id: str | None = None) -> TaskRunView:
        """Look a task run up by id.

        Raises:
            ValueError: no id was given, or no task run has it.
        """
        if not task_run_id:
            raise ValueError("Pass the `task_run_id` of the task run to look up.")
        return cls._from_task_run_data(cls._query_for_task_run(where={"id": {"_eq": task_run_id}}))

    @classmethod
    def from_task_slug(cls, task_slug: str, flow_run_id: str, map_index: int = -1) -> TaskRunView:
        """Look a task run up by its task's slug within a flow run.

        Args:
            task_slug: the task's slug.
            flow_run_id: the flow run.
            map_index: the mapped child's index (``-1``: the task run itself).

        Raises:
            ValueError: no such task run exists.
        """
        return cls._from_task_run_data(
            cls._query_for_task_run(
                where={
                    "task": {"slug": {"_eq": task_slug}},
                    "flow_run_id": {"_eq": flow_run_id},
                    "map_index": {"_eq": map_index},
                }
            )
        )

    def get_latest(self) -> TaskRunView:
        """A new view of this task run, queried now."""
        return self.from_task_run_id(self.task_run_id)

    @staticmethod
    def _query_for_task_run(where: dict, **kwargs: Any) -> dict:
        task_runs = TaskRunView._query_for_task_runs(where=where, **kwargs)
        if len(task_runs) > 1:
            raise ValueError(
                f"Found {len(task_runs)} task runs where {where!r}; expected exactly one."
            )
        return task_runs[0]

    @staticmethod
    def _query_for_task_runs(
        where: dict, order_by: dict | None = None, error_on_empty: bool = True
    ) -> list[dict]:
        arguments: dict[str, Any] = {"where": where}
        if order_by is not None:
            arguments["order_by"] = order_by
        rows = query_rows(
            {"query": {with_args("task_run", arguments): _TASK_RUN_SELECTION}}, "task_run"
        )
        if rows is None:
            raise ValueError(f"The backend gave no task run list for the query where {where!r}.")
        if not rows and error_on_empty:
            raise ValueError(f"No task run found where {where!r}.")
        return rows

    def __eq__(self, other: Any) -> Any:
        if not isinstance(other, TaskRunView):
            return NotImplemented
        return self.task_run_id == other.task_run_id and self.state == other.state

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        result = "<not loaded>" if self._result is NotLoaded else repr(self._result)
        return (
            f"{type(self).__name__}(task_run_id={self.task_run_id!r}, "
            f"task_id={self.task_id!r}, task_slug={self.task_slug!r}, "
            f"map_index={self.map_index!r}, state={self.state!r}, result={result})"
        )
