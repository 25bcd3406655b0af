"""`S3` storage: flows pickled (or their scripts) in an AWS S3 bucket (the `aws` extra)."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

import prefect
from prefect.storage._util import default_flow_key, optional_result
from prefect.storage.base import Storage
from prefect.utilities.storage import (
    extract_flow_from_file,
    flow_from_bytes_pickle,
    flow_to_bytes_pickle,
)

if TYPE_CHECKING:
    from prefect.core.flow import Flow

__all__ = ["S3"]


class S3(Storage):
    """Keep flows in an S3 bucket.

    `add_flow` picks the object key (``key``, or ``<slugified flow name>/<slugified
    timestamp>``); `build` uploads the pickled flow there, or with ``stored_as_script`` the
    script at ``local_script_path`` (or expects the script to be at ``key`` already).
    Credentials come from `prefect.utilities.aws.get_boto_client`: the ``AWS_CREDENTIALS``
    secret, else boto3's own chain.

    Args:
        bucket: the bucket.
        key: the object key of the flow; default a fresh key per flow.
        stored_as_script: whether the object is the flow's ``.py`` script.
        local_script_path: the script to upload when ``stored_as_script`` (default: the
            script being loaded, ``prefect.context.local_script_path``).
        client_options: keyword arguments of the boto3 client (``endpoint_url``,
            ``region_name``, ...); they are serialized, so put no secrets here.
        upload_options: ``ExtraArgs`` of the upload (``{"ACL": ...}``, ...).
        **kwargs: passed to `Storage` (``secrets``, ``labels``, ``add_default_labels``).
    """

    def __init__(
        self,
        bucket: str,
        key: str | None = None,
        stored_as_script: bool = False,
        local_script_path: str | None = None,
        client_options: dict | None = None,
        upload_options: dict | None = None,
        **kwargs: Any,
    ) -> None:
        self.bucket = bucket
        self.key = key
        self.upload_options = upload_options
        self.local_script_path = local_script_path or prefect.context.get("local_script_path")
        self.client_options = client_options
        result = optional_result("S3Result", bucket=bucket, boto3_kwargs=client_options)
        super().__init__(result=result, stored_as_script=stored_as_script, **kwargs)

    @property
    def _boto3_client(self) -> Any:
        from prefect.utilities import aws

        return aws.get_boto_client(resource="s3", credentials=None, **(self.client_options or {}))

    def get_flow(self, flow_name: str) -> Flow:
        """Download the flow's object and load it.

        Raises:
            ValueError: if the flow is not in this storage.
            botocore.exceptions.ClientError: if the download fails (missing object, access).
        """
        if flow_name not in self.flows:
            raise ValueError(f"Flow {flow_name!r} is not contained in this Storage")
        key = self.flows[flow_name]
        self.logger.info("Downloading flow from s3://%s/%s", self.bucket, key)
        stream = io.BytesIO()
        try:
            self._boto3_client.download_fileobj(Bucket=self.bucket, Key=key, Fileobj=stream)
        except Exception as exc:
            self.logger.error("Error downloading Flow from S3: %s", exc)
            raise
        content = stream.getvalue()
        if self.stored_as_script:
            return extract_flow_from_file(file_contents=content, flow_name=flow_name)
        return flow_from_bytes_pickle(content)

    def add_flow(self, flow: Flow) -> str:
        """Record the flow and the key it will be uploaded to; return the key.

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
            botocore.exceptions.ClientError: if an upload fails.
        """
        self.run_basic_healthchecks()
        if self.stored_as_script:
            if self.local_script_path:
                client = self._boto3_client
                for flow_name in self._flows:
                    key = self.flows[flow_name]
                    self.logger.info(
                        "Uploading script %s to %s in %s", self.local_script_path, key, self.bucket
                    )
                    client.upload_file(
                        self.local_script_path, self.bucket, key, ExtraArgs=self.upload_options
                    )
            elif not self.key:
                raise ValueError(
                    "A `key` must be provided to show where the flow `.py` file is stored in S3."
                )
            return self

        if not self._flows:
            return self
        client = self._boto3_client
        for flow_name, flow in self._flows.items():
            key = self.flows[flow_name]
            self.logger.info("Uploading %s to %s", key, self.bucket)
            try:
                client.upload_fileobj(
                    io.BytesIO(flow_to_bytes_pickle(flow)),
                    Bucket=self.bucket,
                    Key=key,
                    ExtraArgs=self.upload_options,
                )
            except Exception as exc:
                self.logger.error("Error uploading Flow to S3: %s", exc)
                raise
        return self
