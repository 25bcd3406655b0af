from __future__ import annotations

import copy
import logging
import pickle
import re

import pytest

import prefect.engine.result as result_package
from prefect.engine.result import NoResult, NoResultType, Result
from prefect.engine.result.base import ResultNotImplementedError
from prefect.engine.serializers import JSONSerializer, PickleSerializer


def test_package_exports_the_reference_names():
    assert sorted(result_package.__all__) == ["NoResult", "NoResultType", "Result"]


def test_result_defaults():
    result = Result()
    assert result.value is None
    assert result.location is None
    assert result.serializer == PickleSerializer()


def test_result_keeps_its_arguments():
    serializer = JSONSerializer()
    result = Result(value=[1], location="out/{task_name}.json", serializer=serializer)
    assert result.value == [1]
    assert result.location == "out/{task_name}.json"
    assert result.serializer is serializer


def test_result_logger_is_a_prefect_logger_named_for_the_class():
    class CustomResult(Result):
        pass

    assert isinstance(Result().logger, logging.Logger)
    assert Result().logger.name.endswith("Result")
    assert CustomResult().logger.name.endswith("CustomResult")


def test_result_logger_can_be_replaced():
    logger = logging.getLogger("tests.result")
    result = Result()
    result.logger = logger
    assert result.logger is logger


def test_default_location_is_a_dated_unique_path():
    first, second = Result().default_location, Result().default_location
    assert re.fullmatch(r"\d{4}/\d{1,2}/\d{1,2}/[0-9a-f-]{36}\.prefect_result", first)
    assert first != second


# -------------------------------------------------------------------------- equality


def test_results_are_equal_when_type_and_public_attributes_match():
    assert Result(1, location="a") == Result(1, location="a")
    assert Result(1) != Result(2)
    assert Result(1, location="a") != Result(1, location="b")
    assert Result(1, serializer=JSONSerializer()) != Result(1)


def test_result_equality_ignores_the_logger():
    result = Result(1)
    result.logger = logging.getLogger("elsewhere")
    assert result == Result(1)


def test_results_of_different_types_are_not_equal():
    class OtherResult(Result):
        pass

    assert Result(1) != OtherResult(1)
    assert Result(1) != 1


# ------------------------------------------------------------------- copies and format


def test_copy_is_an_independent_shallow_copy():
    original = Result(value=[1, 2], location="here")
    copied = original.copy()
    assert copied == original
    assert copied is not original
    copied.location = "there"
    assert original.location == "here"
    assert copied.value is original.value


def test_from_value_gives_a_copy_with_the_value_and_no_location():
    serializer = JSONSerializer()
    original = Result(value=1, location="here", serializer=serializer)
    new = original.from_value(2)
    assert (new.value, new.location, new.serializer) == (2, None, serializer)
    assert (original.value, original.location) == (1, "here")


def test_format_fills_in_the_location_template_on_a_copy():
    template = Result(location="{flow_name}/{task_name}-{map_index}.pkl")
    formatted = template.format(flow_name="etl", task_name="load", map_index=3, extra="x")
    assert formatted.location == "etl/load-3.pkl"
    assert template.location == "{flow_name}/{task_name}-{map_index}.pkl"


def test_format_with_a_missing_template_field_raises_key_error():
    with pytest.raises(KeyError, match="task_name"):
        Result(location="{task_name}.pkl").format(flow_name="etl")


def test_format_calls_a_callable_location_with_the_keyword_arguments():
    result = Result(location=lambda **kwargs: f"{kwargs['task_name']}.out")
    assert result.location is None
    assert result.format(task_name="load").location == "load.out"


def test_format_without_a_location_uses_a_default_location():
    formatted = Result(value=1).format(task_name="load")
    assert formatted.location.endswith(".prefect_result")


# --------------------------------------------------------------- storage is abstract


def test_base_result_has_no_storage_backend():
    result = Result()
    with pytest.raises(ResultNotImplementedError):
        result.read("somewhere")
    with pytest.raises(ResultNotImplementedError):
        result.write(1, task_name="load")
    with pytest.raises(ResultNotImplementedError, match="'somewhere'"):
        result.exists("somewhere")


def test_result_not_implemented_error_is_a_not_implemented_error():
    assert issubclass(ResultNotImplementedError, NotImplementedError)


# -------------------------------------------------------------------------- NoResult


def test_no_result_has_no_value_and_a_short_repr():
    assert isinstance(NoResult, NoResultType)
    assert isinstance(NoResult, Result)
    assert NoResult.value is None
    assert NoResult.location is None
    assert repr(NoResult) == "<No result>"


def test_no_result_equals_only_no_result_instances():
    assert NoResult == NoResultType()
    assert NoResult != Result()
    assert NoResult != Result(None)
    assert Result() != NoResult
    assert NoResult is not None and NoResult != None  # noqa: E711


def test_no_result_is_hashable_unlike_results_with_values():
    assert hash(NoResult) == hash(NoResultType())
    assert len({NoResult, NoResultType()}) == 1
    with pytest.raises(TypeError):
        hash(Result(1))


def test_no_result_keeps_its_identity_through_pickle_and_deepcopy():
    assert pickle.loads(pickle.dumps(NoResult)) is NoResult
    assert copy.deepcopy(NoResult) is NoResult


def test_no_result_copies_do_not_modify_the_singleton():
    formatted = NoResult.format(task_name="x")
    assert formatted is not NoResult
    assert NoResult.location is None
    NoResult.from_value(5)
    assert NoResult.value is None


def test_results_survive_a_pickle_round_trip():
    result = Result(value={"a": 1}, location="here", serializer=JSONSerializer())
    assert pickle.loads(pickle.dumps(result)) == result


def test_result_copy_is_a_shallow_independent_copy():
    original = Result(value=[1], location="a")
    copied = original.copy()
    assert copied is not original and copied == original
    copied.location = "b"
    assert original.location == "a"
    assert copied.value is original.value


def test_result_copy_honours_custom_pickling_state():
    class Dropping(Result):
        def __getstate__(self):
            state = dict(self.__dict__)
            state["value"] = "dropped"
            return state

    assert Dropping(value=1).copy().value == "dropped"
