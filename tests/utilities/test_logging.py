from __future__ import annotations

import atexit
import contextlib
import datetime
import json
import logging
import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import prefect
from prefect.exceptions import ClientError
from prefect.utilities import logging as prefect_logging
from prefect.utilities._log_records import PrefectStreamHandler
from prefect.utilities.configuration import set_temporary_config
from prefect.utilities.logging import (
    LOG_OVERHEAD,
    MAX_LOG_SIZE,
    CloudHandler,
    LogManager,
    RedirectToLog,
    configure_extra_loggers,
    configure_logging,
    create_diagnostic_logger,
    get_logger,
    getlogsize,
    temporary_logger_config,
)


class ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class FakeClient:
    def __init__(self, fail_times: int = 0) -> None:
        self.batches: list[list[dict]] = []
        self.fail_times = fail_times

    def write_run_logs(self, logs: list[dict]) -> None:
        if self.fail_times:
            self.fail_times -= 1
            raise ConnectionError("backend unavailable")
        self.batches.append(list(logs))


@pytest.fixture
def restore_logger_setup():
    """Put back the handlers, level and propagation of the loggers a test reconfigures."""
    names = ["prefect", "extra_library_for_tests", "diagnostics_for_tests"]
    saved = {
        name: (
            list(logging.getLogger(name).handlers),
            logging.getLogger(name).level,
            logging.getLogger(name).propagate,
        )
        for name in names
    }
    yield
    for name, (handlers, level, propagate) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate


@pytest.fixture
def manager(monkeypatch):
    """A fresh LOG_MANAGER with a fake client and no background thread unless a test starts it."""
    log_manager = LogManager()
    log_manager.client = FakeClient()
    monkeypatch.setattr(prefect_logging, "LOG_MANAGER", log_manager)
    yield log_manager
    log_manager.stop()
    atexit.unregister(log_manager._on_shutdown)


def role_handlers(logger: logging.Logger) -> list[type]:
    return [type(h) for h in logger.handlers if getattr(h, "_prefect_handler_role", None)]


def make_record(
    message: str = "msg", level: int = logging.INFO, name: str = "prefect.Task", exc_info=None
) -> logging.LogRecord:
    return logging.getLogger(name).makeRecord(name, level, __file__, 1, message, (), exc_info)


# --- sizes -----------------------------------------------------------------------------------


@settings(deadline=None, max_examples=50)
@given(
    name=st.text(
        alphabet=st.characters(min_codepoint=32, max_codepoint=126, exclude_characters='"\\')
    ),
    message=st.text(
        alphabet=st.characters(min_codepoint=32, max_codepoint=126, exclude_characters='"\\')
    ),
    level=st.sampled_from(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]),
)
def test_getlogsize_bounds_the_json_size_of_an_entry(name, message, level):
    log = {
        "flow_run_id": "6f1c8e53-43a5-4bd5-9d08-1d0a4e2a3b7c",
        "task_run_id": "0b7e0a57-2a0e-4f7e-b0c5-9a1f3c1e9d11",
        "timestamp": "2024-05-06T07:08:09.123456+00:00",
        "name": name,
        "level": level,
        "message": message,
    }
    size = getlogsize(log)
    assert len(json.dumps(log)) <= size <= len(json.dumps(log)) + len("CRITICAL")


def test_getlogsize_counts_missing_name_and_message_as_empty():
    assert getlogsize({"flow_run_id": "x"}) == LOG_OVERHEAD


# --- configuring loggers ---------------------------------------------------------------------


def test_configure_logging_gives_prefect_one_stream_and_one_cloud_handler(restore_logger_setup):
    logger = configure_logging()
    logger = configure_logging()
    assert logger is logging.getLogger("prefect")
    assert role_handlers(logger) == [PrefectStreamHandler, CloudHandler]


def test_configure_logging_keeps_handlers_users_added(restore_logger_setup):
    mine = ListHandler()
    logging.getLogger("prefect").addHandler(mine)
    configure_logging()
    assert mine in logging.getLogger("prefect").handlers


