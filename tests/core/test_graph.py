import pytest

from prefect.core import _graph
from prefect.core.edge import Edge
from prefect.core.task import Task


def make(n):
    tasks = [Task(name=f"t{i}") for i in range(n)]
    return tasks, {t: i for i, t in enumerate(tasks)}


def test_topological_sort_puts_upstream_first_and_breaks_ties_by_order():
    (a, b, c, d), order = make(4)
    edges = [Edge(a, c), Edge(b, c), Edge(c, d)]
    downstream = _graph.edges_by_task([a, b, c, d], edges, downstream=True)
    assert _graph.topological_sort({a, b, c, d}, downstream, order) == (a, b, c, d)
    reversed_order = {t: -i for t, i in order.items()}
    assert _graph.topological_sort({a, b, c, d}, downstream, reversed_order) == (b, a, c, d)


def test_topological_sort_counts_parallel_edges_between_the_same_tasks():
    (a, b), order = make(2)
    edges = [Edge(a, b, key="x"), Edge(a, b, key="y"), Edge(a, b)]
    downstream = _graph.edges_by_task([a, b], edges, downstream=True)
    assert _graph.topological_sort({a, b}, downstream, order) == (a, b)


def test_topological_sort_of_a_cycle_names_the_stuck_tasks():
    (a, b, c), order = make(3)
    edges = [Edge(a, b), Edge(b, c), Edge(c, b)]
    downstream = _graph.edges_by_task([a, b, c], edges, downstream=True)
    with pytest.raises(ValueError, match=r"Cycle found.*<Task: t1>, <Task: t2>"):
        _graph.topological_sort({a, b, c}, downstream, order)


def test_topological_sort_ignores_edges_leaving_the_subset():
    (a, b, c), order = make(3)
    edges = [Edge(a, b), Edge(c, b)]
    downstream = _graph.edges_by_task([a, b, c], edges, downstream=True)
    assert _graph.topological_sort({a, b}, downstream, order) == (a, b)


def test_reachable_from_follows_downstream_edges_only():
    (a, b, c, d), _ = make(4)
    edges = [Edge(a, b), Edge(b, c), Edge(d, c)]
    downstream = _graph.edges_by_task([a, b, c, d], edges, downstream=True)
    assert _graph.reachable_from([b], downstream) == {b, c}
    assert _graph.reachable_from([a, d], downstream) == {a, b, c, d}


def test_edges_by_task_indexes_both_directions_and_keeps_isolated_tasks():
    (a, b, c), _ = make(3)
    edge = Edge(a, b)
    assert _graph.edges_by_task([a, b, c], [edge], downstream=True) == {
        a: {edge},
        b: set(),
        c: set(),
    }
    assert _graph.edges_by_task([a, b, c], [edge], downstream=False)[b] == {edge}
