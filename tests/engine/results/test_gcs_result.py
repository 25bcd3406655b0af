"""`GCSResult`: construction, the missing-SDK error, and its storage logic on small in-memory
stand-ins for the google-cloud-storage objects (no GCS server is available to tests)."""

from __future__ import annotations

import pickle
import re
import sys
import types
from typing import Any

import pytest

import prefect
from prefect import Flow, task
from prefect.engine.results import GCSResult
from prefect.engine.serializers import JSONSerializer, PickleSerializer
from prefect.utilities.configuration import set_temporary_config


class NotFound(Exception):
    """Stands in for `google.cloud.exceptions.NotFound`."""


class FakeBlob:
    def __init__(self, bucket: FakeBucket, name: str) -> None:
        self.bucket = bucket
        self.name = name

    def upload_from_string(self, data: bytes) -> None:
        assert isinstance(data, bytes)
        self.bucket.objects[self.name] = data

    def download_as_bytes(self) -> bytes:
        try:
            return self.bucket.objects[self.name]
        except KeyError:
            raise NotFound(f"404 No such object: {self.bucket.name}/{self.name}") from None

    def exists(self) -> bool:
        return self.name in self.bucket.objects


class FakeBucket:
    def __init__(self, name: str) -> None:
        self.name = name
        self.objects: dict[str, bytes] = {}

    def blob(self, name: str) -> FakeBlob:
        return FakeBlob(self, name)


