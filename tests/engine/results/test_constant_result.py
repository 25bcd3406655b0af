from __future__ import annotations

import pytest

from prefect.engine.result import Result
from prefect.engine.results import ConstantResult


def test_constant_result_holds_its_value():
    result = ConstantResult(value=[1, 2])
    assert isinstance(result, Result)
    assert result.value == [1, 2]


def test_read_returns_the_result_itself():
    result = ConstantResult(value=3)
    assert result.read("anything") is result


def test_write_is_refused():
    with pytest.raises(ValueError, match="Cannot write values to `ConstantResult` types"):
        ConstantResult(value=3).write(4)


def test_exists_always():
    assert ConstantResult().exists("anything")
    assert ConstantResult(value=None).exists("{x}", x=1)
