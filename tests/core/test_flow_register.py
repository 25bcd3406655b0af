from __future__ import annotations

import socket
from typing import Any

import pytest

import prefect
from prefect import Flow, Task
from prefect.engine.results import LocalResult
from prefect.run_configs import LocalRun, UniversalRun
from prefect.serialization.flow import FlowSchema
from prefect.storage import Local, Module


class RecordingClient:
    """Stands in for `prefect.Client`: records `register` calls and what it would send."""

    calls: list[dict[str, Any]] = []

    def register(self, flow: Flow, **kwargs: Any) -> str:
        serialized = flow.serialize(build=kwargs["build"])
        # Client.register's own check: what it sends must load back.
        FlowSchema().load(serialized)
        type(self).calls.append({"flow": flow, "serialized": serialized, **kwargs})
        return "flow-id-1"


@pytest.fixture
def client(monkeypatch):
    RecordingClient.calls = []
    monkeypatch.setattr(prefect, "Client", RecordingClient)
    return RecordingClient


@pytest.fixture
def local_default(tmp_path):
    """The default storage is Local, in a temporary directory."""
    prefect.config.flows.defaults.storage.default_class = "prefect.storage.Local"
    return tmp_path


def make_flow(**kwargs: Any) -> Flow:
    flow = Flow("reg", **kwargs)
    flow.add_task(Task(name="t"))
    return flow


def test_register_calls_the_client_with_every_argument_and_returns_the_id(client, tmp_path):
    flow = make_flow(storage=Local(directory=str(tmp_path)))
    flow_id = flow.register(
        project_name="proj",
        build=False,
        set_schedule_active=False,
        version_group_id="vg",
        no_url=True,
        idempotency_key="key",
    )
    assert flow_id == "flow-id-1"
    (call,) = client.calls
    assert call["flow"] is flow
    assert {k: v for k, v in call.items() if k not in ("flow", "serialized")} == {
        "build": False,
        "project_name": "proj",
        "set_schedule_active": False,
        "version_group_id": "vg",
        "no_url": True,
        "idempotency_key": "key",
    }


def test_register_defaults(client, tmp_path):
    make_flow(storage=Local(directory=str(tmp_path))).register("proj")
    (call,) = client.calls
    assert (call["build"], call["set_schedule_active"], call["no_url"]) == (True, True, False)
    assert (call["version_group_id"], call["idempotency_key"]) == (None, None)


def test_the_client_is_looked_up_when_register_is_called(monkeypatch, tmp_path):
    flow = make_flow(storage=Local(directory=str(tmp_path)))

    class Other(RecordingClient):
        def register(self, flow: Flow, **kwargs: Any) -> str:
            return "other-id"

    monkeypatch.setattr(prefect, "Client", Other)
    assert flow.register("proj") == "other-id"


def test_a_flow_without_storage_gets_the_default_storage_built_with_kwargs(client, local_default):
    flow = make_flow()
    flow.register("proj", directory=str(local_default))
    assert isinstance(flow.storage, Local)
    assert flow.storage.directory == str(local_default)
    # The storage was built: the flow is in it, and the client sent that storage.
    assert "reg" in flow.storage
    assert client.calls[0]["serialized"]["storage"]["flows"]["reg"].startswith(str(local_default))


def test_the_default_storage_class_comes_from_config(client):
    prefect.config.flows.defaults.storage.default_class = "prefect.storage.Module"
    flow = make_flow()
    flow.register("proj", build=False, module="my.flows")
    assert isinstance(flow.storage, Module)
    assert flow.storage.module == "my.flows"


def test_a_flow_without_result_gets_its_storage_result(client, local_default):
    flow = make_flow()
    flow.register("proj", directory=str(local_default))
    assert isinstance(flow.result, LocalResult)
    assert flow.result.dir == str(local_default)


def test_a_flow_result_is_kept(client, local_default):
    result = LocalResult(dir=str(local_default / "mine"))
    flow = make_flow(result=result)
    flow.register("proj", directory=str(local_default))
    assert flow.result is result


def test_existing_storage_is_kept(client, tmp_path):
    storage = Local(directory=str(tmp_path))
    flow = make_flow(storage=storage)
    flow.register("proj")
    assert flow.storage is storage


def test_a_flow_without_run_config_gets_a_universal_run_with_storage_labels(client, tmp_path):
    flow = make_flow(storage=Local(directory=str(tmp_path)))
    flow.register("proj")
    assert isinstance(flow.run_config, UniversalRun)
    assert set(flow.run_config.labels) == {socket.gethostname()}
    assert client.calls[0]["serialized"]["run_config"]["labels"] == [socket.gethostname()]


def test_extra_labels_and_storage_labels_join_an_existing_run_config(client, tmp_path):
    run_config = LocalRun(labels=["mine"])
    flow = make_flow(
        storage=Local(directory=str(tmp_path), labels=["store"]), run_config=run_config
    )
    flow.register("proj", labels=["extra", "mine"])
    assert flow.run_config is run_config
    assert set(run_config.labels) == {"mine", "store", "extra", socket.gethostname()}
    sent = client.calls[0]["serialized"]["run_config"]
    assert sent["type"] == "LocalRun"
    assert sent["labels"] == sorted({"mine", "store", "extra", socket.gethostname()})


def test_storage_without_default_labels_adds_only_its_own(client, tmp_path):
    flow = make_flow(storage=Local(directory=str(tmp_path), add_default_labels=False))
    flow.register("proj", labels=["x"])
    assert set(flow.run_config.labels) == {"x"}


def test_register_while_a_flow_file_is_loading_warns_and_does_nothing(client, tmp_path):
    flow = make_flow(storage=Local(directory=str(tmp_path)))
    with prefect.context(loading_flow=True):
        with pytest.warns(UserWarning, match="flow.register"):
            assert flow.register("proj") is None
    assert client.calls == []
    assert flow.run_config is None
