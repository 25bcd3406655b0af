"""The fast log-record path (`prefect.utilities._log_records`) gives the standard results."""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from typing import Any

import pytest

from prefect.utilities._log_records import (
    PrefectStreamHandler,
    UTCFormatter,
    fast_record_maker,
)

TIME_ATTRIBUTES = {"created", "msecs", "relativeCreated"}


def make_both(*args: Any, **kwargs: Any) -> tuple[logging.LogRecord, logging.LogRecord]:
    """The same record made by the fast maker and by `logging.LogRecord`."""
    maker = fast_record_maker()
    assert maker is not None
    return maker(*args, **kwargs), logging.LogRecord(*args, **kwargs)


def assert_same_record(fast: logging.LogRecord, standard: logging.LogRecord) -> None:
    fast_attributes = vars(fast)
    standard_attributes = vars(standard)
    assert set(fast_attributes) == set(standard_attributes)
    for name in set(standard_attributes) - TIME_ATTRIBUTES:
        assert fast_attributes[name] == standard_attributes[name], name
    # Made one after the other, so about the same time; a loaded machine may pause between
    # the two (the exact clock is checked by `test_fast_record_times_are_current_...`).
    assert abs(fast.created - standard.created) < 30.0
    assert abs(fast.relativeCreated - standard.relativeCreated) < 30_000.0
    assert type(fast) is logging.LogRecord


def exc_info_of(exc: BaseException) -> tuple:
    try:
        raise exc
    except BaseException:
        return sys.exc_info()


# fast_record_maker ------------------------------------------------------------------------


def test_fast_record_maker_is_available_on_python_3_11():
    if sys.version_info[:2] != (3, 11):
        pytest.skip("the fast maker's known attributes are those of Python 3.10/3.11")
    assert callable(fast_record_maker())


def test_fast_record_has_the_attributes_and_values_of_a_log_record_with_args_tuple():
    fast, standard = make_both(
        "prefect.Task", logging.INFO, "/some/dir/module_name.py", 42, "x=%s y=%d", ("a", 3), None
    )
    assert_same_record(fast, standard)
    assert fast.filename == "module_name.py"
    assert fast.module == "module_name"
    assert fast.getMessage() == "x=a y=3"
    assert fast.levelname == "INFO"


def test_fast_record_times_are_current_and_consistent():
    maker = fast_record_maker()
    before = time.time()
    record = maker("n", logging.DEBUG, __file__, 1, "m", (), None)
    after = time.time()
    assert before <= record.created <= after
    assert record.msecs == int((record.created - int(record.created)) * 1000)
    assert isinstance(record.msecs, float)
    assert record.relativeCreated == pytest.approx(
        (record.created - logging._startTime) * 1000  # type: ignore[attr-defined]
    )


def test_fast_record_with_a_single_mapping_argument_uses_the_mapping_as_args():
    mapping = {"who": "world", "n": 2}
    fast, standard = make_both("n", logging.WARNING, __file__, 7, "%(who)s %(n)d", (mapping,), None)
    assert_same_record(fast, standard)
    assert fast.args is mapping
    assert fast.getMessage() == "world 2"


def test_fast_record_keeps_a_single_empty_mapping_as_a_tuple():
    fast, standard = make_both("n", logging.INFO, __file__, 7, "plain", ({},), None)
    assert_same_record(fast, standard)
    assert fast.args == ({},)


def test_fast_record_keeps_exc_info_stack_info_and_func_name():
    exc_info = exc_info_of(ValueError("boom"))
    fast, standard = make_both(
        "n",
        logging.ERROR,
        __file__,
        9,
        "failed",
        (),
        exc_info,
        func="do_work",
        sinfo="Stack (most recent call last):\n  here",
    )
    assert_same_record(fast, standard)
    assert fast.exc_info is exc_info
    assert fast.funcName == "do_work"
    assert fast.stack_info == "Stack (most recent call last):\n  here"
    assert fast.exc_text is None


@pytest.mark.parametrize("level", [logging.INFO, 25, 1234])
def test_fast_record_names_custom_and_unknown_levels_as_log_record_does(level):
    fast, standard = make_both("n", level, __file__, 1, "m", (), None)
    assert_same_record(fast, standard)


def test_fast_record_with_pathname_none_matches_log_record():
    fast, standard = make_both("n", logging.INFO, None, 1, "m", (), None)
    assert_same_record(fast, standard)
    assert standard.filename is None
    assert fast.filename is None
    assert fast.module == standard.module == "Unknown module"


