"""The cloud result types in the 1.4.1 JSON of results and states (server-protocol §5.2)."""

from __future__ import annotations

import sys

import pytest

import prefect
from prefect.engine.results import AzureResult, GCSResult, S3Result
from prefect.engine.serializers import JSONSerializer
from prefect.engine.state import Cached, Success
from prefect.serialization.result import (
    AzureResultSchema,
    GCSResultSchema,
    S3ResultSchema,
    StateResultSchema,
)
from prefect.serialization.state import StateSchema

VERSION = prefect.__version__


def dump(result):
    return StateResultSchema().dump(result)


def load(data):
    return StateResultSchema().load(data)


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        (
            S3Result(bucket="my-bucket", location="2024/1/2/x.prefect_result"),
            {"bucket": "my-bucket", "location": "2024/1/2/x.prefect_result", "type": "S3Result"},
        ),
        (
            GCSResult(bucket="gcs-bucket", location="a/b"),
            {"bucket": "gcs-bucket", "location": "a/b", "type": "GCSResult"},
        ),
        (
            AzureResult(container="box", location="c/d"),
            {"container": "box", "location": "c/d", "type": "AzureResult"},
        ),
    ],
    ids=["S3Result", "GCSResult", "AzureResult"],
)
def test_cloud_results_dump_the_reference_shape(result, expected):
    assert dump(result) == {**expected, "__version__": VERSION}


def test_only_where_the_result_is_is_dumped():
    result = S3Result(
        bucket="b",
        boto3_kwargs={"region_name": "eu-west-1"},
        upload_options={"ACL": "private"},
        value={"secret": "data"},
        serializer=JSONSerializer(),
    )
    assert dump(result) == {
        "bucket": "b",
        "location": None,
        "__version__": VERSION,
        "type": "S3Result",
    }
    azure = AzureResult("box", connection_string="AccountKey=hidden", connection_string_secret="S")
    assert set(dump(azure)) == {"container", "location", "__version__", "type"}


def test_s3_result_loads_back_as_an_s3_result():
    loaded = load({"__version__": "1.4.1", "type": "S3Result", "bucket": "b", "location": "k"})
    assert type(loaded) is S3Result
    assert (loaded.bucket, loaded.location, loaded.value) == ("b", "k", None)
    assert loaded.boto3_kwargs == {} and loaded.upload_options == {}
    assert loaded == S3Result(bucket="b", location="k")


def test_gcs_and_azure_results_load_back_without_their_sdks(monkeypatch):
    for name in ("google", "google.cloud", "google.cloud.storage", "azure", "azure.storage"):
        monkeypatch.setitem(sys.modules, name, None)
    gcs = load({"type": "GCSResult", "bucket": "g", "location": "k"})
    azure = load({"type": "AzureResult", "container": "c", "location": "k"})
    assert type(gcs) is GCSResult and (gcs.bucket, gcs.location) == ("g", "k")
    assert type(azure) is AzureResult and (azure.container, azure.location) == ("c", "k")
    assert azure.connection_string is None


@pytest.mark.parametrize(
    "result",
    [
        S3Result(bucket="b", location="k"),
        GCSResult(bucket="g", location="k"),
        AzureResult(container="c", location="k"),
        S3Result(bucket="b"),
    ],
    ids=["s3", "gcs", "azure", "s3-no-location"],
)
def test_round_trip_keeps_type_and_location(result):
    loaded = load(dump(result))
    assert type(loaded) is type(result)
    assert loaded == result


@pytest.mark.parametrize(
    ("schema", "data", "missing"),
    [
        (S3ResultSchema, {"bucket": None, "location": "k"}, "bucket"),
        (GCSResultSchema, {"bucket": None}, "bucket"),
        (AzureResultSchema, {"container": None}, "container"),
    ],
)
def test_bucket_and_container_may_not_be_null(schema, data, missing):
    from marshmallow import ValidationError

    with pytest.raises(ValidationError) as info:
        schema().load(data)
    assert missing in info.value.messages


def test_individual_schemas_dump_without_a_type_key():
    assert S3ResultSchema().dump(S3Result(bucket="b", location="k")) == {
        "bucket": "b",
        "location": "k",
        "__version__": VERSION,
    }


def test_a_state_with_an_s3_result_serializes_to_the_reference_shape():
    state = Success(message="Task run succeeded.", result=S3Result(bucket="b", location="k"))
    state._result.value = 42  # never sent
    data = StateSchema().dump(state)
    assert data["type"] == "Success"
    assert data["_result"] == {
        "bucket": "b",
        "location": "k",
        "__version__": VERSION,
        "type": "S3Result",
    }
    loaded = StateSchema().load(data)
    assert isinstance(loaded, Success)
    assert type(loaded._result) is S3Result
    assert loaded._result.location == "k"
    assert loaded._result.value is None


def test_cached_inputs_carry_cloud_results():
    state = Cached(
        result=GCSResult(bucket="g", location="out"),
        cached_inputs={"x": AzureResult(container="c", location="in")},
    )
    data = StateSchema().dump(state)
    assert data["cached_inputs"] == {
        "x": {"container": "c", "location": "in", "__version__": VERSION, "type": "AzureResult"}
    }
    loaded = StateSchema().load(data)
    assert type(loaded.cached_inputs["x"]) is AzureResult
    assert loaded.cached_inputs["x"].location == "in"
