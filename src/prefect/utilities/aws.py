"""boto3 clients for the AWS pieces of Prefect (S3 results and storage, the AWS task library).

``get_boto_client`` is the one place that turns Prefect credentials into a boto3 client:
explicit ``credentials``, else the ``AWS_CREDENTIALS`` secret in ``prefect.context.secrets``
(``{"ACCESS_KEY": ..., "SECRET_ACCESS_KEY": ..., "SESSION_TOKEN": ...}``), else boto3's own
chain (environment, profile, instance role). Clients are cached per thread and per set of
arguments, because building one costs milliseconds and tasks ask for one per call.
"""

from __future__ import annotations

import threading
from typing import Any

import prefect

__all__ = ["get_boto_client"]

_CACHE = threading.local()
_CREDENTIAL_KEYS = {
    "ACCESS_KEY": "aws_access_key_id",
    "SECRET_ACCESS_KEY": "aws_secret_access_key",
    "SESSION_TOKEN": "aws_session_token",
}


def _import_boto3() -> Any:
    try:
        import boto3
    except ImportError as exc:  # pragma: no cover - exercised without the extra
        raise ImportError(
            'boto3 is not installed; AWS results, storage and tasks need it: pip install "prefect[aws]"'
        ) from exc
    return boto3


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value


def get_boto_client(
    resource: str,
    credentials: dict | None = None,
    use_session: bool = False,
    **kwargs: Any,
) -> Any:
    """A boto3 client for ``resource`` (``"s3"``, ``"lambda"``, ...).

    Args:
        - resource: the AWS service name
        - credentials: ``ACCESS_KEY``/``SECRET_ACCESS_KEY``/``SESSION_TOKEN``; defaults to the
          ``AWS_CREDENTIALS`` secret in context, then boto3's default chain
        - use_session: build the client from a new ``boto3.session.Session`` (thread-safe use)
        - **kwargs: passed to ``boto3.client`` (``region_name``, ``endpoint_url``, ``config``, ...);
          ``aws_access_key_id`` and friends given here win over ``credentials``
    """
    boto3 = _import_boto3()
    if credentials is None:
        credentials = (prefect.context.get("secrets") or {}).get("AWS_CREDENTIALS") or {}
    if not isinstance(credentials, dict):
        raise TypeError(
            f"AWS credentials must be a dict with ACCESS_KEY and SECRET_ACCESS_KEY, got {type(credentials).__name__}"
        )
    client_kwargs: dict[str, Any] = {
        boto_name: credentials[key]
        for key, boto_name in _CREDENTIAL_KEYS.items()
        if credentials.get(key)
    }
    client_kwargs.update(kwargs)
    profile_name = client_kwargs.pop("profile_name", None)

    cache: dict = _CACHE.__dict__.setdefault("clients", {})
    cache_key: tuple | None = (resource, use_session, profile_name, _freeze(client_kwargs))
    try:
        client = cache.get(cache_key)
    except TypeError:  # unhashable argument (e.g. a botocore Config): no caching
        cache_key, client = None, None
    if client is not None:
        return client

    if use_session or profile_name:
        session = boto3.session.Session(profile_name=profile_name)
        client = session.client(resource, **client_kwargs)
    else:
        client = boto3.client(resource, **client_kwargs)
    if cache_key is not None:
        cache[cache_key] = client
    return client
