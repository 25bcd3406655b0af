"""`FlowRunView` (a read-only view of a flow run), its logs, and watching a run until it ends.

Queries sent (`server-protocol.md` section 4.4): the run itself as ``flow_run(where: {id: {_eq:
ID}}) { id name flow_id serialized_state states { timestamp serialized_state } labels
parameters context updated run_config }``; its logs through the same root with a ``logs(...)``
selection; its task runs through `TaskRunView` queries; the agents (for the "no agent picked up
your run" warning) as ``agent { last_queried labels name id }``.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Dict, Iterable, Iterator, List, NamedTuple, Optional, Set

from prefect.backend._query import parse_datetime, plain, query_rows
from prefect.backend.task_run import TaskRunView
from prefect.utilities.graphql import EnumValue, with_args
from prefect.utilities.logging import get_logger

if TYPE_CHECKING:
    import pendulum

    from prefect.backend.flow import FlowView
    from prefect.engine.state import State
    from prefect.run_configs import RunConfig

__all__ = [
    "FlowRunLog",
    "FlowRunView",
    "check_for_compatible_agents",
    "stream_flow_run_logs",
    "watch_flow_run",
]

logger = get_logger("backend.flow_run")

# `get_all_task_runs` loads every task run in one answer; past this many it refuses.
MAX_TASK_RUNS_LOADED_AT_ONCE = 1000

# `watch_flow_run` polls every `_POLL_MIN` seconds at first, doubling up to `_POLL_MAX`.
_POLL_MIN = 2.0
_POLL_MAX = 10.0
# After this many seconds without an agent taking the run, warn (and again every
# `_AGENT_WARNING_REPEAT` seconds).
_AGENT_WARNING_AFTER = 15.0
_AGENT_WARNING_REPEAT = 300.0

_FLOW_RUN_SELECTION = {
    "id": True,
    "name": True,
    "flow_id": True,
    "serialized_state": True,
    "states": {"timestamp": True, "serialized_state": True},
    "labels": True,
    "parameters": True,
    "context": True,
    "updated": True,
    "run_config": True,
}


class FlowRunLog(NamedTuple):
    """One log line of a flow run (or a state change reported as one)."""

    timestamp: pendulum.DateTime
    level: int
    message: str

    @classmethod
    def from_dict(cls, data: dict) -> FlowRunLog:
        """A log from a ``{timestamp, level, message}`` row; the level name becomes its
        `logging` number (``"INFO"`` -> 20)."""
        level = data["level"]
        if isinstance(level, str):
            number = logging.getLevelName(level.upper())
            level = number if isinstance(number, int) else logging.INFO
        return cls(parse_datetime(data["timestamp"]), level, data["message"])


def _give_init_signature(cls: type) -> None:
    """Make `inspect.signature(cls.__init__)` name the tuple's fields, as documented.

    A `NamedTuple` is built by ``__new__``; its inherited ``__init__`` reads
    ``(self, /, *args, **kwargs)``. This ``__init__`` does nothing but carries the signature.
    """
    import inspect

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        pass

    names = ("self", *cls._fields)  # type: ignore[attr-defined]
    __init__.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD) for name in names]
    )
    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    cls.__init__ = __init__  # type: ignore[misc]


_give_init_signature(FlowRunLog)


def _timestamped_state(data: dict) -> State:
    """A state of the run's history, with the time it was written as `.timestamp`."""
    from prefect.engine.state import State

    state = State.deserialize(plain(data["serialized_state"]))
    state.timestamp = parse_datetime(data["timestamp"])  # type: ignore[attr-defined]
    return state