def test_level_and_format_come_from_config_with_utc_times(restore_logger_setup, capsys):
    settings_ = {
        "logging.level": "DEBUG",
        "logging.format": "%(asctime)s %(levelname)s %(name)s: %(message)s",
        "logging.datefmt": "%Y-%m-%d %H:%M:%S%z",
    }
    with set_temporary_config(settings_):
        logger = configure_logging()
    logger.getChild("Mine").debug("hello %s", "there")
    out = capsys.readouterr().out
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+0000 DEBUG prefect\.Mine: hello there\n", out
    ), out


def test_records_below_the_configured_level_are_dropped(restore_logger_setup, capsys):
    with set_temporary_config({"logging.level": "WARNING", "logging.format": "%(message)s"}):
        logger = configure_logging()
    logger.info("quiet")
    logger.warning("loud")
    assert capsys.readouterr().out == "loud\n"


def test_get_logger_returns_prefect_or_its_children():
    assert get_logger() is logging.getLogger("prefect")
    assert get_logger("Task") is logging.getLogger("prefect.Task")
    assert prefect_logging.prefect_logger is logging.getLogger("prefect")


def test_extra_loggers_get_the_prefect_handlers(restore_logger_setup):
    with set_temporary_config({"logging.extra_loggers": ["extra_library_for_tests"]}):
        configure_extra_loggers()
        configure_extra_loggers()
    extra = logging.getLogger("extra_library_for_tests")
    assert role_handlers(extra) == [PrefectStreamHandler, CloudHandler]
    assert extra.level == logging.getLevelName(prefect.config.logging.level)


def test_diagnostic_logger_logs_at_debug(restore_logger_setup):
    logger = create_diagnostic_logger("diagnostics_for_tests")
    assert logger.name == "diagnostics_for_tests"
    assert logger.level == logging.DEBUG
    assert role_handlers(logger) == [PrefectStreamHandler, CloudHandler]


def test_temporary_logger_config_changes_and_restores_level_and_format(
    restore_logger_setup, capsys
):
    with set_temporary_config({"logging.level": "INFO", "logging.format": "%(message)s"}):
        logger = configure_logging()
    with pytest.raises(RuntimeError):
        with temporary_logger_config(level="DEBUG", stream_fmt="T %(levelname)s %(message)s"):
            logger.debug("inside")
            raise RuntimeError("leave the block early")
    logger.debug("hidden again")
    logger.info("after")
    assert capsys.readouterr().out == "T DEBUG inside\nafter\n"


def test_temporary_logger_config_can_change_only_the_date_format(restore_logger_setup, capsys):
    with set_temporary_config({"logging.format": "%(asctime)s|%(message)s"}):
        logger = configure_logging()
    with temporary_logger_config(stream_datefmt="%Y"):
        logger.warning("x")
    year = datetime.datetime.now(datetime.timezone.utc).year
    assert capsys.readouterr().out in (f"{year}|x\n", f"{year + 1}|x\n")


# --- context on records ----------------------------------------------------------------------


def test_records_carry_run_identifiers_from_the_context():
    with prefect.context(
        flow_name="f", flow_run_id="fr", task_name="t", task_slug="t-1", task_run_id="tr"
    ):
        record = make_record()
    assert (
        record.flow_name,
        record.flow_run_id,
        record.task_name,
        record.task_slug,
        record.task_run_id,
    ) == ("f", "fr", "t", "t-1", "tr")


def test_records_outside_a_run_have_no_identifiers():
    record = make_record()
    assert not any(hasattr(record, a) for a in prefect_logging.PREFECT_LOG_RECORD_ATTRIBUTES)


def test_configured_log_attributes_are_always_set_from_the_context():
    with set_temporary_config({"logging.log_attributes": ["customer", "region"]}):
        with prefect.context(customer="acme"):
            record = make_record()
    assert record.customer == "acme"
    assert record.region is None


def test_format_strings_can_use_run_identifiers(restore_logger_setup, capsys):
    with set_temporary_config({"logging.format": "%(task_name)s: %(message)s"}):
        logger = configure_logging()
    with prefect.context(task_name="extract"):
        logger.info("done")
    assert capsys.readouterr().out == "extract: done\n"


