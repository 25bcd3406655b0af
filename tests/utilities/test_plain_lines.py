"""`write_plain_line`: the line a record would produce, written without making the record.

The fast path must write exactly what the record-based path writes, and must step aside
(return False, so the caller makes a real record) whenever handling a record would do more
than write that line.

pytest's log capture puts handlers on the root logger, which (rightly) turns the fast path off;
these tests empty the root logger's handlers inside the test body (pytest adds its handlers per
test phase, so a fixture would be too early) and point Prefect's stream handler at a buffer.
"""

from __future__ import annotations

import contextlib
import datetime
import io
import logging
import re
import threading
from collections.abc import Iterator

import pytest

import prefect
from prefect.engine import runner as runner_module
from prefect.engine.runner import log_info
from prefect.utilities import logging as prefect_logging
from prefect.utilities._log_records import write_plain_line
from prefect.utilities.logging import get_logger, temporary_logger_config

MSG = "Task '%s': Starting task run..."
DEFAULT_LINE = re.compile(
    r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+0000)\] INFO - prefect\.TaskRunner \| "
    r"Task 'x': Starting task run\.\.\.$"
)


def _stream_handler() -> logging.StreamHandler:
    (handler,) = [
        h
        for h in logging.getLogger("prefect").handlers
        if getattr(h, "_prefect_handler_role", None) == "stream"
    ]
    return handler  # type: ignore[return-value]


@pytest.fixture
def handler() -> logging.StreamHandler:
    return _stream_handler()


@pytest.fixture
def buf(handler: logging.StreamHandler) -> Iterator[io.StringIO]:
    stream = io.StringIO()
    old = handler.setStream(stream)
    try:
        yield stream
    finally:
        handler.setStream(old)


@pytest.fixture
def logger() -> logging.Logger:
    return get_logger("TaskRunner")


@pytest.fixture
def quiet_root(monkeypatch: pytest.MonkeyPatch):
    """A context manager emptying the root logger's handlers (use it in the test body)."""

    @contextlib.contextmanager
    def quiet() -> Iterator[logging.Logger]:
        root = logging.getLogger()
        with monkeypatch.context() as patch:
            patch.setattr(root, "handlers", [])
            yield root

    return quiet


