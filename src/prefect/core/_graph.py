"""Graph algorithms over tasks and edges, shared by `Flow` and the runners."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from prefect.core.edge import Edge
    from prefect.core.task import Task


def edges_by_task(
    tasks: Iterable[Task], edges: Iterable[Edge], downstream: bool
) -> dict[Task, set[Edge]]:
    """Every task's outgoing (`downstream=True`) or incoming edges."""
    index: dict[Task, set[Edge]] = {task: set() for task in tasks}
    for edge in edges:
        task = edge.upstream_task if downstream else edge.downstream_task
        index.setdefault(task, set()).add(edge)
    return index


def reachable_from(roots: Iterable[Task], downstream: Mapping[Task, set[Edge]]) -> set[Task]:
    """The roots and every task downstream of them."""
    seen: set[Task] = set()
    stack = list(roots)
    while stack:
        task = stack.pop()
        if task not in seen:
            seen.add(task)
            stack.extend(edge.downstream_task for edge in downstream.get(task, ()))
    return seen


def topological_sort(
    tasks: set[Task], downstream: Mapping[Task, set[Edge]], order: Mapping[Task, int]
) -> tuple[Task, ...]:
    """`tasks` ordered so each comes after its upstream tasks (Kahn's algorithm).

    Among tasks that are ready together, the one with the lowest `order` comes first, so the
    result is deterministic (flows pass the order in which tasks were added).

    Raises:
        ValueError: when the edges between `tasks` form a cycle; the message names the tasks
            that could not be ordered
    """
    in_order = _sorted_if_already_topological(tasks, downstream, order)
    if in_order is not None:
        return in_order
    fallback = len(order)
    waiting: dict[Task, int] = {}  # task -> number of its incoming edges not yet released
    for task in tasks:
        for edge in downstream.get(task, ()):
            child = edge.downstream_task
            if child in tasks:
                waiting[child] = waiting.get(child, 0) + 1
    ready = [(order.get(t, fallback), id(t), t) for t in tasks if t not in waiting]
    heapq.heapify(ready)
    result: list[Task] = []
    while ready:
        task = heapq.heappop(ready)[2]
        result.append(task)
        for edge in downstream.get(task, ()):
            child = edge.downstream_task
            if child not in waiting:
                continue
            waiting[child] -= 1
            if waiting[child] == 0:
                del waiting[child]
                heapq.heappush(ready, (order.get(child, fallback), id(child), child))
    if waiting:
        raise ValueError(
            "Cycle found; flow could not be sorted. Tasks in or downstream of the cycle: "
            "{}.".format(", ".join(sorted(repr(t) for t in waiting)))
        )
    return tuple(result)


def _sorted_if_already_topological(
    tasks: set[Task], downstream: Mapping[Task, set[Edge]], order: Mapping[Task, int]
) -> tuple[Task, ...] | None:
    """`tasks` by `order`, when every edge between them goes from a lower to a higher order
    (flows built call by call usually are); else `None`.

    Kahn's algorithm, taking the lowest order among ready tasks, gives exactly this order
    then (the lowest remaining task always has its upstream tasks placed already), so this
    check over the edges replaces the heap work.
    """
    if len(order) < len(tasks):
        return None
    try:
        ranked = sorted(tasks, key=order.__getitem__)
    except KeyError:  # a task without an order
        return None
    for task in ranked:
        rank = order[task]
        for edge in downstream.get(task, ()):
            child = edge.downstream_task
            if order.get(child, -1) <= rank and child in tasks:
                return None
    return tuple(ranked)
