"""`Git` storage: the flow's script in any git repository, cloned when the flow is loaded.

Cloning runs the ``git`` program when it is on PATH, else dulwich (the `git` extra).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from prefect.exceptions import FlowStorageError
from prefect.storage._util import get_secret, import_sdk
from prefect.storage.base import Storage
from prefect.utilities.storage import extract_flow_from_file

if TYPE_CHECKING:
    from prefect.core.flow import Flow

__all__ = ["Git"]

# Prefixes that hosts expect before an access token in an HTTPS clone URL.
_TOKEN_PREFIXES = {"bitbucket": "x-token-auth", "gitlab": "oauth2"}


class Git(Storage):
    """Load a flow script from a git repository, cloned (shallowly) into a temporary directory.

    The clone URL is, in order: the secret ``git_clone_url_secret_name``; an SSH URL
    ``git@<repo_host>:<repo>.git`` with ``use_ssh``; an HTTPS URL
    ``https://<repo_host>/<repo>.git``, carrying the token of ``git_token_secret_name`` if
    given. Nothing is uploaded: commit and push the script yourself.

    Args:
        flow_path: the script's path in the repository.
        repo: the repository, ``"owner/name"``.
        repo_host: the host; default ``github.com``.
        flow_name: the flow to load from the script (default: the name asked for).
        git_token_secret_name: the Prefect secret holding an access token.
        git_token_username: the user name to send with the token.
        git_clone_url_secret_name: the Prefect secret holding the whole clone URL (overrides
            ``repo``, ``repo_host`` and the token).
        branch_name: the branch to check out.
        tag: the tag to check out.
        commit: the commit to check out (within ``clone_depth`` of the branch head).
        clone_depth: how many commits to clone.
        use_ssh: clone over SSH (the SSH keys of the machine are used).
        format_access_token: prefix the token as Bitbucket (``x-token-auth:``) and GitLab
            (``oauth2:``) expect when no ``git_token_username`` is given.
        **kwargs: passed to `Storage` (``secrets``, ``labels``, ``add_default_labels``).

    Raises:
        ValueError: if neither ``repo`` nor ``git_clone_url_secret_name`` is given, or both
            ``tag`` and ``branch_name`` (or ``tag`` and ``commit``) are.
    """

    def __init__(
        self,
        flow_path: str,
        repo: str | None = None,
        repo_host: str = "github.com",
        flow_name: str | None = None,
        git_token_secret_name: str | None = None,
        git_token_username: str | None = None,
        git_clone_url_secret_name: str | None = None,
        branch_name: str | None = None,
        tag: str | None = None,
        commit: str | None = None,
        clone_depth: int = 1,
        use_ssh: bool = False,
        format_access_token: bool = True,
        **kwargs: Any,
    ) -> None:
        if repo is None and git_clone_url_secret_name is None:
            raise ValueError("Either `repo` or `git_clone_url_secret_name` must be provided")
        if tag is not None and branch_name is not None:
            raise ValueError("Either `tag` or `branch_name` can be specified, but not both")
        if tag is not None and commit is not None:
            raise ValueError("Either `tag` or `commit` can be specified, but not both")
        self.flow_path = flow_path
        self.repo = repo
        self.repo_host = repo_host
        self.flow_name = flow_name
        self.git_token_secret_name = git_token_secret_name
        self.git_clone_url_secret_name = git_clone_url_secret_name
        self.git_token_username = git_token_username
        self.branch_name = branch_name
        self.tag = tag
        self.commit = commit
        self.clone_depth = clone_depth
        self.use_ssh = use_ssh
        self.format_access_token = format_access_token
        kwargs.pop("stored_as_script", None)
        super().__init__(stored_as_script=True, **kwargs)

    @property
    def git_token_secret(self) -> str:
        """The access token from ``git_token_secret_name`` (empty without one)."""
        if self.git_token_secret_name is None:
            return ""
        return str(get_secret(self.git_token_secret_name))

    @property
    def git_clone_url(self) -> str:
        """The URL the repository is cloned from (it may carry a token: do not log it)."""
        if self.git_clone_url_secret_name:
            return str(get_secret(self.git_clone_url_secret_name))
        if self.use_ssh:
            return f"git@{self.repo_host}:{self.repo}.git"
        token = self.git_token_secret
        if not token:
            return f"https://{self.repo_host}/{self.repo}.git"
        if self.git_token_username:
            token = f"{self.git_token_username}:{token}"
        elif self.format_access_token:
            for host_word, prefix in _TOKEN_PREFIXES.items():
                if host_word in self.repo_host:
                    token = f"{prefix}:{token}"
                    break
        return f"https://{token}@{self.repo_host}/{self.repo}.git"

    def get_flow(self, flow_name: str) -> Flow:
        """Clone the repository and load the flow from the script.

        Raises:
            ValueError: if the flow is not in this storage.
            FlowStorageError: if the clone or checkout fails.
        """
        if flow_name not in self.flows:
            raise ValueError(f"Flow {flow_name!r} is not contained in this Storage")
        with _TemporaryGitRepo(
            git_clone_url=self.git_clone_url,
            branch_name=self.branch_name,
            tag=self.tag,
            commit=self.commit,
            clone_depth=self.clone_depth,
        ) as temp_dir:
            return extract_flow_from_file(
                file_path=os.path.join(temp_dir, self.flow_path),
                flow_name=self.flow_name or flow_name,
            )

    def add_flow(self, flow: Flow) -> str:
        """Record the flow (nothing is uploaded) and return the script path.

        Raises:
            ValueError: if a flow of the same name is already here.
        """
        self._check_new_flow(flow)
        self.flows[flow.name] = self.flow_path
        self._flows[flow.name] = flow
        return self.flow_path


class _TemporaryGitRepo:
    """A shallow clone in a temporary directory, removed on exit; ``with`` gives its path."""

    def __init__(
        self,
        git_clone_url: str,
        branch_name: str | None = None,
        tag: str | None = None,
        commit: str | None = None,
        clone_depth: int = 1,
    ) -> None:
        self.git_clone_url = git_clone_url
        self.branch_name = branch_name
        self.tag = tag
        self.commit = commit
        self.clone_depth = clone_depth
        self.temp_dir = ""

    def __enter__(self) -> str:
        import shutil
        import tempfile

        self.temp_dir = tempfile.mkdtemp(prefix="prefect-git-storage-")
        try:
            if shutil.which("git"):
                self._clone_with_git()
            else:
                self._clone_with_dulwich()
        except BaseException:
            shutil.rmtree(self.temp_dir, ignore_errors=True)
            raise
        return self.temp_dir

    def __exit__(self, *exc_info: Any) -> None:
        import shutil

        shutil.rmtree(self.temp_dir, ignore_errors=True)

    def _redacted_url(self) -> str:
        scheme, sep, rest = self.git_clone_url.partition("://")
        if sep and "@" in rest.split("/", 1)[0]:
            return f"{scheme}://***@{rest.split('@', 1)[1]}"
        return self.git_clone_url

    def _git(self, *args: str, cwd: str | None = None) -> None:
        import subprocess

        env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
        completed = subprocess.run(
            ["git", *args], capture_output=True, text=True, env=env, cwd=cwd, check=False
        )
        if completed.returncode != 0:
            message = completed.stderr.strip().replace(self.git_clone_url, self._redacted_url())
            raise FlowStorageError(f"git {args[0]} of {self._redacted_url()} failed: {message}")

    def _clone_with_git(self) -> None:
        url = self.git_clone_url
        if os.path.isdir(url):
            # A local path: git ignores --depth for those unless given as a file:// URL.
            url = "file://" + os.path.abspath(url)
        args = ["clone", "--quiet", "--depth", str(self.clone_depth)]
        ref = self.tag or self.branch_name
        if ref:
            args += ["--branch", ref]
        self._git(*args, url, self.temp_dir)
        if self.commit:
            self._git("checkout", "--quiet", self.commit, cwd=self.temp_dir)

    def _clone_with_dulwich(self) -> None:
        porcelain = import_sdk("dulwich.porcelain", "git", "Git")
        ref = self.tag or self.branch_name
        try:
            repo = porcelain.clone(
                source=self.git_clone_url,
                target=self.temp_dir,
                depth=self.clone_depth,
                branch=ref.encode() if ref else None,
                errstream=porcelain.NoneStream(),
            )
            if self.commit:
                porcelain.reset(repo, "hard", self.commit.encode())
        except Exception as exc:
            raise FlowStorageError(
                f"Cloning {self._redacted_url()} with dulwich failed: {exc}"
            ) from exc
