"""Prefect's loggers, and the shipping of flow-run logs to the backend.

At import this module

- configures the ``"prefect"`` logger (``prefect_logger``): a stream handler formatted by
  ``config.logging.format``/``datefmt`` (times in UTC) at ``config.logging.level``, plus a
  :class:`CloudHandler`; the same setup goes to every logger in
  ``config.logging.extra_loggers``;
- installs a log-record factory that copies the run identifiers (``flow_name``,
  ``flow_run_id``, ``task_name``, ``task_slug``, ``task_run_id``) and the keys listed in
  ``config.logging.log_attributes`` from ``prefect.context`` onto every record, so format
  strings and handlers can use them;
- creates ``LOG_MANAGER``, which batches the records a :class:`CloudHandler` accepts and sends
  them with ``Client.write_run_logs`` from a background thread every
  ``config.cloud.logging_heartbeat`` seconds and once more at process exit.

A :class:`CloudHandler` sends nothing unless ``prefect.context.running_with_backend`` is set
(the flow-run process of an agent sets it) and ``config.cloud.send_flow_run_logs`` is true.
"""

from __future__ import annotations

import atexit
import datetime
import logging
import sys
import threading
import traceback
import warnings
from collections.abc import Generator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from prefect import configuration as _configuration
from prefect.utilities import context as _context_module
from prefect.utilities._log_records import (
    PrefectStreamHandler,
    UTCFormatter,
    fast_record_maker,
    installed_factory,
)

if TYPE_CHECKING:
    import queue

    from prefect.client import Client

PREFECT_LOG_RECORD_ATTRIBUTES = (
    "flow_name",
    "flow_run_id",
    "task_name",
    "task_slug",
    "task_run_id",
)
MAX_LOG_SIZE = 1_000_000
MAX_BATCH_LOG_SIZE = 4_000_000
# The JSON size of a log entry apart from its name and message: `json.dumps` of a fixed example
# (the widest level, UUID-length ids, an ISO timestamp with microseconds and offset) is 207
# characters; a test recomputes it. Written out so that `import prefect` needs no json.
LOG_OVERHEAD = 207

_TRUNCATION_NOTE = "... [message truncated: longer than {limit} characters]"

# Marks the handlers this module attaches, so configuring a logger again replaces them
# instead of stacking duplicates (and never touches handlers users added).
_HANDLER_ROLE = "_prefect_handler_role"


def getlogsize(log: dict) -> int:
    """The approximate JSON size of a log entry, as counted against the batch limits.

    Args:
        log: a log entry as sent to ``write_run_logs``.

    Returns:
        ``LOG_OVERHEAD`` plus the lengths of its name and message.
    """
    return LOG_OVERHEAD + len(log.get("name") or "") + len(log.get("message") or "")