# --- CloudHandler ----------------------------------------------------------------------------


def queued(manager: LogManager) -> list[dict]:
    items = []
    while not manager.queue.empty():
        items.append(manager.queue.get_nowait())
    return items


@pytest.fixture
def no_thread(manager, monkeypatch):
    monkeypatch.setattr(manager, "ensure_started", lambda: None)
    return manager


def test_cloud_handler_does_nothing_without_a_backend_run(no_thread):
    CloudHandler().emit(make_record())
    assert queued(no_thread) == []


def test_cloud_handler_does_nothing_when_sending_logs_is_off(no_thread):
    with set_temporary_config({"cloud.send_flow_run_logs": False}):
        with prefect.context(running_with_backend=True, flow_run_id="fr"):
            CloudHandler().emit(make_record())
    assert queued(no_thread) == []


def test_cloud_handler_queues_a_write_run_logs_entry(no_thread):
    with prefect.context(running_with_backend=True, flow_run_id="fr", task_run_id="tr"):
        record = make_record("task says hi", level=logging.WARNING, name="prefect.Task")
    with prefect.context(running_with_backend=True, flow_run_id="fr"):
        CloudHandler().emit(record)
    [entry] = queued(no_thread)
    assert entry == {
        "flow_run_id": "fr",
        "task_run_id": "tr",
        "timestamp": datetime.datetime.fromtimestamp(
            record.created, datetime.timezone.utc
        ).isoformat(),
        "name": "prefect.Task",
        "level": "WARNING",
        "message": "task says hi",
    }
    assert entry["timestamp"].endswith("+00:00")


def test_cloud_handler_takes_the_flow_run_id_from_the_context_when_the_record_has_none(no_thread):
    record = make_record()
    with prefect.context(running_with_backend=True, flow_run_id="fr"):
        CloudHandler().emit(record)
    [entry] = queued(no_thread)
    assert (entry["flow_run_id"], entry["task_run_id"]) == ("fr", None)


def test_cloud_handler_queues_nothing_without_a_flow_run_id(no_thread):
    # The backend stores logs only under a flow run: such an entry could only be refused.
    with prefect.context(running_with_backend=True, flow_run_id=None):
        CloudHandler().emit(make_record())
    assert queued(no_thread) == []


def test_cloud_handler_skips_records_below_the_configured_level(no_thread):
    with set_temporary_config({"logging.level": "ERROR"}):
        with prefect.context(running_with_backend=True, flow_run_id="fr"):
            CloudHandler().emit(make_record(level=logging.WARNING))
            CloudHandler().emit(make_record(level=logging.ERROR))
    assert [e["level"] for e in queued(no_thread)] == ["ERROR"]


def test_cloud_handler_includes_tracebacks_and_truncates_huge_messages(no_thread):
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        failing = make_record("failed", level=logging.ERROR, exc_info=sys.exc_info())
    with prefect.context(running_with_backend=True, flow_run_id="fr"):
        CloudHandler().emit(failing)
        CloudHandler().emit(make_record("x" * (MAX_LOG_SIZE + 10)))
    first, second = queued(no_thread)
    assert first["message"].startswith("failed\nTraceback")
    assert "ValueError: boom" in first["message"]
    assert len(second["message"]) == MAX_LOG_SIZE
    assert second["message"].endswith("[message truncated: longer than 1000000 characters]")


def test_logging_in_a_backend_run_reaches_the_log_manager(restore_logger_setup, no_thread):
    logger = configure_logging()
    with prefect.context(running_with_backend=True, flow_run_id="fr", task_run_id="tr"):
        logger.getChild("CloudTaskRunner").info("Task 'x': Starting task run...")
    [entry] = queued(no_thread)
    assert entry["name"] == "prefect.CloudTaskRunner"
    assert entry["message"] == "Task 'x': Starting task run..."
    assert entry["task_run_id"] == "tr"


# --- LogManager ------------------------------------------------------------------------------


def entry(message: str) -> dict:
    return {"flow_run_id": "fr", "name": "prefect", "level": "INFO", "message": message}


