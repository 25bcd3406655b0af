"""`CodeCommit` storage: the flow's script in an AWS CodeCommit repository (the `aws` extra)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from prefect.storage.base import Storage
from prefect.utilities.storage import extract_flow_from_file

if TYPE_CHECKING:
    from prefect.core.flow import Flow

__all__ = ["CodeCommit"]


class CodeCommit(Storage):
    """Load a flow script from a file in an AWS CodeCommit repository.

    Nothing is uploaded: commit and push the script yourself. Flows are always stored as
    scripts. Credentials come from `prefect.utilities.aws.get_boto_client`.

    Args:
        repo: the repository name.
        path: the script's path in the repository.
        commit: a branch name or commit id; default the repository's default branch.
        client_options: keyword arguments of the boto3 client (``region_name``, ...).
        **kwargs: passed to `Storage` (``secrets``, ``labels``, ``add_default_labels``).
    """

    def __init__(
        self,
        repo: str,
        path: str | None = None,
        commit: str | None = None,
        client_options: dict | None = None,
        **kwargs: Any,
    ) -> None:
        self.repo = repo
        self.path = path
        self.commit = commit
        self.client_options = client_options
        kwargs.pop("stored_as_script", None)
        super().__init__(stored_as_script=True, **kwargs)

    @property
    def _boto3_client(self) -> Any:
        from prefect.utilities import aws

        return aws.get_boto_client(
            resource="codecommit", credentials=None, **(self.client_options or {})
        )

    def get_flow(self, flow_name: str) -> Flow:
        """Download the script and load the flow from it.

        Raises:
            ValueError: if the flow is not in this storage.
            botocore.exceptions.ClientError: if the repository or file is not found.
        """
        if flow_name not in self.flows:
            raise ValueError(f"Flow {flow_name!r} is not contained in this Storage")
        request: dict[str, Any] = {"repositoryName": self.repo, "filePath": self.path}
        if self.commit:
            request["commitSpecifier"] = self.commit
        try:
            response = self._boto3_client.get_file(**request)
        except Exception as exc:
            self.logger.error("Error downloading Flow from CodeCommit: %s", exc)
            raise
        self.logger.info(
            "Downloading flow from CodeCommit storage - repo: '%s', path: '%s', commit: '%s'",
            self.repo,
            self.path,
            self.commit,
        )
        return extract_flow_from_file(file_contents=response["fileContent"], flow_name=flow_name)

    def add_flow(self, flow: Flow) -> str:
        """Record the flow (nothing is uploaded) and return the script path.

        Raises:
            ValueError: if a flow of the same name is already here.
        """
        self._check_new_flow(flow)
        self.flows[flow.name] = self.path  # type: ignore[assignment]
        self._flows[flow.name] = flow
        return self.path  # type: ignore[return-value]
