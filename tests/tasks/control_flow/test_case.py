from __future__ import annotations

import pytest

import prefect
from prefect import Flow
from prefect.tasks.control_flow import case
from prefect.tasks.control_flow.conditional import CompareValue
from prefect.tasks.core.function import FunctionTask


def _identity(x=None):
    return x


def _task(name):
    return FunctionTask(_identity, name=name)


def _gates(flow):
    return [t for t in flow.tasks if isinstance(t, CompareValue)]


def _upstream(flow, task):
    return {(e.upstream_task, e.key) for e in flow.edges_to(task)}


def test_case_stores_task_and_value():
    cond = _task("cond")
    block = case(cond, "a")
    assert block.task is cond
    assert block.value == "a"


def test_case_adds_one_gate_bound_to_the_condition():
    with Flow("f") as flow:
        cond = _task("cond").bind()
        with case(cond, True):
            _task("a").bind()
            _task("b").bind()
    [gate] = _gates(flow)
    assert gate.value is True
    assert gate.name == "case(True)"
    assert _upstream(flow, gate) == {(cond, "value")}


def test_case_gates_tasks_without_upstream_in_the_block():
    with Flow("f") as flow:
        cond = _task("cond").bind()
        outside = _task("outside").bind()
        with case(cond, "x"):
            a = _task("a").bind()
            b = _task("b").bind(a)
            c = _task("c").bind(outside)
    [gate] = _gates(flow)
    assert _upstream(flow, a) == {(gate, None)}
    assert _upstream(flow, b) == {(a, "x")}
    assert _upstream(flow, c) == {(outside, "x"), (gate, None)}


def test_case_leaves_tasks_outside_the_block_alone():
    with Flow("f") as flow:
        cond = _task("cond").bind()
        before = _task("before").bind()
        with case(cond, 1):
            inside = _task("inside").bind(before)
        after = _task("after").bind(inside)
    assert flow.upstream_tasks(before) == set()
    assert _upstream(flow, after) == {(inside, "x")}


def test_case_task_using_the_condition_is_still_gated():
    with Flow("f") as flow:
        cond = _task("cond").bind()
        with case(cond, True):
            uses = _task("uses").bind(cond)
    [gate] = _gates(flow)
    assert _upstream(flow, uses) == {(cond, "x"), (gate, None)}


def test_empty_case_adds_nothing():
    with Flow("f") as flow:
        cond = _task("cond").bind()
        with case(cond, True):
            pass
    assert flow.tasks == {cond}
    assert not flow.edges


def test_case_on_a_plain_value_stores_it_as_the_gate_input():
    with Flow("f") as flow:
        with case("a", "a"):
            a = _task("a").bind()
    [gate] = _gates(flow)
    assert flow.constants[gate] == {"value": "a"}
    assert _upstream(flow, a) == {(gate, None)}


def test_cases_on_the_same_condition_get_separate_gates():
    with Flow("f") as flow:
        cond = _task("cond").bind()
        with case(cond, True):
            a = _task("a").bind()
        with case(cond, False):
            b = _task("b").bind()
    gates = {gate.value: gate for gate in _gates(flow)}
    assert set(gates) == {True, False}
    assert _upstream(flow, a) == {(gates[True], None)}
    assert _upstream(flow, b) == {(gates[False], None)}
    assert all(_upstream(flow, g) == {(cond, "value")} for g in gates.values())


def test_nested_cases_gate_the_inner_gate_with_the_outer_one():
    with Flow("f") as flow:
        outer_cond = _task("outer_cond").bind()
        with case(outer_cond, True):
            inner_cond = _task("inner_cond").bind()
            with case(inner_cond, "x"):
                a = _task("a").bind()
    gates = {gate.value: gate for gate in _gates(flow)}
    outer_gate, inner_gate = gates[True], gates["x"]
    assert _upstream(flow, inner_cond) == {(outer_gate, None)}
    assert _upstream(flow, inner_gate) == {(inner_cond, "value")}
    assert _upstream(flow, a) == {(inner_gate, None)}


def test_nested_case_on_outer_condition_gates_inner_gate():
    with Flow("f") as flow:
        cond = _task("cond").bind()
        with case(cond, True):
            with case(cond, True):
                a = _task("a").bind()
    outer_gate, inner_gate = sorted(_gates(flow), key=lambda g: len(flow.upstream_tasks(g)))
    assert _upstream(flow, outer_gate) == {(cond, "value")}
    assert _upstream(flow, inner_gate) == {(cond, "value"), (outer_gate, None)}
    assert _upstream(flow, a) == {(inner_gate, None)}


def test_case_is_in_context_inside_the_block_only():
    with Flow("f"):
        cond = _task("cond").bind()
        outer = case(cond, 1)
        inner = case(cond, 2)
        with outer as entered:
            assert entered is outer
            assert prefect.context.get("case") is outer
            with inner:
                assert prefect.context.get("case") is inner
            assert prefect.context.get("case") is outer
        assert prefect.context.get("case") is None


def test_exception_in_case_restores_context_and_adds_no_gate():
    with Flow("f") as flow:
        cond = _task("cond").bind()
        with pytest.raises(RuntimeError):
            with case(cond, True):
                _task("a").bind()
                raise RuntimeError("boom")
        assert prefect.context.get("case") is None
    assert not _gates(flow)


def test_case_rejects_tasks_from_two_flows():
    block = case(_task("cond"), True)
    first, second = Flow("one"), Flow("two")
    block.add_task(_task("a"), first)
    with pytest.raises(
        ValueError, match="Multiple flows cannot be used with the same case statement"
    ):
        block.add_task(_task("b"), second)


def test_case_add_task_records_tasks_of_one_flow():
    block = case(_task("cond"), True)
    flow = Flow("one")
    a = _task("a")
    block.add_task(a, flow)
    block.add_task(a, flow)
    assert block._tasks == {a}
