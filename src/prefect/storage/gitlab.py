"""`GitLab` storage: the flow's script in a GitLab repository (the `gitlab` extra)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus

from prefect.storage._util import import_sdk, secret_or_fallback
from prefect.storage.base import Storage
from prefect.utilities.storage import extract_flow_from_file

if TYPE_CHECKING:
    from prefect.core.flow import Flow

__all__ = ["GitLab"]


class GitLab(Storage):
    """Load a flow script from a file in a GitLab project, through the GitLab API.

    Nothing is uploaded: commit and push the script yourself. Flows are always stored as
    scripts.

    Args:
        repo: the project, ``"namespace/name"`` or its numeric id.
        host: the GitLab server; default ``https://gitlab.com``.
        path: the script's path in the repository.
        ref: a branch, tag or commit SHA; default ``master``.
        access_token_secret: the Prefect secret holding a GitLab access token; default the
            ``GITLAB_ACCESS_TOKEN`` local secret or environment variable.
        **kwargs: passed to `Storage` (``secrets``, ``labels``, ``add_default_labels``).
    """

    def __init__(
        self,
        repo: str,
        host: str | None = None,
        path: str | None = None,
        ref: str | None = None,
        access_token_secret: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.repo = repo
        self.host = host
        self.path = path
        self.ref = ref
        self.access_token_secret = access_token_secret
        kwargs.pop("stored_as_script", None)
        super().__init__(stored_as_script=True, **kwargs)

    def _get_gitlab_client(self) -> Any:
        gitlab = import_sdk("gitlab", "gitlab", "GitLab")
        token = secret_or_fallback(self.access_token_secret, "GITLAB_ACCESS_TOKEN")
        return gitlab.Gitlab(self.host or "https://gitlab.com", private_token=token)

    def get_flow(self, flow_name: str) -> Flow:
        """Download the script at ``ref`` and load the flow from it.

        Raises:
            ValueError: if the flow is not in this storage.
            gitlab.exceptions.GitlabGetError: if the project or file is not found.
        """
        if flow_name not in self.flows:
            raise ValueError(f"Flow {flow_name!r} is not contained in this Storage")
        client = self._get_gitlab_client()
        ref = self.ref or "master"
        try:
            project = client.projects.get(quote_plus(str(self.repo)))
        except Exception:
            self.logger.error(
                "Project %s not found. Check that it exists (and is spelled correctly), and "
                "that you have configured the proper credentials for accessing it.",
                self.repo,
            )
            raise
        try:
            contents = project.files.get(file_path=self.path, ref=ref)
        except Exception:
            self.logger.error("File %s not found in repo %s, ref %s", self.path, self.repo, ref)
            raise
        self.logger.info(
            "Downloading flow from GitLab storage - repo: '%s', path: '%s', ref: '%s'",
            self.repo,
            self.path,
            ref,
        )
        return extract_flow_from_file(file_contents=contents.decode(), flow_name=flow_name)

    def add_flow(self, flow: Flow) -> str:
        """Record the flow (nothing is uploaded) and return the script path.

        Raises:
            ValueError: if a flow of the same name is already here.
        """
        self._check_new_flow(flow)
        self.flows[flow.name] = self.path  # type: ignore[assignment]
        self._flows[flow.name] = flow
        return self.path  # type: ignore[return-value]
