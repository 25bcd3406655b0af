from datetime import timedelta

import pendulum
import pytest

from prefect.engine import cache_validators as cv
from prefect.engine.result import Result
from prefect.engine.state import Cached


def cached(expires_in=timedelta(hours=1), inputs=None, parameters=None):
    expiration = None if expires_in is None else pendulum.now("utc") + expires_in
    return Cached(
        cached_result_expiration=expiration,
        cached_inputs={k: Result(v) for k, v in (inputs or {}).items()},
        cached_parameters=parameters,
    )


def test_never_use_refuses_every_cache():
    assert cv.never_use(cached(), {}, {}) is False


@pytest.mark.parametrize(
    "validator",
    [
        cv.duration_only,
        cv.all_inputs,
        cv.all_parameters,
        cv.partial_inputs_only(["a"]),
        cv.partial_parameters_only(["p"]),
        cv.partial_inputs_only(),
        cv.partial_parameters_only(),
    ],
)
def test_every_validator_refuses_an_expired_cache(validator):
    state = cached(expires_in=-timedelta(seconds=1), inputs={"a": 1}, parameters={"p": 1})
    assert validator(state, {"a": 1}, {"p": 1}) is False


def test_duration_only_accepts_an_unexpired_or_unbounded_cache_whatever_the_inputs():
    assert cv.duration_only(cached(), {"a": 5}, {"p": 9}) is True
    assert cv.duration_only(cached(expires_in=None), {}, {}) is True


def test_all_inputs_compares_every_input_value():
    state = cached(inputs={"a": 1, "b": 2})
    assert cv.all_inputs(state, {"a": 1, "b": 2}, {}) is True
    assert cv.all_inputs(state, {"a": 1, "b": 3}, {}) is False
    assert cv.all_inputs(state, {"a": 1}, {}) is False


def test_all_parameters_compares_every_parameter():
    state = cached(parameters={"p": 1})
    assert cv.all_parameters(state, {}, {"p": 1}) is True
    assert cv.all_parameters(state, {}, {"p": 2}) is False


def test_partial_validators_compare_only_the_named_keys():
    state = cached(inputs={"a": 1, "b": 2}, parameters={"p": 1, "q": 2})
    assert cv.partial_inputs_only(["a"])(state, {"a": 1, "b": 99}, {}) is True
    assert cv.partial_inputs_only(["b"])(state, {"a": 1, "b": 99}, {}) is False
    assert cv.partial_parameters_only(["p"])(state, {}, {"p": 1, "q": 99}) is True
    assert cv.partial_parameters_only(["q"])(state, {}, {"p": 1, "q": 99}) is False
