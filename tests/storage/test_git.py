from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

import prefect
from prefect.exceptions import FlowStorageError
from prefect.serialization.storage import StorageSchema
from prefect.storage import Git

needs_git = pytest.mark.skipif(
    shutil.which("git") is None, reason="the git program is not installed"
)

OTHER_SCRIPT = """
from prefect import Flow, task

@task
def double(x):
    return 2 * x

with Flow("script-flow") as flow:
    double(500)
"""


def git(*args: str, cwd) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path, flow_script_text):
    """A repository: `main` holds flows/flow.py (42), tag v1 too; branch `other` has 1000."""
    work = tmp_path / "work"
    (work / "flows").mkdir(parents=True)
    git("init", "--quiet", "--initial-branch=main", cwd=work)
    (work / "flows" / "flow.py").write_text(flow_script_text)
    git("add", ".", cwd=work)
    git("commit", "--quiet", "-m", "first", cwd=work)
    git("tag", "v1", cwd=work)
    first = git("rev-parse", "HEAD", cwd=work)
    git("checkout", "--quiet", "-b", "other", cwd=work)
    (work / "flows" / "flow.py").write_text(OTHER_SCRIPT)
    git("commit", "--quiet", "-am", "second", cwd=work)
    git("checkout", "--quiet", "main", cwd=work)
    return {"url": "file://" + str(work), "first": first}


def git_storage(url: str, **kwargs) -> Git:
    prefect.context.setdefault("secrets", {})["CLONE_URL"] = url
    return Git(flow_path="flows/flow.py", git_clone_url_secret_name="CLONE_URL", **kwargs)


def test_init_defaults_and_script_storage():
    storage = Git(flow_path="flows/flow.py", repo="org/repo")
    assert storage.repo_host == "github.com"
    assert storage.clone_depth == 1
    assert storage.use_ssh is False
    assert storage.format_access_token is True
    assert storage.stored_as_script is True
    assert storage.add_flow(prefect.Flow("f")) == "flows/flow.py"
    assert storage.flows == {"f": "flows/flow.py"}


def test_init_needs_a_repo_or_clone_url_secret():
    with pytest.raises(ValueError, match="Either `repo` or `git_clone_url_secret_name`"):
        Git(flow_path="f.py")


def test_tag_excludes_branch_and_commit():
    with pytest.raises(ValueError, match="`tag` or `branch_name`"):
        Git(flow_path="f.py", repo="o/r", tag="v1", branch_name="main")
    with pytest.raises(ValueError, match="`tag` or `commit`"):
        Git(flow_path="f.py", repo="o/r", tag="v1", commit="abc")


def test_clone_urls():
    assert Git(flow_path="f", repo="o/r").git_clone_url == "https://github.com/o/r.git"
    assert Git(flow_path="f", repo="o/r", use_ssh=True).git_clone_url == "git@github.com:o/r.git"
    with prefect.context(secrets={"TOKEN": "tok", "URL": "https://x/y.git"}):
        assert (
            Git(flow_path="f", repo="o/r", git_token_secret_name="TOKEN").git_clone_url
            == "https://tok@github.com/o/r.git"
        )
        assert (
            Git(
                flow_path="f", repo="o/r", git_token_secret_name="TOKEN", git_token_username="me"
            ).git_clone_url
            == "https://me:tok@github.com/o/r.git"
        )
        assert (
            Git(
                flow_path="f", repo="o/r", repo_host="bitbucket.org", git_token_secret_name="TOKEN"
            ).git_clone_url
            == "https://x-token-auth:tok@bitbucket.org/o/r.git"
        )
        assert (
            Git(
                flow_path="f", repo="o/r", repo_host="gitlab.com", git_token_secret_name="TOKEN"
            ).git_clone_url
            == "https://oauth2:tok@gitlab.com/o/r.git"
        )
        assert (
            Git(
                flow_path="f",
                repo="o/r",
                repo_host="gitlab.com",
                git_token_secret_name="TOKEN",
                format_access_token=False,
            ).git_clone_url
            == "https://tok@gitlab.com/o/r.git"
        )
        assert (
            Git(flow_path="f", git_clone_url_secret_name="URL").git_clone_url == "https://x/y.git"
        )
        assert (
            Git(flow_path="f", repo="o/r", git_token_secret_name="TOKEN").git_token_secret == "tok"
        )
    assert Git(flow_path="f", repo="o/r").git_token_secret == ""


@needs_git
def test_get_flow_clones_the_default_branch(repo, run_task):
    storage = git_storage(repo["url"])
    storage.add_flow(prefect.Flow("script-flow"))
    rebuilt = StorageSchema().load(storage.serialize())
    assert run_task(rebuilt.get_flow("script-flow"), "double") == 42


@needs_git
def test_get_flow_from_a_branch_a_tag_and_a_commit(repo, run_task):
    for kwargs, expected in (
        ({"branch_name": "other"}, 1000),
        ({"tag": "v1"}, 42),
        ({"branch_name": "other", "commit": repo["first"], "clone_depth": 2}, 42),
    ):
        storage = git_storage(repo["url"], **kwargs)
        storage.add_flow(prefect.Flow("script-flow"))
        assert run_task(storage.get_flow("script-flow"), "double") == expected, kwargs


@needs_git
def test_flow_name_selects_the_flow_in_the_script(repo):
    storage = git_storage(repo["url"], flow_name="script-flow")
    storage.add_flow(prefect.Flow("registered-under-another-name"))
    assert storage.get_flow("registered-under-another-name").name == "script-flow"


@needs_git
def test_clone_is_removed_after_loading(repo, monkeypatch, tmp_path):
    clones = tmp_path / "clones"
    clones.mkdir()
    monkeypatch.setenv("TMPDIR", str(clones))
    monkeypatch.setattr("tempfile.tempdir", None)
    storage = git_storage(repo["url"])
    storage.add_flow(prefect.Flow("script-flow"))
    storage.get_flow("script-flow")
    assert list(clones.iterdir()) == []


@needs_git
def test_failed_clone_raises_without_leaking_the_token(tmp_path):
    url = "file://user:sekrit@" + str(tmp_path / "nothing-here")
    storage = git_storage(url)
    storage.add_flow(prefect.Flow("script-flow"))
    with pytest.raises(FlowStorageError, match="git clone") as info:
        storage.get_flow("script-flow")
    assert "sekrit" not in str(info.value)


def test_get_flow_of_unknown_name_raises():
    with pytest.raises(ValueError, match="not contained"):
        Git(flow_path="f", repo="o/r").get_flow("nope")


def test_without_git_or_dulwich_the_git_extra_is_named(monkeypatch, tmp_path):
    monkeypatch.setattr("shutil.which", lambda name: None)
    monkeypatch.setitem(sys.modules, "dulwich", None)
    monkeypatch.setitem(sys.modules, "dulwich.porcelain", None)
    storage = git_storage(str(tmp_path))
    storage.add_flow(prefect.Flow("script-flow"))
    with pytest.raises(ImportError, match=r'pip install "prefect\[git\]"'):
        storage.get_flow("script-flow")