def test_flush_sends_queued_logs_in_one_batch(manager):
    for i in range(3):
        manager.enqueue(entry(str(i)))
    manager.flush()
    assert manager.client.batches == [[entry("0"), entry("1"), entry("2")]]
    assert manager.pending_logs == []
    assert manager.pending_length == 0


def test_flush_splits_batches_at_the_size_limit(manager, monkeypatch):
    size = getlogsize(entry("aaaa"))
    monkeypatch.setattr(prefect_logging, "MAX_BATCH_LOG_SIZE", 2 * size)
    for message in ["aaaa", "bbbb", "cccc", "dddd", "eeee"]:
        manager.enqueue(entry(message))
    manager.flush()
    assert [[e["message"] for e in batch] for batch in manager.client.batches] == [
        ["aaaa", "bbbb"],
        ["cccc", "dddd"],
        ["eeee"],
    ]


def test_a_single_log_larger_than_the_batch_limit_is_still_sent(manager, monkeypatch):
    monkeypatch.setattr(prefect_logging, "MAX_BATCH_LOG_SIZE", 10)
    manager.enqueue(entry("big"))
    manager.flush()
    assert manager.client.batches == [[entry("big")]]


def test_failed_send_warns_keeps_logs_pending_and_retries_next_flush(manager):
    manager.client = FakeClient(fail_times=1)
    manager.enqueue(entry("a"))
    with pytest.warns(UserWarning, match="Failed to write logs with error: ConnectionError"):
        manager.flush()
    assert manager.pending_logs == [entry("a")]
    assert manager.pending_length == getlogsize(entry("a"))
    manager.enqueue(entry("b"))
    manager.flush()
    assert manager.client.batches == [[entry("a"), entry("b")]]
    assert manager.pending_length == 0


class RefusingClient:
    """Refuses, as the server does, every batch holding an entry without a flow run id."""

    def __init__(self) -> None:
        self.batches: list[list[dict]] = []
        self.calls = 0

    def write_run_logs(self, logs: list[dict]) -> None:
        self.calls += 1
        if any(not log.get("flow_run_id") for log in logs):
            raise ClientError([{"message": "Expected non-nullable type UUID! not to be null."}])
        self.batches.append(list(logs))


def test_a_refused_entry_is_dropped_with_a_warning_and_the_others_are_sent(manager):
    manager.client = RefusingClient()
    for message in ["a", "b", "c", "d", "e"]:
        manager.enqueue(entry(message))
    manager.enqueue({**entry("bad"), "flow_run_id": None})
    manager.enqueue(entry("f"))
    with pytest.warns(UserWarning, match="refused a log entry, which is dropped") as caught:
        manager.flush()
    assert len(caught) == 1
    assert "message='bad'" in str(caught[0].message)
    sent = [e["message"] for batch in manager.client.batches for e in batch]
    assert sent == ["a", "b", "c", "d", "e", "f"]
    assert manager.pending_logs == []
    assert manager.pending_length == 0
    # Later logs are not held back by the refused one.
    manager.enqueue(entry("later"))
    manager.flush()
    assert manager.client.batches[-1] == [entry("later")]


def test_a_busy_backend_keeps_the_whole_batch_pending(manager):
    class BusyClient(FakeClient):
        def write_run_logs(self, logs: list[dict]) -> None:
            if self.fail_times:
                self.fail_times -= 1
                raise ClientError([{"message": "busy", "extensions": {"code": "API_ERROR"}}])
            super().write_run_logs(logs)

    manager.client = BusyClient(fail_times=1)
    manager.enqueue(entry("a"))
    manager.enqueue(entry("b"))
    with pytest.warns(UserWarning, match="stay pending"):
        manager.flush()
    assert manager.pending_logs == [entry("a"), entry("b")]
    manager.flush()
    assert manager.client.batches == [[entry("a"), entry("b")]]


