"""Where flows are kept for orchestrated runs: `Local` files, cloud buckets, git hosts, images.

`get_default_storage_class` reads ``config.flows.defaults.storage.default_class`` each time it
is called, so users and tests can change the default storage at run time.
"""

from __future__ import annotations

import warnings

import prefect
from prefect import config
from prefect.storage.azure import Azure
from prefect.storage.base import Storage
from prefect.storage.bitbucket import Bitbucket
from prefect.storage.codecommit import CodeCommit
from prefect.storage.docker import Docker
from prefect.storage.gcs import GCS
from prefect.storage.git import Git
from prefect.storage.github import GitHub
from prefect.storage.gitlab import GitLab
from prefect.storage.local import Local
from prefect.storage.module import Module
from prefect.storage.s3 import S3
from prefect.storage.webhook import Webhook

__all__ = [
    "Azure",
    "Bitbucket",
    "CodeCommit",
    "Docker",
    "GCS",
    "Git",
    "GitHub",
    "GitLab",
    "Local",
    "Module",
    "S3",
    "Storage",
    "Webhook",
]


def get_default_storage_class() -> type:
    """The storage class flows get when none is set (``Local`` unless configured).

    Returns:
        the class named by ``config.flows.defaults.storage.default_class`` (a dotted path,
        or a class set directly); `Local`, with a warning, if the path cannot be imported.
    """
    from prefect.utilities.serialization import from_qualified_name

    value = prefect.config.flows.defaults.storage.default_class
    if not isinstance(value, str):
        return value  # type: ignore[no-any-return]
    try:
        return from_qualified_name(value)  # type: ignore[no-any-return]
    except ValueError:
        warnings.warn(
            f"Could not import {value}; using prefect.storage.Local instead.", stacklevel=2
        )
        return Local
