"""`shipping_run_logs`: a backend run's log records reach the server as `write_run_logs`
entries (protocol §5.9), in batches while the run goes on and all of them by its end."""

from __future__ import annotations

import datetime
import logging
import time
from collections.abc import Iterator

import pytest

import prefect
from prefect.client import Client
from prefect.utilities._cloud_logs import flush_run_logs, shipping_run_logs
from prefect.utilities.graphql import EnumValue, with_args
from prefect.utilities.logging import LOG_MANAGER, CloudHandler

pytestmark = pytest.mark.timeout(120)

logger = logging.getLogger("prefect.cloud-logs-test")


@pytest.fixture
def flow_run_id(prefect_server, tmp_path) -> Iterator[str]:
    from prefect import Flow, task
    from prefect.storage import Local

    @task
    def noop() -> None:
        pass

    with Flow("logging", storage=Local(directory=str(tmp_path / "flows"))) as flow:
        noop()
    client = Client()
    client.create_project("logs")
    yield client.create_flow_run(flow_id=flow.register(project_name="logs", no_url=True))
    flush_run_logs()


def stored_logs(flow_run_id: str) -> list:
    query = {
        "query": {
            with_args("flow_run_by_pk", {"id": flow_run_id}): {
                with_args("logs", {"order_by": {"timestamp": EnumValue("asc")}}): {
                    "name": True,
                    "level": True,
                    "message": True,
                    "timestamp": True,
                    "task_run_id": True,
                }
            }
        }
    }
    return list(Client().graphql(query).data.flow_run_by_pk.logs)


def test_records_of_a_backend_run_are_stored_by_the_end_of_the_block(flow_run_id, monkeypatch):
    # Records below `logging.level` (INFO) reach the handler but are not sent.
    monkeypatch.setattr(logger, "level", logging.DEBUG)
    before = datetime.datetime.now(datetime.timezone.utc)
    with prefect.context(flow_run_id=flow_run_id, running_with_backend=True):
        with shipping_run_logs():
            logger.info("hello %s", "server")
            logger.warning("careful")
            logger.debug("not at the configured level")
    logs = stored_logs(flow_run_id)
    assert [(log.name, log.level, log.message) for log in logs] == [
        ("prefect.cloud-logs-test", "INFO", "hello server"),
        ("prefect.cloud-logs-test", "WARNING", "careful"),
    ]
    assert all(log.task_run_id is None for log in logs)
    stamp = datetime.datetime.fromisoformat(logs[0].timestamp)
    assert (
        before - datetime.timedelta(seconds=1)
        <= stamp
        <= datetime.datetime.now(datetime.timezone.utc)
    )


def test_records_outside_a_backend_run_are_not_sent(flow_run_id):
    with prefect.context(flow_run_id=flow_run_id):
        with shipping_run_logs():
            logger.info("local only")
    assert stored_logs(flow_run_id) == []


def test_send_flow_run_logs_off_sends_nothing(flow_run_id, monkeypatch):
    monkeypatch.setitem(prefect.config.cloud, "send_flow_run_logs", False)
    with prefect.context(flow_run_id=flow_run_id, running_with_backend=True):
        with shipping_run_logs():
            logger.info("kept here")
    flush_run_logs()
    assert stored_logs(flow_run_id) == []


def test_a_missing_cloud_handler_is_attached_for_the_block(flow_run_id, monkeypatch):
    prefect_logger = logging.getLogger("prefect")
    others = [h for h in prefect_logger.handlers if not isinstance(h, CloudHandler)]
    monkeypatch.setattr(prefect_logger, "handlers", others)
    with prefect.context(flow_run_id=flow_run_id, running_with_backend=True):
        with shipping_run_logs():
            assert any(isinstance(h, CloudHandler) for h in prefect_logger.handlers)
            logger.info("through the added handler")
    assert not any(isinstance(h, CloudHandler) for h in prefect_logger.handlers)
    assert [log.message for log in stored_logs(flow_run_id)] == ["through the added handler"]


def test_logs_are_sent_in_batches_while_the_run_goes_on(flow_run_id, monkeypatch):
    monkeypatch.setitem(prefect.config.cloud, "logging_heartbeat", 0.1)
    # A shipping thread of an earlier test may be waiting out a longer interval.
    LOG_MANAGER.stop()
    with prefect.context(flow_run_id=flow_run_id, running_with_backend=True):
        with shipping_run_logs():
            logger.info("early")
            deadline = time.monotonic() + 60
            while not stored_logs(flow_run_id) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert [log.message for log in stored_logs(flow_run_id)] == ["early"]


def test_the_log_manager_follows_the_configured_backend(flow_run_id):
    LOG_MANAGER.client = Client(api_server="http://127.0.0.1:9")
    with prefect.context(flow_run_id=flow_run_id, running_with_backend=True):
        with shipping_run_logs():
            logger.info("to the right server")
    assert LOG_MANAGER.client.api_server == prefect.config.cloud.api
    assert [log.message for log in stored_logs(flow_run_id)] == ["to the right server"]