class LogManager:
    """Collects log entries from any thread and sends them to the backend in batches.

    Entries go into ``queue``; a daemon thread moves them to ``pending_logs`` and calls
    ``client.write_run_logs`` with batches of at most ``MAX_BATCH_LOG_SIZE`` (as measured by
    :func:`getlogsize`) every ``config.cloud.logging_heartbeat`` seconds. A batch that cannot
    be sent (the backend unreachable, or busy: ``API_ERROR``) stays pending and is retried at
    the next flush. A batch the backend refuses for its content is split in halves until the
    refused entries are alone; those are dropped with a warning, so one bad entry never holds
    back the others. ``stop`` (also run at exit) sends what is left.
    """

    def __init__(self) -> None:
        self._queue: queue.Queue[dict] | None = None
        self.pending_logs: list[dict] = []
        self.thread: threading.Thread | None = None
        self.client: Client | None = None
        self.pending_length = 0
        self._stop_event = threading.Event()
        self._start_lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._exit_hook_registered = False

    @property
    def queue(self) -> queue.Queue[dict]:
        """The entries waiting to be sent (created on first use)."""
        if self._queue is None:
            with self._start_lock:
                if self._queue is None:
                    import queue

                    self._queue = queue.Queue()
        return self._queue

    @queue.setter
    def queue(self, value: queue.Queue[dict]) -> None:
        self._queue = value

    def ensure_started(self) -> None:
        """Create the client and start the background thread, unless already running."""
        thread = self.thread
        if thread is not None and thread.is_alive():
            return
        with self._start_lock:
            if self.thread is not None and self.thread.is_alive():
                return
            if self.client is None:
                # Imported here: the client pulls in requests, which `import prefect` avoids.
                from prefect.client import Client

                self.client = Client()
            self._stop_event.clear()
            self.thread = threading.Thread(
                target=self._write_logs_loop, name="PrefectLogManager", daemon=True
            )
            self.thread.start()
            if not self._exit_hook_registered:
                atexit.register(self._on_shutdown)
                self._exit_hook_registered = True

    def stop(self) -> None:
        """Stop the background thread and send the logs still waiting."""
        thread = self.thread
        if thread is not None:
            self._stop_event.set()
            if thread is not threading.current_thread():
                thread.join()
            self.thread = None
        if self.client is not None:
            self.flush()

    def enqueue(self, message: dict) -> None:
        """Queue one log entry for the next batch (does not start the thread).

        Args:
            message: a log entry as ``write_run_logs`` expects it.
        """
        self.queue.put(message)

    def flush(self) -> None:
        """Send everything queued or pending now, in batches (in the calling thread)."""
        with self._flush_lock:
            while True:
                try:
                    log = self.queue.get_nowait()
                except _queue_empty():
                    break
                self.pending_logs.append(log)
                self.pending_length += getlogsize(log)
            while self.pending_logs:
                batch, batch_length = self._next_batch()
                done = self._send(batch)
                if done == len(batch):
                    self.pending_length -= batch_length
                else:
                    self.pending_length -= sum(getlogsize(log) for log in batch[:done])
                del self.pending_logs[:done]
                if done < len(batch):
                    return

    def _send(self, batch: list[dict]) -> int:
        """Send one batch; how many of its first entries are done with (stored, or refused and
        dropped). The rest could not be sent and stay pending."""
        assert self.client is not None, "LogManager.flush needs a client; call ensure_started()"
        try:
            self.client.write_run_logs(batch)
        except Exception as exc:
            if not _is_refusal(exc):
                warnings.warn(
                    f"Failed to write logs with error: {exc!r}; {len(self.pending_logs)} log(s) "
                    f"({self.pending_length} bytes) stay pending and are retried at the next "
                    "flush.",
                    stacklevel=3,
                )
                return 0
            if len(batch) == 1:
                warnings.warn(
                    f"The backend refused a log entry, which is dropped: {exc!r}; "
                    f"entry: {_describe_entry(batch[0])}",
                    stacklevel=3,
                )
                return 1
            middle = len(batch) // 2
            done = self._send(batch[:middle])
            if done < middle:
                return done
            return middle + self._send(batch[middle:])
        return len(batch)

    def _next_batch(self) -> tuple[list[dict], int]:
        batch: list[dict] = []
        length = 0
        for log in self.pending_logs:
            size = getlogsize(log)
            if batch and length + size > MAX_BATCH_LOG_SIZE:
                break
            batch.append(log)
            length += size
        return batch, length

    def _write_logs_loop(self) -> None:
        while not self._stop_event.wait(_heartbeat_seconds()):
            try:
                self.flush()
            except Exception:
                # This thread is the last stop for such errors: report and keep going so the
                # next heartbeat can try again.
                sys.stderr.write("Unexpected error while sending Prefect logs:\n")
                traceback.print_exc(file=sys.stderr)

    def _on_shutdown(self) -> None:
        self.stop()


class CloudHandler(logging.Handler):
    """Sends log records to the backend through ``LOG_MANAGER``.

    A record is sent only while ``prefect.context.running_with_backend`` is set,
    ``config.cloud.send_flow_run_logs`` is true and the record is at or above
    ``config.logging.level``. Its message (with any traceback) is cut at ``MAX_LOG_SIZE``
    characters.
    """

    def skips_record(self) -> bool:
        """Whether a record logged now would be dropped: nothing is shipped outside a run with
        a backend (a cheap check, made for every record)."""
        context = _context_module._context
        return context is None or not context.__dict__.get("running_with_backend")

    def handle(self, record: logging.LogRecord) -> bool:  # type: ignore[override]
        """Skip the handler lock for every record of a run not shipping logs (most runs)."""
        if self.skips_record():
            return False
        return bool(super().handle(record))

    def emit(self, record: logging.LogRecord) -> None:
        """Queue the record as a ``write_run_logs`` entry, if logs are being shipped.

        Args:
            record: the log record.
        """
        context = _context_module._context  # no context yet: nothing is running
        if context is None or not context.get("running_with_backend"):
            return
        if not _setting("cloud", "send_flow_run_logs"):
            return
        try:
            threshold = logging.getLevelName(_setting("logging", "level"))
            if isinstance(threshold, int) and record.levelno < threshold:
                return
            message = self.format(record)
            if len(message) > MAX_LOG_SIZE:
                note = _TRUNCATION_NOTE.format(limit=MAX_LOG_SIZE)
                message = message[: MAX_LOG_SIZE - len(note)] + note
            flow_run_id = getattr(record, "flow_run_id", None) or context.get("flow_run_id")
            if not flow_run_id:
                # The backend stores a log only under a flow run: such an entry would be
                # refused (and cost a refused request).
                return
            log = {
                "flow_run_id": flow_run_id,
                "task_run_id": getattr(record, "task_run_id", None),
                "timestamp": datetime.datetime.fromtimestamp(
                    record.created, datetime.timezone.utc
                ).isoformat(),
                "name": record.name,
                "level": record.levelname,
                "message": message,
            }
            LOG_MANAGER.ensure_started()
            LOG_MANAGER.enqueue(log)
        except Exception:
            self.handleError(record)


