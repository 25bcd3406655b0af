"""How a task run sees its upstream states: a mapped upstream task feeding it whole (not
mapped over) counts each of its children."""

from __future__ import annotations

from collections.abc import Iterable
from operator import methodcaller
from typing import TYPE_CHECKING, Any

from prefect.core.edge import Edge
from prefect.engine.state import Mapped, State

if TYPE_CHECKING:
    from prefect.core import Task

# `all(map(_IS_X, states))` calls each state's predicate without a generator per check.
IS_FINISHED = methodcaller("is_finished")
IS_SKIPPED = methodcaller("is_skipped")


def any_mapped(states: Iterable[State]) -> bool:
    for state in states:  # a loop rather than `any(...)`: no generator per call
        if isinstance(state, Mapped):
            return True
    return False


def upstream_state_set(upstream_states: dict[Edge, State]) -> Any:
    """The upstream states a step looks at: a non-mapped edge from a mapped task counts each of
    its children. (A collection to look through, duplicates included.)"""
    if not any_mapped(upstream_states.values()):
        return upstream_states.values()  # the common case: nothing to expand
    states: list[State] = []
    for edge, upstream_state in upstream_states.items():
        if not edge.mapped and isinstance(upstream_state, Mapped):
            states.extend(upstream_state.map_states)
        else:
            states.append(upstream_state)
    return states


class ChildEdge(Edge):
    """The edge to one child of a mapped upstream task, as a trigger sees it: like its
    parent's edge, but distinct per child."""

    __slots__ = ("map_index", "_hash")

    def __init__(self, edge: Edge, map_index: int, edge_hash: int | None = None) -> None:
        self.upstream_task = edge.upstream_task
        self.downstream_task = edge.downstream_task
        self.key = edge.key
        self.mapped = edge.mapped
        self.flattened = edge.flattened
        self.map_index = map_index
        # Fixed at creation (these edges are never changed): one per child of a mapped
        # upstream task, they are hashed as dict keys for every trigger check.
        self._hash = hash((Edge.__hash__(edge) if edge_hash is None else edge_hash, map_index))

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, ChildEdge)
            and other.map_index == self.map_index
            and Edge.__eq__(self, other)
        )

    def __hash__(self) -> int:
        return self._hash


def trigger_states(upstream_states: dict[Edge, State], trigger: Any = None) -> Any:
    """Triggers get `{edge: state}` (as in 1.x); a mapped task feeding this one unmapped counts
    each of its children. Prefect's own triggers look only at the states: they get the states
    themselves (which they also accept), without an edge made per child."""
    if not any_mapped(upstream_states.values()):
        return upstream_states
    if getattr(trigger, "__module__", None) == "prefect.triggers":
        return upstream_state_set(upstream_states)
    states: dict[Edge, State] = {}
    for edge, upstream_state in upstream_states.items():
        if not edge.mapped and isinstance(upstream_state, Mapped):
            edge_hash = hash(edge)
            for index, child in enumerate(upstream_state.map_states):
                states[ChildEdge(edge, index, edge_hash)] = child
        else:
            states[edge] = upstream_state
    return states


def upstream_runs_plainly(task: Task, upstream_states: dict[Edge, State]) -> bool:
    """Whether the upstream checks pass without a change: every upstream state finished, and
    none skipped where that would skip the task."""
    try:
        states = upstream_state_set(upstream_states)
        if not all(map(IS_FINISHED, states)):
            return False
        return not (task.skip_on_upstream_skip and any(map(IS_SKIPPED, states)))
    except Exception:
        return False  # the full path's steps report it