@pytest.fixture
def fast_results(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """What each `write_plain_line` call made by `log_info` returned."""
    results: list[bool] = []

    def spy(*args, **kwargs):
        result = write_plain_line(*args, **kwargs)
        results.append(result)
        return result

    monkeypatch.setattr(runner_module, "write_plain_line", spy)
    return results


def _expected_lines(handler: logging.Handler, logger: logging.Logger, msg: str, *args) -> set:
    record = logger.makeRecord(logger.name, logging.INFO, __file__, 0, msg, args, None)
    return {handler.format(record) + handler.terminator}


def _lines(buf: io.StringIO) -> list[str]:
    return buf.getvalue().splitlines()


class RecordingHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


# ---------------------------------------------------------------------------------------------
# 1. The fast path writes what the record-based path writes
# ---------------------------------------------------------------------------------------------

FORMATS = [
    (None, None),  # the configured default
    ("%(levelno)s:%(levelname)s:%(name)s:%(message)s at %(asctime)s", None),
    ("%(levelname)-8s %(name)s -> %(message)s", None),
    (None, "%d/%m/%Y %H.%M.%S"),
    ("<%(asctime)s> %(levelno)03d %(message)s", "%H:%M:%S"),
]


@pytest.mark.parametrize(("fmt", "datefmt"), FORMATS)
def test_plain_line_equals_the_formatted_record_for_each_format(
    fmt, datefmt, handler, buf, logger, quiet_root, fast_results, monkeypatch
):
    made: list[tuple] = []
    make_record = logger.makeRecord

    def counting_make_record(*args, **kwargs):
        made.append(args)
        return make_record(*args, **kwargs)

    with quiet_root(), temporary_logger_config(stream_fmt=fmt, stream_datefmt=datefmt):
        # Called directly: the fast path takes the line.
        expected = _expected_lines(handler, logger, MSG, "x")
        assert write_plain_line(logger, logging.INFO, MSG, ("x",)) is True
        expected |= _expected_lines(handler, logger, MSG, "x")
        assert buf.getvalue() in expected

        # Through log_info: the fast path again, and no record is made.
        buf.seek(0)
        buf.truncate()
        with monkeypatch.context() as patch:
            patch.setattr(logger, "makeRecord", counting_make_record)
            expected = _expected_lines(handler, logger, MSG, "x")
            made.clear()
            log_info(logger, MSG, "x")
            assert made == []
            expected |= _expected_lines(handler, logger, MSG, "x")
        assert fast_results == [True]
        assert buf.getvalue() in expected
        # A format without asctime gives exactly one possible line.
        if fmt is not None and "asctime" not in fmt:
            assert len(expected) == 1


def test_plain_line_of_default_format_has_the_current_utc_time(buf, logger, quiet_root):
    with quiet_root():
        before = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        log_info(logger, MSG, "x")
        after = datetime.datetime.now(datetime.timezone.utc)
    (line,) = _lines(buf)
    match = DEFAULT_LINE.match(line)
    assert match, line
    written = datetime.datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S%z")
    assert written.utcoffset() == datetime.timedelta(0)
    # Whole seconds: the second the line was written in, however long the machine took.
    assert before <= written <= after


def test_plain_line_with_prefect_not_propagating_ignores_root_handlers_as_records_do(
    buf, logger, quiet_root, fast_results, monkeypatch
):
    recorder = RecordingHandler()
    with quiet_root() as root:
        root.addHandler(recorder)
        monkeypatch.setattr(logging.getLogger("prefect"), "propagate", False)
        log_info(logger, MSG, "x")
        logger.info(MSG, "x")
    assert fast_results == [True]
    assert recorder.records == []
    lines = _lines(buf)
    assert len(lines) == 2
    assert all(DEFAULT_LINE.match(line) for line in lines)


# ---------------------------------------------------------------------------------------------
# 2. Any other set-up gets a real record
# ---------------------------------------------------------------------------------------------


def test_a_root_handler_gets_a_real_record(buf, logger, quiet_root, fast_results):
    recorder = RecordingHandler()
    with quiet_root() as root:
        root.addHandler(recorder)
        assert write_plain_line(logger, logging.INFO, MSG, ("x",)) is False
        assert buf.getvalue() == ""
        log_info(logger, MSG, "x")
    assert fast_results == [False]
    (record,) = recorder.records
    assert isinstance(record, logging.LogRecord)
    assert record.getMessage() == "Task 'x': Starting task run..."
    assert record.name == "prefect.TaskRunner"
    assert record.funcName == "run"
    (line,) = _lines(buf)
    assert DEFAULT_LINE.match(line)


def test_a_handler_added_to_the_child_logger_gets_a_real_record(
    buf, logger, quiet_root, fast_results, monkeypatch
):
    recorder = RecordingHandler()
    monkeypatch.setattr(logger, "handlers", [recorder])
    with quiet_root():
        log_info(logger, MSG, "x")
    assert fast_results == [False]
    assert [r.getMessage() for r in recorder.records] == ["Task 'x': Starting task run..."]
    (line,) = _lines(buf)
    assert DEFAULT_LINE.match(line)


def _filter(accept: bool, seen: list):
    def check(record: logging.LogRecord) -> bool:
        seen.append(record)
        return accept

    return check


@pytest.mark.parametrize("accept", [True, False])
def test_a_filter_on_the_child_logger_gets_a_real_record(
    accept, buf, logger, quiet_root, fast_results, monkeypatch
):
    seen: list = []
    monkeypatch.setattr(logger, "filters", [_filter(accept, seen)])
    with quiet_root():
        assert write_plain_line(logger, logging.INFO, MSG, ("x",)) is False
        log_info(logger, MSG, "x")
    assert fast_results == [False]
    assert [r.getMessage() for r in seen] == ["Task 'x': Starting task run..."]
    lines = _lines(buf)
    if accept:
        assert len(lines) == 1 and DEFAULT_LINE.match(lines[0])
    else:
        assert lines == []


@pytest.mark.parametrize("accept", [True, False])
def test_a_filter_on_the_prefect_logger_turns_the_fast_path_off_and_is_not_consulted(
    accept, buf, logger, quiet_root, fast_results, monkeypatch
):
    # The standard library consults a logger's filters only for records logged to that logger,
    # not for records propagated from its children: `logger.info` writes the line either way.
    seen: list = []
    monkeypatch.setattr(logging.getLogger("prefect"), "filters", [_filter(accept, seen)])
    with quiet_root():
        assert write_plain_line(logger, logging.INFO, MSG, ("x",)) is False
        log_info(logger, MSG, "x")
        logger.info(MSG, "x")
    assert fast_results == [False]
    assert seen == []
    lines = _lines(buf)
    assert len(lines) == 2
    assert all(DEFAULT_LINE.match(line) for line in lines)


@pytest.mark.parametrize("accept", [True, False])
def test_a_filter_on_the_stream_handler_gets_a_real_record(
    accept, handler, buf, logger, quiet_root, fast_results, monkeypatch
):
    seen: list = []
    monkeypatch.setattr(handler, "filters", [_filter(accept, seen)])
    with quiet_root():
        assert write_plain_line(logger, logging.INFO, MSG, ("x",)) is False
        log_info(logger, MSG, "x")
    assert fast_results == [False]
    assert [r.getMessage() for r in seen] == ["Task 'x': Starting task run..."]
    lines = _lines(buf)
    if accept:
        assert len(lines) == 1 and DEFAULT_LINE.match(lines[0])
    else:
        assert lines == []


def test_a_disabled_logger_writes_nothing_as_logger_info_does(
    buf, logger, quiet_root, fast_results, monkeypatch
):
    monkeypatch.setattr(logger, "disabled", True)
    with quiet_root():
        assert write_plain_line(logger, logging.INFO, MSG, ("x",)) is False
        log_info(logger, MSG, "x")
        logger.info(MSG, "x")
    assert buf.getvalue() == ""
    assert fast_results == []  # log_info stops at the level check, as logger.info does


def test_a_disabled_prefect_logger_turns_the_fast_path_off_and_still_writes_as_records_do(
    buf, logger, quiet_root, fast_results, monkeypatch
):
    # A disabled parent does not stop propagated records in the standard library.
    monkeypatch.setattr(logging.getLogger("prefect"), "disabled", True)
    with quiet_root():
        log_info(logger, MSG, "x")
        logger.info(MSG, "x")
    assert fast_results == [False]
    lines = _lines(buf)
    assert len(lines) == 2
    assert all(DEFAULT_LINE.match(line) for line in lines)


def test_a_format_with_func_name_gets_a_real_record(buf, logger, quiet_root, fast_results):
    with quiet_root(), temporary_logger_config(stream_fmt="%(levelname)s %(funcName)s %(message)s"):
        assert write_plain_line(logger, logging.INFO, MSG, ("x",)) is False
        log_info(logger, MSG, "x")
    assert fast_results == [False]
    assert buf.getvalue() == "INFO run Task 'x': Starting task run...\n"


def test_a_format_with_a_context_field_gets_a_real_record(buf, logger, quiet_root, fast_results):
    with (
        quiet_root(),
        temporary_logger_config(stream_fmt="%(task_name)s | %(message)s"),
        prefect.context(task_name="my-task"),
    ):
        assert write_plain_line(logger, logging.INFO, MSG, ("x",)) is False
        log_info(logger, MSG, "x")
    assert fast_results == [False]
    assert buf.getvalue() == "my-task | Task 'x': Starting task run...\n"


def test_a_format_without_datefmt_gets_a_real_record(buf, logger, handler, quiet_root):
    formatter = handler.formatter
    with quiet_root(), temporary_logger_config():
        handler.setFormatter(type(formatter)("%(asctime)s %(message)s", None))
        assert write_plain_line(logger, logging.INFO, MSG, ("x",)) is False
        log_info(logger, MSG, "x")
    assert handler.formatter is formatter
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} Task 'x': Starting task run\.\.\.\n",
        buf.getvalue(),
    )


