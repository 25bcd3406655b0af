"""How Prefect's log records are made, formatted and written: the per-record path.

Every task run logs two INFO lines, so a record's whole trip (making it, the handlers, the
formatting, the write) is on the engine's hot path. The standard library's objects work through
generic steps (a path split per record, a handler lock taken twice, a format style looked up per
call); the classes here do the same work with fewer steps and give the same results:

- :func:`fast_record_maker` builds a `logging.LogRecord` holding exactly the attributes
  `LogRecord.__init__` sets, in one dict, when this Python's records have the attributes it
  knows (otherwise the standard constructor is used);
- :class:`UTCFormatter` formats times in UTC, each second's timestamp once, and formats a plain
  record (no traceback or stack) in one step;
- :class:`PrefectStreamHandler` writes and flushes a record under one lock.
"""

from __future__ import annotations

import collections
import logging
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

# What `LogRecord.__init__` sets on the Pythons whose records the fast maker reproduces (3.10
# and 3.11); newer ones add attributes (`taskName`), and then the standard constructor is used.
_KNOWN_ATTRIBUTES = frozenset(
    (
        "name",
        "msg",
        "args",
        "levelname",
        "levelno",
        "pathname",
        "filename",
        "module",
        "exc_info",
        "exc_text",
        "stack_info",
        "lineno",
        "funcName",
        "created",
        "msecs",
        "relativeCreated",
        "thread",
        "threadName",
        "processName",
        "process",
    )
)


# This process's id, read again in a forked child (`os.getpid` is a system call).
_process_id = [os.getpid()]
os.register_at_fork(after_in_child=lambda: _process_id.__setitem__(0, os.getpid()))


def _path_names(pathname: Any) -> tuple[Any, str]:
    try:
        filename = os.path.basename(pathname)
        return filename, os.path.splitext(filename)[0]
    except (TypeError, ValueError, AttributeError):
        return pathname, "Unknown module"


def fast_record_maker() -> Callable[..., logging.LogRecord] | None:
    """A function with the signature of `logging.LogRecord` that builds the same record with
    fewer steps, or `None` when this Python's records have attributes it does not know.

    The file name and module of a path are worked out once per path and the process id once
    per process (again after a fork); the level name, thread, process name and times are read
    per record, as `LogRecord.__init__` does. The standard constructor runs instead when the
    `logging` module's `logThreads`/`logProcesses`/`logMultiprocessing` switches are off.
    """
    probe = logging.LogRecord("probe", logging.INFO, __file__, 1, "probe", (), None)
    if set(vars(probe)) != _KNOWN_ATTRIBUTES:
        return None

    record_class = logging.LogRecord
    new = object.__new__
    level_names = logging._levelToName
    get_level_name = logging.getLevelName
    start_time = logging._startTime  # type: ignore[attr-defined]
    path_names: dict[Any, tuple[Any, str]] = {}
    now = time.time
    get_ident = threading.get_ident
    current_thread = threading.current_thread
    modules = sys.modules
    logging_module = logging

    def make_record(
        name: str,
        level: int,
        pathname: str,
        lineno: int,
        msg: Any,
        args: Any,
        exc_info: Any,
        func: str | None = None,
        sinfo: str | None = None,
    ) -> logging.LogRecord:
        if not (
            logging_module.logThreads
            and logging_module.logProcesses
            and logging_module.logMultiprocessing
        ):
            return record_class(name, level, pathname, lineno, msg, args, exc_info, func, sinfo)
        ct = now()
        if args and len(args) == 1 and isinstance(args[0], Mapping) and args[0]:
            args = args[0]
        try:
            names = path_names.get(pathname)
            if names is None:
                names = path_names[pathname] = _path_names(pathname)
        except TypeError:  # an unhashable "path": LogRecord keeps it as the file name
            names = _path_names(pathname)
        level_name = level_names.get(level)
        if level_name is None:
            level_name = get_level_name(level)
        process_name = "MainProcess"
        multiprocessing = modules.get("multiprocessing")
        if multiprocessing is not None:
            try:
                process_name = multiprocessing.current_process().name
            except Exception:  # pragma: no cover - as LogRecord: keep the default
                pass
        record = new(record_class)
        record.__dict__ = {
            "name": name,
            "msg": msg,
            "args": args,
            "levelname": level_name,
            "levelno": level,
            "pathname": pathname,
            "filename": names[0],
            "module": names[1],
            "exc_info": exc_info,
            "exc_text": None,
            "stack_info": sinfo,
            "lineno": lineno,
            "funcName": func,
            "created": ct,
            "msecs": int((ct - int(ct)) * 1000) + 0.0,
            "relativeCreated": (ct - start_time) * 1000,
            "thread": get_ident(),
            "threadName": current_thread().name,
            "processName": process_name,
            "process": _process_id[0],
        }
        return record

    return make_record


