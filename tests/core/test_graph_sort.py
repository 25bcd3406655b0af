"""`Flow.sorted_tasks` and its sort (`prefect.core._graph`): upstream first, ties by insertion."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import prefect
from prefect.core import _graph
from prefect.core.edge import Edge


def reference_kahn(
    insertion_order: Sequence[object],
    edges: Iterable[tuple[object, object]],
    subset: set | None = None,
) -> list:
    """Kahn's algorithm taking, among ready tasks, the one inserted first."""
    nodes = [t for t in insertion_order if subset is None or t in subset]
    node_set = set(nodes)
    edge_set = {(u, d) for u, d in edges if u in node_set and d in node_set}
    incoming = {t: sum(1 for _, d in edge_set if d is t) for t in nodes}
    result: list = []
    placed: set = set()
    while len(result) < len(nodes):
        ready = [t for t in nodes if t not in placed and incoming[t] == 0]
        if not ready:
            raise AssertionError("the reference graph has a cycle")
        task = ready[0]
        result.append(task)
        placed.add(task)
        for u, d in edge_set:
            if u is task:
                incoming[d] -= 1
    return result


def downstream_closure(roots: Iterable[object], edges: set[tuple[object, object]]) -> set:
    seen: set = set()
    stack = list(roots)
    while stack:
        task = stack.pop()
        if task not in seen:
            seen.add(task)
            stack.extend(d for u, d in edges if u is task)
    return seen


def assert_upstream_first(order: Sequence[object], edges: Iterable[tuple[object, object]]):
    position = {task: i for i, task in enumerate(order)}
    assert len(position) == len(order)
    for upstream, downstream in edges:
        if upstream in position and downstream in position:
            assert position[upstream] < position[downstream]


@st.composite
def random_dags(draw: st.DrawFn) -> tuple[int, list[tuple[int, int]], list[int]]:
    """`(n, edges, insertion)`: edges go from a lower to a higher topological position (a
    random permutation of the task indexes); tasks are added in the `insertion` order."""
    n = draw(st.integers(min_value=1, max_value=25))
    topological = draw(st.permutations(range(n)))
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    chosen = draw(st.lists(st.booleans(), min_size=len(pairs), max_size=len(pairs)))
    edges = [(topological[i], topological[j]) for (i, j), keep in zip(pairs, chosen) if keep]
    insertion = draw(st.permutations(range(n)))
    return n, edges, list(insertion)


def build_flow(
    n: int, edges: list[tuple[int, int]], insertion: list[int]
) -> tuple[prefect.Flow, list[prefect.Task]]:
    tasks = [prefect.Task(name=f"t{i}") for i in range(n)]
    flow = prefect.Flow("sort")
    for index in insertion:
        flow.add_task(tasks[index])
    for upstream, downstream in edges:
        flow.add_edge(tasks[upstream], tasks[downstream])
    return flow, tasks


def task_edges(tasks: list[prefect.Task], edges: list[tuple[int, int]]) -> set:
    return {(tasks[u], tasks[d]) for u, d in edges}


@settings(deadline=None, max_examples=60)
@given(random_dags())
def test_sorted_tasks_puts_upstream_first_and_matches_reference_kahn(dag):
    n, edges, insertion = dag
    flow, tasks = build_flow(n, edges, insertion)
    order = flow.sorted_tasks()
    assert set(order) == set(tasks)
    assert_upstream_first(order, task_edges(tasks, edges))
    expected = reference_kahn([tasks[i] for i in insertion], task_edges(tasks, edges))
    assert list(order) == expected


@settings(deadline=None, max_examples=40)
@given(random_dags(), st.data())
def test_sorted_tasks_from_roots_matches_reference_kahn_on_the_reachable_tasks(dag, data):
    n, edges, insertion = dag
    flow, tasks = build_flow(n, edges, insertion)
    roots = data.draw(st.lists(st.sampled_from(tasks), min_size=1, max_size=3, unique=True))
    reachable = downstream_closure(roots, task_edges(tasks, edges))
    order = flow.sorted_tasks(root_tasks=roots)
    assert set(order) == reachable
    expected = reference_kahn([tasks[i] for i in insertion], task_edges(tasks, edges), reachable)
    assert list(order) == expected


@settings(deadline=None, max_examples=40)
@given(random_dags(), st.data())
def test_sorted_tasks_after_replace_matches_reference_kahn(dag, data):
    n, edges, insertion = dag
    flow, tasks = build_flow(n, edges, insertion)
    old_index = data.draw(st.integers(min_value=0, max_value=n - 1))
    new = prefect.Task(name="new")
    flow.replace(tasks[old_index], new)
    # The replacement takes the old task's edges and counts as added last.
    tasks[old_index] = new
    expected_insertion = [tasks[i] for i in insertion if i != old_index] + [new]
    order = flow.sorted_tasks()
    assert_upstream_first(order, task_edges(tasks, edges))
    assert list(order) == reference_kahn(expected_insertion, task_edges(tasks, edges))


