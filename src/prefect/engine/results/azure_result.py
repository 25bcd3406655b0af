"""`AzureResult`: task outputs stored as blobs in an Azure Blob Storage container.

azure-storage-blob is imported only when the service client is first needed, so the class
can be built and deserialized where the SDK is not installed.
"""

from __future__ import annotations

import os
from typing import Any

from prefect.engine.result.base import Result, _format_location

__all__ = ["AzureResult"]

_CONNECTION_STRING_VARIABLE = "AZURE_STORAGE_CONNECTION_STRING"
_MISSING_SDK = (
    'AzureResult needs azure-storage-blob, which is not installed: pip install "prefect[azure]"'
)


def _secret_value(name: str) -> Any:
    """The value of the Prefect secret `name` (local or from the backend, as configured)."""
    from prefect.client import Secret

    return Secret(name).get()


class AzureResult(Result):
    """A result stored as a blob in an Azure Blob Storage container.

    The blob's name is the result's `location`; without one, `write` uses a fresh
    `YYYY/M/D/<uuid>.prefect_result` name.

    The connection string is looked up when the service is first needed, in this order:
    `connection_string`; the Prefect secret named `connection_string_secret`; the
    `AZURE_STORAGE_CONNECTION_STRING` environment variable; a Prefect secret named
    `AZURE_STORAGE_CONNECTION_STRING` in `prefect.context.secrets`.

    Args:
        container: the name of the container.
        connection_string: an Azure Storage connection string.
        connection_string_secret: the name of a Prefect secret holding the connection
            string.
        **kwargs: passed to `Result` (`value`, `location`, `serializer`).
    """

    def __init__(
        self,
        container: str,
        connection_string: str | None = None,
        connection_string_secret: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.container = container
        self.connection_string = connection_string
        self.connection_string_secret = connection_string_secret
        super().__init__(**kwargs)

    def _resolve_connection_string(self) -> str:
        import prefect

        if self.connection_string:
            return self.connection_string
        if self.connection_string_secret:
            return str(_secret_value(self.connection_string_secret))
        from_environment = os.environ.get(_CONNECTION_STRING_VARIABLE)
        if from_environment:
            return from_environment
        from_secrets = (prefect.context.get("secrets") or {}).get(_CONNECTION_STRING_VARIABLE)
        if from_secrets:
            return str(from_secrets)
        raise ValueError(
            "AzureResult has no connection string: pass `connection_string=` or "
            "`connection_string_secret=` (the name of a Prefect secret holding it), or set "
            f"the {_CONNECTION_STRING_VARIABLE} environment variable."
        )

    def initialize_service(self) -> None:
        """Build the `BlobServiceClient` from the connection string and set `service`.

        Raises:
            ImportError: if azure-storage-blob is not installed.
            ValueError: if no connection string can be found.
        """
        try:
            import azure.storage.blob
        except ImportError as exc:
            raise ImportError(_MISSING_SDK) from exc
        connection_string = self._resolve_connection_string()
        self.service = azure.storage.blob.BlobServiceClient.from_connection_string(
            conn_str=connection_string
        )

    @property
    def service(self) -> Any:
        """The `azure.storage.blob.BlobServiceClient`, made on first use.

        It can be set (for instance to a client built with other credentials).
        """
        held = self.__dict__.get("_service")
        if held is None:
            self.initialize_service()
            held = self._service
        return held

    @service.setter
    def service(self, val: Any) -> None:
        self._service = val

    def __getstate__(self) -> dict[str, Any]:
        # The service client holds credentials and an HTTP pipeline: it is made again where
        # the copied or unpickled result is used.
        state = self.__dict__.copy()
        state.pop("_service", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def _blob_client(self, name: str) -> Any:
        return self.service.get_blob_client(container=self.container, blob=name)

    def write(self, value_: Any, **kwargs: Any) -> Result:
        """Serialize a value and upload it as a blob (replacing any blob of that name).

        Args:
            value_: the value to store.
            **kwargs: values for the location template (context and task inputs).

        Returns:
            A copy of this result holding `value_`, whose `location` is the blob's name.

        Raises:
            KeyError: if the location template names a key missing from `kwargs`.
        """
        new = self.format(**kwargs)
        new.value = value_
        assert new.location is not None  # `format` always sets one
        self.logger.debug("Starting to upload result to %s...", new.location)
        payload = new.serializer.serialize(new.value)
        self._blob_client(new.location).upload_blob(payload, overwrite=True)
        self.logger.debug("Finished uploading result to %s.", new.location)
        return new

    def read(self, location: str) -> Result:
        """Download the blob at `location` and deserialize it into a new result.

        Args:
            location: the blob's name.

        Returns:
            A copy of this result holding the value and `location`.

        Raises:
            azure.core.exceptions.ResourceNotFoundError: if there is no such blob.
        """
        new = self.copy()
        new.location = location
        self.logger.debug("Starting to download result from %s...", location)
        try:
            payload = self._blob_client(location).download_blob().readall()
        except Exception as exc:
            self.logger.error(
                "Could not read the result at %s/%s: %r", self.container, location, exc
            )
            raise
        new.value = new.serializer.deserialize(payload)
        self.logger.debug("Finished downloading result from %s.", location)
        return new

    def exists(self, location: str, **kwargs: Any) -> bool:
        """Whether a blob is stored at the formatted `location`.

        Args:
            location: the blob name template.
            **kwargs: values for the template.

        Returns:
            True when the blob exists, False when Azure says there is no such blob (or
            container).

        Raises:
            ImportError: if the Azure SDK is not installed.
            azure.core.exceptions.HttpResponseError: for any other error.
        """
        try:
            from azure.core.exceptions import ResourceNotFoundError
        except ImportError as exc:
            raise ImportError(_MISSING_SDK) from exc
        blob = self._blob_client(_format_location(location, kwargs))
        try:
            blob.get_blob_properties()
        except ResourceNotFoundError:
            return False
        return True