# The fields of a format `UTCFormatter.plain_line` can fill.
_MESSAGE_FIELD = "%(message)s"
_PLAIN_LINE_FIELDS = frozenset(("asctime", "levelname", "levelno", "name", "message"))
_FIELD = re.compile(r"%\((\w+)\)")


class UTCFormatter(logging.Formatter):
    """A formatter with UTC times that formats each second's timestamp once (with a `datefmt`,
    whose resolution is a second, that is exact) and formats a record without a traceback or
    stack in one step; anything else goes through `logging.Formatter.format`."""

    converter = time.gmtime  # type: ignore[assignment]
    # The time tuple the cached prefixes were made with (see `plain_line`).
    _prefix_time: tuple | None = None

    def __init__(self, fmt: str | None = None, datefmt: str | None = None) -> None:
        super().__init__(fmt, datefmt)
        # (second, datefmt, text): one tuple, replaced atomically.
        self._cached: tuple[int, str | None, str] = (-1, None, "")
        self._uses_time = self.usesTime()
        style = self._style
        # `%`-style without defaults formats as `fmt % record.__dict__`.
        self._percent_fmt: str | None = (
            style._fmt
            if type(style) is logging.PercentStyle and not getattr(style, "_defaults", None)
            else None
        )
        # Whether a line needs no more of a record than `plain_line` is given.
        self.formats_plain_lines = (
            self._percent_fmt is not None
            and datefmt is not None
            and set(_FIELD.findall(self._percent_fmt)) <= _PLAIN_LINE_FIELDS
        )
        # A format ending with its only message field (Prefect's own): a plain line is a
        # prefix made once per second, level and logger, plus the message.
        fmt = self._percent_fmt
        self._prefix_fmt: str | None = (
            fmt[: -len(_MESSAGE_FIELD)]
            if self.formats_plain_lines
            and fmt is not None
            and fmt.endswith(_MESSAGE_FIELD)
            and fmt.count("%(message)") == 1
            else None
        )
        self._prefixes: dict[tuple[int, str, str], str] = {}

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        if datefmt is None:
            return super().formatTime(record, datefmt)
        return self._time_text(record.created, datefmt)

    def _time_text(self, created: float, datefmt: str) -> str:
        """`formatTime`'s text with a `datefmt`: made once per second (and format)."""
        second = int(created)
        cached = self._cached
        if cached[0] != second or cached[1] != datefmt:
            converted = self.converter(created)  # type: ignore[misc, call-arg]
            cached = self._cached = (second, datefmt, time.strftime(datefmt, converted))
        return cached[2]

    def plain_line(
        self, created: float, level: int, level_name: str, name: str, message: str
    ) -> str:
        """The text `format` gives a record with these values and no traceback or stack, for
        a formatter whose fields are all among them (`formats_plain_lines`)."""
        cached = self._cached
        if cached[0] != int(created) or cached[1] != self.datefmt:
            self._time_text(created, self.datefmt)  # type: ignore[arg-type]
            cached = self._cached
        if self._prefix_fmt is not None:
            key = (level, level_name, name)
            prefix = self._prefixes.get(key)
            if prefix is None or self._prefix_time is not cached:
                if self._prefix_time is not cached:
                    self._prefixes = {}
                    self._prefix_time = cached
                prefix = self._prefixes[key] = self._prefix_fmt % {
                    "asctime": cached[2],
                    "levelname": level_name,
                    "levelno": level,
                    "name": name,
                }
            return prefix + message
        return self._percent_fmt % {  # type: ignore[operator]
            "asctime": cached[2],
            "levelname": level_name,
            "levelno": level,
            "name": name,
            "message": message,
        }

    def format(self, record: logging.LogRecord) -> str:
        fmt = self._percent_fmt
        if fmt is None or record.exc_info or record.exc_text or record.stack_info:
            return super().format(record)
        record.message = record.getMessage()
        if self._uses_time:
            record.asctime = self.formatTime(record, self.datefmt)
        try:
            return fmt % record.__dict__
        except KeyError:
            return super().format(record)  # raises the standard error for a missing field


# A burst of lines is flushed at most this often (seconds); the line that ends a burst is
# flushed by the flusher thread at most about `_FLUSH_DELAY` later.
FLUSH_INTERVAL = 0.02
_FLUSH_DELAY = 0.05


