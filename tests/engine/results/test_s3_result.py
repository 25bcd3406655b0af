"""`S3Result` against a real S3 API: the moto server of the `s3_bucket` fixture."""

from __future__ import annotations

import copy
import pickle
import re

import boto3
import pytest
from botocore.exceptions import ClientError

from prefect import Flow, task
from prefect.engine.results import S3Result
from prefect.engine.serializers import JSONSerializer, PickleSerializer
from prefect.utilities import aws
from prefect.utilities.configuration import set_temporary_config


def stored(bucket: str, key: str) -> bytes:
    return boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()


# ------------------------------------------------------------------------ construction


def test_s3_result_keeps_its_arguments_and_defaults():
    result = S3Result(bucket="bob", location="{task_name}.json", serializer=JSONSerializer())
    assert result.bucket == "bob"
    assert result.boto3_kwargs == {}
    assert result.upload_options == {}
    assert result.location == "{task_name}.json"
    assert result.serializer == JSONSerializer()
    assert result.value is None


def test_s3_result_requires_a_bucket():
    with pytest.raises(TypeError):
        S3Result()  # type: ignore[call-arg]


def test_s3_results_compare_by_configuration():
    assert S3Result("b", location="k") == S3Result("b", location="k")
    assert S3Result("b") != S3Result("other")
    assert S3Result("b") != S3Result("b", upload_options={"ACL": "private"})
    assert S3Result("b") != S3Result("b", boto3_kwargs={"region_name": "eu-west-1"})


def test_client_is_made_lazily_with_the_boto3_kwargs(monkeypatch):
    made: list[tuple[str, dict]] = []
    sentinel = object()

    def fake_get_boto_client(resource, **kwargs):
        made.append((resource, kwargs))
        return sentinel

    monkeypatch.setattr(aws, "get_boto_client", fake_get_boto_client)
    result = S3Result("b", boto3_kwargs={"region_name": "eu-west-1"})
    assert made == []
    assert result.client is sentinel
    assert result.client is sentinel
    assert made == [("s3", {"region_name": "eu-west-1"})]


def test_a_client_can_be_set():
    result = S3Result("b")
    client = object()
    result.client = client
    assert result.client is client


def test_client_is_neither_pickled_nor_copied(s3_bucket):
    result = S3Result(bucket=s3_bucket, location="k")
    assert result.client is not None
    assert "_client" in result.__dict__
    restored = pickle.loads(pickle.dumps(result))
    assert "_client" not in restored.__dict__
    assert restored == result
    assert "_client" not in copy.copy(result).__dict__
    assert "_client" not in result.copy().__dict__
    assert "_client" in result.__dict__  # the original keeps its client


# ------------------------------------------------------------------------------ write


def test_write_uploads_the_serialized_value_at_the_formatted_location(s3_bucket):
    result = S3Result(bucket=s3_bucket, location="{flow_name}/{task_name}.pkl")
    written = result.write({"a": [1, 2]}, flow_name="etl", task_name="load")
    assert isinstance(written, S3Result)
    assert written is not result
    assert written.location == "etl/load.pkl"
    assert written.value == {"a": [1, 2]}
    assert result.location == "{flow_name}/{task_name}.pkl"
    assert result.value is None
    assert PickleSerializer().deserialize(stored(s3_bucket, "etl/load.pkl")) == {"a": [1, 2]}


def test_write_uses_the_result_serializer(s3_bucket):
    result = S3Result(bucket=s3_bucket, location="out.json", serializer=JSONSerializer())
    result.write([1, "two"])
    assert stored(s3_bucket, "out.json") == b'[1, "two"]'


def test_write_without_a_location_uses_a_dated_unique_key(s3_bucket):
    result = S3Result(bucket=s3_bucket)
    first = result.write(1)
    second = result.write(2)
    pattern = r"\d{4}/\d{1,2}/\d{1,2}/[0-9a-f-]{36}\.prefect_result"
    assert re.fullmatch(pattern, first.location)
    assert first.location != second.location
    assert result.location is None
    assert result.read(second.location).value == 2


def test_write_with_a_callable_location(s3_bucket):
    result = S3Result(bucket=s3_bucket, location=lambda **kw: f"by-fn/{kw['task_name']}")
    assert result.write(3, task_name="t").location == "by-fn/t"
    assert result.read("by-fn/t").value == 3


def test_write_passes_upload_options(s3_bucket):
    result = S3Result(
        bucket=s3_bucket,
        location="typed",
        upload_options={"ContentType": "application/json", "Metadata": {"owner": "etl"}},
        serializer=JSONSerializer(),
    )
    result.write({"x": 1})
    head = boto3.client("s3").head_object(Bucket=s3_bucket, Key="typed")
    assert head["ContentType"] == "application/json"
    assert head["Metadata"] == {"owner": "etl"}


