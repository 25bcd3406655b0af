"""The deprecated 1.x home of the artifact functions; use `prefect.backend` instead.

Each function warns, then calls its `prefect.backend.artifacts` counterpart.
"""

from __future__ import annotations

import warnings
from typing import Optional

from prefect.backend import artifacts as _artifacts

__all__ = ["create_link", "create_markdown", "delete_artifact", "update_link", "update_markdown"]


def _deprecated(old: str, new: str) -> None:
    warnings.warn(
        f"`prefect.artifacts.{old}` is deprecated; use `prefect.backend.{new}` instead.",
        stacklevel=3,
    )


def create_link(link: str) -> Optional[str]:
    """Deprecated: `prefect.backend.create_link_artifact`.

    Args:
        link: the URL.

    Returns:
        the artifact's id, or ``None`` when not running with a backend.
    """
    _deprecated("create_link", "create_link_artifact")
    return _artifacts.create_link_artifact(link)


def update_link(task_run_artifact_id: str, link: str) -> None:
    """Deprecated: `prefect.backend.update_link_artifact`.

    Args:
        task_run_artifact_id: the artifact's id.
        link: the new link.
    """
    _deprecated("update_link", "update_link_artifact")
    _artifacts.update_link_artifact(task_run_artifact_id, link)


def create_markdown(markdown: str) -> Optional[str]:
    """Deprecated: `prefect.backend.create_markdown_artifact`.

    Args:
        markdown: the document.

    Returns:
        the artifact's id, or ``None`` when not running with a backend.
    """
    _deprecated("create_markdown", "create_markdown_artifact")
    return _artifacts.create_markdown_artifact(markdown)


def update_markdown(task_run_artifact_id: str, markdown: str) -> None:
    """Deprecated: `prefect.backend.update_markdown_artifact`.

    Args:
        task_run_artifact_id: the artifact's id.
        markdown: the new document.
    """
    _deprecated("update_markdown", "update_markdown_artifact")
    _artifacts.update_markdown_artifact(task_run_artifact_id, markdown)


def delete_artifact(task_run_artifact_id: str) -> None:
    """Deprecated: `prefect.backend.delete_artifact`.

    Args:
        task_run_artifact_id: the artifact's id.
    """
    _deprecated("delete_artifact", "delete_artifact")
    _artifacts.delete_artifact(task_run_artifact_id)