@pytest.fixture
def fake_storage(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Installs a stand-in `google.cloud.storage` (and `google.oauth2.service_account`);
    returns a record of the buckets and clients it made."""
    record: dict[str, Any] = {"buckets": {}, "clients": []}

    class Client:
        def __init__(self, project: str | None = None, credentials: Any = None) -> None:
            record["clients"].append({"project": project, "credentials": credentials})

        def bucket(self, name: str) -> FakeBucket:
            return record["buckets"].setdefault(name, FakeBucket(name))

    class Credentials:
        def __init__(self, info: dict) -> None:
            self.info = info
            self.project_id = info["project_id"]

        @classmethod
        def from_service_account_info(cls, info: dict) -> Credentials:
            return cls(info)

    google = types.ModuleType("google")
    cloud = types.ModuleType("google.cloud")
    storage = types.ModuleType("google.cloud.storage")
    oauth2 = types.ModuleType("google.oauth2")
    service_account = types.ModuleType("google.oauth2.service_account")
    storage.Client = Client  # type: ignore[attr-defined]
    service_account.Credentials = Credentials  # type: ignore[attr-defined]
    google.cloud = cloud  # type: ignore[attr-defined]
    google.oauth2 = oauth2  # type: ignore[attr-defined]
    cloud.storage = storage  # type: ignore[attr-defined]
    oauth2.service_account = service_account  # type: ignore[attr-defined]
    for module in (google, cloud, storage, oauth2, service_account):
        monkeypatch.setitem(sys.modules, module.__name__, module)
    return record


@pytest.fixture
def no_google_sdk(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("google", "google.cloud", "google.cloud.storage"):
        monkeypatch.setitem(sys.modules, name, None)


# ------------------------------------------------------------------------ construction


def test_gcs_result_defaults():
    result = GCSResult()
    assert result.bucket is None
    assert result.location is None
    assert result.value is None
    assert result.serializer == PickleSerializer()


def test_gcs_result_keeps_its_arguments():
    result = GCSResult(bucket="bob", location="{task_name}.json", serializer=JSONSerializer())
    assert (result.bucket, result.location) == ("bob", "{task_name}.json")
    assert result.serializer == JSONSerializer()


def test_gcs_results_compare_by_configuration():
    assert GCSResult("b", location="k") == GCSResult("b", location="k")
    assert GCSResult("b") != GCSResult("c")


def test_gcs_result_is_built_without_the_sdk(no_google_sdk):
    assert GCSResult(bucket="b").bucket == "b"


@pytest.mark.parametrize(
    "use",
    [
        lambda r: r.gcs_bucket,
        lambda r: r.write(1),
        lambda r: r.read("k"),
        lambda r: r.exists("k"),
    ],
    ids=["gcs_bucket", "write", "read", "exists"],
)
def test_using_it_without_the_sdk_names_the_extra(no_google_sdk, use):
    with pytest.raises(ImportError, match=re.escape('pip install "prefect[google]"')):
        use(GCSResult(bucket="b"))


def test_gcs_bucket_needs_a_bucket_name(fake_storage):
    with pytest.raises(ValueError, match="bucket="):
        GCSResult().gcs_bucket  # noqa: B018


# ------------------------------------------------------------------------ the client


def test_gcs_bucket_is_made_once_from_default_credentials(fake_storage):
    result = GCSResult(bucket="data")
    bucket = result.gcs_bucket
    assert isinstance(bucket, FakeBucket) and bucket.name == "data"
    assert result.gcs_bucket is bucket
    assert fake_storage["clients"] == [{"project": None, "credentials": None}]


@pytest.mark.parametrize(
    "secret",
    [
        {"project_id": "proj", "private_key": "k"},
        '{"project_id": "proj", "private_key": "k"}',
    ],
    ids=["dict", "json-text"],
)
def test_gcs_bucket_uses_the_gcp_credentials_secret(fake_storage, secret):
    with prefect.context(secrets={"GCP_CREDENTIALS": secret}):
        GCSResult(bucket="data").gcs_bucket  # noqa: B018
    [client] = fake_storage["clients"]
    assert client["project"] == "proj"
    assert client["credentials"].info == {"project_id": "proj", "private_key": "k"}


def test_gcs_bucket_can_be_set_and_is_not_pickled():
    result = GCSResult(bucket="b")
    bucket = FakeBucket("b")
    result.gcs_bucket = bucket
    assert result.gcs_bucket is bucket
    restored = pickle.loads(pickle.dumps(result))
    assert "_gcs_bucket" not in restored.__dict__
    assert restored == result
    assert "_gcs_bucket" not in result.copy().__dict__


# ---------------------------------------------------------------- write, read, exists


@pytest.fixture
def result_on_fake_bucket() -> tuple[GCSResult, FakeBucket]:
    result = GCSResult(bucket="b", location="{flow_name}/{task_name}.out")
    bucket = FakeBucket("b")
    result.gcs_bucket = bucket
    return result, bucket


def test_write_uploads_the_serialized_value(result_on_fake_bucket):
    result, bucket = result_on_fake_bucket
    written = result.write({"a": 1}, flow_name="etl", task_name="load")
    assert written.location == "etl/load.out"
    assert written.value == {"a": 1}
    assert result.location == "{flow_name}/{task_name}.out"
    assert PickleSerializer().deserialize(bucket.objects["etl/load.out"]) == {"a": 1}


def test_write_without_a_location_uses_a_dated_unique_name():
    result = GCSResult(bucket="b", serializer=JSONSerializer())
    result.gcs_bucket = bucket = FakeBucket("b")
    written = result.write([1])
    assert re.fullmatch(r"\d{4}/\d{1,2}/\d{1,2}/[0-9a-f-]{36}\.prefect_result", written.location)
    assert bucket.objects[written.location] == b"[1]"


def test_write_with_a_missing_template_key_names_it(result_on_fake_bucket):
    result, bucket = result_on_fake_bucket
    with pytest.raises(KeyError, match="Missing key 'task_name'"):
        result.write(1, flow_name="etl")
    assert bucket.objects == {}


def test_read_gives_a_new_result_with_the_value(result_on_fake_bucket):
    result, bucket = result_on_fake_bucket
    bucket.objects["x.pkl"] = PickleSerializer().serialize([1, 2])
    read = result.read("x.pkl")
    assert (read.value, read.location) == ([1, 2], "x.pkl")
    assert read is not result and result.value is None


def test_read_falls_back_to_download_as_string_on_old_sdks():
    class OldBlob:
        def download_as_string(self) -> bytes:
            return b'{"old": true}'

    class OldBucket:
        def blob(self, name: str) -> OldBlob:
            return OldBlob()

    result = GCSResult(bucket="b", serializer=JSONSerializer())
    result.gcs_bucket = OldBucket()
    assert result.read("k").value == {"old": True}


def test_read_a_missing_blob_raises_the_sdk_error(result_on_fake_bucket):
    result, _ = result_on_fake_bucket
    with pytest.raises(NotFound, match="b/nothing"):
        result.read("nothing")


def test_exists_formats_the_location(result_on_fake_bucket):
    result, bucket = result_on_fake_bucket
    bucket.objects["etl/load.out"] = b"x"
    assert result.exists("{flow}/load.out", flow="etl") is True
    assert result.exists("{flow}/load.out", flow="other") is False
    with pytest.raises(KeyError, match="'flow'"):
        result.exists("{flow}/load.out")


def test_flow_checkpoints_to_gcs_and_reuses_a_target(fake_storage):
    calls: list[int] = []

    @task(result=GCSResult(bucket="flows"), target="{task_name}/{x}.pkl")
    def square(x):
        calls.append(x)
        return x * x

    with Flow("gcs") as flow:
        square(3)

    with set_temporary_config({"flows.checkpointing": True}):
        first = flow.run()
        second = flow.run()
    [the_task] = flow.get_tasks()
    assert first.result[the_task].result == 9
    assert (
        PickleSerializer().deserialize(fake_storage["buckets"]["flows"].objects["square/3.pkl"])
        == 9
    )
    assert second.result[the_task].is_cached()
    assert second.result[the_task].result == 9
    assert calls == [3]
