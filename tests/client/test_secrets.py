from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any
from unittest.mock import MagicMock

import pytest

import prefect
import prefect.client
import prefect.client.client
import prefect.client.secrets as secrets_module
from prefect.client.secrets import Secret
from prefect.exceptions import ClientError
from prefect.utilities.configuration import set_temporary_config
from prefect.utilities.graphql import GraphQLResult

CLOUD_SECRETS = {"backend": "cloud", "cloud.use_local_secrets": False}


class FakeClient:
    """Answers `graphql` from a dict of secret values; records every call."""

    instances: list[FakeClient] = []
    values: dict[str, Any] = {}
    error: Exception | None = None

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        FakeClient.instances.append(self)

    def graphql(self, query: str, variables: Any = None, **kwargs: Any) -> GraphQLResult:
        self.calls.append((query, variables))
        if self.error is not None:
            raise self.error
        if "secret_names" in query:
            return GraphQLResult({"data": {"secret_names": sorted(self.values)}})
        return GraphQLResult({"data": {"secret_value": self.values[variables["name"]]}})


@pytest.fixture
def fake_client(monkeypatch):
    """`prefect.Client` replaced by `FakeClient` (the seam the brief names)."""
    monkeypatch.setattr(FakeClient, "instances", [])
    monkeypatch.setattr(FakeClient, "values", {})
    monkeypatch.setattr(FakeClient, "error", None)
    monkeypatch.setattr(prefect, "Client", FakeClient)
    return FakeClient


def test_secret_keeps_its_name():
    assert Secret("API_KEY").name == "API_KEY"


def test_value_comes_from_context_secrets():
    with prefect.context(secrets={"API_KEY": "abc"}):
        assert Secret("API_KEY").get() == "abc"


@pytest.mark.parametrize(
    "stored, expected",
    [
        ('{"user": "u", "n": [1, 2]}', {"user": "u", "n": [1, 2]}),
        ("42", 42),
        ('"quoted"', "quoted"),
        ("null", None),
        ("not json {", "not json {"),
        (7, 7),
        ({"already": "a dict"}, {"already": "a dict"}),
    ],
)
def test_json_text_is_decoded_and_other_values_are_returned_as_they_are(stored, expected):
    with prefect.context(secrets={"S": stored}):
        assert Secret("S").get() == expected


def test_names_are_case_sensitive():
    with prefect.context(secrets={"api_key": "lower"}):
        with pytest.raises(ValueError):
            Secret("API_KEY").get()


def test_missing_local_secret_names_the_environment_variable_to_set(fake_client):
    with prefect.context(secrets={}):
        with pytest.raises(ValueError) as info:
            Secret("DB_PASSWORD").get()
    message = str(info.value)
    assert 'Local Secret "DB_PASSWORD" was not found' in message
    assert "PREFECT__CONTEXT__SECRETS__DB_PASSWORD" in message
    assert fake_client.instances == []


def test_missing_secret_is_not_looked_up_on_our_server(fake_client):
    fake_client.values["S"] = "remote"
    with set_temporary_config({"backend": "server", "cloud.use_local_secrets": False}):
        with pytest.raises(ValueError, match="not found"):
            Secret("S").get()
    assert fake_client.instances == []


def test_cloud_with_local_secrets_on_does_not_query_the_backend(fake_client):
    fake_client.values["S"] = "remote"
    with set_temporary_config({"backend": "cloud", "cloud.use_local_secrets": True}):
        with pytest.raises(ValueError, match="not found"):
            Secret("S").get()
    assert fake_client.instances == []


def test_cloud_with_local_secrets_off_queries_secret_value(fake_client):
    fake_client.values["S"] = '{"token": "t"}'
    with set_temporary_config(CLOUD_SECRETS):
        assert Secret("S").get() == {"token": "t"}
    [client] = fake_client.instances
    [(query, variables)] = client.calls
    assert "secret_value(name: $name)" in query
    assert variables == {"name": "S"}


def test_context_secret_wins_over_the_backend(fake_client):
    fake_client.values["S"] = "remote"
    with set_temporary_config(CLOUD_SECRETS), prefect.context(secrets={"S": "local"}):
        assert Secret("S").get() == "local"
    assert fake_client.instances == []


def test_backend_without_the_secret_raises_key_error(fake_client):
    fake_client.error = ClientError("[{'message': 'No value found for the requested key'}]")
    with set_temporary_config(CLOUD_SECRETS):
        with pytest.raises(KeyError, match="S"):
            Secret("S").get()


def test_other_backend_errors_propagate(fake_client):
    fake_client.error = ClientError("boom")
    with set_temporary_config(CLOUD_SECRETS):
        with pytest.raises(ClientError, match="boom"):
            Secret("S").get()


def test_reading_while_building_a_flow_is_refused():
    with prefect.context(secrets={"S": "v"}):
        with prefect.Flow("building"):
            with pytest.raises(ValueError, match="during a flow run"):
                Secret("S").get()


def test_exists_checks_context_secrets(fake_client):
    with prefect.context(secrets={"S": None}):
        assert Secret("S").exists()
        assert not Secret("T").exists()
    assert fake_client.instances == []


def test_exists_asks_the_backend_for_names_on_cloud(fake_client):
    fake_client.values.update({"REMOTE": "x"})
    with set_temporary_config(CLOUD_SECRETS), prefect.context(secrets={}):
        assert Secret("REMOTE").exists()
        assert not Secret("OTHER").exists()
    assert [call[0] for client in fake_client.instances for call in client.calls] == [
        "query{secret_names}",
        "query{secret_names}",
    ]


def test_client_property_builds_one_client_per_secret(fake_client):
    secret = Secret("S")
    assert secret.client is secret.client
    assert isinstance(secret.client, FakeClient)


@pytest.mark.parametrize(
    "target",
    [
        (prefect.client, "Client"),
        (prefect.client.client, "Client"),
        (secrets_module, "Client"),
    ],
    ids=["prefect.client.Client", "prefect.client.client.Client", "secrets.Client"],
)
def test_client_class_is_looked_up_at_call_time_wherever_it_is_patched(monkeypatch, target):
    monkeypatch.setattr(*target, FakeClient)
    assert isinstance(Secret("S").client, FakeClient)


def test_unpatched_client_is_the_real_one():
    assert isinstance(Secret("S").client, prefect.client.client.Client)


def test_query_goes_through_the_real_client_over_http(monkeypatch):
    # The 1.x way of faking the API: a requests.Session whose post returns a canned answer.
    answer = {"data": {"secret_value": '"1234"'}}
    post = MagicMock(return_value=MagicMock(json=MagicMock(return_value=answer)))
    session = MagicMock()
    session.return_value.post = post
    monkeypatch.setattr("requests.Session", session)
    with set_temporary_config({**CLOUD_SECRETS, "cloud.api_key": "api-key"}):
        assert Secret("the-key").get() == "1234"
    sent = post.call_args.kwargs["json"]
    assert "secret_value(name: $name)" in sent["query"]
    assert json.loads(sent["variables"]) == {"name": "the-key"}


def test_environment_variable_sets_a_local_secret(tmp_path):
    script = (
        "from prefect.client.secrets import Secret; value = Secret('MixedCase').get(); "
        "print(type(value).__name__, repr(value))"
    )
    env = {**os.environ, "PREFECT__CONTEXT__SECRETS__MixedCase": '{"k": [1]}'}
    out = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    assert out.stdout.strip() == "dict {'k': [1]}"


def test_secret_is_exported_from_prefect_client():
    assert prefect.client.Secret is Secret
