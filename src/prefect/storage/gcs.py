"""`GCS` storage: flows pickled (or their scripts) in Google Cloud Storage (the `google` extra)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import prefect
from prefect.exceptions import FlowStorageError
from prefect.storage._util import default_flow_key, import_sdk, optional_result
from prefect.storage.base import Storage
from prefect.utilities.storage import (
    extract_flow_from_file,
    flow_from_bytes_pickle,
    flow_to_bytes_pickle,
)

if TYPE_CHECKING:
    from prefect.core.flow import Flow

__all__ = ["GCS"]


def _storage_client(project: str | None) -> Any:
    """A `google.cloud.storage.Client`, with the ``GCP_CREDENTIALS`` secret if there is one."""
    storage = import_sdk("google.cloud.storage", "google", "GCS")
    info = (prefect.context.get("secrets") or {}).get("GCP_CREDENTIALS")
    if info:
        service_account = import_sdk("google.oauth2.service_account", "google", "GCS")
        credentials = service_account.Credentials.from_service_account_info(info)
        return storage.Client(project=project or credentials.project_id, credentials=credentials)
    return storage.Client(project=project)


class GCS(Storage):
    """Keep flows in a Google Cloud Storage bucket.

    Works like `S3`: `add_flow` picks the blob name (``key`` or ``<slugified flow
    name>/<slugified timestamp>``) and `build` uploads. Credentials: the ``GCP_CREDENTIALS``
    secret (service-account info) if set, else Google's default credentials.

    Args:
        bucket: the bucket.
        key: the blob name of the flow; default a fresh name per flow.
        project: the Google Cloud project (default: the credentials').
        stored_as_script: whether the blob is the flow's ``.py`` script.
        local_script_path: the script to upload when ``stored_as_script`` (default
            ``prefect.context.local_script_path``).
        **kwargs: passed to `Storage` (``secrets``, ``labels``, ``add_default_labels``).
    """

    def __init__(
        self,
        bucket: str,
        key: str | None = None,
        project: str | None = None,
        stored_as_script: bool = False,
        local_script_path: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.bucket = bucket
        self.key = key
        self.project = project
        self.local_script_path = local_script_path or prefect.context.get("local_script_path")
        result = optional_result("GCSResult", bucket=bucket)
        super().__init__(result=result, stored_as_script=stored_as_script, **kwargs)

    @property
    def _gcs_client(self) -> Any:
        return _storage_client(self.project)

    def get_flow(self, flow_name: str) -> Flow:
        """Download the flow's blob and load it.

        Raises:
            ValueError: if the flow is not in this storage.
            FlowStorageError: if the blob does not exist.
        """
        if flow_name not in self.flows:
            raise ValueError(f"Flow {flow_name!r} is not contained in this Storage")
        key = self.flows[flow_name]
        bucket = self._gcs_client.get_bucket(self.bucket)
        self.logger.info("Downloading flow from GCS://%s/%s", self.bucket, key)
        blob = bucket.get_blob(key)
        if not blob:
            raise FlowStorageError(f"Flow not found in bucket: flow={key} bucket={self.bucket}")
        content = blob.download_as_bytes()
        if self.stored_as_script:
            return extract_flow_from_file(file_contents=content, flow_name=flow_name)
        return flow_from_bytes_pickle(content)

    def add_flow(self, flow: Flow) -> str:
        """Record the flow and the blob name it will be uploaded to; return the name.

        Raises:
            ValueError: if a flow of the same name is already here.
        """
        self._check_new_flow(flow)
        key = self.key or default_flow_key(flow)
        self.flows[flow.name] = key
        self._flows[flow.name] = flow
        return key

    def build(self) -> Storage:
        """Upload every added flow (or its script) to the bucket.

        Raises:
            ValueError: if ``stored_as_script`` is set with neither ``local_script_path`` nor
                ``key``.
        """
        self.run_basic_healthchecks()
        if self.stored_as_script:
            if self.local_script_path:
                for flow_name in self._flows:
                    key = self.flows[flow_name]
                    self.logger.info(
                        "Uploading script %s to %s in %s", self.local_script_path, key, self.bucket
                    )
                    bucket = self._gcs_client.get_bucket(self.bucket)
                    with open(self.local_script_path, "rb") as script:
                        bucket.blob(key).upload_from_file(script)
            elif not self.key:
                raise ValueError(
                    "A `key` must be provided to show where the flow `.py` file is stored in GCS."
                )
            return self

        for flow_name, flow in self._flows.items():
            key = self.flows[flow_name]
            self.logger.info("Uploading %s to %s", key, self.bucket)
            bucket = self._gcs_client.get_bucket(self.bucket)
            bucket.blob(blob_name=key).upload_from_string(flow_to_bytes_pickle(flow))
        return self
