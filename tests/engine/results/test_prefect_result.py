from __future__ import annotations

import datetime

import pendulum
import pytest

from prefect.engine.result import Result
from prefect.engine.results import PrefectResult
from prefect.engine.serializers import DateTimeSerializer, JSONSerializer, PickleSerializer


def test_serializer_defaults_to_json():
    assert PrefectResult().serializer == JSONSerializer()
    assert PrefectResult(serializer=None).serializer == JSONSerializer()


def test_non_text_serializers_are_refused():
    with pytest.raises(TypeError, match="PickleSerializer"):
        PrefectResult(serializer=PickleSerializer())
    result = PrefectResult()
    with pytest.raises(TypeError, match="JSONSerializer"):
        result.serializer = PickleSerializer()
    assert result.serializer == JSONSerializer()


def test_datetime_serializer_is_accepted():
    assert PrefectResult(serializer=DateTimeSerializer()).serializer == DateTimeSerializer()


def test_write_puts_the_json_text_in_the_location_of_a_new_result():
    result = PrefectResult()
    written = result.write({"a": [1, 2]})
    assert written is not result
    assert isinstance(written, PrefectResult)
    assert written.value == {"a": [1, 2]}
    assert written.location == '{"a": [1, 2]}'
    assert result.value is None
    assert result.location is None


def test_write_ignores_template_kwargs():
    written = PrefectResult(location="{task_name}").write(3, task_name="t")
    assert written.location == "3"


def test_write_of_a_non_json_value_fails():
    with pytest.raises(TypeError):
        PrefectResult().write(object())


def test_read_deserializes_the_location_into_a_new_result():
    result = PrefectResult()
    read = result.read("[1, 2, 3]")
    assert read is not result
    assert read.value == [1, 2, 3]
    assert read.location == "[1, 2, 3]"
    assert result.value is None


def test_datetime_values_round_trip_with_the_datetime_serializer():
    result = PrefectResult(serializer=DateTimeSerializer())
    moment = pendulum.datetime(2022, 11, 1, 12, tz="UTC")
    written = result.write(moment)
    assert written.location == "2022-11-01T12:00:00+00:00"
    assert result.read(written.location).value == moment
    assert isinstance(result.read(written.location).value, datetime.datetime)


@pytest.mark.parametrize("location", ["1", '"text"', "null", '{"a": 1}', "[1, 2]"])
def test_exists_for_any_json_location(location: str):
    assert PrefectResult().exists(location)


def test_exists_formats_a_template_location():
    assert PrefectResult().exists("{n}", n=5)
    assert not PrefectResult().exists("{task_name}", task_name="not json")


def test_exists_is_false_for_non_json_or_missing_locations():
    assert not PrefectResult().exists("not json")
    assert not PrefectResult().exists("{missing}")
    assert not PrefectResult().exists(None)  # type: ignore[arg-type]


def test_write_then_read_round_trips():
    written = PrefectResult().write({"nested": {"x": [1, None, True]}})
    assert PrefectResult().read(written.location).value == written.value


def test_copy_keeps_the_serializer_and_equality():
    result = PrefectResult(location="1")
    assert result.copy() == result
    assert result.copy().serializer == result.serializer
    assert PrefectResult(location="1") != Result(location="1")
