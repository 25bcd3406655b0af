from __future__ import annotations

import pytest

from prefect import Flow
from prefect.core.task import Task
from prefect.tasks.core.constants import Constant


def test_constant_run_returns_its_value():
    value = {"a": [1, 2]}
    assert Constant(value).run() is value


def test_constant_is_a_task_with_a_value_attribute():
    constant = Constant(5)
    assert isinstance(constant, Task)
    assert constant.value == 5


@pytest.mark.parametrize(
    ("value", "name"),
    [
        (1, "1"),
        ("abc", "'abc'"),
        (None, "None"),
        ([1, 2], "[1, 2]"),
        (12345678, "12345678"),
        (123456789, "Constant[int]"),
        ("a long string", "Constant[str]"),
        ({"key": "value"}, "Constant[dict]"),
    ],
)
def test_constant_name_is_short_repr_or_type(value, name):
    assert Constant(value).name == name


def test_constant_explicit_name_wins():
    assert Constant(1, name="one").name == "one"


def test_constant_passes_task_kwargs():
    constant = Constant(1, tags=["x"], checkpoint=False)
    assert constant.tags == {"x"}
    assert constant.checkpoint is False


def test_constant_bound_in_flow_has_no_inputs():
    with Flow("f") as flow:
        constant = Constant(3)
        constant.bind()
    assert flow.tasks == {constant}
    assert not flow.edges


@pytest.mark.parametrize(
    "value",
    [
        "abcdefg",
        b"abcdefghi",
        list(range(9)),
        tuple(range(9)),
        set(range(9)),
        dict.fromkeys(range(9)),
    ],
)
def test_long_builtin_collections_are_named_by_type(value):
    from prefect.tasks.core.constants import Constant

    assert len(repr(value)) > 8
    assert Constant(value).name == f"Constant[{type(value).__name__}]"
