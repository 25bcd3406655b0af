from __future__ import annotations

import sys
import types

import pytest
import requests

import prefect
import prefect.storage.bitbucket as bitbucket_module
from prefect.serialization.storage import StorageSchema
from prefect.storage import Bitbucket


def test_cloud_retry_policy():
    retry = bitbucket_module.BITBUCKET_CLOUD_RETRY
    assert retry.total == 10
    assert retry.backoff_factor == 0.5
    assert list(retry.status_forcelist) == [429]
    assert sorted(retry.allowed_methods) == ["GET", "HEAD", "OPTIONS"]
    assert bitbucket_module.BITBUCKET_CLOUD_RETRY is retry


def test_init_is_a_script_storage():
    storage = Bitbucket(project="PRJ", repo="r", workspace="ws", path="f.py", ref="dev")
    assert (storage.project, storage.repo, storage.workspace) == ("PRJ", "r", "ws")
    assert (storage.host, storage.path, storage.ref) == (None, "f.py", "dev")
    assert storage.cloud_username_secret is None and storage.cloud_app_password_secret is None
    assert storage.stored_as_script is True
    assert storage.add_flow(prefect.Flow("f")) == "f.py"


@pytest.fixture
def cloud_api(http_server, monkeypatch):
    monkeypatch.setattr(bitbucket_module, "_CLOUD_API", http_server.url + "/2.0")
    return http_server


def test_cloud_get_flow_with_app_password(cloud_api, flow_script_text, run_task):
    cloud_api.bodies["/2.0/repositories/ws/repo/src/main/flows/flow.py"] = flow_script_text.encode()
    storage = Bitbucket(
        project="unused",
        repo="repo",
        workspace="ws",
        path="flows/flow.py",
        ref="main",
        cloud_username_secret="BB_USER",
        cloud_app_password_secret="BB_PASSWORD",
    )
    storage.add_flow(prefect.Flow("script-flow"))
    rebuilt = StorageSchema().load(storage.serialize())
    with prefect.context(secrets={"BB_USER": "me", "BB_PASSWORD": "pw"}):
        assert run_task(rebuilt.get_flow("script-flow"), "double") == 42
    headers = cloud_api.requests[-1][2]
    assert headers["Authorization"] == "Basic bWU6cHc="  # me:pw


def test_cloud_token_and_default_ref(cloud_api, flow_script_text, monkeypatch):
    monkeypatch.setenv("BITBUCKET_ACCESS_TOKEN", "tok")
    cloud_api.bodies["/2.0/repositories/ws/repo/src/master/f.py"] = flow_script_text.encode()
    storage = Bitbucket(project="p", repo="repo", workspace="ws", path="f.py")
    storage.add_flow(prefect.Flow("script-flow"))
    assert storage.get_flow("script-flow").name == "script-flow"
    assert cloud_api.requests[-1][2]["Authorization"] == "Bearer tok"


def test_cloud_missing_file_raises_http_error(cloud_api):
    storage = Bitbucket(project="p", repo="repo", workspace="ws", path="missing.py")
    storage.add_flow(prefect.Flow("script-flow"))
    with pytest.raises(requests.HTTPError):
        storage.get_flow("script-flow")


def test_server_uses_atlassian(monkeypatch, flow_script_text, run_task):
    module = types.ModuleType("atlassian")
    calls = []

    class Bitbucket_:
        def __init__(self, url, session):
            calls.append(("client", url, session.headers.get("Authorization")))

        def get_content_of_file(self, project, repo, path, at=None):
            calls.append(("file", project, repo, path, at))
            return flow_script_text.encode()

    module.Bitbucket = Bitbucket_
    monkeypatch.setitem(sys.modules, "atlassian", module)
    storage = Bitbucket(
        project="PRJ", repo="r", host="https://bb.example", path="f.py", access_token_secret="T"
    )
    storage.add_flow(prefect.Flow("script-flow"))
    with prefect.context(secrets={"T": "server-token"}):
        assert run_task(storage.get_flow("script-flow"), "double") == 42
    assert calls == [
        ("client", "https://bb.example", "Bearer server-token"),
        ("file", "PRJ", "r", "f.py", "master"),
    ]


def test_server_without_atlassian_names_the_bitbucket_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "atlassian", None)
    storage = Bitbucket(project="PRJ", repo="r", host="https://bb.example", path="f.py")
    storage.add_flow(prefect.Flow("script-flow"))
    with pytest.raises(ImportError, match=r'pip install "prefect\[bitbucket\]"'):
        storage.get_flow("script-flow")
