"""`GitHub` storage: the flow's script in a GitHub repository (the `github` extra)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from prefect.storage._util import import_sdk, secret_or_fallback
from prefect.storage.base import Storage
from prefect.utilities.storage import extract_flow_from_file

if TYPE_CHECKING:
    from prefect.core.flow import Flow

__all__ = ["GitHub"]


class GitHub(Storage):
    """Load a flow script from a file in a GitHub repository, through the GitHub API.

    Nothing is uploaded: commit and push the script yourself. Flows are always stored as
    scripts.

    Args:
        repo: the repository, ``"owner/name"``.
        path: the script's path in the repository.
        ref: a branch, tag or commit SHA; default the repository's default branch.
        access_token_secret: the Prefect secret holding a GitHub access token; default the
            ``GITHUB_ACCESS_TOKEN`` local secret or environment variable (public repositories
            need none).
        base_url: the API URL of a GitHub Enterprise server.
        **kwargs: passed to `Storage` (``secrets``, ``labels``, ``add_default_labels``).
    """

    def __init__(
        self,
        repo: str,
        path: str,
        ref: str | None = None,
        access_token_secret: str | None = None,
        base_url: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.repo = repo
        self.path = path
        self.ref = ref
        self.access_token_secret = access_token_secret
        self.base_url = base_url
        kwargs.pop("stored_as_script", None)
        super().__init__(stored_as_script=True, **kwargs)

    def _get_github_client(self) -> Any:
        github = import_sdk("github", "github", "GitHub")
        token = secret_or_fallback(self.access_token_secret, "GITHUB_ACCESS_TOKEN")
        if self.base_url:
            return github.Github(base_url=self.base_url, login_or_token=token)
        return github.Github(token)

    def get_flow(self, flow_name: str) -> Flow:
        """Download the script at ``ref`` and load the flow from it.

        Raises:
            ValueError: if the flow is not in this storage.
            github.UnknownObjectException: if the repository or file is not found.
        """
        if flow_name not in self.flows:
            raise ValueError(f"Flow {flow_name!r} is not contained in this Storage")
        client = self._get_github_client()
        try:
            repo = client.get_repo(self.repo)
        except Exception:
            self.logger.error(
                "Repo %s not found. Check that it exists (and is spelled correctly), and that "
                "you have configured the proper credentials for accessing it.",
                self.repo,
            )
            raise
        ref = self.ref or repo.default_branch
        try:
            contents = repo.get_contents(self.path, ref=ref)
        except Exception:
            self.logger.error("File %s not found in repo %s, ref %s", self.path, self.repo, ref)
            raise
        self.logger.info(
            "Downloading flow from GitHub storage - repo: '%s', path: '%s', ref: '%s'",
            self.repo,
            self.path,
            ref,
        )
        return extract_flow_from_file(file_contents=contents.decoded_content, flow_name=flow_name)

    def add_flow(self, flow: Flow) -> str:
        """Record the flow (nothing is uploaded) and return the script path.

        Raises:
            ValueError: if a flow of the same name is already here.
        """
        self._check_new_flow(flow)
        self.flows[flow.name] = self.path
        self._flows[flow.name] = flow
        return self.path