def test_write_with_a_missing_template_key_names_it():
    result = S3Result(bucket="never-reached", location="{flow_name}/{missing_key}.pkl")
    with pytest.raises(KeyError, match="Missing key 'missing_key'"):
        result.write(1, flow_name="etl")


def test_write_to_a_missing_bucket_raises_the_boto_error(s3_server):
    with pytest.raises(ClientError, match="NoSuchBucket"):
        S3Result(bucket="no-such-bucket", location="k").write(1)


# ------------------------------------------------------------------------------- read


def test_read_returns_a_new_result_with_the_value(s3_bucket):
    boto3.client("s3").put_object(
        Bucket=s3_bucket, Key="given.pkl", Body=PickleSerializer().serialize({"v": 1})
    )
    result = S3Result(bucket=s3_bucket, location="{task_name}.pkl")
    read = result.read("given.pkl")
    assert isinstance(read, S3Result)
    assert read is not result
    assert (read.value, read.location) == ({"v": 1}, "given.pkl")
    assert (result.value, result.location) == (None, "{task_name}.pkl")


def test_read_a_missing_key_raises_the_boto_error(s3_bucket):
    with pytest.raises(ClientError) as info:
        S3Result(bucket=s3_bucket).read("not/there.pkl")
    assert info.value.response["Error"]["Code"] in {"404", "NoSuchKey"}


def test_read_an_empty_object_gives_none(s3_bucket):
    boto3.client("s3").put_object(Bucket=s3_bucket, Key="empty", Body=b"")
    assert S3Result(bucket=s3_bucket).read("empty").value is None


def test_round_trip_through_pickled_result(s3_bucket):
    written = S3Result(bucket=s3_bucket, serializer=JSONSerializer()).write({"k": "v"})
    restored = pickle.loads(pickle.dumps(written))
    assert restored.read(restored.location).value == {"k": "v"}


# ----------------------------------------------------------------------------- exists


def test_exists_is_true_only_for_stored_keys(s3_bucket):
    result = S3Result(bucket=s3_bucket)
    assert result.exists("a/b.pkl") is False
    boto3.client("s3").put_object(Bucket=s3_bucket, Key="a/b.pkl", Body=b"x")
    assert result.exists("a/b.pkl") is True


def test_exists_formats_the_location(s3_bucket):
    boto3.client("s3").put_object(Bucket=s3_bucket, Key="etl/load.pkl", Body=b"x")
    result = S3Result(bucket=s3_bucket)
    assert result.exists("{flow}/{task}.pkl", flow="etl", task="load") is True
    assert result.exists("{flow}/{task}.pkl", flow="etl", task="other") is False
    with pytest.raises(KeyError, match="'task'"):
        result.exists("{flow}/{task}.pkl", flow="etl")


def test_exists_raises_errors_other_than_a_missing_key(s3_server):
    with pytest.raises(ClientError, match="NoSuchBucket"):
        S3Result(bucket="no-such-bucket").exists("k")


# ------------------------------------------------------------------- in a flow run


def test_flow_checkpoints_to_s3_only_when_checkpointing_is_on(s3_bucket):
    @task(result=S3Result(bucket=s3_bucket, location="{task_name}-{x}.pkl"))
    def double(x):
        return 2 * x

    with Flow("s3-flow") as flow:
        double(21)

    s3 = boto3.client("s3")
    with set_temporary_config({"flows.checkpointing": False}):
        off = flow.run()
    assert off.is_successful()
    assert s3.list_objects_v2(Bucket=s3_bucket).get("KeyCount") == 0

    with set_temporary_config({"flows.checkpointing": True}):
        on = flow.run()
    state = on.result[flow.get_tasks(name="double")[0]]
    assert state.result == 42
    assert state._result.location == "double-21.pkl"
    assert PickleSerializer().deserialize(stored(s3_bucket, "double-21.pkl")) == 42


def test_task_with_an_existing_s3_target_is_not_run_again(s3_bucket):
    calls: list[int] = []

    @task(result=S3Result(bucket=s3_bucket), target="targets/{task_name}-{x}.pkl")
    def expensive(x):
        calls.append(x)
        return x * 10

    with Flow("targets") as flow:
        expensive(4)

    with set_temporary_config({"flows.checkpointing": True}):
        first = flow.run()
        second = flow.run()

    [the_task] = flow.get_tasks(name="expensive")
    assert calls == [4]
    assert first.result[the_task].is_successful()
    assert not first.result[the_task].is_cached()
    cached = second.result[the_task]
    assert cached.is_cached()
    assert cached.result == 40
    assert cached._result.location == "targets/expensive-4.pkl"
    assert "targets/expensive-4.pkl" in cached.message
