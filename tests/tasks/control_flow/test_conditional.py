from __future__ import annotations

import pytest

from prefect import Flow
from prefect.engine import signals
from prefect.tasks.control_flow import ifelse, merge, switch
from prefect.tasks.control_flow.conditional import CompareValue, Merge
from prefect.tasks.core.function import FunctionTask
from prefect.triggers import all_finished, not_all_skipped


def _identity(x=None):
    return x


def _task(name):
    return FunctionTask(_identity, name=name)


def _gates(flow):
    return {t.value: t for t in flow.tasks if isinstance(t, CompareValue)}


def _upstream(flow, task):
    return {(e.upstream_task, e.key, e.mapped) for e in flow.edges_to(task)}


class TestCompareValue:
    def test_matching_value_passes(self):
        assert CompareValue("a").run("a") is None

    def test_equal_but_not_identical_value_passes(self):
        assert CompareValue(1).run(1.0) is None

    def test_other_value_skips(self):
        with pytest.raises(signals.SKIP, match='"b" did not match "a"'):
            CompareValue("a").run("b")

    def test_default_name_shows_the_value(self):
        assert CompareValue(3).name == 'CompareValue: "3"'
        assert CompareValue(3, name="x").name == "x"

    def test_stores_value(self):
        assert CompareValue([1]).value == [1]


class TestMerge:
    def test_returns_first_result_that_is_not_none(self):
        assert Merge().run(task_1=None, task_2=2, task_3=3) == 2

    def test_orders_inputs_numerically(self):
        results = {f"task_{i}": None for i in range(1, 12)}
        results["task_10"] = "ten"
        results["task_2"] = "two"
        assert Merge().run(**results) == "two"
        results["task_2"] = None
        assert Merge().run(**results) == "ten"

    def test_keeps_falsy_results_that_are_not_none(self):
        assert Merge().run(task_1=None, task_2=0, task_3=1) == 0

    def test_returns_none_when_all_results_are_none(self):
        assert Merge().run(task_1=None, task_2=None) is None
        assert Merge().run() is None

    def test_defaults_run_after_skipped_branches(self):
        task = Merge()
        assert task.skip_on_upstream_skip is False
        assert task.trigger is not_all_skipped

    def test_trigger_can_be_overridden(self):
        assert Merge(trigger=all_finished).trigger is all_finished

    def test_rejects_skip_on_upstream_skip(self):
        with pytest.raises(ValueError, match="skip_on_upstream_skip=False"):
            Merge(skip_on_upstream_skip=True)


class TestMergeFunction:
    def test_binds_tasks_as_numbered_inputs(self):
        a, b = _task("a"), _task("b")
        with Flow("f") as flow:
            merged = merge(a, b)
        assert isinstance(merged, Merge)
        assert _upstream(flow, merged) == {(a, "task_1", False), (b, "task_2", False)}

    def test_passes_task_kwargs_and_flow(self):
        a = _task("a")
        flow = Flow("f")
        merged = merge(a, flow=flow, name="joined", tags=["m"])
        assert merged.name == "joined"
        assert merged.tags == {"m"}
        assert merged in flow.tasks

    def test_mapped_merge_maps_every_input(self):
        a, b = _task("a"), _task("b")
        with Flow("f") as flow:
            merged = merge(a, b, mapped=True)
        assert _upstream(flow, merged) == {(a, "task_1", True), (b, "task_2", True)}


class TestSwitch:
    def test_adds_a_gate_per_case_upstream_of_its_branch(self):
        cond, a, b = _task("cond"), _task("a"), _task("b")
        with Flow("f") as flow:
            assert switch(cond, {"x": a, "y": b}) is None
        gates = _gates(flow)
        assert set(gates) == {"x", "y"}
        for gate in gates.values():
            assert _upstream(flow, gate) == {(cond, "value", False)}
        assert _upstream(flow, a) == {(gates["x"], None, False)}
        assert _upstream(flow, b) == {(gates["y"], None, False)}

    def test_branch_keeps_its_other_inputs(self):
        cond, source = _task("cond"), _task("source")
        with Flow("f") as flow:
            branch = _task("branch").bind(source)
            switch(cond, {1: branch})
        gate = _gates(flow)[1]
        assert _upstream(flow, branch) == {(source, "x", False), (gate, None, False)}

    def test_mapped_switch_maps_gates_and_branches(self):
        cond, a = _task("cond"), _task("a")
        with Flow("f") as flow:
            switch(cond, {1: a}, mapped=True)
        gate = _gates(flow)[1]
        assert _upstream(flow, gate) == {(cond, "value", True)}
        assert _upstream(flow, a) == {(gate, None, True)}

    def test_needs_a_flow(self):
        with pytest.raises(ValueError, match="Flow"):
            switch(_task("cond"), {1: _task("a")})


class TestIfElse:
    def test_casts_the_condition_and_switches_on_true_and_false(self):
        cond, yes, no = _task("cond"), _task("yes"), _task("no")
        with Flow("f") as flow:
            assert ifelse(cond, yes, no) is None
        [as_bool] = [t for t in flow.tasks if t.name == "as_bool"]
        assert _upstream(flow, as_bool) == {(cond, "x", False)}
        gates = _gates(flow)
        assert set(gates) == {True, False}
        assert all(_upstream(flow, g) == {(as_bool, "value", False)} for g in gates.values())
        assert _upstream(flow, yes) == {(gates[True], None, False)}
        assert _upstream(flow, no) == {(gates[False], None, False)}

    @pytest.mark.parametrize(
        ("value", "expected"), [(1, True), (0, False), ([], False), ("a", True)]
    )
    def test_as_bool_casts_with_bool(self, value, expected):
        cond = _task("cond")
        with Flow("f") as flow:
            ifelse(cond, _task("yes"), _task("no"))
        [as_bool] = [t for t in flow.tasks if t.name == "as_bool"]
        assert as_bool.run(value) is expected

    def test_missing_branch_is_left_out(self):
        cond, yes = _task("cond"), _task("yes")
        with Flow("f") as flow:
            ifelse(cond, yes, None)
        assert set(_gates(flow)) == {True}

    def test_mapped_ifelse_maps_the_cast(self):
        cond, yes, no = _task("cond"), _task("yes"), _task("no")
        with Flow("f") as flow:
            ifelse(cond, yes, no, mapped=True)
        [as_bool] = [t for t in flow.tasks if t.name == "as_bool"]
        assert _upstream(flow, as_bool) == {(cond, "x", True)}
        assert _upstream(flow, yes) == {(_gates(flow)[True], None, True)}