class FlowRunView:
    """A flow run as the backend knows it; task runs that finished are cached.

    Args:
        flow_run_id: the flow run's id.
        name: its name.
        flow_id: the flow it runs.
        labels: its labels.
        parameters: its parameter values.
        context: its context.
        state: its current state.
        states: its state history, oldest first; each carries `.timestamp`.
        updated_at: when the backend last changed the run.
        run_config: its run config (may be ``None``).
        task_runs: task runs already known (finished ones are cached).
    """

    def __init__(
        self,
        flow_run_id: str,
        name: str,
        flow_id: str,
        labels: List[str],
        parameters: dict,
        context: dict,
        state: State,
        states: List[Any],
        updated_at: pendulum.DateTime,
        run_config: RunConfig,
        task_runs: Optional[Iterable[TaskRunView]] = None,
    ) -> None:
        self.flow_run_id = flow_run_id
        self.name = name
        self.flow_id = flow_id
        self.state = state
        self.labels = labels
        self.parameters = parameters
        self.context = context
        self.updated_at = updated_at
        self.states = states
        self.run_config = run_config
        # Cached once the run is finished: no new task runs can appear after that.
        self._task_run_ids: Optional[List[str]] = None
        self._task_runs: Dict[str, TaskRunView] = {}
        self._task_slug_to_task_run_ids: Dict[str, Set[str]] = defaultdict(set)
        self._flow: Optional[FlowView] = None
        for task_run in task_runs or ():
            self._cache_task_run_if_finished(task_run)

    def _cache_task_run_if_finished(self, task_run: TaskRunView) -> None:
        # A finished task run cannot change any more, so it is safe to keep.
        if task_run.state.is_finished():
            self._task_runs[task_run.task_run_id] = task_run
            self._task_slug_to_task_run_ids[task_run.task_slug].add(task_run.task_run_id)

    # --- lookups -----------------------------------------------------------------------------

    def get_latest(self, load_static_tasks: bool = False) -> FlowRunView:
        """A new view of this run, queried now; cached finished task runs are kept.

        Args:
            load_static_tasks: also load the run's unmapped task runs.
        """
        return self.from_flow_run_id(
            flow_run_id=self.flow_run_id,
            load_static_tasks=load_static_tasks,
            _cached_task_runs=self._task_runs.values(),
        )

    @classmethod
    def from_flow_run_id(
        cls,
        flow_run_id: str,
        load_static_tasks: bool = False,
        _cached_task_runs: Optional[Iterable[TaskRunView]] = None,
    ) -> FlowRunView:
        """Look a flow run up by id.

        Args:
            flow_run_id: the flow run's id.
            load_static_tasks: also load its unmapped task runs (one more query).
            _cached_task_runs: task runs already loaded, not queried again.

        Raises:
            ValueError: no flow run has that id.
        """
        flow_run_data = cls._query_for_flow_run(where={"id": {"_eq": flow_run_id}})
        task_runs = list(_cached_task_runs or ())
        if load_static_tasks:
            rows = TaskRunView._query_for_task_runs(
                where={
                    "map_index": {"_eq": -1},
                    "flow_run_id": {"_eq": flow_run_id},
                    "id": {"_nin": [task_run.task_run_id for task_run in task_runs]},
                },
                error_on_empty=False,
            )
            task_runs.extend(TaskRunView._from_task_run_data(row) for row in rows)
        return cls._from_flow_run_data(flow_run_data, task_runs=task_runs)

    @classmethod
    def _from_flow_run_data(
        cls, flow_run_data: dict, task_runs: Optional[Iterable[TaskRunView]] = None
    ) -> FlowRunView:
        from prefect.engine.state import Pending, State

        data = plain(flow_run_data)
        serialized_state = data.get("serialized_state")
        state = State.deserialize(serialized_state) if serialized_state else Pending()
        run_config = data.get("run_config")
        if run_config is not None:
            from prefect.serialization.run_config import RunConfigSchema

            run_config = RunConfigSchema().load(run_config)
        states = sorted(
            (_timestamped_state(row) for row in data.get("states") or []),
            key=lambda s: s.timestamp,  # type: ignore[attr-defined]
        )
        return cls(
            flow_run_id=data["id"],
            name=data.get("name"),  # type: ignore[arg-type]
            flow_id=data.get("flow_id"),  # type: ignore[arg-type]
            labels=list(data.get("labels") or []),
            parameters=data.get("parameters") or {},
            context=data.get("context") or {},
            state=state,
            states=states,
            updated_at=parse_datetime(data.get("updated")),
            run_config=run_config,  # type: ignore[arg-type]
            task_runs=task_runs,
        )

    @staticmethod
    def _query_for_flow_run(where: dict) -> dict:
        query = {"query": {with_args("flow_run", {"where": where}): _FLOW_RUN_SELECTION}}
        flow_runs = query_rows(query, "flow_run")
        if flow_runs is None:
            raise ValueError(f"The backend gave no flow run list for the query where {where!r}.")
        if not flow_runs:
            raise ValueError(f"No flow run found where {where!r}.")
        if len(flow_runs) > 1:
            raise ValueError(
                f"Found {len(flow_runs)} flow runs where {where!r}; expected exactly one."
            )
        return flow_runs[0]

    def get_flow_metadata(self, no_cache: bool = False) -> FlowView:
        """The `FlowView` of the flow this run runs (looked up once, then cached).

        Args:
            no_cache: query again even when cached.
        """
        if self._flow is None or no_cache:
            from prefect.backend.flow import FlowView

            self._flow = FlowView.from_flow_id(self.flow_id)
        return self._flow

    def get_logs(
        self,
        start_time: Optional[pendulum.DateTime] = None,
        end_time: Optional[pendulum.DateTime] = None,
    ) -> List[FlowRunLog]:
        """The run's logs, oldest first, written after ``start_time`` and up to ``end_time``.

        Args:
            start_time: only logs strictly after this time (default: all).
            end_time: only logs at or before this time (default: when the view was taken,
                `updated_at`).
        """
        end = end_time or self.updated_at
        bounds: list[dict] = [
            {"timestamp": {"_lte": end.isoformat()}},
            {"timestamp": {"_gt": start_time.isoformat()}} if start_time else {},
        ]
        logs_field = with_args(
            "logs", {"order_by": {"timestamp": EnumValue("asc")}, "where": {"_and": bounds}}
        )
        query = {
            "query": {
                with_args("flow_run", {"where": {"id": {"_eq": self.flow_run_id}}}): {
                    logs_field: {"timestamp": True, "message": True, "level": True}
                }
            }
        }
        flow_runs = query_rows(query, "flow_run") or [{}]
        return [FlowRunLog.from_dict(row) for row in flow_runs[0].get("logs") or []]

    def get_task_run(
        self,
        task_slug: Optional[str] = None,
        task_run_id: Optional[str] = None,
        map_index: Optional[int] = None,
    ) -> TaskRunView:
        """One task run of this flow run, by id or by task slug (and map index).

        Args:
            task_slug: the task's slug.
            task_run_id: the task run's id (wins over ``task_slug``).
            map_index: the mapped child's index (default ``-1``: the task run itself).

        Raises:
            ValueError: neither ``task_slug`` nor ``task_run_id`` was given, the task run
                belongs to another flow run, or it does not exist.
        """
        if task_run_id is not None:
            cached = self._task_runs.get(task_run_id)
            if cached is not None:
                return cached
            task_run = TaskRunView.from_task_run_id(task_run_id)
            if task_run.flow_run_id != self.flow_run_id:
                raise ValueError(
                    f"Task run {task_run_id!r} belongs to flow run {task_run.flow_run_id!r}, "
                    f"not to this flow run ({self.flow_run_id!r})."
                )
        elif task_slug is not None:
            index = -1 if map_index is None else map_index
            for cached_id in self._task_slug_to_task_run_ids.get(task_slug, ()):
                cached = self._task_runs[cached_id]
                if cached.map_index == index:
                    return cached
            task_run = TaskRunView.from_task_slug(
                task_slug=task_slug, flow_run_id=self.flow_run_id, map_index=index
            )
        else:
            raise ValueError("Pass a `task_slug` or a `task_run_id` to choose the task run to get.")
        self._cache_task_run_if_finished(task_run)
        return task_run

    def get_all_task_runs(self) -> List[TaskRunView]:
        """Every task run of this flow run (mapped children included), in one query.

        Raises:
            ValueError: the run has more than 1000 task runs; get them one by one.
        """
        count = len(self.get_task_run_ids())
        if count > MAX_TASK_RUNS_LOADED_AT_ONCE:
            raise ValueError(
                f"Refusing to load all {count} task runs of flow run {self.flow_run_id!r} at "
                f"once (the limit is {MAX_TASK_RUNS_LOADED_AT_ONCE}); load the ones you need "
                "with `get_task_run`."
            )
        rows = TaskRunView._query_for_task_runs(
            where={
                "flow_run_id": {"_eq": self.flow_run_id},
                "id": {"_nin": list(self._task_runs)},
            },
            error_on_empty=False,
        )
        loaded = [TaskRunView._from_task_run_data(row) for row in rows]
        for task_run in loaded:
            self._cache_task_run_if_finished(task_run)
        loaded_ids = {task_run.task_run_id for task_run in loaded}
        return loaded + [tr for tid, tr in self._task_runs.items() if tid not in loaded_ids]

    def get_task_run_ids(self) -> List[str]:
        """The ids of every task run of this flow run (cached once the run is finished)."""
        if self._task_run_ids is not None:
            return self._task_run_ids
        query = {
            "query": {
                with_args("task_run", {"where": {"flow_run_id": {"_eq": self.flow_run_id}}}): {
                    "id": True
                }
            }
        }
        rows = query_rows(query, "task_run")
        if rows is None:
            logger.warning("Failed to load the task run ids of flow run %s.", self.flow_run_id)
            return []
        task_run_ids = [row["id"] for row in rows]
        if self.state.is_finished():
            self._task_run_ids = task_run_ids
        return task_run_ids

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(flow_run_id={self.flow_run_id!r}, name={self.name!r}, "
            f"state={self.state!r}, labels={self.labels!r}, parameters={self.parameters!r}, "
            f"context={self.context!r}, updated_at={self.updated_at!r}, "
            f"cached_task_runs={len(self._task_runs)})"
        )