class _DeferredFlusher:
    """Flushes handlers whose last lines were written without a flush.

    A flush per line costs a system call per line (most of writing a line to a file or a
    pipe); a handler writing lines in a burst flushes the first at once and then at most every
    `FLUSH_INTERVAL`, and leaves the rest to this flusher: a daemon thread, started on first
    use, that flushes them about `_FLUSH_DELAY` later. Flow runs flush everything pending when
    they end (`flush_pending_lines`), and `logging.shutdown` flushes every handler at exit.
    """

    def __init__(self) -> None:
        self.pending: set[PrefectStreamHandler] = set()
        self.wakeup = threading.Event()
        self.thread: threading.Thread | None = None
        self.guard = threading.Lock()

    def defer(self, handler: PrefectStreamHandler) -> None:
        with self.guard:
            handler._flush_deferred = True
            self.pending.add(handler)
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(
                    target=self._loop, name="prefect-log-flusher", daemon=True
                )
                self.thread.start()
        self.wakeup.set()

    def _loop(self) -> None:
        while True:
            self.wakeup.wait()
            time.sleep(_FLUSH_DELAY)
            self.wakeup.clear()
            self.flush_all()

    def flush_all(self) -> None:
        if not self.pending:
            return
        with self.guard:
            handlers = list(self.pending)
            self.pending.clear()
            for handler in handlers:
                handler._flush_deferred = False
        for handler in handlers:
            try:
                handler.flush()
            except Exception:  # noqa: S112 - a closed stream: nothing left to flush
                continue

    def after_fork(self) -> None:
        # The thread does not exist in a forked child; the locks may be held by it.
        for handler in self.pending:
            handler._flush_deferred = False
        self.pending = set()
        self.wakeup = threading.Event()
        self.thread = None
        self.guard = threading.Lock()


_flusher = _DeferredFlusher()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_flusher.after_fork)


def flush_pending_lines() -> None:
    """Flush the lines Prefect's stream handlers wrote without flushing yet."""
    _flusher.flush_all()


class PrefectStreamHandler(logging.StreamHandler):
    """A `StreamHandler` that, for a handler without filters, formats, writes and flushes a
    record under one acquisition of its lock (the standard one takes it again to flush),
    flushes bursts of lines together (see `_DeferredFlusher`), and never makes a thread wait
    for its lock to write a line.

    Lines are queued, and whichever thread holds the lock writes every queued line before it
    lets go (`release`): a thread that finds the lock taken leaves its line to that thread.
    Threads logging at once (a `LocalDaskExecutor`'s) would otherwise queue on the lock line
    after line, at two context switches a line. Each thread's lines keep their order, and
    every line is written whole, before its thread's next one.
    """

    _flushed_at = 0.0
    # Whether the flusher holds this handler (its lines written since are flushed with it).
    _flush_deferred = False

    def __init__(self, stream: Any = None) -> None:
        super().__init__(stream)
        self._lines: collections.deque[str] = collections.deque()

    def handle(self, record: logging.LogRecord) -> Any:
        if self.filters:
            return super().handle(record)
        if self.lock is None:  # pragma: no cover - only after `createLock` was overridden
            self.emit(record)
            return True
        self.acquire()
        try:
            self.emit(record)
        finally:
            self.release()
        return True

    def write_line(self, line: str) -> None:
        """Write `line` and the terminator (now, or at once by the thread writing for this
        handler); flush unless the last flush was under `FLUSH_INTERVAL` ago, in which case
        the flush comes a moment later (a stream without `flush` is not flushed).

        Raises:
            Exception: what writing to the stream raised (for the line of this call or an
                earlier one queued by another thread)
        """
        lines = self._lines
        lines.append(line + self.terminator)
        lock = self.lock
        while lines:
            if not lock.acquire(blocking=False):  # type: ignore[union-attr]
                return  # the thread holding the lock writes the line before it lets go
            try:
                self._write_queued(flush=False)
            finally:
                lock.release()  # type: ignore[union-attr]
            # A line queued after the last check but before the release is written now.

    def _write_queued(self, flush: bool) -> None:
        """Write the queued lines; flush now (`flush`) or soon. Holding the lock."""
        lines = self._lines
        stream = self.stream
        write = stream.write
        while lines:
            write(lines.popleft())
        flush_stream = getattr(stream, "flush", None)
        if flush_stream is not None:
            now = time.monotonic()
            if flush or now - self._flushed_at >= FLUSH_INTERVAL:
                self._flushed_at = now
                flush_stream()
            elif not self._flush_deferred:
                _flusher.defer(self)

    def release(self) -> None:
        """Release the lock, after writing the lines queued while it was held (other threads'
        lines: a failure to write them is reported through `handleError`, as `emit` would,
        never raised to whoever releases)."""
        lock = self.lock
        if lock is None:  # pragma: no cover - only after `createLock` was overridden
            return
        try:
            if self._lines:
                self._write_others_queued()
        finally:
            lock.release()
        while self._lines:  # queued between the write and the release
            if not lock.acquire(blocking=False):
                return  # the new holder writes them
            try:
                self._write_others_queued()
            finally:
                lock.release()

    def _write_others_queued(self) -> None:
        try:
            self._write_queued(flush=False)
        except RecursionError:
            raise
        except Exception:
            self.handleError(logging.makeLogRecord({"msg": "(a line queued by another thread)"}))

    def flush(self) -> None:
        """Write the queued lines and flush the stream."""
        self.acquire()
        try:
            if self.stream is not None and hasattr(self.stream, "write"):
                self._write_queued(flush=True)
        finally:
            self.release()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.write_line(self.format(record))
        except RecursionError:  # as the standard handler: never swallow a recursion error
            raise
        except Exception:
            self.handleError(record)


