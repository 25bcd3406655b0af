"""What the runners use to run things: heartbeats, timeouts and tail recursion.

- Heartbeats: `run_with_heartbeat` wraps a runner method so that, while it runs under a backend,
  the backend keeps hearing that the run is alive (from a thread or a child process, per
  `cloud.heartbeat_mode`). Local runs pay one context lookup and nothing else.
- Timeouts: `run_task_with_timeout` runs a task's `run` with the task's `timeout`, in a child
  process (`run_with_multiprocess_timeout`) or a thread (`run_with_thread_timeout`), and raises
  `TaskTimeoutSignal` when time is up; the task runner turns that into `TimedOut`.
- Tail recursion: `tail_recursive` and `RecursiveCall` let `TaskRunner.run` start over (for
  `LOOP`) without growing the stack.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
import threading
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import prefect
from prefect.exceptions import TaskTimeoutSignal

if TYPE_CHECKING:
    import subprocess
    from multiprocessing.connection import Connection

_logger = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

# How long a timed child process may take to start (import, unpickle) before the timeout
# itself starts counting; a child that needs longer is treated as hung.
_STARTUP_SECONDS = 60.0
_STARTED = "started"


def _context_values() -> dict[str, Any]:
    """A shallow copy of this thread's context, to give to another thread or process."""
    return dict(prefect.context)


def _adopt_context(values: Mapping[str, Any]) -> None:
    """Make `values` the context of the current thread, which we created and own.

    Only for threads and processes started here: they end with the work, so nothing needs
    restoring, and setting the keys directly keeps the caller's `config` object as it is
    (entering `prefect.context(config=...)` would merge it into a copy).
    """
    prefect.context.update(values)


# --- heartbeats ------------------------------------------------------------------------------


def run_with_heartbeat(runner_method: F) -> F:
    """Decorate a runner method to send heartbeats to the backend while it runs.

    Heartbeats are only sent when `prefect.context.running_with_backend` is set. Then
    `cloud.heartbeat_mode` (of the context's config) decides how: `"off"` sends none,
    `"thread"` calls the runner's `_heartbeat()` every `cloud.heartbeat_interval` seconds from a
    thread, and `"process"` (the default) runs `runner.heartbeat_cmd` (or `python -m prefect
    heartbeat flow-run -i <flow_run_id>`) in a child process. Either way the runner's
    `_heartbeat()` is called first, in the calling thread: it sends the first heartbeat and
    returns whether heartbeats are wanted at all.

    Args:
        runner_method: a method of a `FlowRunner` or `TaskRunner`

    Returns:
        the wrapped method
    """

    @functools.wraps(runner_method)
    def inner(self: Any, *args: Any, **kwargs: Any) -> Any:
        # Called once per task run: local runs get one lookup and a plain call.
        if not prefect.context.get("running_with_backend"):
            return runner_method(self, *args, **kwargs)
        with _heartbeat_for(self):
            return runner_method(self, *args, **kwargs)

    return inner  # type: ignore[return-value]


def _heartbeat_for(runner: Any) -> Any:
    """The heartbeat context manager that `run_with_heartbeat` enters for `runner`."""
    config = prefect.context.get("config") or prefect.config
    cloud = config.get("cloud") or {}
    mode = cloud.get("heartbeat_mode", "process")
    if mode == "off":
        return no_heartbeat()
    runner_logger = getattr(runner, "logger", None) or _logger
    beat = getattr(runner, "_heartbeat", None)
    if beat is None:
        return no_heartbeat()
    try:
        wanted = beat()
    except Exception:
        log_heartbeat_failure(runner_logger, prefect.context.get("flow_run_id"))
        wanted = False
    if not wanted:
        return no_heartbeat()
    if mode == "thread":
        return threaded_heartbeat(
            beat, interval=cloud.get("heartbeat_interval", 30.0), logger=runner_logger
        )
    command = getattr(runner, "heartbeat_cmd", None)
    if not command:
        flow_run_id = prefect.context.get("flow_run_id")
        if not flow_run_id:
            return no_heartbeat()
        command = [sys.executable, "-m", "prefect", "heartbeat", "flow-run", "-i", flow_run_id]
    return subprocess_heartbeat(command, logger=runner_logger)