# --- watching -------------------------------------------------------------------------------


def _now() -> pendulum.DateTime:
    import pendulum

    return pendulum.now("UTC")


def watch_flow_run(
    flow_run_id: str,
    stream_states: bool = True,
    stream_logs: bool = True,
    max_duration: timedelta = timedelta(hours=12),
) -> Iterator[FlowRunLog]:
    """Follow a flow run until it finishes, yielding its state changes and logs as they come.

    The run is polled every 2 s at first, backing off to every 10 s. When an agent has not
    taken the run 15 s after the watch started (it is still scheduled), a warning says which
    agents could run it (`check_for_compatible_agents`), repeated every 5 minutes.

    Args:
        flow_run_id: the flow run.
        stream_states: yield a log for each new state (``Entered state <Running>: ...``).
        stream_logs: yield the run's logs.
        max_duration: give up after this long.

    Yields:
        `FlowRunLog` items, in time order within each poll.

    Raises:
        RuntimeError: the run did not finish within ``max_duration``.
    """
    flow_run = FlowRunView.from_flow_run_id(flow_run_id)
    last_state_time: Any = None
    last_log_time: Any = None
    started = time.monotonic()
    next_agent_warning = _AGENT_WARNING_AFTER
    poll_interval = _POLL_MIN

    while True:
        if stream_states:
            for state in flow_run.states:
                timestamp = state.timestamp  # type: ignore[attr-defined]
                if last_state_time is None or timestamp > last_state_time:
                    last_state_time = timestamp
                    yield FlowRunLog(
                        timestamp=timestamp,
                        level=logging.INFO,
                        message=f"Entered state <{type(state).__name__}>: {state.message}",
                    )
        if stream_logs:
            # Up to now, not to the view's `updated_at`: a run busy in one long task changes no
            # state, and its logs must still show up while it works.
            logs = flow_run.get_logs(start_time=last_log_time, end_time=_now())
            if logs:
                last_log_time = logs[-1].timestamp
                yield from logs
        if flow_run.state.is_finished():
            return

        elapsed = time.monotonic() - started
        if elapsed >= next_agent_warning and flow_run.state.is_scheduled():
            next_agent_warning += _AGENT_WARNING_REPEAT
            agent_message = check_for_compatible_agents(flow_run.labels)
            yield FlowRunLog(
                timestamp=_now(),
                level=logging.WARNING,
                message=(
                    f"It has been {round(elapsed)} seconds and your flow run has not been "
                    f"submitted by an agent. {agent_message}"
                ),
            )
        if elapsed > max_duration.total_seconds():
            raise RuntimeError(
                f"`watch_flow_run` timed out after {max_duration.total_seconds() / 3600:g} "
                f"hours of waiting for flow run {flow_run_id!r} to finish; it is still "
                f"{flow_run.state!r}."
            )
        time.sleep(poll_interval)
        poll_interval = min(poll_interval * 2, _POLL_MAX)
        flow_run = flow_run.get_latest()


