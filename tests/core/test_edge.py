"""Tests for `prefect.core.edge`: `Edge` and `is_valid_identifier`."""

from __future__ import annotations

import pytest

from prefect import Flow, Task
from prefect.core.edge import Edge, is_valid_identifier
from prefect.tasks.core import collections
from prefect.tasks.core.constants import Constant
from prefect.utilities.edges import flatten, mapped, unmapped


class XTask(Task):
    def run(self, x):
        return x


# Construction -------------------------------------------------------------------------------


def test_edge_stores_its_tasks_and_key():
    a, b = Task(), XTask()
    edge = Edge(a, b, key="x")
    assert edge.upstream_task is a
    assert edge.downstream_task is b
    assert edge.key == "x"


def test_edge_keyword_arguments_match_the_1x_signature():
    a, b = Task(), XTask()
    edge = Edge(upstream_task=a, downstream_task=b, key="x", mapped=True, flattened=True)
    assert (edge.upstream_task, edge.downstream_task, edge.key) == (a, b, "x")
    assert edge.mapped is True
    assert edge.flattened is True


def test_edge_without_key_or_flags_is_a_plain_dependency():
    edge = Edge(Task(), Task())
    assert edge.key is None
    assert edge.mapped is False
    assert edge.flattened is False


@pytest.mark.parametrize("key", ["x", "_private", "arg_1", "CamelCase", "a1"])
def test_edge_accepts_identifier_keys(key):
    assert Edge(Task(), Task(), key=key).key == key


@pytest.mark.parametrize("key", ["1x", "a-b", "a b", "", "x.y", "class", "def", "None"])
def test_edge_key_that_is_not_an_identifier_raises_value_error(key):
    with pytest.raises(ValueError):
        Edge(Task(), Task(), key=key)


@pytest.mark.parametrize("key", [1, 1.5, ("x",)])
def test_edge_key_that_is_not_a_string_raises_value_error(key):
    with pytest.raises(ValueError):
        Edge(Task(), Task(), key=key)


def test_invalid_key_error_shows_the_key():
    with pytest.raises(ValueError, match="not-valid"):
        Edge(Task(), Task(), key="not-valid")


@pytest.mark.parametrize(
    "string, expected",
    [
        ("x", True),
        ("_x", True),
        ("x1", True),
        ("arg_10", True),
        ("1x", False),
        ("a-b", False),
        ("", False),
        ("with space", False),
        ("for", False),
        ("lambda", False),
    ],
)
def test_is_valid_identifier(string, expected):
    assert is_valid_identifier(string) is expected


# Non-task and annotated inputs ------------------------------------------------------------


def test_non_task_upstream_becomes_a_constant_task():
    b = XTask()
    edge = Edge(5, b, key="x")
    assert isinstance(edge.upstream_task, Constant)
    assert edge.upstream_task.value == 5
    assert edge.downstream_task is b


def test_unmapped_upstream_is_unwrapped_and_not_mapped():
    a, b = Task(), XTask()
    edge = Edge(unmapped(a), b, key="x")
    assert edge.upstream_task is a
    assert edge.mapped is False


def test_mapped_upstream_is_unwrapped_and_mapped():
    a, b = Task(), XTask()
    edge = Edge(mapped(a), b, key="x")
    assert edge.upstream_task is a
    assert edge.mapped is True
    assert edge.flattened is False


def test_flatten_upstream_is_unwrapped_and_flattened():
    a, b = Task(), XTask()
    edge = Edge(flatten(a), b, key="x")
    assert edge.upstream_task is a
    assert edge.flattened is True
    assert edge.mapped is False


def test_collection_holding_a_task_becomes_a_collection_task_bound_in_the_flow():
    flow = Flow("f")
    a, b = Task(), XTask()
    edge = Edge([a, 1], b, key="x", flow=flow)
    upstream = edge.upstream_task
    assert isinstance(upstream, collections.List)
    assert upstream in flow.tasks
    assert flow.upstream_tasks(upstream) == {a}
    (inner,) = flow.edges_to(upstream)
    assert inner.key == "arg_1"
    assert flow.constants[upstream] == {"arg_2": 1}


# Equality, hashing, tasks --------------------------------------------------------------------


def test_edges_with_the_same_tasks_and_key_are_equal_and_hash_equal():
    a, b = Task(), XTask()
    e1 = Edge(a, b, key="x", mapped=True)
    e2 = Edge(a, b, key="x", mapped=True)
    assert e1 == e2
    assert hash(e1) == hash(e2)
    assert len({e1, e2}) == 1


@pytest.mark.parametrize(
    "changes",
    [
        dict(key="y"),
        dict(key=None),
        dict(mapped=False),
        dict(flattened=True),
    ],
)
def test_edges_differing_in_key_or_flags_are_not_equal(changes):
    a, b = Task(), XTask()
    base = dict(key="x", mapped=True, flattened=False)
    e1 = Edge(a, b, **base)
    e2 = Edge(a, b, **{**base, **changes})
    assert e1 != e2
    assert len({e1, e2}) == 2


def test_edges_compare_tasks_by_identity():
    a1, a2 = Task(name="a"), Task(name="a")
    b = Task(name="b")
    assert Edge(a1, b) != Edge(a2, b)


def test_edge_direction_matters():
    a, b = Task(), Task()
    assert Edge(a, b) != Edge(b, a)


def test_edge_is_not_equal_to_other_types():
    a, b = Task(), Task()
    edge = Edge(a, b)
    assert edge != (a, b)
    assert edge != 1
    assert edge != None  # noqa: E711


def test_edge_tasks_property_is_the_set_of_both_tasks():
    a, b = Task(), Task()
    assert Edge(a, b).tasks == {a, b}


def test_edge_repr_names_tasks_and_key():
    a, b = Task(name="up"), XTask(name="down")
    assert repr(Edge(a, b, key="x")) == "<Edge (key=x): up to down>"
    assert repr(Edge(a, b)) == "<Edge: up to down>"
