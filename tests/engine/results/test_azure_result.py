"""`AzureResult`: construction, connection strings, the missing-SDK error, and its storage
logic on small in-memory stand-ins for the azure-storage-blob objects (no Azure server is
available to tests)."""

from __future__ import annotations

import pickle
import re
import sys
import types

import pytest

import prefect
from prefect import Flow, task
from prefect.engine.results import AzureResult
from prefect.engine.serializers import JSONSerializer, PickleSerializer
from prefect.utilities.configuration import set_temporary_config


class ResourceNotFoundError(Exception):
    """Stands in for `azure.core.exceptions.ResourceNotFoundError`."""


class HttpResponseError(Exception):
    """Stands in for another `azure.core` error (e.g. authentication failed)."""


class FakeDownload:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def readall(self) -> bytes:
        return self.data


class FakeBlobClient:
    def __init__(self, service: FakeService, container: str, blob: str) -> None:
        self.service = service
        self.container = container
        self.blob = blob

    def _key(self) -> tuple[str, str]:
        if self.service.broken:
            raise HttpResponseError("Server failed to authenticate the request.")
        return (self.container, self.blob)

    def upload_blob(self, data: bytes, overwrite: bool = False) -> None:
        assert isinstance(data, bytes)
        if not overwrite and self._key() in self.service.blobs:
            raise AssertionError("upload_blob must overwrite")
        self.service.blobs[self._key()] = data

    def download_blob(self) -> FakeDownload:
        try:
            return FakeDownload(self.service.blobs[self._key()])
        except KeyError:
            raise ResourceNotFoundError(f"The specified blob does not exist: {self.blob}") from None

    def get_blob_properties(self) -> dict:
        if self._key() not in self.service.blobs:
            raise ResourceNotFoundError("The specified blob does not exist.")
        return {"size": len(self.service.blobs[self._key()])}


class FakeService:
    made_with: list[str] = []

    def __init__(self) -> None:
        self.blobs: dict[tuple[str, str], bytes] = {}
        self.broken = False

    @classmethod
    def from_connection_string(cls, conn_str: str) -> FakeService:
        cls.made_with.append(conn_str)
        return SHARED_SERVICE

    def get_blob_client(self, container: str, blob: str) -> FakeBlobClient:
        return FakeBlobClient(self, container, blob)


SHARED_SERVICE = FakeService()


@pytest.fixture
def fake_azure(monkeypatch: pytest.MonkeyPatch) -> FakeService:
    """Installs a stand-in `azure.storage.blob` and `azure.core.exceptions`; returns the
    service every `BlobServiceClient.from_connection_string` gives."""
    SHARED_SERVICE.blobs.clear()
    SHARED_SERVICE.broken = False
    monkeypatch.setattr(FakeService, "made_with", [])
    azure = types.ModuleType("azure")
    storage = types.ModuleType("azure.storage")
    blob = types.ModuleType("azure.storage.blob")
    core = types.ModuleType("azure.core")
    exceptions = types.ModuleType("azure.core.exceptions")
    blob.BlobServiceClient = FakeService  # type: ignore[attr-defined]
    exceptions.ResourceNotFoundError = ResourceNotFoundError  # type: ignore[attr-defined]
    azure.storage = storage  # type: ignore[attr-defined]
    azure.core = core  # type: ignore[attr-defined]
    storage.blob = blob  # type: ignore[attr-defined]
    core.exceptions = exceptions  # type: ignore[attr-defined]
    for module in (azure, storage, blob, core, exceptions):
        monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING", raising=False)
    return SHARED_SERVICE


