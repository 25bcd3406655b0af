"""The KV store: refused before any request in server mode; in Cloud mode each function sends
its operation (checked with a recording client)."""

from __future__ import annotations

from typing import Any

import pytest

import prefect
from prefect.backend import delete_key, get_key_value, list_keys, set_key_value
from prefect.backend.kv_store import NON_CLOUD_BACKEND_ERROR_MESSAGE
from prefect.exceptions import ClientError
from prefect.utilities.graphql import GraphQLResult, parse_graphql


@pytest.mark.parametrize(
    ("function", "args"),
    [(set_key_value, ("k", 1)), (get_key_value, ("k",)), (delete_key, ("k",)), (list_keys, ())],
)
def test_server_backend_refuses_without_a_request(function, args, monkeypatch):
    monkeypatch.setitem(prefect.config, "backend", "server")
    monkeypatch.setattr(prefect, "Client", _no_client)
    with pytest.raises(ClientError) as info:
        function(*args)
    assert str(info.value) == NON_CLOUD_BACKEND_ERROR_MESSAGE
    assert NON_CLOUD_BACKEND_ERROR_MESSAGE == (
        "KV Store operations are only supported while using Prefect Cloud as a backend."
    )


def _no_client(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("no client may be created in server mode")


class RecordingClient:
    """Answers KV store operations from a dict, recording each document."""

    store: dict[str, Any] = {}
    sent: list[tuple[str, Any]] = []

    def graphql(self, query: Any, variables: Any = None, **kwargs: Any) -> GraphQLResult:
        text = parse_graphql(query)
        self.sent.append((text, variables))
        if "set_key_value(input: $input)" in text:
            self.store[variables["input"]["key"]] = variables["input"]["value"]
            return GraphQLResult({"data": {"set_key_value": {"id": "kv-1"}}})
        if "delete_key_value(input: $input)" in text:
            self.store.clear()
            return GraphQLResult({"data": {"delete_key_value": {"success": True}}})
        if "key_value(where:" in text:
            key = text.split('_eq: "')[1].split('"')[0]
            rows = [{"id": "kv-1", "value": self.store[key]}] if key in self.store else []
            return GraphQLResult({"data": {"key_value": rows}})
        return GraphQLResult({"data": {"key_value": [{"key": k} for k in self.store]}})


@pytest.fixture
def cloud(monkeypatch):
    monkeypatch.setitem(prefect.config, "backend", "cloud")
    RecordingClient.store = {}
    RecordingClient.sent = []
    monkeypatch.setattr(prefect, "Client", RecordingClient)
    return RecordingClient


def test_cloud_backend_sends_the_operations(cloud):
    assert set_key_value("b", {"x": 1}) == "kv-1"
    assert cloud.sent[-1][1] == {"input": {"key": "b", "value": {"x": 1}}}
    assert "mutation($input: set_key_value_input!)" in cloud.sent[-1][0]
    set_key_value("a", 2)
    assert get_key_value("b") == {"x": 1}
    assert list_keys() == ["a", "b"]
    assert delete_key("a") is True
    assert cloud.sent[-1][1] == {"input": {"key_value_id": "kv-1"}}
    assert list_keys() == []


def test_cloud_backend_missing_keys(cloud):
    with pytest.raises(ValueError, match="No value found for key: nope"):
        get_key_value("nope")
    with pytest.raises(ValueError, match="No key nope found to delete"):
        delete_key("nope")