@contextmanager
def no_heartbeat() -> Iterator[None]:
    """A context manager that sends no heartbeats (`cloud.heartbeat_mode = "off"`).

    Yields:
        None
    """
    yield


class HeartbeatThread(threading.Thread):
    """A daemon thread that calls `heartbeat()` every `interval` seconds until stopped.

    The thread runs with a copy of the context of the thread that created it, so the
    heartbeat sees the same `flow_run_id` and config. A failing heartbeat is logged and the
    next one is tried as usual.

    Args:
        stop_event: set it to stop the thread (the wait between beats ends at once)
        heartbeat: the function sending one heartbeat
        interval: seconds between heartbeats
        logger: where failures are logged; the module's logger by default
        first_beat_after: seconds before the first heartbeat; `interval` by default
        num: stop after this many heartbeats; `None` for no limit
    """

    def __init__(
        self,
        stop_event: threading.Event,
        heartbeat: Callable[[], Any],
        interval: float,
        logger: logging.Logger | None = None,
        first_beat_after: float | None = None,
        num: int | None = None,
    ) -> None:
        super().__init__(name="PrefectHeartbeat", daemon=True)
        self.stop_event = stop_event
        self.heartbeat = heartbeat
        self.interval = interval
        self.logger = logger or _logger
        self.first_beat_after = interval if first_beat_after is None else first_beat_after
        self.num = num
        self.beats = 0
        self._context = _context_values()

    def run(self) -> None:
        """Send heartbeats until the stop event is set (or `num` have been sent)."""
        _adopt_context(self._context)
        wait = self.first_beat_after
        while not self.stop_event.wait(wait):
            try:
                self.heartbeat()
            except Exception:
                log_heartbeat_failure(self.logger, prefect.context.get("flow_run_id"))
            self.beats += 1
            if self.num is not None and self.beats >= self.num:
                return
            wait = self.interval


@contextmanager
def threaded_heartbeat(
    heartbeat: Callable[[], Any],
    interval: float = 30.0,
    logger: logging.Logger | None = None,
) -> Iterator[HeartbeatThread]:
    """Call `heartbeat()` from a `HeartbeatThread` every `interval` seconds inside the block.

    The thread is told to stop when the block ends; it is not waited for (a heartbeat in
    flight finishes on its own), so the block never waits on the network.

    Args:
        heartbeat: the function sending one heartbeat
        interval: seconds between heartbeats
        logger: where failures are logged

    Yields:
        the running thread
    """
    stop_event = threading.Event()
    thread = HeartbeatThread(stop_event, heartbeat, interval, logger=logger)
    thread.start()
    try:
        yield thread
    finally:
        stop_event.set()


def _heartbeat_environment() -> dict[str, str]:
    """The environment of a heartbeat process: ours, plus what it needs to reach the backend."""
    env = dict(os.environ)
    config = prefect.context.get("config") or prefect.config
    cloud = config.get("cloud") or {}
    settings = {
        "PREFECT__BACKEND": config.get("backend"),
        "PREFECT__CLOUD__API": cloud.get("api"),
        "PREFECT__CLOUD__API_KEY": cloud.get("api_key"),
        "PREFECT__CLOUD__TENANT_ID": cloud.get("tenant_id"),
        "PREFECT__CLOUD__HEARTBEAT_INTERVAL": cloud.get("heartbeat_interval"),
    }
    for key, value in settings.items():
        if value not in (None, ""):
            env[key] = str(value)
    return env


