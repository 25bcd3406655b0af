"""Behaviours of Prefect 1.4.1 found in a compatibility review, pinned so they stay."""

from __future__ import annotations

from prefect.engine.cache_validators import partial_inputs_only, partial_parameters_only
from prefect.engine.result import Result
from prefect.engine.state import Cached


def test_partial_parameters_only_without_validate_on_accepts_any_parameters():
    state = Cached(cached_parameters={"x": 1})
    assert partial_parameters_only()(state, {}, {"x": 2}) is True


def test_partial_inputs_only_without_validate_on_accepts_any_inputs():
    state = Cached(cached_inputs={"a": Result(1)})
    assert partial_inputs_only()(state, {"a": 2}, {}) is True