@pytest.fixture
def no_azure_sdk(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("azure", "azure.storage", "azure.storage.blob", "azure.core"):
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", "from-env")


# ------------------------------------------------------------------------ construction


def test_azure_result_keeps_its_arguments_and_defaults():
    result = AzureResult(container="box")
    assert result.container == "box"
    assert result.connection_string is None
    assert result.connection_string_secret is None
    assert result.location is None
    assert result.serializer == PickleSerializer()

    result = AzureResult(
        "box", connection_string="cs", connection_string_secret="SECRET", location="{x}"
    )
    assert (result.connection_string, result.connection_string_secret) == ("cs", "SECRET")
    assert result.location == "{x}"


def test_azure_result_requires_a_container():
    with pytest.raises(TypeError):
        AzureResult()  # type: ignore[call-arg]


def test_azure_results_compare_by_configuration():
    assert AzureResult("c", location="k") == AzureResult("c", location="k")
    assert AzureResult("c") != AzureResult("d")
    assert AzureResult("c") != AzureResult("c", connection_string_secret="S")


def test_azure_result_is_built_without_the_sdk(no_azure_sdk):
    assert AzureResult(container="c").container == "c"


@pytest.mark.parametrize(
    "use",
    [
        lambda r: r.service,
        lambda r: r.initialize_service(),
        lambda r: r.write(1),
        lambda r: r.read("k"),
        lambda r: r.exists("k"),
    ],
    ids=["service", "initialize_service", "write", "read", "exists"],
)
def test_using_it_without_the_sdk_names_the_extra(no_azure_sdk, use):
    with pytest.raises(ImportError, match=re.escape('pip install "prefect[azure]"')):
        use(AzureResult(container="c"))


# ------------------------------------------------------------------ connection strings


def test_service_is_made_once_from_the_connection_string(fake_azure):
    result = AzureResult("c", connection_string="given")
    assert result.service is fake_azure
    assert result.service is fake_azure
    assert FakeService.made_with == ["given"]


def test_connection_string_comes_from_the_named_secret(fake_azure):
    result = AzureResult("c", connection_string_secret="MY_AZURE")
    with prefect.context(secrets={"MY_AZURE": "from-secret"}):
        result.initialize_service()
    assert FakeService.made_with == ["from-secret"]


def test_explicit_connection_string_wins_over_the_secret(fake_azure):
    result = AzureResult("c", connection_string="given", connection_string_secret="S")
    with prefect.context(secrets={"S": "from-secret"}):
        result.initialize_service()
    assert FakeService.made_with == ["given"]


def test_connection_string_falls_back_to_the_environment(fake_azure, monkeypatch):
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", "from-env")
    with prefect.context(secrets={"AZURE_STORAGE_CONNECTION_STRING": "from-secret"}):
        AzureResult("c").initialize_service()
    assert FakeService.made_with == ["from-env"]


def test_connection_string_falls_back_to_the_standard_secret(fake_azure):
    with prefect.context(secrets={"AZURE_STORAGE_CONNECTION_STRING": "from-secret"}):
        AzureResult("c").initialize_service()
    assert FakeService.made_with == ["from-secret"]


def test_missing_connection_string_is_explained(fake_azure):
    with pytest.raises(ValueError, match="AZURE_STORAGE_CONNECTION_STRING"):
        AzureResult("c").initialize_service()


def test_missing_named_secret_is_explained(fake_azure):
    with pytest.raises(ValueError, match="NOT_SET"):
        AzureResult("c", connection_string_secret="NOT_SET").initialize_service()


def test_service_can_be_set_and_is_not_pickled():
    result = AzureResult("c", connection_string="cs")
    service = FakeService()
    result.service = service
    assert result.service is service
    restored = pickle.loads(pickle.dumps(result))
    assert "_service" not in restored.__dict__
    assert restored == result
    assert restored.connection_string == "cs"
    assert "_service" not in result.copy().__dict__


# ---------------------------------------------------------------- write, read, exists


@pytest.fixture
def result_on_fake_service(fake_azure: FakeService) -> AzureResult:
    result = AzureResult("box", location="{flow_name}/{task_name}.out")
    result.service = fake_azure
    return result


def test_write_uploads_the_serialized_value(result_on_fake_service, fake_azure):
    written = result_on_fake_service.write({"a": 1}, flow_name="etl", task_name="load")
    assert written.location == "etl/load.out"
    assert written.value == {"a": 1}
    assert result_on_fake_service.location == "{flow_name}/{task_name}.out"
    assert PickleSerializer().deserialize(fake_azure.blobs[("box", "etl/load.out")]) == {"a": 1}


def test_write_replaces_an_existing_blob(result_on_fake_service, fake_azure):
    result_on_fake_service.write(1, flow_name="f", task_name="t")
    result_on_fake_service.write(2, flow_name="f", task_name="t")
    assert result_on_fake_service.read("f/t.out").value == 2


def test_write_without_a_location_uses_a_dated_unique_name(fake_azure):
    result = AzureResult("box", serializer=JSONSerializer())
    result.service = fake_azure
    written = result.write([1])
    assert re.fullmatch(r"\d{4}/\d{1,2}/\d{1,2}/[0-9a-f-]{36}\.prefect_result", written.location)
    assert fake_azure.blobs[("box", written.location)] == b"[1]"


def test_write_with_a_missing_template_key_names_it(result_on_fake_service, fake_azure):
    with pytest.raises(KeyError, match="Missing key 'task_name'"):
        result_on_fake_service.write(1, flow_name="etl")
    assert fake_azure.blobs == {}


def test_read_gives_a_new_result_with_the_value(result_on_fake_service, fake_azure):
    fake_azure.blobs[("box", "x.pkl")] = PickleSerializer().serialize([1, 2])
    read = result_on_fake_service.read("x.pkl")
    assert (read.value, read.location) == ([1, 2], "x.pkl")
    assert read is not result_on_fake_service
    assert result_on_fake_service.value is None


def test_read_a_missing_blob_raises_the_sdk_error(result_on_fake_service):
    with pytest.raises(ResourceNotFoundError, match="nothing"):
        result_on_fake_service.read("nothing")


def test_exists_formats_the_location(result_on_fake_service, fake_azure):
    fake_azure.blobs[("box", "etl/load.out")] = b"x"
    assert result_on_fake_service.exists("{flow}/load.out", flow="etl") is True
    assert result_on_fake_service.exists("{flow}/load.out", flow="other") is False
    with pytest.raises(KeyError, match="'flow'"):
        result_on_fake_service.exists("{flow}/load.out")


def test_exists_raises_errors_other_than_not_found(result_on_fake_service, fake_azure):
    fake_azure.broken = True
    with pytest.raises(HttpResponseError):
        result_on_fake_service.exists("anything")


def test_flow_checkpoints_to_azure_and_reuses_a_target(fake_azure, monkeypatch):
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", "from-env")
    calls: list[int] = []

    @task(result=AzureResult("box"), target="{task_name}/{x}.pkl")
    def square(x: int) -> int:
        calls.append(x)
        return x * x

    with Flow("azure") as flow:
        square(5)

    with set_temporary_config({"flows.checkpointing": True}):
        first = flow.run()
        second = flow.run()
    [the_task] = flow.get_tasks()
    assert first.result[the_task].result == 25
    assert PickleSerializer().deserialize(fake_azure.blobs[("box", "square/5.pkl")]) == 25
    assert second.result[the_task].is_cached()
    assert calls == [5]
    assert set(FakeService.made_with) == {"from-env"}
