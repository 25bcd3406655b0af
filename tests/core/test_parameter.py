import datetime

import pytest

import prefect
from prefect import Flow, Parameter, Task
from prefect.core.parameter import DateTimeParameter, no_default
from prefect.engine import signals


def test_parameter_without_default_is_required():
    p = Parameter("x")
    assert p.required is True
    assert p.default is None
    assert p.name == p.slug == "x"


def test_parameter_with_default_is_optional():
    p = Parameter("x", default=3)
    assert p.required is False
    assert p.default == 3


def test_parameter_with_none_default_is_optional():
    assert Parameter("x", default=None).required is False


def test_parameter_required_can_be_forced():
    p = Parameter("x", default=1, required=True)
    assert p.required is True
    assert p.default == 1


def test_no_default_is_the_sentinel_value():
    assert Parameter("x", default=no_default).required is True


def test_parameter_run_reads_context_parameters():
    p = Parameter("x", default=1)
    assert p.run() == 1
    with prefect.context(parameters={"x": 5}):
        assert p.run() == 5


def test_required_parameter_not_supplied_fails_with_fail_signal():
    with pytest.raises(signals.FAIL, match='Parameter "x" was required but not provided'):
        Parameter("x").run()


def test_parameter_copy_needs_a_new_name():
    p = Parameter("x", default=1)
    c = p.copy("y")
    assert (c.name, c.slug, c.default) == ("y", "y", 1)
    with pytest.raises(TypeError):
        p.copy()


def test_parameter_call_adds_it_to_the_flow():
    with Flow("f") as flow:
        p = Parameter("x")()
    assert flow.tasks == {p}
    assert flow.parameters() == {p}


def test_parameters_cannot_have_upstream_tasks():
    flow = Flow("f")
    with pytest.raises(ValueError, match="Parameters must be root tasks"):
        flow.add_edge(Task(), Parameter("x"))


def test_two_parameters_with_the_same_name_cannot_share_a_flow():
    flow = Flow("f")
    flow.add_task(Parameter("x"))
    with pytest.raises(ValueError, match='slug "x"'):
        flow.add_task(Parameter("x"))


def test_parameter_repr():
    assert repr(Parameter("x")) == "<Parameter: x>"


def test_datetime_parameter_parses_iso_strings():
    p = DateTimeParameter("when")
    with prefect.context(parameters={"when": "2024-01-02T03:04:05+00:00"}):
        value = p.run()
    assert isinstance(value, datetime.datetime)
    assert (value.year, value.month, value.day, value.hour) == (2024, 1, 2, 3)


def test_datetime_parameter_optional_none_stays_none():
    p = DateTimeParameter("when", required=False)
    assert p.run() is None


def test_datetime_parameter_is_required_by_default():
    assert DateTimeParameter("when").required is True
    with pytest.raises(signals.FAIL):
        DateTimeParameter("when").run()
