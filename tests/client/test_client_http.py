"""`Client` over real HTTP: request shape, headers, GraphQL error classes, retries, rate limits
and transport errors, against a scripted server on 127.0.0.1."""

from __future__ import annotations

import importlib.util
import json
import socket
import sys
import types
from pathlib import Path

import pytest
import requests

import prefect
from prefect.client import Client, _http
from prefect.client import client as client_module
from prefect.exceptions import AuthorizationError, ClientError, VersionLockMismatchSignal
from prefect.utilities.configuration import set_temporary_config
from prefect.utilities.graphql import GraphQLResult


def _load_api_server():
    name = "_prefect_client_test_api_server"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, Path(__file__).with_name("_api_server.py")
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


_SERVER = _load_api_server()


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch, tmp_path):
    """No sleeping between retries: urllib3 backoff, API_ERROR re-sends and 429 waits."""
    monkeypatch.setattr(_http, "RETRY_BACKOFF_FACTOR", 0.0)
    monkeypatch.setattr(client_module, "API_ERROR_BACKOFF", 0.0)
    with set_temporary_config(
        {
            "backend": "server",
            "home_dir": str(tmp_path),
            "cloud.rate_limiting.backoff_s": 0,
            "cloud.rate_limiting.backoff_multiplier": 0,
        }
    ):
        yield


@pytest.fixture
def api():
    yield from _SERVER.serve()


@pytest.fixture
def client(api):
    return Client(api_server=api.url)


class TestGraphQLRequests:
    def test_query_is_posted_as_json_with_variables_as_a_json_string(self, api, client):
        api.reply_data(flow=[{"id": "f1"}])
        client.graphql(
            {"query($name: String)": {"flow(where: {name: {_eq: $name}})": {"id"}}},
            variables={"name": "etl"},
        )
        (request,) = api.requests
        assert request.method == "POST"
        assert request.path == "/"
        assert request.headers["Content-Type"] == "application/json"
        assert set(request.json) == {"query", "variables"}
        assert request.json["variables"] == '{"name": "etl"}'
        assert request.query == (
            "query($name: String) {\n    flow(where: {name: {_eq: $name}}) {\n        id\n    }\n}"
        )

    def test_no_variables_are_sent_as_the_string_null(self, api, client):
        client.graphql("query { hello }")
        assert api.requests[0].json == {"query": "query { hello }", "variables": "null"}

    def test_answer_is_a_graphql_result_read_by_attribute(self, api, client):
        api.reply_data(flow_run=[{"id": "r1", "parameters": {"x": 1}}])
        result = client.graphql("query { flow_run { id parameters } }")
        assert isinstance(result, GraphQLResult)
        assert result.data.flow_run[0].id == "r1"
        assert result.data.flow_run[0].parameters.x == 1

    def test_trailing_slash_of_the_api_url_is_dropped(self, api):
        Client(api_server=api.url + "/graphql/").graphql("query { hello }")
        Client(api_server=api.url + "/").graphql("query { hello }")
        assert [r.path for r in api.requests] == ["/graphql", "/"]

    def test_api_url_comes_from_cloud_api_which_follows_server_endpoint(self, api):
        with set_temporary_config({"backend": "server", "cloud.api": api.url + "/graphql"}):
            client = Client()
            client.graphql("query { hello }")
        assert client.api_server == api.url + "/graphql"
        assert api.requests[0].path == "/graphql"

    def test_default_api_url_in_server_mode_is_the_server_endpoint(self):
        # With the default config `cloud.api` interpolates to `server.endpoint`.
        assert Client().api_server == prefect.config.cloud.api
        with set_temporary_config({"cloud.api": None, "server.endpoint": "http://x:1"}):
            assert Client().api_server == "http://x:1"


class TestHeaders:
    def test_core_version_header_and_no_authorization_without_a_key(self, api, client):
        client.graphql("query { hello }")
        headers = api.requests[0].headers
        assert headers["X-PREFECT-CORE-VERSION"] == prefect.__version__
        assert "Authorization" not in headers
        assert "X-PREFECT-TENANT-ID" not in headers

    def test_api_key_is_sent_as_a_bearer_token(self, api):
        Client(api_server=api.url, api_key="secret-key").graphql("query { hello }")
        assert api.requests[0].headers["Authorization"] == "Bearer secret-key"

    def test_tenant_header_needs_both_a_key_and_a_tenant(self, api):
        Client(api_server=api.url, tenant_id="t1").graphql("query { hello }")
        Client(api_server=api.url, api_key="k", tenant_id="t1").graphql("query { hello }")
        assert "X-PREFECT-TENANT-ID" not in api.requests[0].headers
        assert api.requests[1].headers["X-PREFECT-TENANT-ID"] == "t1"

    def test_per_request_api_key_and_headers(self, api, client):
        client.graphql("query { hello }", api_key="other", headers={"X-Extra": "1"})
        assert api.requests[0].headers["Authorization"] == "Bearer other"
        assert api.requests[0].headers["X-Extra"] == "1"

    def test_attached_headers_go_with_every_later_request(self, api, client):
        client.attach_headers({"X-PREFECT-AGENT-ID": "agent-1"})
        client.graphql("query { hello }")
        client.post("other")
        assert [r.headers["X-PREFECT-AGENT-ID"] for r in api.requests] == ["agent-1"] * 2