def stream_flow_run_logs(flow_run_id: str, max_duration: timedelta = timedelta(hours=12)) -> None:
    """Print a flow run's state changes and logs (``HH:MM:SS | LEVEL   | message``, local
    time) until it finishes.

    Args:
        flow_run_id: the flow run.
        max_duration: give up after this long.
    """
    for log in watch_flow_run(flow_run_id, max_duration=max_duration):
        level_name = logging.getLevelName(log.level)
        timestamp = log.timestamp.astimezone()
        # `print`, not a logger: a logger would add a second timestamp.
        print(f"{timestamp:%H:%M:%S} | {level_name:<7} | {log.message}")


def check_for_compatible_agents(labels: Iterable[str], since_minutes: int = 1) -> str:
    """Say whether an agent that could run a flow run with ``labels`` is around.

    An agent can run it when the run's labels are a subset of the agent's (an agent without
    labels runs only runs without labels); it is healthy when it asked for work within
    ``since_minutes``.

    Args:
        labels: the flow run's labels.
        since_minutes: how recently an agent must have asked for work to count as healthy.

    Returns:
        a sentence for the user.
    """
    wanted = set(labels)
    labels_blurb = f"labels {sorted(wanted)!r}" if wanted else "empty labels"
    agents = query_rows({"query": {"agent": ("last_queried", "labels", "name", "id")}}, "agent")
    if agents is None:
        raise ValueError("The backend gave no agent list for the agent query.")

    since = _now().subtract(minutes=since_minutes)
    seen = []
    for agent in agents:
        last_queried = parse_datetime(agent.get("last_queried"))
        if last_queried is not None:
            seen.append((agent, last_queried))
    healthy = [(agent, queried) for agent, queried in seen if queried >= since]

    def matches(agent: dict) -> bool:
        agent_labels = set(agent.get("labels") or [])
        if not wanted:
            return not agent_labels
        return wanted <= agent_labels

    matching_healthy = [(a, q) for a, q in healthy if matches(a)]
    matching_unhealthy = [(a, q) for a, q in seen if q < since and matches(a)]

    def describe(agent: dict) -> str:
        name = f" ({agent['name']})" if agent.get("name") else ""
        return f"Agent {agent['id']}{name}"

    if len(matching_healthy) == 1:
        agent, queried = matching_healthy[0]
        return (
            f"{describe(agent)} has matching labels and last queried "
            f"{queried.diff_for_humans()}. It should deploy your flow run."
        )
    if matching_healthy:
        return (
            f"Found {len(matching_healthy)} healthy agents with matching labels. One of them "
            "should pick up your flow."
        )
    if not healthy and not matching_unhealthy:
        return (
            "There are no healthy agents in your tenant and it does not look like an agent "
            f"with the required labels has been run recently. Start an agent with "
            f"{labels_blurb} to run your flow."
        )
    if len(matching_unhealthy) == 1:
        agent, queried = matching_unhealthy[0]
        return (
            f"{describe(agent)} has matching labels and last queried "
            f"{queried.diff_for_humans()}. Since it hasn't queried recently, it looks "
            f"unhealthy. Restart it or start a new agent with {labels_blurb} to deploy your "
            "flow run."
        )
    if matching_unhealthy:
        return (
            f"Found {len(matching_unhealthy)} agents with matching labels but they have not "
            "queried recently and look unhealthy. Restart one of them or start a new agent "
            f"with {labels_blurb} to deploy your flow run."
        )
    return (
        f"You have {len(healthy)} healthy agents in your tenant but do not have an agent with "
        f"{labels_blurb}. Start an agent with matching labels to deploy your flow run."
    )
