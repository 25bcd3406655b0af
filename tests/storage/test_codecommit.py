from __future__ import annotations

import pytest

import prefect
from prefect.serialization.storage import StorageSchema
from prefect.storage import CodeCommit


@pytest.fixture
def codecommit(monkeypatch, flow_script_text):
    """Replace `get_boto_client` with a CodeCommit client serving one file."""
    calls: list = []

    class Client:
        def get_file(self, **request):
            calls.append(request)
            return {"fileContent": flow_script_text.encode()}

    def get_boto_client(resource, credentials=None, **kwargs):
        calls.append((resource, credentials, kwargs))
        return Client()

    monkeypatch.setattr("prefect.utilities.aws.get_boto_client", get_boto_client)
    return calls


def test_init_is_a_script_storage():
    storage = CodeCommit(repo="r", path="f.py", commit="main", client_options={"region_name": "x"})
    assert (storage.repo, storage.path, storage.commit) == ("r", "f.py", "main")
    assert storage.client_options == {"region_name": "x"}
    assert storage.stored_as_script is True
    assert storage.add_flow(prefect.Flow("f")) == "f.py"


def test_get_flow_downloads_the_file(codecommit, run_task):
    storage = CodeCommit(
        repo="r", path="flows/f.py", commit="dev", client_options={"region_name": "x"}
    )
    storage.add_flow(prefect.Flow("script-flow"))
    rebuilt = StorageSchema().load(storage.serialize())
    assert run_task(rebuilt.get_flow("script-flow"), "double") == 42
    assert codecommit == [
        ("codecommit", None, {"region_name": "x"}),
        {"repositoryName": "r", "filePath": "flows/f.py", "commitSpecifier": "dev"},
    ]


def test_without_commit_the_default_branch_is_read(codecommit):
    storage = CodeCommit(repo="r", path="f.py")
    storage.add_flow(prefect.Flow("script-flow"))
    storage.get_flow("script-flow")
    assert codecommit[-1] == {"repositoryName": "r", "filePath": "f.py"}


def test_get_flow_of_unknown_name_raises():
    with pytest.raises(ValueError, match="not contained"):
        CodeCommit(repo="r", path="f.py").get_flow("nope")