class TestGraphQLErrors:
    def test_errors_raise_client_error_whose_text_is_the_error_list(self, api, client):
        errors = [{"message": "Uniqueness violation.", "path": ["create_project"]}]
        api.reply({"data": {"create_project": None}, "errors": errors})
        with pytest.raises(ClientError) as info:
            client.graphql("mutation { create_project { id } }")
        assert type(info.value) is ClientError
        assert str(info.value) == str(errors)
        assert "'Uniqueness violation.'" in str(info.value)

    def test_raise_on_error_false_returns_the_errors(self, api, client):
        api.reply({"data": None, "errors": [{"message": "boom"}]})
        result = client.graphql("query { x }", raise_on_error=False)
        assert result.errors[0].message == "boom"

    @pytest.mark.parametrize(
        "error",
        [
            {"message": "no", "extensions": {"code": "UNAUTHENTICATED"}},
            {"message": "Malformed Authorization header"},
        ],
    )
    def test_authentication_errors_raise_authorization_error(self, api, client, error):
        api.reply({"data": None, "errors": [error]})
        with pytest.raises(AuthorizationError):
            client.graphql("query { x }")

    def test_version_locking_error_raises_the_signal(self, api, client):
        api.reply(
            {
                "data": None,
                "errors": [{"message": "v", "extensions": {"code": "VERSION_LOCKING_ERROR"}}],
            }
        )
        with pytest.raises(VersionLockMismatchSignal):
            client.graphql("mutation { set_flow_run_states { states { id } } }")

    def test_api_error_is_sent_again_until_it_clears(self, api, client):
        api_error = {
            "data": None,
            "errors": [{"message": "x", "extensions": {"code": "API_ERROR"}}],
        }
        api.reply(api_error)
        api.reply(api_error)
        api.reply_data(hello="hi")
        assert client.graphql("query { hello }").data.hello == "hi"
        assert len(api.requests) == 3
        assert api.requests[0].body == api.requests[2].body

    def test_api_error_gives_up_after_six_more_attempts(self, api, client):
        for _ in range(10):
            api.reply({"data": None, "errors": [{"message": "API_ERROR"}]})
        with pytest.raises(ClientError, match="API_ERROR"):
            client.graphql("query { hello }")
        assert len(api.requests) == 7

    def test_api_error_is_not_retried_when_told_not_to(self, api, client):
        api.reply({"data": None, "errors": [{"message": "API_ERROR"}]})
        api.reply_data(hello="never asked for")
        with pytest.raises(ClientError):
            client.graphql("query { hello }", retry_on_api_error=False)
        assert len(api.requests) == 1

    def test_http_400_to_a_graphql_request_lists_the_errors_query_and_variables(self, api, client):
        api.reply(
            {
                "errors": [
                    {
                        "message": "Cannot query field 'nope'",
                        "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"},
                    }
                ]
            },
            status=400,
        )
        with pytest.raises(ClientError) as info:
            client.graphql("query { nope }", variables={"a": 1})
        text = str(info.value)
        assert "400 Client Error" in text
        assert "Cannot query field 'nope'" in text
        assert "query { nope }" in text
        assert '"a": 1' in text

    def test_a_body_that_is_not_json_is_a_malformed_response(self, api, client):
        api.reply("<html>gateway</html>")
        with pytest.raises(ClientError, match="Malformed response received from API."):
            client.graphql("query { hello }")

    def test_cloud_without_a_key_reads_a_non_json_body_as_an_auth_problem(self, api):
        api.reply("<html>login</html>")
        with set_temporary_config({"backend": "cloud"}):
            with pytest.raises(
                AuthorizationError, match="please ensure that you are authenticated"
            ):
                Client(api_server=api.url).graphql("query { hello }")