@contextmanager
def subprocess_heartbeat(
    heartbeat_cmd: list[str], logger: logging.Logger | None = None
) -> Iterator[subprocess.Popen]:
    """Run `heartbeat_cmd` in a child process for the duration of the block, then kill it.

    The child gets this process's environment plus the backend settings of the current config
    (`PREFECT__BACKEND`, `PREFECT__CLOUD__API`, ...). Its output is discarded; if it has already
    exited with an error when the block ends, a warning says so.

    Args:
        heartbeat_cmd: the command, e.g. `["python", "-m", "prefect", "heartbeat", "flow-run",
            "-i", flow_run_id]`
        logger: where a failed heartbeat process is reported

    Yields:
        the child process
    """
    import subprocess

    log = logger or _logger
    process = subprocess.Popen(
        heartbeat_cmd,
        env=_heartbeat_environment(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield process
    finally:
        exit_code = process.poll()
        if exit_code is None:
            process.kill()
            process.wait()
        elif exit_code != 0:
            log.warning(
                "The heartbeat process %s exited with code %s; no heartbeats were sent after "
                "that. Check that `%s` runs in this environment.",
                process.pid,
                exit_code,
                " ".join(heartbeat_cmd),
            )


def send_heartbeat(
    flow_run_id: str,
    num: int | None = None,
    interval: float | None = None,
    stop_event: threading.Event | None = None,
    logger: logging.Logger | None = None,
    client: Any = None,
) -> int:
    """Send flow-run heartbeats to the backend: at once, then every `interval` seconds.

    This is the loop of `prefect heartbeat flow-run`. Failures are logged and do not stop it.

    Args:
        flow_run_id: the flow run that is alive
        num: how many heartbeats to send; `None` to go on until `stop_event` is set
        interval: seconds between heartbeats; `cloud.heartbeat_interval` by default
        stop_event: ends the loop when set
        logger: where failures are logged
        client: the `prefect.Client` to use; a new one by default

    Returns:
        the number of heartbeats attempted
    """
    if client is None:
        client = prefect.Client()
    if interval is None:
        interval = float(prefect.config.cloud.heartbeat_interval)
    stop = stop_event or threading.Event()
    log = logger or _logger
    sent = 0
    while True:
        try:
            client.update_flow_run_heartbeat(flow_run_id)
        except Exception:
            log_heartbeat_failure(log, flow_run_id)
        sent += 1
        if num is not None and sent >= num:
            return sent
        if stop.wait(interval):
            return sent


def log_heartbeat_failure(
    logger: logging.Logger | None = None, flow_run_id: str | None = None
) -> None:
    """Log the exception being handled as a failed heartbeat (the run itself goes on).

    Args:
        logger: the logger to use; the module's logger by default
        flow_run_id: the run whose heartbeat failed, if known
    """
    log = logger or _logger
    run = f" for flow run {flow_run_id!r}" if flow_run_id else ""
    log.error(
        "Failed to send a heartbeat%s; the backend may mark the run as a zombie if this goes "
        "on. Retrying at the next interval.",
        run,
        exc_info=True,
    )


# --- timeouts --------------------------------------------------------------------------------


def _stop_thread(thread: threading.Thread) -> bool:
    """Ask `thread` to raise `TaskTimeoutSignal` at its next Python instruction.

    Best effort: a thread blocked in C code (a long `time.sleep`, a socket read) only notices
    when that call returns.

    Returns:
        whether the request was delivered to exactly one thread
    """
    import ctypes

    ident = thread.ident
    if ident is None or not thread.is_alive():
        return False
    set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
    modified = set_async_exc(ctypes.c_ulong(ident), ctypes.py_object(TaskTimeoutSignal))
    if modified > 1:  # cannot happen for a live ident; undo rather than hit other threads
        set_async_exc(ctypes.c_ulong(ident), None)
        return False
    return modified == 1


def run_with_thread_timeout(
    fn: Callable,
    args: tuple = (),
    kwargs: Mapping[str, Any] | None = None,
    timeout: float | None = None,
    logger: logging.Logger | None = None,
    name: str | None = None,
) -> Any:
    """Call `fn(*args, **kwargs)` in a daemon thread, giving up after `timeout` seconds.

    The thread runs with a copy of the caller's context. On timeout the thread is asked to
    stop (it receives `TaskTimeoutSignal` at its next Python instruction, if it gets there) and
    `TaskTimeoutSignal` is raised here; the thread may go on running until then. Exceptions of
    `fn` are raised here as they are.

    Args:
        fn: the function to call
        args: positional arguments for `fn`
        kwargs: keyword arguments for `fn`
        timeout: seconds to wait; `None` calls `fn` directly, in this thread
        logger: where the timeout is logged (at debug level)
        name: how `fn` is named in messages, e.g. `"Task 'load'"`

    Returns:
        what `fn` returned

    Raises:
        TaskTimeoutSignal: `fn` did not finish in time.
    """
    call_kwargs = kwargs or {}
    if timeout is None:
        return fn(*args, **call_kwargs)
    log = logger or _logger
    label = name or f"Function {getattr(fn, '__name__', repr(fn))!r}"
    context_values = _context_values()
    outcome: list[Any] = []
    finished = threading.Lock()

    def target() -> None:
        try:
            _adopt_context(context_values)
            try:
                outcome.append((True, fn(*args, **call_kwargs)))
            except BaseException as exc:
                outcome.append((False, exc))
            finally:
                finished.acquire()
        except TaskTimeoutSignal:
            pass  # the stop request arrived as `fn` was ending: the caller has moved on

    thread = threading.Thread(target=target, name=f"PrefectTimeout-{label}", daemon=True)
    thread.start()
    thread.join(timeout)
    # Holding `finished` until the stop request is sent means it can only land while `fn`
    # is still running, never after the thread has handed back its outcome.
    if finished.acquire(blocking=False):
        log.debug("%s: execution timed out after %s seconds; stopping its thread.", label, timeout)
        _stop_thread(thread)
        finished.release()
        raise TaskTimeoutSignal(f"{label} timed out after {timeout} seconds.")
    thread.join()
    succeeded, value = outcome[0]
    if succeeded:
        return value
    raise value


def multiprocessing_safe_run_and_retrieve(queue: Any, payload: bytes) -> None:
    """The body of the child process started by `run_with_multiprocess_timeout`.

    Unpickles the request, adopts the caller's context, tells the parent it is starting,
    calls the function, and sends back the pickled outcome: `("ok", value)`, or `("error",
    exception, formatted traceback)`. An outcome that cannot be pickled is replaced by a
    `RuntimeError` saying why.

    Args:
        queue: where messages go: a `multiprocessing` connection (`send`) or queue (`put`)
        payload: a cloudpickled dict with `fn`, `args`, `kwargs`, `context` and `name`
    """
    import cloudpickle

    send = queue.put if hasattr(queue, "put") else queue.send
    outcome: tuple[Any, ...]
    try:
        request = cloudpickle.loads(payload)
        _adopt_context(request["context"])
        send(_STARTED)
        try:
            outcome = ("ok", request["fn"](*request["args"], **request["kwargs"]))
        except BaseException as exc:
            outcome = ("error", exc, traceback.format_exc())
    except BaseException as exc:  # the request itself could not be read
        send(_STARTED)
        outcome = ("error", exc, traceback.format_exc())
    try:
        message = cloudpickle.dumps(outcome)
    except Exception as exc:
        kind = "result" if outcome[0] == "ok" else "exception"
        problem = RuntimeError(
            f"The {kind} of type {type(outcome[1]).__name__!r} could not be sent back from the "
            f"timeout's child process because it cannot be pickled ({exc}). Return a "
            "picklable value, or run timeouts in a thread (context "
            "`task_run_timeout_mode='thread'`)."
        )
        message = cloudpickle.dumps(("error", problem, "".join(traceback.format_exception(exc))))
    send(message)


def run_with_multiprocess_timeout(
    fn: Callable,
    args: tuple = (),
    kwargs: Mapping[str, Any] | None = None,
    timeout: float | None = None,
    logger: logging.Logger | None = None,
    name: str | None = None,
) -> Any:
    """Call `fn(*args, **kwargs)` in a child process, killing it after `timeout` seconds.

    `fn`, its arguments and the caller's context go to the child with cloudpickle (context
    values that cannot be pickled are left behind; a forked child has them anyway), and the
    result or exception comes back the same way; changes `fn` makes to objects in memory stay
    in the child. The timeout counts
    from when `fn` is called, not from when the process is started.

    Args:
        fn: the function to call
        args: positional arguments for `fn`
        kwargs: keyword arguments for `fn`
        timeout: seconds to wait; `None` calls `fn` directly, in this process
        logger: where the timeout is logged (at debug level)
        name: how `fn` is named in messages, e.g. `"Task 'load'"`

    Returns:
        what `fn` returned

    Raises:
        TaskTimeoutSignal: `fn` did not finish in time.
        RuntimeError: the child process died without sending an outcome.
    """
    call_kwargs = dict(kwargs or {})
    if timeout is None:
        return fn(*args, **call_kwargs)
    import multiprocessing

    import cloudpickle

    log = logger or _logger
    label = name or f"Function {getattr(fn, '__name__', repr(fn))!r}"
    request = {"fn": fn, "args": tuple(args), "kwargs": call_kwargs}
    try:
        payload = cloudpickle.dumps({**request, "context": _picklable_context()})
    except Exception as exc:
        raise RuntimeError(
            f"{label} runs in a child process to enforce its timeout, but it or its arguments "
            f"cannot be pickled ({exc}). Make them picklable, or run timeouts in a thread "
            "(context `task_run_timeout_mode='thread'`)."
        ) from exc
    mp_context = multiprocessing.get_context()
    reader, writer = mp_context.Pipe(duplex=False)
    process = mp_context.Process(
        target=multiprocessing_safe_run_and_retrieve,
        args=(writer, payload),
        name=f"PrefectTimeout-{label}",
    )
    log.debug("%s: running in a child process with a timeout of %s seconds.", label, timeout)
    process.start()
    writer.close()  # the child holds the only writer: its death shows as end of file
    try:
        if not reader.poll(max(_STARTUP_SECONDS, timeout)):
            raise TaskTimeoutSignal(
                f"{label}: its child process did not start within {_STARTUP_SECONDS} seconds."
            )
        _receive(reader, process, label)  # the start message
        if not reader.poll(timeout):
            log.debug("%s: execution timed out after %s seconds; stopping it.", label, timeout)
            raise TaskTimeoutSignal(f"{label} timed out after {timeout} seconds.")
        outcome = cloudpickle.loads(_receive(reader, process, label))
    finally:
        if process.is_alive():
            process.terminate()
            process.join(1)
            if process.is_alive():
                process.kill()
        process.join()
        reader.close()
    if outcome[0] == "ok":
        return outcome[1]
    error: BaseException = outcome[1]
    if isinstance(error, Exception) and hasattr(error, "add_note"):
        # The traceback object stayed in the child; its text is the next best thing.
        error.add_note(f"Raised in the child process that ran {label}:\n{outcome[2]}")
    raise error


def _receive(reader: Connection, process: Any, label: str) -> Any:
    try:
        return reader.recv()
    except EOFError:
        process.join(1)
        raise RuntimeError(
            f"{label}: its child process exited (code {process.exitcode}) without sending back "
            "a result."
        ) from None


def _picklable_context() -> dict[str, Any]:
    """The context values that cloudpickle can ship (one try for all, then one per key)."""
    import cloudpickle

    values = _context_values()
    try:
        cloudpickle.dumps(values)
    except Exception:
        kept: dict[str, Any] = {}
        for key, value in values.items():
            try:
                cloudpickle.dumps(value)
            except Exception:
                _logger.debug("Context key %r cannot be pickled; the child will not see it.", key)
            else:
                kept[key] = value
        return kept
    return values


def run_task_with_timeout(
    task: Any,
    args: tuple = (),
    kwargs: Mapping[str, Any] | None = None,
    logger: logging.Logger | None = None,
) -> Any:
    """Run `task.run(*args, **kwargs)`, within `task.timeout` seconds if it has one.

    A timed run happens in a child process, or in a thread when that is not possible or not
    wanted: in a daemonic process (such as a Dask worker, which cannot start children), on
    Windows, or when `prefect.context.task_run_timeout_mode` is `"thread"`.

    Args:
        task: the task to run
        args: positional arguments for `task.run`
        kwargs: keyword arguments for `task.run`
        logger: where the timeout is logged

    Returns:
        what `task.run` returned

    Raises:
        TaskTimeoutSignal: the run did not finish within `task.timeout` seconds.
    """
    call_kwargs = kwargs or {}
    timeout = task.timeout
    if timeout is None:
        return task.run(*args, **call_kwargs)
    name = f"Task '{task.name}'"
    if _timeouts_use_threads():
        return run_with_thread_timeout(task.run, args, call_kwargs, timeout, logger, name)
    return run_with_multiprocess_timeout(task.run, args, call_kwargs, timeout, logger, name)


def _timeouts_use_threads() -> bool:
    mode = prefect.context.get("task_run_timeout_mode")
    if mode == "thread":
        return True
    if mode == "process":
        return False
    import multiprocessing

    return sys.platform == "win32" or bool(multiprocessing.current_process().daemon)


# --- tail recursion --------------------------------------------------------------------------


class RecursiveCall(Exception):
    """Raised to replace the current call of a `tail_recursive` function by a new one.

    Args:
        func: the function to call next (usually the `tail_recursive` function itself; pass
            `self` among `args` for a method)
        *args: its positional arguments
        **kwargs: its keyword arguments
    """

    def __init__(self, func: Callable, *args: Any, **kwargs: Any) -> None:
        super().__init__(func, *args)
        self.func = func
        self.args = args
        self.kwargs = kwargs

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_recursive_call, (self.func, self.args, self.kwargs))


def _rebuild_recursive_call(func: Callable, args: tuple, kwargs: dict) -> RecursiveCall:
    return RecursiveCall(func, *args, **kwargs)


def tail_recursive(func: F) -> F:
    """Decorate `func` so that raising `RecursiveCall` inside it starts a new call in a loop.

    `raise RecursiveCall(func, *args, **kwargs)` ends the current call and calls `func(*args,
    **kwargs)` in its place, at the same stack depth; the first call that returns (or raises
    anything else) ends the loop. The next function is usually `func` itself; a method passes
    `self` first (`raise RecursiveCall(self.run, self, state=...)`).

    Args:
        func: the function to decorate

    Returns:
        the decorated function
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        call: Callable = func
        while True:
            try:
                return call(*args, **kwargs) if kwargs else call(*args)
            except RecursiveCall as recursion:
                # Bound methods forward attribute lookups to their function, so `self.run`
                # leads back to the undecorated function; plain callables are called as given.
                call = getattr(recursion.func, "__wrapped_func__", recursion.func)
                args, kwargs = recursion.args, recursion.kwargs

    wrapper.__wrapped_func__ = func  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


# The mapping helpers live with the flow runner's other mapping code (re-exported: 1.x home).
from prefect.utilities._mapping import (  # noqa: E402
    flatten_mapped_children as flatten_mapped_children,
)
from prefect.utilities._mapping import (  # noqa: E402
    flatten_upstream_state as flatten_upstream_state,
)
from prefect.utilities._mapping import (  # noqa: E402
    prepare_upstream_states_for_mapping as prepare_upstream_states_for_mapping,
)
