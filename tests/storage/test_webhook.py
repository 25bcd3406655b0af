from __future__ import annotations

import pytest
import requests

import prefect
from prefect.serialization.storage import StorageSchema
from prefect.storage import Webhook
from prefect.utilities.storage import flow_from_bytes_pickle


def webhook(server_url: str, path: str = "/flows/one", **kwargs) -> Webhook:
    return Webhook(
        build_request_kwargs={"url": server_url + path, "headers": {"X-Token": "${WEBHOOK_TOKEN}"}},
        build_request_http_method="PUT",
        get_flow_request_kwargs={"url": server_url + path},
        get_flow_request_http_method="GET",
        **kwargs,
    )


def test_init_keeps_requests_and_has_a_default_label():
    storage = Webhook(
        build_request_kwargs={"url": "u"},
        build_request_http_method="POST",
        get_flow_request_kwargs={"url": "v"},
        get_flow_request_http_method="GET",
    )
    assert storage.build_request_kwargs == {"url": "u"}
    assert storage.build_request_http_method == "POST"
    assert storage.get_flow_request_kwargs == {"url": "v"}
    assert storage.get_flow_request_http_method == "GET"
    assert storage.stored_as_script is False
    assert storage.flow_script_path is None
    assert storage.labels == ["webhook-flow-storage"]


def test_unknown_http_method_is_refused():
    with pytest.raises(ValueError, match="'DELETE' is not supported"):
        Webhook({"url": "u"}, "DELETE", {"url": "v"}, "GET")


def test_build_uploads_the_pickle_and_get_flow_downloads_it(
    http_server, monkeypatch, make_flow, run_task
):
    monkeypatch.setenv("WEBHOOK_TOKEN", "from-env")
    storage = webhook(http_server.url)
    assert storage.add_flow(make_flow("hooked", x=4)) == "hooked"
    assert storage.flows == {"hooked": "hooked"}
    assert storage.build() is storage

    method, path, headers = http_server.requests[0]
    assert (method, path) == ("PUT", "/flows/one")
    assert headers["X-Token"] == "from-env"
    assert flow_from_bytes_pickle(http_server.bodies["/flows/one"]).name == "hooked"
    assert storage._build_responses["hooked"].status_code == 201

    rebuilt = StorageSchema().load(storage.serialize())
    # The placeholder travels unrendered: credentials never reach the backend.
    assert rebuilt.build_request_kwargs["headers"] == {"X-Token": "${WEBHOOK_TOKEN}"}
    assert run_task(rebuilt.get_flow("hooked"), "increment") == 5


def test_placeholders_fall_back_to_prefect_secrets(http_server, monkeypatch, make_flow):
    monkeypatch.delenv("WEBHOOK_TOKEN", raising=False)
    storage = webhook(http_server.url)
    storage.add_flow(make_flow())
    with prefect.context(secrets={"WEBHOOK_TOKEN": "from-secret"}):
        storage.build()
    assert http_server.requests[0][2]["X-Token"] == "from-secret"


def test_missing_placeholder_value_raises(http_server, monkeypatch, make_flow):
    monkeypatch.delenv("WEBHOOK_TOKEN", raising=False)
    storage = webhook(http_server.url)
    storage.add_flow(make_flow())
    with prefect.context(secrets={}), pytest.raises(ValueError, match="WEBHOOK_TOKEN"):
        storage.build()
    assert http_server.requests == []


def test_data_in_build_kwargs_is_replaced_with_a_warning(http_server, monkeypatch, make_flow):
    monkeypatch.setenv("WEBHOOK_TOKEN", "t")
    storage = webhook(http_server.url)
    storage.build_request_kwargs["data"] = b"ignored"
    storage.add_flow(make_flow())
    with pytest.warns(RuntimeWarning, match="'data' found in build_request_kwargs"):
        storage.build()
    assert http_server.bodies["/flows/one"] != b"ignored"


def test_script_is_uploaded_and_loaded(
    http_server, monkeypatch, flow_script, flow_script_text, run_task
):
    monkeypatch.setenv("WEBHOOK_TOKEN", "t")
    storage = webhook(http_server.url, stored_as_script=True, flow_script_path=flow_script)
    storage.add_flow(prefect.Flow("script-flow"))
    storage.build()
    assert http_server.bodies["/flows/one"].decode() == flow_script_text
    rebuilt = StorageSchema().load(storage.serialize())
    assert rebuilt.stored_as_script is True
    assert run_task(rebuilt.get_flow("script-flow"), "double") == 42


def test_script_storage_checks_the_script_at_build(tmp_path):
    storage = Webhook({"url": "u"}, "POST", {"url": "v"}, "GET", stored_as_script=True)
    storage.add_flow(prefect.Flow("f"))
    with pytest.raises(ValueError, match="flow_script_path must be provided"):
        storage.build()
    storage.flow_script_path = str(tmp_path / "missing.py")
    with pytest.raises(ValueError, match="does not exist"):
        storage.build()


def test_error_responses_raise_http_error(http_server, make_flow):
    storage = webhook(http_server.url, path="/never-uploaded")
    storage.add_flow(make_flow())
    with pytest.raises(requests.HTTPError):
        storage.get_flow("test-flow")


def test_get_flow_of_unknown_name_raises(http_server):
    with pytest.raises(ValueError, match="not contained"):
        webhook(http_server.url).get_flow("nope")
    assert http_server.requests == []


def test_duplicate_flow_names_are_refused(make_flow):
    storage = Webhook({"url": "u"}, "POST", {"url": "v"}, "GET")
    storage.add_flow(make_flow("a"))
    with pytest.raises(ValueError, match="Name conflict"):
        storage.add_flow(make_flow("a"))


def test_requests_functions_are_looked_up_when_sending(monkeypatch, make_flow):
    """Patching `requests.put` after the storage exists still catches the upload."""
    sent = []

    def fake_put(**kwargs):
        sent.append(kwargs)
        response = requests.Response()
        response.status_code = 200
        return response

    storage = Webhook({"url": "https://example.invalid/up"}, "PUT", {"url": "u"}, "GET")
    storage.add_flow(make_flow("patched"))
    monkeypatch.setattr(requests, "put", fake_put)
    storage.build()
    assert sent[0]["url"] == "https://example.invalid/up"
    assert flow_from_bytes_pickle(sent[0]["data"]).name == "patched"
