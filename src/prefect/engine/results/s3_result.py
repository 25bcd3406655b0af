"""`S3Result`: task outputs stored as objects in an Amazon S3 (or S3-compatible) bucket.

boto3 is imported only when a client is first needed, through
`prefect.utilities.aws.get_boto_client`, so the class can be built and deserialized (for
instance by a backend) where boto3 is not installed.
"""

from __future__ import annotations

import io
import threading
from typing import Any

from prefect.engine.result.base import Result, _format_location

__all__ = ["S3Result"]

# Error codes S3 (and S3-compatible stores) answer with when a key does not exist: `get_object`
# says `NoSuchKey`, HEAD requests (used by `download_fileobj`) carry only the HTTP status.
_MISSING_KEY_CODES = frozenset({"NoSuchKey", "404", "NotFound"})


class S3Result(Result):
    """A result stored as an object in an S3 bucket.

    The object's key is the result's `location`; without one, `write` uses a fresh
    `YYYY/M/D/<uuid>.prefect_result` key. Credentials come from the `AWS_CREDENTIALS` secret
    in `prefect.context` when set, else from boto3's usual chain (environment, profile,
    instance role).

    Args:
        bucket: the name of the bucket.
        boto3_kwargs: keyword arguments for the boto3 S3 client (`region_name`,
            `endpoint_url`, `config`, ...).
        upload_options: extra arguments for each upload, passed to boto3 as `ExtraArgs`
            (for example `{"ACL": "bucket-owner-full-control"}` or server-side encryption
            settings).
        **kwargs: passed to `Result` (`value`, `location`, `serializer`).
    """

    def __init__(
        self,
        bucket: str,
        boto3_kwargs: dict[str, Any] | None = None,
        upload_options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self.bucket = bucket
        self.boto3_kwargs = boto3_kwargs or {}
        self.upload_options = upload_options or {}
        super().__init__(**kwargs)

    @property
    def client(self) -> Any:
        """The boto3 S3 client (`boto3.client("s3")`), made on first use in each thread.

        boto3 clients should not be shared between threads, so a result used from a new
        thread (a Dask or thread-pool worker) gets its own client.
        """
        held = self.__dict__.get("_client")
        thread = threading.get_ident()
        if held is not None and (held[0] == thread or held[0] is None):
            return held[1]
        from prefect.utilities import aws

        client = aws.get_boto_client("s3", **self.boto3_kwargs)
        self._client: tuple[int | None, Any] = (thread, client)
        return client

    @client.setter
    def client(self, val: Any) -> None:
        # A client set by hand is used from every thread: its owner chose it.
        self._client = (None, val)

    def __getstate__(self) -> dict[str, Any]:
        # Clients hold connections and locks: they neither pickle nor copy. The copy or the
        # unpickled result makes its own client when it first needs one.
        state = self.__dict__.copy()
        state.pop("_client", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def write(self, value_: Any, **kwargs: Any) -> Result:
        """Serialize a value and upload it to the bucket.

        Args:
            value_: the value to store.
            **kwargs: values for the location template (context and task inputs).

        Returns:
            A copy of this result holding `value_`, whose `location` is the object's key.

        Raises:
            KeyError: if the location template names a key missing from `kwargs`.
            botocore.exceptions.ClientError: if S3 refuses the upload.
        """
        new = self.format(**kwargs)
        new.value = value_
        assert new.location is not None  # `format` always sets one
        self.logger.debug("Starting to upload result to %s...", new.location)
        payload = new.serializer.serialize(new.value)
        self.client.upload_fileobj(
            io.BytesIO(payload),
            Bucket=self.bucket,
            Key=new.location,
            ExtraArgs=self.upload_options,
        )
        self.logger.debug("Finished uploading result to %s.", new.location)
        return new

    def read(self, location: str) -> Result:
        """Download the object at `location` and deserialize it into a new result.

        Args:
            location: the object's key.

        Returns:
            A copy of this result holding the value and `location`.

        Raises:
            botocore.exceptions.ClientError: if the object does not exist (code `404`) or
                cannot be read.
        """
        new = self.copy()
        new.location = location
        self.logger.debug("Starting to download result from %s...", location)
        stream = io.BytesIO()
        try:
            self.client.download_fileobj(Bucket=self.bucket, Key=location, Fileobj=stream)
        except Exception as exc:
            self.logger.error(
                "Could not read the result at s3://%s/%s: %r", self.bucket, location, exc
            )
            raise
        payload = stream.getvalue()
        # An empty object holds no serialized value (what an interrupted writer leaves).
        new.value = new.serializer.deserialize(payload) if payload else None
        self.logger.debug("Finished downloading result from %s.", location)
        return new

    def exists(self, location: str, **kwargs: Any) -> bool:
        """Whether an object is stored at the formatted `location`.

        Args:
            location: the key template.
            **kwargs: values for the template.

        Returns:
            True when the object exists, False when S3 says there is no such key.

        Raises:
            botocore.exceptions.ClientError: for any other error (missing bucket, access
                denied, ...): a target check must not quietly re-run a task because the
                store could not be asked.
        """
        from botocore.exceptions import ClientError

        key = _format_location(location, kwargs)
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING_KEY_CODES:
                return False
            raise
        body = response.get("Body") if isinstance(response, dict) else None
        if body is not None:
            # Only the answer matters: release the connection without reading the data.
            body.close()
        return True
