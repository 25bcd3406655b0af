"""Artifacts: links and markdown attached to the task run that creates them, shown in the UI.

They only exist in a run orchestrated by a backend (``prefect.context.running_with_backend``,
with the task run's id in ``prefect.context.task_run_id``). Anywhere else, e.g. under
`Flow.run`, the functions do nothing and return ``None``, so flows run the same locally.
"""

from __future__ import annotations

from typing import Any, Optional

from prefect.utilities.logging import get_logger

__all__ = [
    "create_link_artifact",
    "create_markdown_artifact",
    "delete_artifact",
    "update_link_artifact",
    "update_markdown_artifact",
]

logger = get_logger("backend.artifacts")


def _running_with_backend() -> bool:
    import prefect

    return bool(prefect.context.get("running_with_backend"))


def _client() -> Any:
    import prefect

    return prefect.Client()


def _create(kind: str, data: dict) -> Optional[str]:
    import prefect

    if not _running_with_backend():
        return None
    task_run_id = prefect.context.get("task_run_id")
    if not task_run_id:
        logger.warning(
            "A %s artifact can only be created inside a task run; no task run is active, so "
            "none was created.",
            kind,
        )
        return None
    return str(_client().create_task_run_artifact(task_run_id=task_run_id, kind=kind, data=data))


def create_link_artifact(link: str) -> Optional[str]:
    """Attach a link to the current task run.

    Args:
        link: the URL (or a path relative to the UI).

    Returns:
        the artifact's id, or ``None`` when not running with a backend.
    """
    return _create("link", {"link": link})


def update_link_artifact(task_run_artifact_id: str, link: str) -> None:
    """Point an existing link artifact at another link (nothing happens outside a backend run).

    Args:
        task_run_artifact_id: the artifact's id.
        link: the new link.
    """
    if _running_with_backend():
        _client().update_task_run_artifact(
            task_run_artifact_id=task_run_artifact_id, data={"link": link}
        )


def create_markdown_artifact(markdown: str) -> Optional[str]:
    """Attach a markdown document to the current task run.

    Args:
        markdown: the document.

    Returns:
        the artifact's id, or ``None`` when not running with a backend.
    """
    return _create("markdown", {"markdown": markdown})


def update_markdown_artifact(task_run_artifact_id: str, markdown: str) -> None:
    """Replace the document of a markdown artifact (nothing happens outside a backend run).

    Args:
        task_run_artifact_id: the artifact's id.
        markdown: the new document.
    """
    if _running_with_backend():
        _client().update_task_run_artifact(
            task_run_artifact_id=task_run_artifact_id, data={"markdown": markdown}
        )


def delete_artifact(task_run_artifact_id: str) -> None:
    """Delete an artifact (nothing happens outside a backend run).

    Args:
        task_run_artifact_id: the artifact's id.
    """
    if _running_with_backend():
        _client().delete_task_run_artifact(task_run_artifact_id=task_run_artifact_id)
