from __future__ import annotations

import sys
import types

import pytest

import prefect
from prefect.serialization.storage import StorageSchema
from prefect.storage import GitHub


class UnknownObjectException(Exception):
    pass


@pytest.fixture
def github(monkeypatch, flow_script_text):
    """A fake PyGithub: repo ``org/repo`` (default branch ``main``) holds ``flows/flow.py``."""
    module = types.ModuleType("github")
    module.clients = []
    module.UnknownObjectException = UnknownObjectException
    files = {("main", "flows/flow.py"): flow_script_text.encode()}

    class Contents:
        def __init__(self, data: bytes) -> None:
            self.decoded_content = data

    class Repo:
        default_branch = "main"

        def get_contents(self, path, ref):
            module.requested = (path, ref)
            if (ref, path) not in files:
                raise UnknownObjectException(path)
            return Contents(files[(ref, path)])

    class Github:
        def __init__(self, login_or_token=None, base_url=None) -> None:
            module.clients.append({"token": login_or_token, "base_url": base_url})

        def get_repo(self, name):
            if name != "org/repo":
                raise UnknownObjectException(name)
            return Repo()

    module.Github = Github
    module.files = files
    monkeypatch.setitem(sys.modules, "github", module)
    return module


def test_init_is_a_script_storage():
    storage = GitHub(repo="org/repo", path="flows/flow.py", ref="dev", access_token_secret="T")
    assert (storage.repo, storage.path, storage.ref) == ("org/repo", "flows/flow.py", "dev")
    assert storage.access_token_secret == "T"
    assert storage.base_url is None
    assert storage.stored_as_script is True
    assert storage.add_flow(prefect.Flow("f")) == "flows/flow.py"
    assert storage.flows == {"f": "flows/flow.py"}


def test_get_flow_reads_the_default_branch(github, run_task):
    storage = GitHub(repo="org/repo", path="flows/flow.py")
    storage.add_flow(prefect.Flow("script-flow"))
    rebuilt = StorageSchema().load(storage.serialize())
    assert run_task(rebuilt.get_flow("script-flow"), "double") == 42
    assert github.requested == ("flows/flow.py", "main")


def test_ref_token_and_base_url(github, monkeypatch):
    monkeypatch.setenv("GITHUB_ACCESS_TOKEN", "env-token")
    github.files[("v2", "flows/flow.py")] = github.files[("main", "flows/flow.py")]
    storage = GitHub(repo="org/repo", path="flows/flow.py", ref="v2", base_url="https://ghe/api/v3")
    storage.add_flow(prefect.Flow("script-flow"))
    storage.get_flow("script-flow")
    assert github.requested == ("flows/flow.py", "v2")
    assert github.clients[-1] == {"token": "env-token", "base_url": "https://ghe/api/v3"}
    with prefect.context(secrets={"MY_TOKEN": "secret-token"}):
        named = GitHub(repo="org/repo", path="flows/flow.py", access_token_secret="MY_TOKEN")
        named.add_flow(prefect.Flow("script-flow"))
        named.get_flow("script-flow")
    assert github.clients[-1]["token"] == "secret-token"


def test_missing_repo_or_file_raises_the_sdk_error(github):
    storage = GitHub(repo="org/other", path="flows/flow.py")
    storage.add_flow(prefect.Flow("script-flow"))
    with pytest.raises(UnknownObjectException):
        storage.get_flow("script-flow")
    storage = GitHub(repo="org/repo", path="missing.py")
    storage.add_flow(prefect.Flow("script-flow"))
    with pytest.raises(UnknownObjectException):
        storage.get_flow("script-flow")


def test_without_pygithub_the_github_extra_is_named(monkeypatch):
    monkeypatch.setitem(sys.modules, "github", None)
    storage = GitHub(repo="org/repo", path="flows/flow.py")
    storage.add_flow(prefect.Flow("script-flow"))
    with pytest.raises(ImportError, match=r'pip install "prefect\[github\]"'):
        storage.get_flow("script-flow")
