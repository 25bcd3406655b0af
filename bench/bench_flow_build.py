"""How long building flows takes: the functional API, mapping, and the topological sort.

Run with ``make bench`` (``pytest bench/ --benchmark-only``). Targets are in ``bench/README.md``.
Heavy cases use ``benchmark.pedantic`` with few rounds so the whole file stays near a minute.
"""

from __future__ import annotations

from typing import Any

from prefect import Flow, Task, task

CHAIN_LENGTH = 1_000
MAP_WIDTH = 10_000
SORT_SIZE = 2_000


@task
def increment(x: int) -> int:
    return x + 1


def build_chain(length: int) -> Flow:
    with Flow("chain") as flow:
        value: Any = increment(0)
        for _ in range(length - 1):
            value = increment(value)
    return flow


def build_map(width: int) -> Flow:
    with Flow("map") as flow:
        increment.map(list(range(width)))
    return flow


def build_wide_dag(size: int) -> Flow:
    """A DAG with chains and fan-ins: task i depends on i - 1 and on i // 2 (deterministic)."""
    flow = Flow("dag")
    tasks = [Task(name=f"t{i}") for i in range(size)]
    for task_ in tasks:
        flow.add_task(task_)
    for i in range(1, size):
        flow.add_edge(tasks[i - 1], tasks[i])
        if i // 2 != i - 1:
            flow.add_edge(tasks[i // 2], tasks[i])
    return flow


def test_build_chain_of_1000_task_calls_in_flow_context(benchmark: Any) -> None:
    flow = benchmark.pedantic(build_chain, args=(CHAIN_LENGTH,), rounds=5, iterations=1)
    assert len(flow.tasks) == CHAIN_LENGTH


def test_build_map_over_10000_element_list(benchmark: Any) -> None:
    flow = benchmark.pedantic(build_map, args=(MAP_WIDTH,), rounds=10, iterations=1)
    assert any(edge.mapped for edge in flow.edges)


def test_sorted_tasks_of_2000_task_flow(benchmark: Any) -> None:
    # A fresh flow each round: Flow caches its sort until the graph changes.
    result = benchmark.pedantic(
        lambda flow: flow.sorted_tasks(),
        setup=lambda: ((build_wide_dag(SORT_SIZE),), {}),
        rounds=10,
        iterations=1,
    )
    assert len(result) == SORT_SIZE