# The record factory `prefect.utilities.logging` installs: lines are written without a record
# only while it is the factory (another one may do more with each record).
installed_factory: list[Any] = [None]
_get_record_factory = logging.getLogRecordFactory
_time = time.time
# `logging`'s own level -> name table (`addLevelName` updates it in place).
_LEVEL_NAMES: dict[int, str] = logging._levelToName  # type: ignore[attr-defined]


def write_plain_line(logger: logging.Logger, level: int, msg: str, args: tuple) -> bool:
    """Write the line a `logger` record of `msg % args` would produce, without making the
    record, when writing that line is all that handling the record would do; else return
    `False` (and the caller makes and handles the record as usual).

    That is the case for Prefect's own logging set-up as it is by default: Prefect's record
    factory, no filters, one logger in the chain with handlers, those handlers being
    `PrefectStreamHandler`s with a plain format (see `UTCFormatter.plain_line`) and handlers
    that say they would skip the record (`skips_record()`, as `CloudHandler` does outside
    backend runs). Any other set-up (a root handler from `logging.basicConfig`, pytest's log
    capture, a filter, a custom format field) gets real records. The caller has checked the
    level against the logger.
    """
    if _get_record_factory() is not installed_factory[0]:
        return False
    handlers = None
    current: Any = logger
    while current:
        if current.filters or current.disabled:
            return False
        if current.handlers:
            if handlers is not None:
                return False
            handlers = current.handlers
        if not current.propagate:
            break
        current = current.parent
    if not handlers:
        return False
    writer: Any = None
    writers: list[Any] = []
    for handler in handlers:
        if level < handler.level:
            continue
        if type(handler) is PrefectStreamHandler and not handler.filters:
            formatter = handler.formatter
            if type(formatter) is not UTCFormatter or not formatter.formats_plain_lines:
                return False
            if writer is None:
                writer = handler
            writers.append(handler)
        elif not getattr(handler, "skips_record", _no)():
            return False
    if writer is None:
        return True  # every handler would skip the record
    for arg in args:
        if type(arg) is not str and isinstance(arg, Mapping):
            return False  # `msg % mapping` style: leave it to the record
    created = _time()
    level_name = _LEVEL_NAMES.get(level) or logging.getLevelName(level)
    # Every line is made before any is written: if one cannot be, a record reports the error
    # through the handlers' `handleError` (and nothing is written twice).
    try:
        message = msg % args if args else msg
        if len(writers) == 1:
            line = writer.formatter.plain_line(created, level, level_name, logger.name, message)
        else:
            lines = [
                handler.formatter.plain_line(created, level, level_name, logger.name, message)
                for handler in writers
            ]
    except RecursionError:
        raise
    except Exception:
        return False
    if len(writers) == 1:  # the usual case: one line for one handler
        lines = [line]
    for handler, line in zip(writers, lines):
        # (`write_line` takes the handler's lock, or leaves the line to its holder.)
        try:
            handler.write_line(line)
        except RecursionError:
            raise
        except Exception:
            handler.handleError(
                logger.makeRecord(logger.name, level, "(unknown file)", 0, msg, args, None)
            )
    return True


def _no() -> bool:
    return False