def test_a_custom_record_factory_is_called(buf, logger, quiet_root, fast_results):
    previous = logging.getLogRecordFactory()
    calls: list[tuple] = []

    def custom(*args, **kwargs):
        calls.append(args)
        return previous(*args, **kwargs)

    logging.setLogRecordFactory(custom)
    try:
        with quiet_root():
            assert write_plain_line(logger, logging.INFO, MSG, ("x",)) is False
            log_info(logger, MSG, "x")
    finally:
        logging.setLogRecordFactory(previous)
    assert fast_results == [False]
    assert [(c[0], c[4], c[5]) for c in calls] == [("prefect.TaskRunner", MSG, ("x",))]
    (line,) = _lines(buf)
    assert DEFAULT_LINE.match(line)


def test_a_cloud_handler_that_ships_logs_gets_a_real_record(
    buf, logger, quiet_root, fast_results, monkeypatch
):
    shipped: list[dict] = []
    monkeypatch.setattr(prefect_logging.LOG_MANAGER, "ensure_started", lambda: None)
    monkeypatch.setattr(prefect_logging.LOG_MANAGER, "enqueue", shipped.append)
    with quiet_root(), prefect.context(running_with_backend=True, flow_run_id="run-1"):
        assert write_plain_line(logger, logging.INFO, MSG, ("x",)) is False
        log_info(logger, MSG, "x")
    assert fast_results == [False]
    (line,) = _lines(buf)
    assert DEFAULT_LINE.match(line)
    assert [log["message"] for log in shipped] == ["Task 'x': Starting task run..."]