def test_fast_record_with_a_bytes_pathname_matches_log_record():
    fast, standard = make_both("n", logging.INFO, b"/a/b/c.py", 1, "m", (), None)
    assert_same_record(fast, standard)
    assert fast.filename == b"c.py"


def test_fast_record_with_an_unhashable_pathname_matches_log_record():
    fast, standard = make_both("n", logging.INFO, ["not", "a", "path"], 1, "m", (), None)
    assert_same_record(fast, standard)


def test_fast_record_made_in_another_thread_names_that_thread():
    maker = fast_record_maker()
    made: dict[str, Any] = {}

    def work() -> None:
        made["fast"] = maker("n", logging.INFO, __file__, 1, "m", (), None)
        made["standard"] = logging.LogRecord("n", logging.INFO, __file__, 1, "m", (), None)
        made["ident"] = threading.get_ident()

    thread = threading.Thread(target=work, name="record-maker-thread")
    thread.start()
    thread.join()
    assert_same_record(made["fast"], made["standard"])
    assert made["fast"].threadName == "record-maker-thread"
    assert made["fast"].thread == made["ident"] == thread.ident
    assert made["fast"].thread != threading.get_ident()


@pytest.mark.parametrize("switch", ["logThreads", "logProcesses", "logMultiprocessing"])
def test_fast_record_with_a_logging_switch_off_equals_log_record(monkeypatch, switch):
    maker = fast_record_maker()
    monkeypatch.setattr(logging, switch, False)
    fast = maker("n", logging.INFO, __file__, 3, "m %s", ("x",), None)
    standard = logging.LogRecord("n", logging.INFO, __file__, 3, "m %s", ("x",), None)
    assert_same_record(fast, standard)
    if switch == "logThreads":
        assert fast.thread is None
        assert fast.threadName is None
    elif switch == "logProcesses":
        assert fast.process is None
    else:
        assert fast.processName is None


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_fast_record_made_in_a_forked_child_carries_the_child_pid():
    maker = fast_record_maker()
    parent_record = maker("n", logging.INFO, __file__, 1, "m", (), None)
    assert parent_record.process == os.getpid()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        try:
            os.close(read_end)
            record = maker("n", logging.INFO, __file__, 1, "m", (), None)
            os.write(write_end, f"{record.process} {os.getpid()}".encode())
        finally:
            os._exit(0)
    os.close(write_end)
    try:
        data = b""
        while chunk := os.read(read_end, 100):
            data += chunk
    finally:
        os.close(read_end)
        os.waitpid(pid, 0)
    record_pid, child_pid = (int(part) for part in data.decode().split())
    assert record_pid == child_pid == pid
    assert record_pid != os.getpid()
    assert maker("n", logging.INFO, __file__, 1, "m", (), None).process == os.getpid()


# UTCFormatter ------------------------------------------------------------------------------


def record_at(created: float, msg: str = "hello %s", args: tuple = ("world",), **extra: Any):
    record = logging.LogRecord("prefect.Task", logging.INFO, __file__, 10, msg, args, None)
    record.created = created
    record.msecs = int((created - int(created)) * 1000) + 0.0
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def reference_formatter(fmt: str | None, datefmt: str | None) -> logging.Formatter:
    formatter = logging.Formatter(fmt, datefmt)
    formatter.converter = time.gmtime  # type: ignore[assignment]
    return formatter


FORMATS = [
    (None, None),
    ("%(message)s", None),
    ("%(levelname)s %(name)s: %(message)s", None),
    ("%(asctime)s %(message)s", None),
    ("[%(asctime)s] %(levelname)s - %(name)s | %(message)s", None),
    ("[%(asctime)s] %(levelname)s - %(name)s | %(message)s", "%Y-%m-%d %H:%M:%S%z"),
    ("%(asctime)s.%(msecs)03d %(funcName)s:%(lineno)d %(message)s", "%Y-%m-%dT%H:%M:%S"),
    ("%(asctime)s|%(msecs)03d|%(message)s", "%H:%M"),
]
# Seconds that are close together, out of order, and with different fractions.
TIMES = [1_600_000_000.125, 1_600_000_000.987, 1_600_000_001.5, 1_600_000_000.002, 86_399.999]


