"""Prefect 1.4.1 behaviours of the task library, found in a compatibility review."""

from __future__ import annotations

import pytest

from prefect import Flow, Parameter, task
from prefect.tasks.control_flow import case, merge
from prefect.tasks.control_flow.conditional import CompareValue
from prefect.tasks.core.function import FunctionTask


def test_parameter_first_used_inside_a_case_block_stays_a_root_task():
    with Flow("f") as flow:
        x = Parameter("x")
        p = Parameter("p")
        with case(p > 10, True):
            y = x - p
        z = merge(y, p)

    assert flow.upstream_tasks(x) == set()
    assert flow.upstream_tasks(p) == set()
    (gate,) = [t for t in flow.tasks if isinstance(t, CompareValue)]
    assert gate.name == "case(True)"
    assert flow.upstream_tasks(y) == {x, p, gate}
    assert flow.upstream_tasks(z) == {y, p}


def test_function_task_without_docstring_shows_the_class_docstring():
    def documented():
        """An example docstring."""

    assert "FunctionTask" in FunctionTask.__doc__
    assert FunctionTask(fn=documented).__doc__ == documented.__doc__
    t = FunctionTask(fn=lambda x: x + 1)
    assert t.__doc__ is not None
    assert "FunctionTask" in t.__doc__


def test_case_block_used_with_two_flows_raises_value_error():
    @task
    def identity(x):
        return x

    with Flow("one"):
        cond = identity(True)
        with case(cond, True):
            identity(1)
            with Flow("two"):
                with pytest.raises(
                    ValueError, match="Multiple flows cannot be used with the same case statement"
                ):
                    identity(2)