def test_a_cloud_handler_not_sending_flow_run_logs_still_gets_a_real_record_in_a_backend_run(
    buf, logger, quiet_root, fast_results, monkeypatch
):
    from prefect.utilities.configuration import set_temporary_config

    shipped: list[dict] = []
    monkeypatch.setattr(prefect_logging.LOG_MANAGER, "ensure_started", lambda: None)
    monkeypatch.setattr(prefect_logging.LOG_MANAGER, "enqueue", shipped.append)
    with (
        quiet_root(),
        set_temporary_config({"cloud.send_flow_run_logs": False}),
        prefect.context(running_with_backend=True),
    ):
        assert write_plain_line(logger, logging.INFO, MSG, ("x",)) is False
        log_info(logger, MSG, "x")
    assert shipped == []
    (line,) = _lines(buf)
    assert DEFAULT_LINE.match(line)


def test_a_mapping_argument_gets_a_real_record(buf, logger, quiet_root, fast_results):
    with quiet_root(), temporary_logger_config(stream_fmt="%(message)s"):
        assert write_plain_line(logger, logging.INFO, "Task '%(name)s'", ({"name": "x"},)) is False
        log_info(logger, "Task '%(name)s' (%(n)d)", {"name": "x", "n": 3})
    assert fast_results == [False]
    assert buf.getvalue() == "Task 'x' (3)\n"


def test_a_stream_handler_above_info_writes_nothing_as_records_do(
    handler, buf, logger, quiet_root, fast_results, monkeypatch
):
    monkeypatch.setattr(handler, "level", logging.WARNING)
    with quiet_root():
        assert write_plain_line(logger, logging.INFO, MSG, ("x",)) is True
        log_info(logger, MSG, "x")
        logger.info(MSG, "x")
    assert fast_results == [True]
    assert buf.getvalue() == ""


def test_a_child_logger_not_propagating_gets_a_real_record(
    buf, logger, quiet_root, fast_results, monkeypatch
):
    monkeypatch.setattr(logger, "propagate", False)
    with quiet_root():
        log_info(logger, MSG, "x")
    assert fast_results == [False]
    assert buf.getvalue() == ""


def test_a_message_with_arguments_that_do_not_fit_goes_to_handle_error_not_to_the_caller(
    handler, buf, logger, quiet_root, monkeypatch
):
    errors: list[logging.LogRecord] = []
    monkeypatch.setattr(handler, "handleError", errors.append)
    with quiet_root():
        logger.info("a %s %s", "x")  # the standard path: reported, not raised
        assert len(errors) == 1
        log_info(logger, "a %s %s", "x")
    assert len(errors) == 2
    assert buf.getvalue() == ""