class RedirectToLog:
    """A file-like object that turns writes into ``INFO`` records (used by ``log_stdout``).

    Blank writes (such as the newline ``print`` sends separately) are dropped, and a trailing
    newline is removed from the rest.

    Args:
        logger: where to log; defaults to the ``prefect.StdOut`` logger.
    """

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.stdout_logger = logger or get_logger("StdOut")

    def write(self, s: str) -> None:
        """Log ``s`` at ``INFO`` unless it is blank.

        Args:
            s: the text written.

        Raises:
            TypeError: if ``s`` is not a string, like a text stream would.
        """
        if not isinstance(s, str):
            raise TypeError(f"write() argument must be str, not {type(s).__name__}")
        if s.strip():
            self.stdout_logger.info(s.rstrip("\n"))

    def flush(self) -> None:
        """Nothing to flush: every write is logged at once."""

    def isatty(self) -> bool:
        """Never a terminal (libraries ask before printing colours)."""
        return False


def _is_refusal(exc: Exception) -> bool:
    """Whether the backend answered and refused the request for its content (retrying the same
    entries cannot help), as opposed to being unreachable or busy (``API_ERROR``)."""
    from prefect.exceptions import ClientError

    return isinstance(exc, (ClientError, ValueError)) and "API_ERROR" not in str(exc)


def _describe_entry(entry: dict) -> str:
    message = str(entry.get("message", ""))
    if len(message) > 200:
        message = message[:200] + "..."
    return (
        f"flow_run_id={entry.get('flow_run_id')!r}, task_run_id={entry.get('task_run_id')!r}, "
        f"level={entry.get('level')!r}, message={message!r}"
    )


def _heartbeat_seconds() -> float:
    """`cloud.logging_heartbeat`, read without ever failing (the configuration can be in the
    middle of being reloaded when the log thread wakes up)."""
    try:
        return float(_configuration.config.cloud.logging_heartbeat)
    except Exception:
        return 5.0


def _queue_empty() -> type[Exception]:
    import queue

    return queue.Empty


def _stream_formatter(fmt: str | None, datefmt: str | None) -> logging.Formatter:
    return UTCFormatter(fmt, datefmt)


def _setup_logger(logger: logging.Logger, level: int | str) -> logging.Logger:
    """Give ``logger`` Prefect's stream and cloud handlers (replacing earlier ones) and a level."""
    for handler in list(logger.handlers):
        if getattr(handler, _HANDLER_ROLE, None) is not None:
            logger.removeHandler(handler)
    # Bound to the stream of the moment on purpose: `log_stdout` swaps `sys.stdout` for a
    # RedirectToLog, and resolving it per record would feed logs back into the logger.
    stream_handler = PrefectStreamHandler(sys.stdout)
    stream_handler.setFormatter(
        _stream_formatter(_setting("logging", "format"), _setting("logging", "datefmt"))
    )
    setattr(stream_handler, _HANDLER_ROLE, "stream")
    cloud_handler = CloudHandler()
    setattr(cloud_handler, _HANDLER_ROLE, "cloud")
    logger.addHandler(stream_handler)
    logger.addHandler(cloud_handler)
    logger.setLevel(level)
    return logger


def configure_logging(testing: bool = False) -> logging.Logger:
    """Set up the ``"prefect"`` logger (and the extra loggers) from ``prefect.config``.

    Calling it again re-reads the config and replaces the handlers it added before. Records
    also propagate to the root logger, as with any logger.

    Args:
        testing: set up a separate ``"prefect-test-logger"`` instead, which tests may change
            freely without touching the real one.

    Returns:
        the logger set up.
    """
    name = "prefect-test-logger" if testing else "prefect"
    logger = _setup_logger(logging.getLogger(name), _setting("logging", "level"))
    if not testing:
        configure_extra_loggers()
    return logger


