from __future__ import annotations

import sys
import types

import pytest

import prefect
from prefect.exceptions import FlowStorageError
from prefect.serialization.storage import StorageSchema
from prefect.storage import GCS
from prefect.utilities.storage import flow_from_bytes_pickle


class FakeBlob:
    def __init__(self, store: dict, name: str) -> None:
        self.store, self.name = store, name

    def upload_from_string(self, data) -> None:
        self.store[self.name] = bytes(data)

    def upload_from_file(self, file_obj) -> None:
        self.store[self.name] = file_obj.read()

    def download_as_bytes(self) -> bytes:
        return self.store[self.name]


class FakeBucket:
    def __init__(self, store: dict) -> None:
        self.store = store

    def blob(self, blob_name: str) -> FakeBlob:
        return FakeBlob(self.store, blob_name)

    def get_blob(self, name: str):
        return FakeBlob(self.store, name) if name in self.store else None


@pytest.fixture
def gcs(monkeypatch):
    """A fake `google.cloud.storage` keeping blobs per bucket in ``gcs.buckets``."""
    module = types.ModuleType("google.cloud.storage")
    module.buckets = {}
    module.clients = []

    class Client:
        def __init__(self, project=None, credentials=None) -> None:
            module.clients.append((project, credentials))

        def get_bucket(self, name: str) -> FakeBucket:
            return FakeBucket(module.buckets.setdefault(name, {}))

    module.Client = Client
    monkeypatch.setitem(sys.modules, "google.cloud.storage", module)
    return module


def test_init():
    storage = GCS(bucket="b", key="k", project="p")
    assert (storage.bucket, storage.key, storage.project) == ("b", "k", "p")
    assert storage.local_script_path is None
    assert storage.stored_as_script is False


def test_add_flow_keys(make_flow):
    storage = GCS(bucket="b")
    assert storage.add_flow(make_flow("G Flow")).startswith("g-flow/20")
    assert GCS(bucket="b", key="fixed").add_flow(make_flow()) == "fixed"


def test_build_uploads_and_get_flow_loads(gcs, make_flow, run_task):
    storage = GCS(bucket="bucket", project="proj")
    key = storage.add_flow(make_flow("gcs-flow", x=2))
    storage.build()
    assert flow_from_bytes_pickle(gcs.buckets["bucket"][key]).name == "gcs-flow"
    assert gcs.clients[0] == ("proj", None)
    rebuilt = StorageSchema().load(storage.serialize())
    assert run_task(rebuilt.get_flow("gcs-flow"), "increment") == 3


def test_script_upload_and_load(gcs, flow_script, flow_script_text, run_task):
    storage = GCS(bucket="bucket", stored_as_script=True, local_script_path=flow_script)
    key = storage.add_flow(prefect.Flow("script-flow"))
    storage.build()
    assert gcs.buckets["bucket"][key].decode() == flow_script_text
    assert run_task(storage.get_flow("script-flow"), "double") == 42


def test_script_storage_needs_key_or_script():
    storage = GCS(bucket="b", stored_as_script=True)
    storage.add_flow(prefect.Flow("f"))
    with pytest.raises(ValueError, match="`key` must be provided"):
        storage.build()


def test_missing_blob_raises_flow_storage_error(gcs, make_flow):
    storage = GCS(bucket="bucket")
    storage.add_flow(make_flow())
    with pytest.raises(FlowStorageError, match="Flow not found in bucket"):
        storage.get_flow("test-flow")


def test_gcp_credentials_secret_is_used(gcs, monkeypatch, make_flow):
    service_account = types.ModuleType("google.oauth2.service_account")

    class Credentials:
        project_id = "from-credentials"

        @classmethod
        def from_service_account_info(cls, info):
            creds = cls()
            creds.info = info
            return creds

    service_account.Credentials = Credentials
    monkeypatch.setitem(sys.modules, "google.oauth2.service_account", service_account)
    storage = GCS(bucket="bucket")
    storage.add_flow(make_flow())
    with prefect.context(secrets={"GCP_CREDENTIALS": {"type": "service_account"}}):
        storage.build()
    project, credentials = gcs.clients[0]
    assert project == "from-credentials"
    assert credentials.info == {"type": "service_account"}


def test_without_the_sdk_the_google_extra_is_named(monkeypatch, make_flow):
    monkeypatch.setitem(sys.modules, "google.cloud.storage", None)
    storage = GCS(bucket="b")
    storage.add_flow(make_flow())
    with pytest.raises(ImportError, match=r'pip install "prefect\[google\]"'):
        storage.build()
    with pytest.raises(ImportError, match=r"prefect\[google\]"):
        storage.get_flow("test-flow")