# ---------------------------------------------------------------------------------------------
# 3. A failing stream
# ---------------------------------------------------------------------------------------------


class FailingStream:
    def __init__(self) -> None:
        self.flushed = 0

    def write(self, text: str) -> int:
        raise OSError("disk full")

    def flush(self) -> None:
        self.flushed += 1


def test_a_failing_write_goes_to_handle_error_and_releases_the_lock(
    handler, buf, logger, quiet_root, fast_results, monkeypatch
):
    errors: list[logging.LogRecord] = []
    monkeypatch.setattr(handler, "handleError", errors.append)
    handler.setStream(FailingStream())  # the buf fixture restores the original stream
    with quiet_root():
        assert write_plain_line(logger, logging.INFO, MSG, ("x",)) is True
        log_info(logger, MSG, "y")
    assert fast_results == [True]
    assert [r.getMessage() for r in errors] == [
        "Task 'x': Starting task run...",
        "Task 'y': Starting task run...",
    ]
    assert all(isinstance(r, logging.LogRecord) and r.levelno == logging.INFO for r in errors)
    assert all(r.name == "prefect.TaskRunner" for r in errors)

    acquired: list[bool] = []

    def take_lock() -> None:
        got = handler.lock.acquire(timeout=30)
        acquired.append(got)
        if got:
            handler.lock.release()

    thread = threading.Thread(target=take_lock)
    thread.start()
    thread.join(60)
    assert acquired == [True]


# ---------------------------------------------------------------------------------------------
# 4. Threads
# ---------------------------------------------------------------------------------------------


def test_lines_written_from_several_threads_stay_whole(buf, logger, quiet_root, fast_results):
    barrier = threading.Barrier(4)

    def work(n: int) -> None:
        barrier.wait()
        for i in range(200):
            log_info(logger, "Task '%s': Starting task run...", f"t{n}-{i}")

    with quiet_root():
        threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
            assert not thread.is_alive()
    assert len(fast_results) == 800 and all(fast_results)
    text = buf.getvalue()
    assert text.endswith("\n")
    lines = text.split("\n")[:-1]
    assert len(lines) == 800
    pattern = re.compile(
        r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+0000\] INFO - prefect\.TaskRunner \| "
        r"Task 't(\d)-(\d+)': Starting task run\.\.\.$"
    )
    seen = []
    for line in lines:
        match = pattern.match(line)
        assert match, line
        seen.append((int(match.group(1)), int(match.group(2))))
    assert sorted(seen) == [(n, i) for n in range(4) for i in range(200)]
    for n in range(4):  # each thread's lines in its order
        assert [i for m, i in seen if m == n] == list(range(200))


# ---------------------------------------------------------------------------------------------
# 5. A whole flow run
# ---------------------------------------------------------------------------------------------


def test_a_flow_run_writes_task_lines_formatted_like_its_other_lines(buf, quiet_root, fast_results):
    from prefect import Flow, task

    @task(name="first")
    def first():
        return 1

    @task(name="second")
    def second(x):
        return x + 1

    @task(name="third")
    def third(x):
        return x * 2

    with Flow("plain-lines") as flow:
        third(second(first()))

    with quiet_root():
        state = flow.run()
    assert state.is_successful()
    assert fast_results and all(fast_results)

    line_pattern = re.compile(
        r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+0000\] INFO - prefect\.(\w+) \| (.*)$"
    )
    messages = []
    for line in _lines(buf):
        match = line_pattern.match(line)
        assert match, line
        messages.append((match.group(1), match.group(2)))
    assert ("FlowRunner", "Beginning Flow run for 'plain-lines'") in messages
    task_lines = [m for logger_name, m in messages if logger_name == "TaskRunner"]
    expected = []
    for name in ("first", "second", "third"):
        expected += [
            f"Task '{name}': Starting task run...",
            f"Task '{name}': Finished task run for task with final state: 'Success'",
        ]
    assert task_lines == expected
    begin = messages.index(("FlowRunner", "Beginning Flow run for 'plain-lines'"))
    first_task = messages.index(("TaskRunner", expected[0]))
    assert begin < first_task


