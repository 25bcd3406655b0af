"""`Bitbucket` storage: the flow's script in a Bitbucket Server or Bitbucket Cloud repository.

Bitbucket Server is read through `atlassian-python-api` (the `bitbucket` extra); Bitbucket
Cloud through its REST API with `requests`, retrying when rate-limited
(`BITBUCKET_CLOUD_RETRY`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from prefect.storage._util import get_secret, import_sdk, secret_or_fallback
from prefect.storage.base import Storage
from prefect.utilities.storage import extract_flow_from_file

if TYPE_CHECKING:
    from urllib3.util.retry import Retry

    from prefect.core.flow import Flow

    BITBUCKET_CLOUD_RETRY: Retry

__all__ = ["BITBUCKET_CLOUD_RETRY", "Bitbucket"]


def _cloud_retry() -> Retry:
    """`BITBUCKET_CLOUD_RETRY`, built on first use (urllib3 with ssl is slow to import)."""
    retry = globals().get("BITBUCKET_CLOUD_RETRY")
    if retry is None:
        from urllib3.util.retry import Retry

        # Bitbucket Cloud answers 429 when an account exceeds its API rate: back off, retry.
        retry = Retry(
            total=10,
            backoff_factor=0.5,
            status_forcelist=[429],
            allowed_methods=["HEAD", "GET", "OPTIONS"],
        )
        globals()["BITBUCKET_CLOUD_RETRY"] = retry
    return retry


def __getattr__(name: str) -> Any:
    if name == "BITBUCKET_CLOUD_RETRY":
        return _cloud_retry()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_CLOUD_API = "https://api.bitbucket.org/2.0"


class Bitbucket(Storage):
    """Load a flow script from a file in a Bitbucket repository.

    With a ``workspace`` the repository is on Bitbucket Cloud, authenticated by an app password
    (``cloud_username_secret`` + ``cloud_app_password_secret``) or an access token. Without
    one it is on a Bitbucket Server at ``host``, under ``project``, authenticated by an access
    token. Nothing is uploaded: commit and push the script yourself.

    Args:
        project: the Bitbucket Server project key (ignored on Bitbucket Cloud).
        repo: the repository slug.
        workspace: the Bitbucket Cloud workspace.
        host: the Bitbucket Server URL; default ``https://bitbucket.org``.
        path: the script's path in the repository.
        ref: a branch, tag or commit; default ``master``.
        access_token_secret: the Prefect secret holding an access token; default the
            ``BITBUCKET_ACCESS_TOKEN`` local secret or environment variable.
        cloud_username_secret: the Prefect secret holding the Bitbucket Cloud user name.
        cloud_app_password_secret: the Prefect secret holding its app password.
        **kwargs: passed to `Storage` (``secrets``, ``labels``, ``add_default_labels``).
    """

    def __init__(
        self,
        project: str,
        repo: str,
        workspace: str | None = None,
        host: str | None = None,
        path: str | None = None,
        ref: str | None = None,
        access_token_secret: str | None = None,
        cloud_username_secret: str | None = None,
        cloud_app_password_secret: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.project = project
        self.repo = repo
        self.workspace = workspace
        self.host = host
        self.path = path
        self.ref = ref
        self.access_token_secret = access_token_secret
        self.cloud_username_secret = cloud_username_secret
        self.cloud_app_password_secret = cloud_app_password_secret
        kwargs.pop("stored_as_script", None)
        super().__init__(stored_as_script=True, **kwargs)

    def get_flow(self, flow_name: str) -> Flow:
        """Download the script at ``ref`` and load the flow from it.

        Raises:
            ValueError: if the flow is not in this storage.
            requests.HTTPError: if Bitbucket refuses the request (not found, no access).
        """
        if flow_name not in self.flows:
            raise ValueError(f"Flow {flow_name!r} is not contained in this Storage")
        ref = self.ref or "master"
        content: bytes | str
        if self.workspace:
            content = self._get_cloud_content(ref)
        else:
            content = self._get_server_content(ref)
        self.logger.info(
            "Downloading flow from Bitbucket storage - repo: '%s', path: '%s', ref: '%s'",
            self.repo,
            self.path,
            ref,
        )
        return extract_flow_from_file(file_contents=content, flow_name=flow_name)

    def _get_cloud_content(self, ref: str) -> bytes:
        import requests
        from requests.adapters import HTTPAdapter

        retry = _cloud_retry()
        session = requests.Session()
        session.mount("https://", HTTPAdapter(max_retries=retry))
        session.mount("http://", HTTPAdapter(max_retries=retry))
        if self.cloud_username_secret and self.cloud_app_password_secret:
            session.auth = (
                str(get_secret(self.cloud_username_secret)),
                str(get_secret(self.cloud_app_password_secret)),
            )
        else:
            token = secret_or_fallback(self.access_token_secret, "BITBUCKET_ACCESS_TOKEN")
            if token:
                session.headers["Authorization"] = f"Bearer {token}"
        url = "{}/repositories/{}/{}/src/{}/{}".format(
            _CLOUD_API,
            quote(str(self.workspace), safe=""),
            quote(self.repo, safe=""),
            quote(ref, safe=""),
            quote(str(self.path or "")),
        )
        with session:
            response = session.get(url)
            response.raise_for_status()
            return response.content

    def _get_server_content(self, ref: str) -> str:
        atlassian = import_sdk("atlassian", "bitbucket", "Bitbucket")
        import requests

        session = requests.Session()
        token = secret_or_fallback(self.access_token_secret, "BITBUCKET_ACCESS_TOKEN")
        if token:
            session.headers["Authorization"] = f"Bearer {token}"
        client = atlassian.Bitbucket(self.host or "https://bitbucket.org", session=session)
        content = client.get_content_of_file(self.project, self.repo, self.path, at=ref)
        return content.decode("utf-8") if isinstance(content, bytes) else str(content)

    def add_flow(self, flow: Flow) -> str:
        """Record the flow (nothing is uploaded) and return the script path.

        Raises:
            ValueError: if a flow of the same name is already here.
        """
        self._check_new_flow(flow)
        self.flows[flow.name] = self.path  # type: ignore[assignment]
        self._flows[flow.name] = flow
        return self.path  # type: ignore[return-value]