@pytest.mark.parametrize(("fmt", "datefmt"), FORMATS)
def test_utc_formatter_output_equals_logging_formatter_with_gmtime(fmt, datefmt):
    formatter = UTCFormatter(fmt, datefmt)
    reference = reference_formatter(fmt, datefmt)
    for created in TIMES:
        record = record_at(created)
        expected_record = record_at(created)
        assert formatter.format(record) == reference.format(expected_record)
        assert record.message == expected_record.message == "hello world"
        assert getattr(record, "asctime", None) == getattr(expected_record, "asctime", None)


def test_utc_formatter_writes_utc_times():
    record = record_at(0.25)
    assert UTCFormatter("%(asctime)s", "%Y-%m-%d %H:%M:%S").format(record) == (
        "1970-01-01 00:00:00"
    )
    assert UTCFormatter("%(asctime)s").format(record_at(3600.5)) == "1970-01-01 01:00:00,500"


def test_utc_formatter_with_a_mapping_argument_formats_as_logging_formatter():
    fmt = "%(levelname)s %(message)s"
    record = record_at(10.0, msg="%(a)s-%(b)s", args=({"a": 1, "b": 2},))
    expected = record_at(10.0, msg="%(a)s-%(b)s", args=({"a": 1, "b": 2},))
    assert UTCFormatter(fmt).format(record) == reference_formatter(fmt, None).format(expected)


def test_utc_formatter_format_time_honours_the_datefmt_of_each_call():
    formatter = UTCFormatter("%(asctime)s %(message)s", "%Y-%m-%d")
    reference = reference_formatter("%(asctime)s %(message)s", "%Y-%m-%d")
    record = record_at(1_600_000_000.5)
    for datefmt in ("%Y", "%H:%M:%S", "%Y-%m-%d"):
        assert formatter.formatTime(record, datefmt) == reference.formatTime(record, datefmt)


def test_utc_formatter_appends_the_traceback_as_logging_formatter_does():
    fmt, datefmt = "%(asctime)s %(levelname)s %(message)s", "%Y-%m-%d %H:%M:%S"
    exc_info = exc_info_of(RuntimeError("went wrong"))
    record = record_at(5.0, exc_info=exc_info)
    expected = record_at(5.0, exc_info=exc_info)
    output = UTCFormatter(fmt, datefmt).format(record)
    assert output == reference_formatter(fmt, datefmt).format(expected)
    assert output.startswith("1970-01-01 00:00:05 INFO hello world\nTraceback")
    assert output.endswith("RuntimeError: went wrong")
    assert record.exc_text == expected.exc_text


def test_utc_formatter_appends_stack_info_and_cached_exc_text_as_logging_formatter_does():
    fmt = "%(message)s"
    for extra in ({"stack_info": "Stack:\n  frame"}, {"exc_text": "cached text"}):
        record = record_at(5.0, **extra)
        expected = record_at(5.0, **extra)
        output = UTCFormatter(fmt).format(record)
        assert output == reference_formatter(fmt, None).format(expected)
        assert output.startswith("hello world\n")


def test_utc_formatter_missing_field_raises_what_logging_formatter_raises():
    fmt = "%(asctime)s %(not_a_field)s %(message)s"
    with pytest.raises(Exception) as reference_error:
        reference_formatter(fmt, None).format(record_at(1.0))
    with pytest.raises(Exception) as error:
        UTCFormatter(fmt).format(record_at(1.0))
    assert type(error.value) is type(reference_error.value)
    if sys.version_info[:2] == (3, 11):
        assert type(error.value) is ValueError
    assert str(error.value) == str(reference_error.value)


def test_utc_formatter_bad_message_arguments_raise_as_logging_formatter():
    with pytest.raises(TypeError):
        reference_formatter(None, None).format(record_at(1.0, msg="%d", args=("x",)))
    with pytest.raises(TypeError):
        UTCFormatter().format(record_at(1.0, msg="%d", args=("x",)))


def test_utc_formatter_accepts_only_fmt_and_datefmt():
    # Only `%`-style: the fast path formats `fmt % record.__dict__` (no `style` argument).
    with pytest.raises(TypeError):
        UTCFormatter("{message}", None, "{")  # type: ignore[call-arg]


# PrefectStreamHandler ----------------------------------------------------------------------


class RecordingStream:
    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def write(self, text: str) -> None:
        self.calls.append(("write", text))

    def flush(self) -> None:
        self.calls.append(("flush",))


class WriteOnlyStream:
    def __init__(self) -> None:
        self.written: list[str] = []

    def write(self, text: str) -> None:
        self.written.append(text)