def test_a_plain_format_failing_for_the_values_goes_to_handle_error_not_to_the_caller(
    handler, buf, logger, quiet_root, monkeypatch
):
    errors: list[logging.LogRecord] = []
    monkeypatch.setattr(handler, "handleError", errors.append)
    with quiet_root(), temporary_logger_config(stream_fmt="%(levelno)s %(message)d"):
        logger.info(MSG, "x")  # the standard path: reported, not raised
        assert len(errors) == 1
        log_info(logger, MSG, "x")
    assert len(errors) == 2
    assert buf.getvalue() == ""


def test_lines_written_from_several_threads_to_a_file_stay_whole(
    handler, logger, quiet_root, fast_results, tmp_path
):
    """Threads writing plain lines to a real file at once: every line whole, each thread's in
    its order, none lost."""
    path = tmp_path / "lines.log"
    stream = open(path, "w", encoding="utf-8")  # noqa: SIM115 - closed below
    old = handler.setStream(stream)
    barrier = threading.Barrier(4)

    def work(n: int) -> None:
        barrier.wait()
        for i in range(500):
            log_info(logger, "Task '%s': Starting task run...", f"t{n}-{i}" + "x" * (i % 50))

    try:
        with quiet_root():
            threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(120)
                assert not thread.is_alive()
        handler.flush()
    finally:
        handler.setStream(old)
        stream.close()
    assert len(fast_results) == 2000 and all(fast_results)
    lines = path.read_text(encoding="utf-8").split("\n")
    assert lines[-1] == ""
    pattern = re.compile(
        r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+0000\] INFO - prefect\.TaskRunner \| "
        r"Task 't(\d)-(\d+)x*': Starting task run\.\.\.$"
    )
    seen = []
    for line in lines[:-1]:
        match = pattern.match(line)
        assert match, line
        seen.append((int(match.group(1)), int(match.group(2))))
    assert sorted(seen) == [(n, i) for n in range(4) for i in range(500)]
    for n in range(4):
        assert [i for m, i in seen if m == n] == list(range(500))


def test_a_thread_finding_the_handler_busy_leaves_its_line_to_the_holder(
    handler, buf, logger, quiet_root
):
    """No thread waits for the handler's lock to write a line: the thread holding it writes
    the lines queued meanwhile, in order, before it lets go."""
    done = threading.Event()

    def work() -> None:
        log_info(logger, "Task '%s': Starting task run...", "queued-1")
        log_info(logger, "Task '%s': Starting task run...", "queued-2")
        done.set()

    with quiet_root():
        handler.acquire()
        try:
            log_info(logger, "Task '%s': Starting task run...", "holder")
            thread = threading.Thread(target=work)
            thread.start()
            assert done.wait(60), "a thread waited for the handler lock"
            thread.join(60)
            # Written by this thread (it holds the lock, re-entrantly); the others queued.
            assert "queued" not in buf.getvalue()
            assert "'holder'" in buf.getvalue()
        finally:
            handler.release()
    text = buf.getvalue()
    assert text.index("'holder'") < text.index("'queued-1'") < text.index("'queued-2'")
    assert text.count("\n") == 3


def test_a_failure_to_write_another_threads_line_is_reported_not_raised_on_release(
    handler, buf, logger, quiet_root, monkeypatch
):
    errors: list[logging.LogRecord] = []
    monkeypatch.setattr(handler, "handleError", errors.append)
    with quiet_root():
        handler.acquire()
        try:
            handler.setStream(FailingStream())  # the `buf` fixture puts its stream back
            thread = threading.Thread(
                target=log_info, args=(logger, "Task '%s': Starting task run...", "other")
            )
            thread.start()
            thread.join(60)
            assert not thread.is_alive()
            assert errors == []  # queued, not written: this thread holds the lock
        finally:
            handler.release()  # writes the queued line: it fails, and is reported
    assert len(errors) == 1
    assert isinstance(errors[0], logging.LogRecord)
    assert handler.lock.acquire(timeout=30)  # released all the same
    handler.lock.release()
