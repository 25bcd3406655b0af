from __future__ import annotations

import base64
import sys
import types

import pytest

import prefect
from prefect.serialization.storage import StorageSchema
from prefect.storage import GitLab


@pytest.fixture
def gitlab(monkeypatch, flow_script_text):
    """A fake python-gitlab: project ``group/proj`` holds ``flows/flow.py`` on ``master``."""
    module = types.ModuleType("gitlab")
    module.calls = []

    class File:
        def __init__(self, data: bytes) -> None:
            self.content = base64.b64encode(data).decode()

        def decode(self) -> bytes:
            return base64.b64decode(self.content)

    class Files:
        def get(self, file_path, ref):
            module.calls.append(("file", file_path, ref))
            return File(flow_script_text.encode())

    class Projects:
        def get(self, project_id):
            module.calls.append(("project", project_id))
            project = types.SimpleNamespace(files=Files())
            return project

    class Gitlab:
        def __init__(self, url, private_token=None) -> None:
            module.calls.append(("client", url, private_token))
            self.projects = Projects()

    module.Gitlab = Gitlab
    monkeypatch.setitem(sys.modules, "gitlab", module)
    return module


def test_init_is_a_script_storage():
    storage = GitLab(repo="group/proj", host="https://git.example", path="f.py", ref="dev")
    assert (storage.repo, storage.host, storage.path, storage.ref) == (
        "group/proj",
        "https://git.example",
        "f.py",
        "dev",
    )
    assert storage.access_token_secret is None
    assert storage.stored_as_script is True


def test_get_flow_uses_gitlab_com_master_and_the_quoted_project(gitlab, monkeypatch, run_task):
    monkeypatch.setenv("GITLAB_ACCESS_TOKEN", "tok")
    storage = GitLab(repo="group/proj", path="flows/flow.py")
    storage.add_flow(prefect.Flow("script-flow"))
    rebuilt = StorageSchema().load(storage.serialize())
    assert run_task(rebuilt.get_flow("script-flow"), "double") == 42
    assert gitlab.calls == [
        ("client", "https://gitlab.com", "tok"),
        ("project", "group%2Fproj"),
        ("file", "flows/flow.py", "master"),
    ]


def test_host_ref_and_token_secret(gitlab):
    storage = GitLab(
        repo="7", host="https://git.example", path="f.py", ref="v1", access_token_secret="GL"
    )
    storage.add_flow(prefect.Flow("script-flow"))
    with prefect.context(secrets={"GL": "secret"}):
        storage.get_flow("script-flow")
    assert gitlab.calls == [
        ("client", "https://git.example", "secret"),
        ("project", "7"),
        ("file", "f.py", "v1"),
    ]


def test_without_python_gitlab_the_gitlab_extra_is_named(monkeypatch):
    monkeypatch.setitem(sys.modules, "gitlab", None)
    storage = GitLab(repo="group/proj", path="f.py")
    storage.add_flow(prefect.Flow("script-flow"))
    with pytest.raises(ImportError, match=r'pip install "prefect\[gitlab\]"'):
        storage.get_flow("script-flow")