def info_record(msg: str = "hello") -> logging.LogRecord:
    return logging.LogRecord("prefect.Test", logging.INFO, __file__, 1, msg, (), None)


def test_stream_handler_writes_the_formatted_record_and_a_newline_then_flushes():
    stream = RecordingStream()
    handler = PrefectStreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s:%(name)s:%(message)s"))
    assert handler.handle(info_record())
    assert stream.calls == [("write", "INFO:prefect.Test:hello\n"), ("flush",)]


def test_stream_handler_uses_its_terminator():
    stream = RecordingStream()
    handler = PrefectStreamHandler(stream)
    handler.terminator = "\r\n"
    handler.handle(info_record("x"))
    assert stream.calls == [("write", "x\r\n"), ("flush",)]


def test_stream_handler_writes_records_logged_through_a_logger():
    stream = RecordingStream()
    handler = PrefectStreamHandler(stream)
    logger = logging.getLogger("prefect.tests.test_log_records.stream")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    try:
        logger.info("one %s", 1)
        logger.debug("not written")
    finally:
        logger.removeHandler(handler)
    assert stream.calls == [("write", "one 1\n"), ("flush",)]


def test_stream_handler_filter_returning_false_suppresses_the_record():
    stream = RecordingStream()
    handler = PrefectStreamHandler(stream)
    handler.addFilter(lambda record: record.getMessage() != "secret")
    assert not handler.handle(info_record("secret"))
    assert stream.calls == []
    assert handler.handle(info_record("public"))
    assert stream.calls == [("write", "public\n"), ("flush",)]


def test_stream_handler_works_with_a_stream_without_flush():
    stream = WriteOnlyStream()
    handler = PrefectStreamHandler(stream)
    errors: list[logging.LogRecord] = []
    handler.handleError = errors.append  # type: ignore[method-assign]
    handler.handle(info_record("a"))
    handler.handle(info_record("b"))
    assert stream.written == ["a\n", "b\n"]
    assert errors == []


class FailingFormatter(logging.Formatter):
    def __init__(self, error: BaseException) -> None:
        super().__init__()
        self.error = error

    def format(self, record: logging.LogRecord) -> str:
        raise self.error


def test_stream_handler_sends_a_formatting_error_to_handle_error():
    stream = RecordingStream()
    handler = PrefectStreamHandler(stream)
    handler.setFormatter(FailingFormatter(RuntimeError("bad format")))
    errors: list[tuple[logging.LogRecord, BaseException | None]] = []
    handler.handleError = lambda record: errors.append((record, sys.exc_info()[1]))  # type: ignore[method-assign]
    record = info_record()
    handler.handle(record)
    assert stream.calls == []
    assert len(errors) == 1
    assert errors[0][0] is record
    assert isinstance(errors[0][1], RuntimeError)


def test_stream_handler_sends_a_write_error_to_handle_error():
    class BrokenStream(RecordingStream):
        def write(self, text: str) -> None:
            raise OSError("disk full")

    handler = PrefectStreamHandler(BrokenStream())
    errors: list[logging.LogRecord] = []
    handler.handleError = errors.append  # type: ignore[method-assign]
    record = info_record()
    handler.handle(record)
    assert errors == [record]


def test_stream_handler_lets_a_recursion_error_propagate_as_stream_handler_does():
    handler = PrefectStreamHandler(RecordingStream())
    handler.setFormatter(FailingFormatter(RecursionError("deep")))
    handler.handleError = lambda record: None  # type: ignore[method-assign]
    with pytest.raises(RecursionError):
        handler.handle(info_record())
    standard = logging.StreamHandler(RecordingStream())
    standard.setFormatter(FailingFormatter(RecursionError("deep")))
    with pytest.raises(RecursionError):
        standard.handle(info_record())


def test_stream_handler_releases_its_lock_after_each_record():
    handler = PrefectStreamHandler(RecordingStream())
    handler.setFormatter(FailingFormatter(RuntimeError("x")))
    handler.handleError = lambda record: None  # type: ignore[method-assign]
    handler.handle(info_record())
    handler.setFormatter(None)
    handler.handle(info_record())
    # Another thread can take it (a lock still held by this thread would not let it).
    result: list[bool] = []
    thread = threading.Thread(target=lambda: result.append(handler.lock.acquire(timeout=30)))
    thread.start()
    thread.join()
    assert result == [True]
