"""Shipping a backend flow run's logs: the glue between a run and `LOG_MANAGER`.

`prefect.utilities.logging` holds the 1.x machinery: `CloudHandler` on the ``"prefect"``
logger turns each record (at or above ``logging.level``, while
``prefect.context.running_with_backend`` is set and ``cloud.send_flow_run_logs`` is on) into a
``write_run_logs`` entry (`server-protocol.md` §5.9), and `LOG_MANAGER` sends them in batches
every ``cloud.logging_heartbeat`` seconds and at process exit.

`shipping_run_logs` wraps one flow run (`CloudFlowRunner.run` enters it): it makes sure the
``"prefect"`` logger has a `CloudHandler` (users may have re-configured logging), points
`LOG_MANAGER` at the backend of the run (the config may have changed since it was created,
e.g. between runs of one process), and sends what is pending when the run ends, so a finished
run's logs are stored before its process moves on.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import prefect

__all__ = ["flush_run_logs", "shipping_run_logs"]


def _cloud_setting(key: str, default: Any) -> Any:
    config = prefect.context.get("config") or prefect.config
    return (config.get("cloud") or {}).get(key, default)


def _point_log_manager_at_backend() -> None:
    from prefect.client import Client
    from prefect.utilities.logging import LOG_MANAGER

    current = Client()
    client = LOG_MANAGER.client
    if client is None or client.api_server != current.api_server:
        LOG_MANAGER.client = current


def flush_run_logs() -> None:
    """Send the log entries waiting in `LOG_MANAGER` to the configured backend now (a failure
    is warned about and the entries stay pending for the next flush)."""
    from prefect.utilities.logging import LOG_MANAGER

    if LOG_MANAGER.client is None and not LOG_MANAGER.pending_logs and LOG_MANAGER.queue.empty():
        return
    _point_log_manager_at_backend()
    LOG_MANAGER.flush()


@contextmanager
def shipping_run_logs() -> Iterator[None]:
    """Ship the logs of the run inside the block to the backend, and flush them at its end.

    Nothing changes when ``cloud.send_flow_run_logs`` is off.

    Yields:
        None
    """
    if not _cloud_setting("send_flow_run_logs", True):
        yield
        return
    from prefect.utilities.logging import CloudHandler

    logger = logging.getLogger("prefect")
    added: CloudHandler | None = None
    if not any(isinstance(handler, CloudHandler) for handler in logger.handlers):
        added = CloudHandler()
        logger.addHandler(added)
    _point_log_manager_at_backend()
    try:
        yield
    finally:
        if added is not None:
            logger.removeHandler(added)
        flush_run_logs()
