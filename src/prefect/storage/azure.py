"""`Azure` storage: flows pickled (or their scripts) in Azure Blob Storage (the `azure` extra)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from prefect.storage._util import (
    default_flow_key,
    import_sdk,
    optional_result,
    secret_or_fallback,
)
from prefect.storage.base import Storage
from prefect.utilities.storage import (
    extract_flow_from_file,
    flow_from_bytes_pickle,
    flow_to_bytes_pickle,
)

if TYPE_CHECKING:
    from prefect.core.flow import Flow

__all__ = ["Azure"]


class Azure(Storage):
    """Keep flows in an Azure Blob Storage container.

    `add_flow` picks the blob name (``blob_name`` or ``<slugified flow name>/<slugified
    timestamp>``); `build` uploads the pickled flow. A script (``stored_as_script``) must
    already be at ``blob_name``.

    Args:
        container: the container.
        connection_string_secret: the Prefect secret holding the storage account's
            connection string; default the ``AZURE_STORAGE_CONNECTION_STRING`` local secret or
            environment variable.
        blob_name: the blob of the flow; default a fresh name per flow.
        overwrite: replace an existing blob on upload.
        stored_as_script: whether the blob is the flow's ``.py`` script.
        **kwargs: passed to `Storage` (``secrets``, ``labels``, ``add_default_labels``).
    """

    def __init__(
        self,
        container: str,
        connection_string_secret: str | None = None,
        blob_name: str | None = None,
        overwrite: bool = False,
        stored_as_script: bool = False,
        **kwargs: Any,
    ) -> None:
        self.container = container
        self.connection_string_secret = connection_string_secret
        self.blob_name = blob_name
        self.overwrite = overwrite
        result = optional_result(
            "AzureResult", container=container, connection_string_secret=connection_string_secret
        )
        super().__init__(result=result, stored_as_script=stored_as_script, **kwargs)

    @property
    def connection_string(self) -> Any:
        """The connection string: the named secret, else ``AZURE_STORAGE_CONNECTION_STRING``."""
        return secret_or_fallback(self.connection_string_secret, "AZURE_STORAGE_CONNECTION_STRING")

    @property
    def _azure_block_blob_service(self) -> Any:
        blob = import_sdk("azure.storage.blob", "azure", "Azure")
        return blob.BlobServiceClient.from_connection_string(conn_str=self.connection_string)

    def get_flow(self, flow_name: str) -> Flow:
        """Download the flow's blob and load it.

        Raises:
            ValueError: if the flow is not in this storage.
        """
        if flow_name not in self.flows:
            raise ValueError(f"Flow {flow_name!r} is not contained in this Storage")
        blob_name = self.flows[flow_name]
        client = self._azure_block_blob_service.get_blob_client(
            container=self.container, blob=blob_name
        )
        self.logger.info("Downloading %s from %s", blob_name, self.container)
        content = client.download_blob().content_as_bytes()
        if self.stored_as_script:
            return extract_flow_from_file(file_contents=content, flow_name=flow_name)
        return flow_from_bytes_pickle(content)

    def add_flow(self, flow: Flow) -> str:
        """Record the flow and its blob name; return the name.

        Raises:
            ValueError: if a flow of the same name is already here.
        """
        self._check_new_flow(flow)
        blob_name = self.blob_name or default_flow_key(flow)
        self.flows[flow.name] = blob_name
        self._flows[flow.name] = flow
        return blob_name

    def build(self) -> Storage:
        """Upload every added flow to the container.

        Raises:
            ValueError: if ``stored_as_script`` is set without ``blob_name``.
        """
        self.run_basic_healthchecks()
        if self.stored_as_script:
            if not self.blob_name:
                raise ValueError(
                    "A `blob_name` must be provided to show where the flow `.py` file is "
                    "stored in Azure."
                )
            return self
        for flow_name, flow in self._flows.items():
            blob_name = self.flows[flow_name]
            client = self._azure_block_blob_service.get_blob_client(
                container=self.container, blob=blob_name
            )
            self.logger.info("Uploading %s to %s", blob_name, self.container)
            client.upload_blob(flow_to_bytes_pickle(flow), overwrite=self.overwrite)
        return self
