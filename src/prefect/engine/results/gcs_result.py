"""`GCSResult`: task outputs stored as blobs in a Google Cloud Storage bucket.

google-cloud-storage is imported only when the bucket is first needed, so the class can be
built and deserialized where the SDK is not installed.
"""

from __future__ import annotations

import json
from typing import Any

from prefect.engine.result.base import Result, _format_location

__all__ = ["GCSResult"]

_MISSING_SDK = (
    'GCSResult needs google-cloud-storage, which is not installed: pip install "prefect[google]"'
)


def _storage_client() -> Any:
    """A `google.cloud.storage.Client`.

    Service-account credentials come from the `GCP_CREDENTIALS` secret in `prefect.context`
    (the key file's JSON, as a dict or text) when set; otherwise the SDK's default
    credentials are used (environment, `gcloud` login, metadata server).
    """
    import prefect

    try:
        from google.cloud import storage
    except ImportError as exc:
        raise ImportError(_MISSING_SDK) from exc
    info = (prefect.context.get("secrets") or {}).get("GCP_CREDENTIALS")
    if not info:
        return storage.Client()
    if isinstance(info, str | bytes):
        info = json.loads(info)
    try:
        from google.oauth2 import service_account
    except ImportError as exc:
        raise ImportError(_MISSING_SDK) from exc
    credentials = service_account.Credentials.from_service_account_info(info)
    return storage.Client(project=credentials.project_id, credentials=credentials)


class GCSResult(Result):
    """A result stored as a blob in a Google Cloud Storage bucket.

    The blob's name is the result's `location`; without one, `write` uses a fresh
    `YYYY/M/D/<uuid>.prefect_result` name.

    Args:
        bucket: the name of the bucket.
        **kwargs: passed to `Result` (`value`, `location`, `serializer`).
    """

    def __init__(self, bucket: str | None = None, **kwargs: Any) -> None:
        self.bucket = bucket
        super().__init__(**kwargs)

    @property
    def gcs_bucket(self) -> Any:
        """The `google.cloud.storage.bucket.Bucket`, made on first use.

        It can be set (for instance to a bucket built from a client of your own).

        Raises:
            ImportError: if google-cloud-storage is not installed.
            ValueError: if no bucket name was given.
        """
        held = self.__dict__.get("_gcs_bucket")
        if held is None:
            if not self.bucket:
                raise ValueError(
                    "GCSResult has no bucket to store results in: pass `bucket=` the name "
                    "of a Google Cloud Storage bucket."
                )
            held = self._gcs_bucket = _storage_client().bucket(self.bucket)
        return held

    @gcs_bucket.setter
    def gcs_bucket(self, val: Any) -> None:
        self._gcs_bucket = val

    def __getstate__(self) -> dict[str, Any]:
        # The bucket holds a client (credentials, HTTP session): it is made again where the
        # copied or unpickled result is used.
        state = self.__dict__.copy()
        state.pop("_gcs_bucket", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def write(self, value_: Any, **kwargs: Any) -> Result:
        """Serialize a value and upload it as a blob.

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
        self.gcs_bucket.blob(new.location).upload_from_string(payload)
        self.logger.debug("Finished uploading result to %s.", new.location)
        return new

    def read(self, location: str) -> Result:
        """Download the blob at `location` and deserialize it into a new result.

        Args:
            location: the blob's name.

        Returns:
            A copy of this result holding the value and `location`.

        Raises:
            google.cloud.exceptions.NotFound: if there is no such blob.
        """
        new = self.copy()
        new.location = location
        self.logger.debug("Starting to download result from %s...", location)
        blob = self.gcs_bucket.blob(location)
        try:
            # `download_as_bytes` replaced `download_as_string` in google-cloud-storage 1.32.
            download = getattr(blob, "download_as_bytes", None) or blob.download_as_string
            payload = download()
        except Exception as exc:
            self.logger.error(
                "Could not read the result at gs://%s/%s: %r", self.bucket, location, exc
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
            Whether the blob exists.
        """
        return bool(self.gcs_bucket.blob(_format_location(location, kwargs)).exists())
