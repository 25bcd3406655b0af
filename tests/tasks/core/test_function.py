from __future__ import annotations

import inspect

import pytest

from prefect import Flow
from prefect.tasks.core.function import FunctionTask


def add(x, y=1):
    """Add two numbers."""
    return x + y


def test_function_task_runs_the_function():
    task = FunctionTask(add)
    assert task.run is add
    assert task.run(1, y=2) == 3


def test_function_task_run_has_the_function_signature():
    task = FunctionTask(add)
    assert inspect.signature(task.run) == inspect.signature(add)


def test_function_task_copies_doc_and_wraps_function():
    task = FunctionTask(add)
    assert task.__doc__ == "Add two numbers."
    assert task.__wrapped__ is add


def test_function_task_name_defaults_to_function_name():
    assert FunctionTask(add).name == "add"
    assert FunctionTask(lambda: 1).name == "<lambda>"


def test_function_task_explicit_name_wins():
    assert FunctionTask(add, name="adder").name == "adder"


def test_function_task_passes_task_kwargs():
    task = FunctionTask(add, tags=["math"], skip_on_upstream_skip=False)
    assert task.tags == {"math"}
    assert task.skip_on_upstream_skip is False


def test_function_task_callable_object_uses_class_name():
    class Doubler:
        def __call__(self, x):
            return 2 * x

    task = FunctionTask(Doubler())
    assert task.name == "FunctionTask"
    assert task.run(4) == 8


@pytest.mark.parametrize("not_callable", [1, "add", None])
def test_function_task_rejects_non_callables(not_callable):
    with pytest.raises(TypeError, match="callable"):
        FunctionTask(not_callable)


def test_function_task_rejects_var_positional_arguments():
    def varargs(x, *args):
        return x

    with pytest.raises(ValueError, match=r"variable positional arguments \(\*args\)"):
        FunctionTask(varargs)


def test_function_task_accepts_var_keyword_arguments():
    def kwargs_only(**kwargs):
        return kwargs

    assert FunctionTask(kwargs_only).run(a=1) == {"a": 1}


@pytest.mark.parametrize("reserved", ["upstream_tasks", "mapped", "task_args", "flow"])
def test_function_task_rejects_reserved_argument_names(reserved):
    namespace: dict = {}
    exec(f"def fn({reserved}): pass", namespace)
    with pytest.raises(ValueError, match="reserved"):
        FunctionTask(namespace["fn"])


def test_calling_function_task_in_flow_binds_keyword_edges():
    make_x, adder = FunctionTask(lambda: 1, name="x"), FunctionTask(add)
    with Flow("f") as flow:
        x = make_x()
        result = adder(x, y=5)
    assert {(e.upstream_task, e.key) for e in flow.edges_to(result)} == {(x, "x")}
    assert flow.constants[result] == {"y": 5}