class TestRetriesAndHTTPErrors:
    def test_a_500_answer_is_retried_then_succeeds(self, api, client):
        api.reply({"message": "database hiccup"}, status=500)
        api.reply({"message": "bad gateway"}, status=502)
        api.reply_data(hello="hi")
        assert client.graphql("query { hello }").data.hello == "hi"
        assert len(api.requests) == 3

    def test_persistent_5xx_raises_http_error_with_the_server_message(self, api, client):
        for _ in range(10):
            api.reply({"message": "database is down"}, status=503)
        with pytest.raises(requests.HTTPError) as info:
            client.graphql("query { hello }")
        assert info.value.response.status_code == 503
        assert "database is down" in str(info.value)
        assert len(api.requests) == 7  # the first try and six retries

    def test_other_http_errors_raise_at_once_with_the_body_text(self, api, client):
        api.reply({"detail": "no such route"}, status=404)
        with pytest.raises(requests.HTTPError) as info:
            client.post("nowhere", params={"a": 1})
        assert info.value.response.status_code == 404
        assert "404 Client Error" in str(info.value)
        assert "no such route" in str(info.value)
        assert len(api.requests) == 1

    def test_rate_limited_requests_wait_and_go_again(self, api, client, monkeypatch):
        sleeps: list[float] = []
        # Only this module's clock: other threads may be sleeping through `time.sleep`.
        monkeypatch.setattr(_http, "time", types.SimpleNamespace(sleep=sleeps.append))
        api.reply({"message": "slow down"}, status=429)
        api.reply({"message": "slow down"}, status=429)
        api.reply_data(hello="hi")
        with set_temporary_config(
            {"cloud.rate_limiting.backoff_s": 7, "cloud.rate_limiting.backoff_multiplier": 0}
        ):
            assert client.graphql("query { hello }").data.hello == "hi"
        assert len(api.requests) == 3
        assert sleeps == [7.0, 7.0]

    def test_rate_limit_retries_are_bounded_by_max_retries(self, api, client):
        for _ in range(5):
            api.reply({"message": "slow down"}, status=429)
        with set_temporary_config({"cloud.rate_limiting.max_retries": 2}):
            with pytest.raises(requests.HTTPError, match="slow down") as info:
                client.graphql("query { hello }")
        assert info.value.response.status_code == 429
        assert len(api.requests) == 3

    def test_refused_connection_names_the_url(self):
        # The port stays bound (not listening) for the test, so connections to it are refused:
        # once let go, another process (another test worker) could start listening there.
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
            url = f"http://127.0.0.1:{port}/graphql"
            with pytest.raises(requests.ConnectionError) as info:
                Client(api_server=url).graphql("query { hello }")
        assert url in str(info.value)
        assert "refused" in str(info.value).lower()


class TestGetAndPost:
    def test_post_sends_params_as_a_json_body_to_the_joined_path(self, api, client):
        api.reply({"ok": True})
        assert client.post("/some/path", params={"a": [1, 2]}) == {"ok": True}
        request = api.requests[0]
        assert (request.method, request.path, request.json) == ("POST", "/some/path", {"a": [1, 2]})

    def test_get_sends_params_in_the_query_string(self, api, client):
        api.reply({"status": "ok"})
        assert client.get("health", params={"verbose": "1"}) == {"status": "ok"}
        assert (api.requests[0].method, api.requests[0].path) == ("GET", "/health?verbose=1")

    def test_an_empty_body_is_an_empty_dict(self, api, client):
        api.reply(None)
        assert client.post("empty") == {}

    def test_server_argument_overrides_the_api_server(self, api):
        client = Client(api_server="http://127.0.0.1:9")
        api.reply({"ok": 1})
        assert client.get("x", server=api.url) == {"ok": 1}

    def test_one_session_is_reused_across_requests(self, api, client):
        client.graphql("query { hello }")
        session = client._session
        client.graphql("query { hello }")
        assert session is not None and client._session is session


def test_variables_that_are_not_json_serializable_fail_before_sending(api, client):
    with pytest.raises(TypeError):
        client.graphql("query { hello }", variables={"when": object()})
    assert api.requests == []


def test_diagnostics_log_requests_without_the_api_key(api, caplog):
    client = Client(api_server=api.url, api_key="very-secret")
    with set_temporary_config({"cloud.diagnostics": True}):
        with caplog.at_level("DEBUG", logger="client.diagnostics"):
            client.graphql("query { hello }")
    text = caplog.text
    assert "POST " + api.url in text
    assert "very-secret" not in text
    assert json.loads(api.requests[0].json["variables"]) is None
