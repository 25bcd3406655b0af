"""Watching a backend flow run for cancellation while its tasks run.

`CancellationWatcher` reads the run's state from a thread every `interval` seconds, and once
more when its block ends. When the state is `Cancelling` it sets `cancelled` and, if the block
runs in the main thread, interrupts it (`KeyboardInterrupt`, through a real SIGINT so that a
blocking call returns), which stops a task in the middle of its work. The interrupt is only sent while the block is still running: a lock orders it
against the block's end, so it never lands in code after the block.
"""

from __future__ import annotations

import _thread
import logging
import signal
import threading
from types import TracebackType
from typing import Any, Callable

import prefect
from prefect.engine.state import Cancelling, State

__all__ = ["CancellationWatcher"]

_logger = logging.getLogger(__name__)


def _interrupt_main_thread() -> None:
    """Raise `KeyboardInterrupt` in the main thread, waking it from a blocking call.

    `_thread.interrupt_main` alone only takes effect when the main thread next runs Python
    code, so a task blocked in `time.sleep` or on a socket would finish first. A real SIGINT
    sent to the main thread interrupts the call; it is only sent while Python's own handler
    is installed (with SIG_DFL it would kill the process, with SIG_IGN do nothing).
    """
    if hasattr(signal, "pthread_kill") and signal.getsignal(signal.SIGINT) is (
        signal.default_int_handler
    ):
        signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)  # type: ignore[arg-type]
    else:
        _thread.interrupt_main()


class CancellationWatcher:
    """A context manager: inside its block a thread polls `read_state()` for `Cancelling`.

    Args:
        read_state: returns the flow run's current state (from the backend)
        interval: seconds between polls
        logger: where failed polls are reported
    """

    def __init__(
        self,
        read_state: Callable[[], State],
        interval: float,
        logger: logging.Logger | None = None,
    ) -> None:
        self.read_state = read_state
        self.interval = interval
        self.logger = logger or _logger
        self.cancelled = False
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._interrupt_main = threading.current_thread() is threading.main_thread()
        self._context: dict[str, Any] = dict(prefect.context)
        self._thread = threading.Thread(
            target=self._watch, name="PrefectCancellationWatcher", daemon=True
        )

    def __enter__(self) -> CancellationWatcher:
        self._interrupt_main = threading.current_thread() is threading.main_thread()
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            with self._lock:
                self._done.set()
        finally:
            # (An interrupt sent just before may surface here: the caller catches it.)
            self._done.set()
            self._thread.join()

    def _watch(self) -> None:
        prefect.context.update(self._context)
        while True:
            exiting = self._done.wait(self.interval)
            try:
                state = self.read_state()
            except Exception:
                self.logger.warning("Error checking the flow run state", exc_info=True)
                if exiting:
                    return
                continue
            if isinstance(state, Cancelling):
                self.logger.info("Flow run has been cancelled, cancelling active tasks")
                with self._lock:
                    self.cancelled = True
                    if self._interrupt_main and not self._done.is_set():
                        _interrupt_main_thread()
                return
            if not state.is_running():
                self.logger.warning(
                    "Flow run is no longer in a running state; the current state is: %r", state
                )
            if exiting:
                return