def configure_extra_loggers() -> None:
    """Give each logger named in ``config.logging.extra_loggers`` the Prefect handlers and level.

    So records of, say, ``boto3`` appear next to Prefect's and reach the backend.
    """
    for name in _setting("logging", "extra_loggers") or []:
        _setup_logger(logging.getLogger(name), _setting("logging", "level"))


def create_diagnostic_logger(name: str) -> logging.Logger:
    """A logger with the Prefect handlers at ``DEBUG`` level, for diagnostic output.

    Args:
        name: the logger name (not placed under ``"prefect"``).

    Returns:
        the logger.
    """
    return _setup_logger(logging.getLogger(name), "DEBUG")


def get_logger(name: str | None = None) -> logging.Logger:
    """The ``"prefect"`` logger, or its child ``"prefect.<name>"``.

    Args:
        name: the child's name; ``None`` for the ``"prefect"`` logger itself.

    Returns:
        the logger.
    """
    if name is None:
        return logging.getLogger("prefect")
    return logging.getLogger("prefect").getChild(name)


@contextmanager
def temporary_logger_config(
    level: int | str | None = None,
    stream_fmt: str | None = None,
    stream_datefmt: str | None = None,
) -> Generator[logging.Logger, None, None]:
    """Change the ``"prefect"`` logger's level and stream format inside a ``with`` block.

    Arguments left as ``None`` keep their current value; everything is restored on exit.

    Args:
        level: the temporary level.
        stream_fmt: the temporary format of the stream handler.
        stream_datefmt: the temporary date format of the stream handler.

    Yields:
        the ``"prefect"`` logger.
    """
    logger = logging.getLogger("prefect")
    old_level = logger.level
    stream_handlers = [
        handler for handler in logger.handlers if getattr(handler, _HANDLER_ROLE, None) == "stream"
    ]
    old_formatters = [handler.formatter for handler in stream_handlers]
    try:
        if level is not None:
            logger.setLevel(level)
        if stream_fmt is not None or stream_datefmt is not None:
            for handler in stream_handlers:
                current = handler.formatter
                fmt = stream_fmt if stream_fmt is not None else getattr(current, "_fmt", None)
                datefmt = (
                    stream_datefmt
                    if stream_datefmt is not None
                    else getattr(current, "datefmt", None)
                )
                handler.setFormatter(_stream_formatter(fmt, datefmt))
        yield logger
    finally:
        logger.setLevel(old_level)
        for handler, formatter in zip(stream_handlers, old_formatters):
            handler.setFormatter(formatter)


def _setting(section: str, key: str) -> Any:
    """``config[section][key]``, read as plain dicts (Box attribute access costs several
    microseconds, too much for code that runs once per log record), and without building
    ``prefect.config`` when it does not exist yet (logging is set up at import time)."""
    return _configuration._current_value(section, key)


_EMPTY: dict = {}


def _make_record_factory(base: Any) -> Any:
    attributes = frozenset(PREFECT_LOG_RECORD_ATTRIBUTES)
    # The standard record class is built by a faster maker giving the same records; a factory
    # users installed before this module is called as it is.
    make = (fast_record_maker() if base is logging.LogRecord else None) or base

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args) if not kwargs else base(*args, **kwargs)
        # The calling thread's context values (Context keeps them in its __dict__); no
        # context exists before the first run.
        context = _context_module._context
        values = context.__dict__ if context is not None else _EMPTY
        record_dict = record.__dict__
        for attribute in attributes.intersection(values):
            value = values[attribute]
            if value is not None:
                record_dict[attribute] = value
        # Extra keys are always set (None when absent), so format strings can rely on them.
        config = _configuration.__dict__.get("config")
        if config is not None:
            extra = dict.get(dict.get(config, "logging") or _EMPTY, "log_attributes")
        else:
            extra = _setting("logging", "log_attributes")
        if extra:
            for attribute in extra:
                record_dict[attribute] = values.get(attribute)
        return record

    factory._prefect_base_factory = base  # type: ignore[attr-defined]
    return factory


def _install_record_factory() -> None:
    current = logging.getLogRecordFactory()
    # On a re-import, wrap the original factory rather than our previous wrapper.
    base = getattr(current, "_prefect_base_factory", current)
    factory = _make_record_factory(base)
    logging.setLogRecordFactory(factory)
    installed_factory[0] = factory


LOG_MANAGER = LogManager()
_install_record_factory()
prefect_logger = configure_logging()
