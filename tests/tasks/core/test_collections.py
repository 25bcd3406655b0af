from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prefect import Flow
from prefect.tasks.core.collections import Dict, List, Set, Tuple, VarArgsTask
from prefect.tasks.core.function import FunctionTask


def _source(name):
    return FunctionTask(lambda: None, name=name)


def _shuffled_kwargs(values):
    items = [(f"arg_{i + 1}", v) for i, v in enumerate(values)]
    random.Random(len(values)).shuffle(items)
    return dict(items)


class TestVarArgsTaskBind:
    def test_positional_arguments_become_numbered_keyword_edges(self):
        a, b = _source("a"), _source("b")
        with Flow("f") as flow:
            task = List().bind(a, b)
        assert isinstance(task, VarArgsTask)
        assert {(e.upstream_task, e.key) for e in flow.edges_to(task)} == {
            (a, "arg_1"),
            (b, "arg_2"),
        }

    def test_non_task_arguments_are_stored_as_constants(self):
        a = _source("a")
        with Flow("f") as flow:
            task = List().bind(1, a, "x")
        assert flow.constants[task] == {"arg_1": 1, "arg_3": "x"}
        assert {e.key for e in flow.edges_to(task)} == {"arg_2"}

    def test_bind_returns_the_task_itself(self):
        with Flow("f"):
            task = List()
            assert task.bind(1) is task

    def test_upstream_tasks_become_keyless_edges(self):
        a, before = _source("a"), _source("before")
        with Flow("f") as flow:
            task = Tuple().bind(a, upstream_tasks=[before])
        assert {(e.upstream_task, e.key) for e in flow.edges_to(task)} == {
            (a, "arg_1"),
            (before, None),
        }

    def test_mapped_bind_maps_every_input(self):
        a, b = _source("a"), _source("b")
        with Flow("f") as flow:
            task = List().bind(a, b, mapped=True)
        assert all(e.mapped for e in flow.edges_to(task))

    def test_explicit_flow_is_used_outside_a_flow_context(self):
        a = _source("a")
        flow = Flow("f")
        task = List().bind(a, flow=flow)
        assert task in flow.tasks
        assert {e.key for e in flow.edges_to(task)} == {"arg_1"}

    def test_keyword_arguments_are_not_accepted(self):
        task = List()
        with Flow("f"):
            with pytest.raises(TypeError):
                task.bind(x=1)

    def test_calling_a_collection_task_copies_and_binds(self):
        a = _source("a")
        template = Set()
        with Flow("f") as flow:
            task = template(a, 2)
        assert task is not template
        assert template not in flow.tasks
        assert {e.key for e in flow.edges_to(task)} == {"arg_1"}
        assert flow.constants[task] == {"arg_2": 2}


class TestRun:
    def test_list_returns_values_in_argument_order(self):
        assert List().run(arg_2="b", arg_1="a", arg_3="c") == ["a", "b", "c"]

    def test_list_orders_numerically_past_nine_arguments(self):
        values = list(range(12))
        assert List().run(**_shuffled_kwargs(values)) == values

    def test_tuple_returns_values_in_argument_order(self):
        assert Tuple().run(arg_2=2, arg_1=1) == (1, 2)

    def test_set_returns_the_set_of_values(self):
        assert Set().run(arg_1=1, arg_2=2, arg_3=1) == {1, 2}

    def test_empty_collections(self):
        assert List().run() == []
        assert Tuple().run() == ()
        assert Set().run() == set()

    def test_dict_zips_keys_and_values(self):
        assert Dict().run(keys=["a", "b"], values=[1, 2]) == {"a": 1, "b": 2}

    def test_dict_accepts_any_iterables(self):
        assert Dict().run(keys=iter("ab"), values=(1, 2)) == {"a": 1, "b": 2}

    def test_dict_with_different_numbers_of_keys_and_values_raises(self):
        with pytest.raises(ValueError, match="different number of keys and values"):
            Dict().run(keys=["a", "b"], values=[1])

    @settings(max_examples=50)
    @given(st.lists(st.integers(), max_size=30))
    def test_list_and_tuple_round_trip_any_bound_order(self, values):
        kwargs = _shuffled_kwargs(values)
        assert List().run(**kwargs) == values
        assert Tuple().run(**kwargs) == tuple(values)


def test_dict_binds_keys_and_values_as_inputs():
    keys, values = _source("keys"), _source("values")
    with Flow("f") as flow:
        task = Dict().bind(keys=keys, values=values)
    assert {(e.upstream_task, e.key) for e in flow.edges_to(task)} == {
        (keys, "keys"),
        (values, "values"),
    }
