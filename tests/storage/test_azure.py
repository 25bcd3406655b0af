from __future__ import annotations

import sys
import types

import pytest

import prefect
from prefect.serialization.storage import StorageSchema
from prefect.storage import Azure
from prefect.utilities.storage import flow_from_bytes_pickle


@pytest.fixture
def azure_blob(monkeypatch):
    """A fake `azure.storage.blob`: blobs in ``module.blobs[(conn, container, name)]``."""
    module = types.ModuleType("azure.storage.blob")
    module.blobs = {}

    class Downloader:
        def __init__(self, data: bytes) -> None:
            self.data = data

        def content_as_bytes(self) -> bytes:
            return self.data

    class BlobClient:
        def __init__(self, key) -> None:
            self.key = key

        def upload_blob(self, data, overwrite=False):
            if self.key in module.blobs and not overwrite:
                raise FileExistsError(self.key)
            module.blobs[self.key] = data

        def download_blob(self):
            return Downloader(module.blobs[self.key])

    class BlobServiceClient:
        def __init__(self, conn_str) -> None:
            self.conn_str = conn_str

        @classmethod
        def from_connection_string(cls, conn_str):
            return cls(conn_str)

        def get_blob_client(self, container, blob):
            return BlobClient((self.conn_str, container, blob))

    module.BlobServiceClient = BlobServiceClient
    monkeypatch.setitem(sys.modules, "azure.storage.blob", module)
    return module


def test_init():
    storage = Azure(container="c", connection_string_secret="S", blob_name="b", overwrite=True)
    assert storage.container == "c"
    assert storage.connection_string_secret == "S"
    assert storage.blob_name == "b"
    assert storage.overwrite is True


def test_connection_string_sources(monkeypatch):
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", "from-env")
    assert Azure(container="c").connection_string == "from-env"
    with prefect.context(secrets={"AZURE_STORAGE_CONNECTION_STRING": "local", "MINE": "named"}):
        assert Azure(container="c").connection_string == "local"
        assert Azure(container="c", connection_string_secret="MINE").connection_string == "named"


def test_build_uploads_and_get_flow_loads(azure_blob, make_flow, run_task):
    storage = Azure(container="c", connection_string_secret="CONN")
    with prefect.context(secrets={"CONN": "conn-string"}):
        name = storage.add_flow(make_flow("azure-flow", x=7))
        assert name.startswith("azure-flow/20")
        storage.build()
        key = ("conn-string", "c", name)
        assert flow_from_bytes_pickle(azure_blob.blobs[key]).name == "azure-flow"
        rebuilt = StorageSchema().load(storage.serialize())
        assert run_task(rebuilt.get_flow("azure-flow"), "increment") == 8


def test_overwrite_is_passed_on(azure_blob, make_flow, monkeypatch):
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", "cs")
    azure_blob.blobs[("cs", "c", "fixed")] = b"old"
    storage = Azure(container="c", blob_name="fixed")
    storage.add_flow(make_flow())
    with pytest.raises(FileExistsError):
        storage.build()
    storage.overwrite = True
    storage.build()
    assert azure_blob.blobs[("cs", "c", "fixed")] != b"old"


def test_script_in_a_blob(azure_blob, monkeypatch, flow_script_text, run_task):
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", "cs")
    azure_blob.blobs[("cs", "c", "flows/f.py")] = flow_script_text.encode()
    storage = Azure(container="c", blob_name="flows/f.py", stored_as_script=True)
    storage.add_flow(prefect.Flow("script-flow"))
    storage.build()  # nothing uploaded for scripts
    assert azure_blob.blobs[("cs", "c", "flows/f.py")] == flow_script_text.encode()
    assert run_task(storage.get_flow("script-flow"), "double") == 42


def test_script_storage_needs_a_blob_name():
    storage = Azure(container="c", stored_as_script=True)
    storage.add_flow(prefect.Flow("f"))
    with pytest.raises(ValueError, match="`blob_name` must be provided"):
        storage.build()


def test_without_the_sdk_the_azure_extra_is_named(monkeypatch, make_flow):
    monkeypatch.setitem(sys.modules, "azure.storage.blob", None)
    storage = Azure(container="c")
    storage.add_flow(make_flow())
    with pytest.raises(ImportError, match=r'pip install "prefect\[azure\]"'):
        storage.build()
