"""Prefect 1.4.1 behaviours of the flow-building model, found in a compatibility review.

A test still marked `xfail(strict=True)` waits for a later issue (its reason says which).
"""

from __future__ import annotations

from typing import Tuple

import pytest

from prefect import Flow, Parameter, Task, task
from prefect.core.edge import Edge


class XTask(Task):
    def run(self, x):
        return x


def test_add_edge_with_a_key_run_does_not_take_is_allowed_without_validation():
    flow = Flow("f")
    t1, t2 = Task(), Task()  # `Task.run` takes no arguments, so no keyed edge fits it
    flow.add_edge(t1, t2, key="x", validate=False)
    flow.add_edge(t2, t1, validate=False)  # a cycle, only found by `validate`
    assert Edge(t1, t2, key="x") in flow.edges
    with pytest.raises(ValueError):
        flow.validate()


@pytest.mark.parametrize("props", [{"key": "x"}, {"key": "x", "mapped": True}])
def test_set_downstream_and_upstream_with_a_key_on_plain_tasks(props):
    with Flow("f") as flow:
        t1, t2 = Task(), Task()
        t1.set_downstream(t2, **props)
    assert Edge(t1, t2, **props) in flow.edges

    with Flow("g") as flow:
        t1, t2 = Task(), Task()
        t2.set_upstream(t1, **props)
    assert Edge(t1, t2, **props) in flow.edges


def test_sorted_tasks_with_a_root_task_not_in_the_flow_raises_value_error():
    flow = Flow("f")
    t1, t2 = Task(name="1"), Task(name="2")
    flow.add_edge(t1, t2)
    with pytest.raises(ValueError, match="not found in Flow"):
        flow.sorted_tasks(root_tasks=[Task(name="3")])


def test_empty_tuple_return_annotation_infers_nout_zero():
    @task
    def nothing(a) -> Tuple[()]:
        return ()

    assert nothing.nout == 0


def test_parameter_uses_a_prefect_result():
    from prefect.engine.results import PrefectResult

    assert isinstance(Parameter("p").result, PrefectResult)


def test_map_does_not_forward_nout():
    @task(nout=2)
    def pair(x):
        return x, x + 10

    with Flow("f"):
        mapped = pair.map([1, 2, 3])
        with pytest.raises(TypeError, match="not iterable"):
            a, b = mapped
        explicit = pair.map([1, 2, 3], task_args={"nout": 2})

    assert pair.nout == 2
    assert mapped.nout is None
    assert explicit.nout == 2


def test_apply_map_with_an_unsubscriptable_argument_raises_type_error():
    from prefect import apply_map, unmapped

    @task
    def add(x, y):
        return x + y

    def func(x, y):
        return add(x, y)

    with Flow("f") as flow:
        with pytest.raises(TypeError):
            apply_map(func, 1, y=unmapped(2))
        with pytest.raises(TypeError):
            apply_map(func, [1, 2], y=3)
    assert flow.tasks == set()