def test_entries_sent_before_the_backend_went_away_are_not_sent_again(manager):
    class RefusingThenDown(RefusingClient):
        def __init__(self) -> None:
            super().__init__()
            self.down = False

        def write_run_logs(self, logs: list[dict]) -> None:
            if self.down:
                raise ConnectionError("backend unavailable")
            super().write_run_logs(logs)
            # Down right after the first batch it stores.
            self.down = bool(self.batches)

    manager.client = RefusingThenDown()
    for message in ["a", "b"]:
        manager.enqueue(entry(message))
    manager.enqueue({**entry("bad"), "flow_run_id": None})
    manager.enqueue(entry("c"))
    with pytest.warns(UserWarning, match="stay pending"):
        manager.flush()
    assert manager.client.batches == [[entry("a"), entry("b")]]
    assert [e["message"] for e in manager.pending_logs] == ["bad", "c"]
    assert manager.pending_length == sum(getlogsize(e) for e in manager.pending_logs)
    manager.client.down = False
    with pytest.warns(UserWarning, match="refused a log entry"):
        manager.flush()
    sent = [e["message"] for batch in manager.client.batches for e in batch]
    assert sent == ["a", "b", "c"]
    assert manager.pending_logs == [] and manager.pending_length == 0


def test_the_log_thread_survives_a_configuration_without_a_heartbeat(manager, monkeypatch):
    monkeypatch.delitem(prefect.config.cloud, "logging_heartbeat")
    assert prefect_logging._heartbeat_seconds() == 5.0


def test_background_thread_sends_every_heartbeat_and_stop_sends_the_rest(manager):
    with set_temporary_config({"cloud.logging_heartbeat": 0.01}):
        manager.ensure_started()
        thread = manager.thread
        manager.ensure_started()
        assert manager.thread is thread and thread.daemon
        manager.enqueue(entry("during"))
        deadline = time.monotonic() + 60
        while not manager.client.batches and time.monotonic() < deadline:
            time.sleep(0.01)
        assert manager.client.batches == [[entry("during")]]
    manager.enqueue(entry("at exit"))
    manager.stop()
    assert manager.thread is None
    assert not thread.is_alive()
    assert manager.client.batches[-1] == [entry("at exit")]


def test_stop_without_start_is_harmless(manager):
    manager.client = None
    manager.stop()
    assert manager.thread is None


# --- RedirectToLog ---------------------------------------------------------------------------


def test_redirect_to_log_turns_prints_into_info_records():
    logger = logging.getLogger("tests.redirect")
    handler = ListHandler()
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        with contextlib.redirect_stdout(RedirectToLog(logger)):
            print("hello")
            print()
            print("two\nlines")
    finally:
        logger.removeHandler(handler)
    assert [(r.levelno, r.getMessage()) for r in handler.records] == [
        (logging.INFO, "hello"),
        (logging.INFO, "two\nlines"),
    ]


def test_redirect_to_log_defaults_to_the_stdout_logger_and_acts_like_a_text_stream():
    redirect = RedirectToLog()
    assert redirect.stdout_logger is logging.getLogger("prefect.StdOut")
    assert redirect.isatty() is False
    redirect.flush()
    with pytest.raises(TypeError, match="must be str, not bytes"):
        redirect.write(b"bytes")  # type: ignore[arg-type]


def test_log_overhead_is_the_json_size_of_an_empty_entry():
    import json

    example = {
        "flow_run_id": "00000000-0000-0000-0000-000000000000",
        "task_run_id": "00000000-0000-0000-0000-000000000000",
        "timestamp": "2020-01-01T00:00:00.000000+00:00",
        "name": "",
        "level": "CRITICAL",
        "message": "",
    }
    assert LOG_OVERHEAD == len(json.dumps(example))


def test_stream_formatter_timestamps_equal_strftime_of_each_record():
    import time as time_module

    from prefect.utilities.logging import _stream_formatter

    formatter = _stream_formatter("%(asctime)s", "%Y-%m-%d %H:%M:%S%z")
    for created in (1_700_000_000.1, 1_700_000_000.9, 1_700_000_001.0, 1_700_000_000.5):
        record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", None, None)
        record.created = created
        expected = time_module.strftime("%Y-%m-%d %H:%M:%S%z", time_module.gmtime(created))
        assert formatter.format(record) == expected
