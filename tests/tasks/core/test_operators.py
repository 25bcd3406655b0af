from __future__ import annotations

import inspect
from types import SimpleNamespace

import pytest

from prefect import Flow
from prefect.core.task import NoDefault
from prefect.tasks.core import operators
from prefect.tasks.core.function import FunctionTask


@pytest.mark.parametrize(
    ("cls", "x", "y", "expected"),
    [
        (operators.Add, 2, 3, 5),
        (operators.Add, "a", "b", "ab"),
        (operators.Sub, 2, 3, -1),
        (operators.Mul, 2, 3, 6),
        (operators.Div, 3, 2, 1.5),
        (operators.FloorDiv, 7, 2, 3),
        (operators.Pow, 2, 3, 8),
        (operators.Mod, 7, 3, 1),
        (operators.And, 1, 0, 0),
        (operators.And, 1, 2, 2),
        (operators.Or, 0, "", ""),
        (operators.Or, 0, 2, 2),
        (operators.Equal, 1, 1, True),
        (operators.Equal, 1, 2, False),
        (operators.NotEqual, 1, 2, True),
        (operators.NotEqual, 1, 1, False),
        (operators.GreaterThanOrEqual, 2, 2, True),
        (operators.GreaterThanOrEqual, 1, 2, False),
        (operators.GreaterThan, 3, 2, True),
        (operators.GreaterThan, 2, 2, False),
        (operators.LessThanOrEqual, 2, 2, True),
        (operators.LessThanOrEqual, 3, 2, False),
        (operators.LessThan, 1, 2, True),
        (operators.LessThan, 2, 2, False),
    ],
)
def test_binary_operator_run(cls, x, y, expected):
    assert cls().run(x, y) == expected
    assert cls().run(x=x, y=y) == expected


def test_binary_operator_errors_propagate():
    with pytest.raises(ZeroDivisionError):
        operators.Div().run(1, 0)


@pytest.mark.parametrize(("x", "expected"), [(True, False), (0, True), ([], True), ([1], False)])
def test_not_run(x, expected):
    assert operators.Not().run(x) is expected


def test_binary_operator_binds_x_and_y_edges():
    a = FunctionTask(lambda: 1, name="a")
    b = FunctionTask(lambda: 2, name="b")
    with Flow("f") as flow:
        total = operators.Add().bind(a, b)
    assert {(e.upstream_task, e.key) for e in flow.edges_to(total)} == {(a, "x"), (b, "y")}


def test_operator_task_names_default_to_class_name():
    assert operators.GreaterThanOrEqual().name == "GreaterThanOrEqual"
    assert operators.Add(name="plus").name == "plus"


class TestGetItem:
    def test_returns_item(self):
        assert operators.GetItem().run({"a": 1}, "a") == 1
        assert operators.GetItem().run([1, 2, 3], -1) == 3

    def test_missing_key_without_default_raises(self):
        with pytest.raises(KeyError):
            operators.GetItem().run({"a": 1}, "b")
        with pytest.raises(IndexError):
            operators.GetItem().run([], 0)

    def test_default_from_init_is_used_for_missing_key(self):
        task = operators.GetItem(default="missing")
        assert task.default == "missing"
        assert task.run({"a": 1}, "b") == "missing"
        assert task.run([], 3) == "missing"
        assert task.run({"a": 1}, "a") == 1

    def test_default_at_run_time_overrides_init(self):
        assert operators.GetItem(default=1).run({}, "b", default=2) == 2

    def test_none_default_at_run_time_falls_back_to_init_default(self):
        assert operators.GetItem(default=1).run({}, "b", default=None) == 1
        with pytest.raises(KeyError):
            operators.GetItem().run({}, "b", default=None)

    def test_none_default_from_init_is_a_real_default(self):
        assert operators.GetItem(default=None).run({}, "b") is None

    def test_default_is_no_default_sentinel(self):
        assert operators.GetItem().default is NoDefault.value

    def test_run_signature_is_preserved(self):
        params = list(inspect.signature(operators.GetItem().run).parameters)
        assert params == ["task_result", "key", "default"]

    def test_binds_task_result_and_key(self):
        a = FunctionTask(lambda: {"k": 1}, name="a")
        with Flow("f") as flow:
            item = operators.GetItem().bind(a, "k")
        assert {(e.upstream_task, e.key) for e in flow.edges_to(item)} == {(a, "task_result")}
        assert flow.constants[item] == {"key": "k"}


class TestGetAttr:
    def test_returns_attribute(self):
        assert operators.GetAttr().run(SimpleNamespace(a=1), "a") == 1

    def test_follows_dotted_names(self):
        obj = SimpleNamespace(a=SimpleNamespace(b=SimpleNamespace(c=3)))
        assert operators.GetAttr().run(obj, "a.b.c") == 3

    def test_missing_attribute_without_default_raises(self):
        with pytest.raises(AttributeError):
            operators.GetAttr().run(SimpleNamespace(a=1), "b")
        with pytest.raises(AttributeError):
            operators.GetAttr().run(SimpleNamespace(a=1), "a.b")

    def test_default_is_used_for_missing_attribute(self):
        task = operators.GetAttr(default=0)
        assert task.run(SimpleNamespace(a=SimpleNamespace()), "a.b") == 0
        assert task.run(SimpleNamespace(a=5), "a") == 5

    def test_default_at_run_time(self):
        assert operators.GetAttr().run(SimpleNamespace(), "x", default="d") == "d"
