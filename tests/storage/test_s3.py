from __future__ import annotations

import sys

import boto3
import pytest
from botocore.exceptions import ClientError

import prefect
from prefect.serialization.storage import StorageSchema
from prefect.storage import S3
from prefect.utilities.storage import flow_from_bytes_pickle


def fresh_from_json(storage: S3) -> S3:
    """A new storage object from the registered JSON, as an agent builds it."""
    return StorageSchema().load(storage.serialize())


def test_init_keeps_its_arguments():
    storage = S3(
        bucket="b",
        key="k",
        client_options={"region_name": "eu-west-1"},
        upload_options={"ACL": "private"},
        secrets=["AWS_CREDENTIALS"],
    )
    assert storage.bucket == "b"
    assert storage.key == "k"
    assert storage.client_options == {"region_name": "eu-west-1"}
    assert storage.upload_options == {"ACL": "private"}
    assert storage.local_script_path is None
    assert storage.stored_as_script is False
    assert storage.secrets == ["AWS_CREDENTIALS"]
    assert storage.labels == []


def test_local_script_path_defaults_to_the_script_being_loaded():
    with prefect.context(local_script_path="/flows/my_flow.py"):
        assert S3(bucket="b").local_script_path == "/flows/my_flow.py"


def test_add_flow_picks_a_fresh_key_without_uploading(make_flow):
    storage = S3(bucket="b")
    key = storage.add_flow(make_flow("My Flow"))
    slug, stamp = key.split("/")
    assert slug == "my-flow" and stamp.startswith("20")
    assert storage.flows == {"My Flow": key}
    assert "My Flow" in storage
    with pytest.raises(ValueError, match="Name conflict"):
        storage.add_flow(make_flow("My Flow"))


def test_add_flow_uses_the_given_key(make_flow):
    storage = S3(bucket="b", key="flows/one.pickle")
    assert storage.add_flow(make_flow()) == "flows/one.pickle"


def test_build_uploads_and_a_fresh_storage_loads_and_runs(s3_bucket, make_flow, run_task):
    storage = S3(bucket=s3_bucket)
    key = storage.add_flow(make_flow("s3-flow", x=9))
    assert storage.build() is storage

    body = boto3.client("s3").get_object(Bucket=s3_bucket, Key=key)["Body"].read()
    assert flow_from_bytes_pickle(body).name == "s3-flow"

    loaded = fresh_from_json(storage).get_flow("s3-flow")
    assert run_task(loaded, "increment") == 10


def test_upload_options_and_client_options_are_used(s3_bucket, s3_server, make_flow):
    storage = S3(
        bucket=s3_bucket,
        key="with/metadata",
        client_options={"endpoint_url": s3_server, "region_name": "us-east-1"},
        upload_options={"Metadata": {"team": "data"}},
    )
    storage.add_flow(make_flow())
    storage.build()
    head = boto3.client("s3").head_object(Bucket=s3_bucket, Key="with/metadata")
    assert head["Metadata"] == {"team": "data"}


def test_script_upload_from_local_script_path(s3_bucket, flow_script, flow_script_text, run_task):
    storage = S3(bucket=s3_bucket, stored_as_script=True, local_script_path=flow_script)
    key = storage.add_flow(prefect.Flow("script-flow"))
    storage.build()
    body = boto3.client("s3").get_object(Bucket=s3_bucket, Key=key)["Body"].read()
    assert body.decode() == flow_script_text
    assert run_task(fresh_from_json(storage).get_flow("script-flow"), "double") == 42


def test_script_already_in_the_bucket_is_read_from_key(s3_bucket, flow_script_text, run_task):
    boto3.client("s3").put_object(Bucket=s3_bucket, Key="scripts/f.py", Body=flow_script_text)
    storage = S3(bucket=s3_bucket, key="scripts/f.py", stored_as_script=True)
    storage.add_flow(prefect.Flow("script-flow"))
    storage.build()  # nothing to upload
    assert run_task(fresh_from_json(storage).get_flow("script-flow"), "double") == 42


def test_script_storage_needs_a_key_or_a_local_script():
    storage = S3(bucket="b", stored_as_script=True)
    storage.add_flow(prefect.Flow("f"))
    with pytest.raises(ValueError, match="`key` must be provided"):
        storage.build()


def test_get_flow_of_unknown_name_raises():
    with pytest.raises(ValueError, match="not contained in this Storage"):
        S3(bucket="b").get_flow("nope")


def test_get_flow_of_a_missing_object_raises_client_error(s3_bucket, make_flow):
    storage = S3(bucket=s3_bucket)
    storage.add_flow(make_flow())  # never built
    with pytest.raises(ClientError):
        storage.get_flow("test-flow")


def test_build_into_a_missing_bucket_raises(s3_server, make_flow):
    storage = S3(bucket="no-such-bucket-for-prefect-tests")
    storage.add_flow(make_flow())
    with pytest.raises(ClientError):
        storage.build()


def test_without_boto3_the_aws_extra_is_named(monkeypatch, make_flow):
    from prefect.utilities import aws

    monkeypatch.setitem(sys.modules, "boto3", None)
    monkeypatch.setattr(aws._CACHE, "clients", {}, raising=False)
    storage = S3(bucket="b")
    storage.add_flow(make_flow())
    with pytest.raises(ImportError, match=r'pip install "prefect\[aws\]"'):
        storage.build()
