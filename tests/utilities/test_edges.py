"""Tests for `prefect.utilities.edges`: the `mapped`, `unmapped` and `flatten` annotations."""

from __future__ import annotations

import pytest

import prefect
from prefect import Flow, Task
from prefect.tasks.core.constants import Constant
from prefect.utilities.edges import EdgeAnnotation, flatten, mapped, unmapped


class XY(Task):
    def run(self, x, y=None):
        return x


def _edge(flow, downstream, key):
    (edge,) = [e for e in flow.edges_to(downstream) if e.key == key]
    return edge


# The annotation objects ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "cls, annotations",
    [
        (mapped, {"mapped": True}),
        (unmapped, {"mapped": False}),
        (flatten, {"flattened": True}),
    ],
)
def test_annotation_wraps_a_value_with_its_annotations(cls, annotations):
    value = object()
    annotated = cls(value)
    assert isinstance(annotated, EdgeAnnotation)
    assert annotated.value is value
    assert annotated.annotations == annotations
    assert cls.annotations == annotations


def test_base_annotation_has_no_annotations():
    assert EdgeAnnotation(1).annotations == {}
    assert EdgeAnnotation(1).value == 1


def test_instance_annotations_do_not_leak_into_the_class():
    flatten(unmapped(1))
    unmapped(flatten(1))
    assert flatten.annotations == {"flattened": True}
    assert unmapped.annotations == {"mapped": False}
    assert mapped.annotations == {"mapped": True}


@pytest.mark.parametrize("wrap", [lambda x: flatten(unmapped(x)), lambda x: unmapped(flatten(x))])
def test_annotations_stack(wrap):
    t = Task()
    annotated = wrap(t)
    assert annotated.value is t
    assert annotated.annotations == {"mapped": False, "flattened": True}


def test_annotations_are_exported_at_top_level():
    assert prefect.mapped is mapped
    assert prefect.unmapped is unmapped
    assert prefect.flatten is flatten


# The edges they create -----------------------------------------------------------------------


def test_unmapped_task_input_of_map_gives_an_unmapped_edge():
    with Flow("f") as flow:
        xs, y = Task(name="xs")(), Task(name="y")()
        result = XY().map(xs, unmapped(y))
    assert _edge(flow, result, "x").mapped is True
    assert _edge(flow, result, "y").mapped is False
    assert _edge(flow, result, "y").upstream_task is y


def test_unmapped_plain_value_of_map_is_stored_as_a_constant():
    with Flow("f") as flow:
        result = XY().map(x=[1, 2, 3], y=unmapped(10))
    assert flow.constants[result] == {"y": 10}
    x_edge = _edge(flow, result, "x")
    assert x_edge.mapped is True
    assert isinstance(x_edge.upstream_task, Constant)
    assert x_edge.upstream_task.value == [1, 2, 3]


def test_unmapped_list_of_tasks_of_map_is_collected_and_passed_whole():
    with Flow("f") as flow:
        a, b = Task(name="a")(), Task(name="b")()
        result = XY().map(x=[1, 2], y=unmapped([a, b]))
    y_edge = _edge(flow, result, "y")
    assert y_edge.mapped is False
    assert flow.upstream_tasks(y_edge.upstream_task) == {a, b}


def test_mapped_annotation_maps_an_input_of_a_called_task():
    with Flow("f") as flow:
        xs, y = Task(name="xs")(), Task(name="y")()
        result = XY()(mapped(xs), y)
    assert _edge(flow, result, "x").mapped is True
    assert _edge(flow, result, "y").mapped is False


def test_mapped_plain_value_becomes_a_constant_task_with_a_mapped_edge():
    with Flow("f") as flow:
        result = XY()(x=mapped([1, 2]), y=3)
    x_edge = _edge(flow, result, "x")
    assert x_edge.mapped is True
    assert isinstance(x_edge.upstream_task, Constant)
    assert x_edge.upstream_task.value == [1, 2]
    assert flow.constants[result] == {"y": 3}


def test_flatten_in_map_gives_a_mapped_flattened_edge():
    with Flow("f") as flow:
        nested = Task(name="nested")()
        result = XY().map(flatten(nested))
    edge = _edge(flow, result, "x")
    assert edge.upstream_task is nested
    assert edge.mapped is True
    assert edge.flattened is True


def test_flatten_in_a_call_gives_a_flattened_unmapped_edge():
    with Flow("f") as flow:
        nested = Task(name="nested")()
        result = XY()(flatten(nested))
    edge = _edge(flow, result, "x")
    assert edge.flattened is True
    assert edge.mapped is False


def test_unmapped_flatten_in_map_is_flattened_but_not_mapped():
    with Flow("f") as flow:
        xs, nested = Task(name="xs")(), Task(name="nested")()
        result = XY().map(xs, unmapped(flatten(nested)))
    edge = _edge(flow, result, "y")
    assert edge.flattened is True
    assert edge.mapped is False