def test_insertion_order_that_is_already_topological_is_kept_exactly():
    tasks = [prefect.Task(name=f"t{i}") for i in range(8)]
    flow = prefect.Flow("in-order")
    for task in tasks:
        flow.add_task(task)
    for upstream, downstream in [(0, 3), (1, 3), (3, 7), (2, 5), (5, 6), (0, 7), (4, 6)]:
        flow.add_edge(tasks[upstream], tasks[downstream])
    assert flow.sorted_tasks() == tuple(tasks)


def test_already_topological_check_returns_the_order_or_none():
    a, b, c = (prefect.Task(name=n) for n in "abc")
    downstream = _graph.edges_by_task([a, b, c], [Edge(a, c), Edge(b, c)], downstream=True)
    order = {a: 0, b: 1, c: 2}
    assert _graph._sorted_if_already_topological({a, b, c}, downstream, order) == (a, b, c)
    backwards = {a: 0, b: 2, c: 1}  # b -> c goes from a higher to a lower order
    assert _graph._sorted_if_already_topological({a, b, c}, downstream, backwards) is None
    assert _graph.topological_sort({a, b, c}, downstream, backwards) == (a, b, c)
    missing = {a: 0, b: 1}
    assert _graph._sorted_if_already_topological({a, b, c}, downstream, missing) is None
    assert _graph.topological_sort({a, b, c}, downstream, missing) == (a, b, c)


def test_already_topological_check_ignores_edges_to_tasks_outside_the_set():
    a, b, c = (prefect.Task(name=n) for n in "abc")
    downstream = _graph.edges_by_task([a, b, c], [Edge(b, a), Edge(a, c)], downstream=True)
    order = {a: 1, b: 0, c: 2}
    assert _graph._sorted_if_already_topological({a, c}, downstream, order) == (a, c)
    assert _graph.topological_sort({a, c}, downstream, order) == (a, c)


def build_replaced_flow() -> tuple[prefect.Flow, dict[str, prefect.Task]]:
    tasks = {name: prefect.Task(name=name) for name in ["a", "b", "c", "d", "e", "f", "b2"]}
    flow = prefect.Flow("replaced")
    flow.add_edge(tasks["a"], tasks["b"])
    flow.add_edge(tasks["b"], tasks["c"])
    flow.add_edge(tasks["a"], tasks["d"])
    flow.replace(tasks["b"], tasks["b2"])
    flow.add_task(tasks["e"])
    flow.add_edge(tasks["b2"], tasks["f"])
    flow.add_edge(tasks["e"], tasks["b2"])
    return flow, tasks


def test_sorted_tasks_after_replace_and_more_tasks_is_valid_and_deterministic():
    flow, tasks = build_replaced_flow()
    other_flow, _ = build_replaced_flow()
    order = flow.sorted_tasks()
    assert tasks["b"] not in order
    assert set(order) == set(flow.tasks)
    assert_upstream_first(order, [(e.upstream_task, e.downstream_task) for e in flow.edges])
    names = [t.name for t in order]
    assert names == [t.name for t in other_flow.sorted_tasks()]
    # Ready tasks by insertion order (b2 counts as added by `replace`, after d, before e).
    assert names == ["a", "d", "e", "b2", "c", "f"]


def test_cycle_raises_value_error_naming_the_tasks():
    a, b, c, d, free = (prefect.Task(name=n) for n in ["a", "b", "c", "d", "free"])
    flow = prefect.Flow("cycle")
    flow.add_task(free)
    flow.add_edge(a, b, validate=False)
    flow.add_edge(b, c, validate=False)
    flow.add_edge(c, a, validate=False)
    flow.add_edge(c, d, validate=False)
    with pytest.raises(ValueError, match="Cycle found") as raised:
        flow.sorted_tasks()
    message = str(raised.value)
    for task in (a, b, c, d):
        assert repr(task) in message
    assert repr(free) not in message


def test_self_loop_raises_value_error():
    a = prefect.Task(name="loop")
    flow = prefect.Flow("self-loop")
    flow.add_edge(a, a, validate=False)
    with pytest.raises(ValueError, match=r"Cycle found.*<Task: loop>"):
        flow.sorted_tasks()


def test_add_edge_with_validation_refuses_a_cycle():
    a, b = prefect.Task(name="a"), prefect.Task(name="b")
    flow = prefect.Flow("validated")
    flow.add_edge(a, b)
    with pytest.raises(ValueError):
        flow.add_edge(b, a, validate=True)
