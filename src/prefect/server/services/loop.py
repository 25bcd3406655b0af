"""The base class of the server's periodic services (protocol §7): a loop run as an asyncio task.

A service overrides `run_once()`. `start()` reads the interval from
`server.services.<config_key>.loop_seconds` (or 1 s when `PREFECT__LOOP_SERVICE__DEBUG_MODE` is
set) and starts the loop; `stop()` ends it. Each iteration starts `loop_seconds` after the previous
one started, or immediately when the previous one overran (logged once per streak of slow
iterations). An iteration that raises is logged and
the loop carries on: a service must survive a bad row or a database hiccup.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import os
from typing import ClassVar

import prefect
from prefect.server.database.engine import Database
from prefect.server.database.models import utcnow

__all__ = ["DEBUG_MODE_ENV_VAR", "LoopService"]

logger = logging.getLogger(__name__)

DEBUG_MODE_ENV_VAR = "PREFECT__LOOP_SERVICE__DEBUG_MODE"

# Interval used by every service while the debug-mode variable is set (protocol §7).
_DEBUG_LOOP_SECONDS = 1.0

# Values of the debug-mode variable that do not count as "set" (an explicit off switch).
_FALSE_VALUES = frozenset({"", "0", "false", "no", "off"})


def is_debug_mode() -> bool:
    """Whether `PREFECT__LOOP_SERVICE__DEBUG_MODE` is set to anything but an explicit false."""
    value = os.environ.get(DEBUG_MODE_ENV_VAR)
    return value is not None and value.strip().lower() not in _FALSE_VALUES


class LoopService:
    """A periodic service: `run_once()` every `loop_seconds`, as one asyncio task.

    Args:
        db: the server's database.
        loop_seconds: the interval; when omitted it is read from the config at `start()`.

    Subclasses set `name` and `config_key` and override `run_once()`.
    """

    name: ClassVar[str] = "LoopService"
    # The section under `server.services` holding `enabled` and `loop_seconds`.
    config_key: ClassVar[str] = ""
    # Interval used when the config has no `loop_seconds` for this service.
    default_loop_seconds: ClassVar[float] = 60.0
    # The status line ("N iterations, M failed") is logged at most this often, and never more
    # than once per iteration, so a 1-second debug loop does not flood the log.
    status_seconds: ClassVar[float] = 600.0
    # How long `stop()` lets a running iteration finish before cancelling it.
    stop_grace_seconds: ClassVar[float] = 5.0

    def __init__(self, db: Database, *, loop_seconds: float | None = None) -> None:
        self.db = db
        self._loop_seconds_override = loop_seconds
        self.loop_seconds: float = (
            loop_seconds if loop_seconds is not None else self.default_loop_seconds
        )
        # When `start()` last ran (UTC); None for a service driven by calling `run_once()`.
        self.started_at: datetime.datetime | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping: asyncio.Event | None = None
        self.iterations = 0
        self.failures = 0
        self._status_iterations = 0
        self._status_failures = 0
        self._status_slowest = 0.0
        self._last_status: float | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(loop_seconds={self.loop_seconds})"

    @property
    def is_running(self) -> bool:
        """Whether the loop task exists and has not finished."""
        return self._task is not None and not self._task.done()

    @property
    def is_stopping(self) -> bool:
        """Whether `stop()` was called: long passes check it between items and return early."""
        return self._stopping is not None and self._stopping.is_set()

    @classmethod
    def is_enabled(cls) -> bool:
        """Whether `server.services.<config_key>.enabled` is true (true when not configured)."""
        section = _service_config(cls.config_key)
        return bool(section.get("enabled", True))

    def read_loop_seconds(self) -> float:
        """The interval: the constructor's value, else 1 s in debug mode, else the config's."""
        if self._loop_seconds_override is not None:
            return float(self._loop_seconds_override)
        if is_debug_mode():
            return _DEBUG_LOOP_SECONDS
        value = _service_config(self.config_key).get("loop_seconds")
        if value is None:
            return float(self.default_loop_seconds)
        return float(value)

    def has_been_running_since(self, moment: datetime.datetime) -> bool:
        """Whether the service (and so the server) was already up at `moment`.

        The heartbeat services use it so that a server restart does not pass judgement on runs
        whose heartbeats simply could not arrive while the server was down. A service driven by
        calling `run_once()` directly (never started) counts as always up.
        """
        return self.started_at is None or self.started_at <= moment

    async def run_once(self) -> None:
        """One pass of the service's work. Subclasses override this."""
        raise NotImplementedError

    async def start(self) -> None:
        """Read the interval and start the loop as a background task (no-op if running)."""
        if self.is_running:
            return
        self.loop_seconds = self.read_loop_seconds()
        self.started_at = utcnow()
        self._stopping = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name=f"prefect-server-{self.name}")
        logger.info("%s started (every %s s).", self.name, _seconds(self.loop_seconds))

    async def stop(self) -> None:
        """End the loop: a sleeping loop ends at once; a running iteration gets a short grace
        period to finish (so its transaction is not cut in half), then is cancelled."""
        task = self._task
        if task is None:
            return
        if self._stopping is not None:
            self._stopping.set()
        if not task.done():
            await asyncio.wait({task}, timeout=self.stop_grace_seconds)
        if not task.done():
            task.cancel()
            await asyncio.wait({task})
        self._task = None
        if not task.cancelled() and task.exception() is not None:
            logger.error("%s ended with an error.", self.name, exc_info=task.exception())
        logger.info("%s stopped.", self.name)

    async def _run(self) -> None:
        assert self._stopping is not None
        stopping = self._stopping
        clock = asyncio.get_running_loop().time
        overrunning = False
        while not stopping.is_set():
            started = clock()
            await self._run_iteration()
            elapsed = clock() - started
            self._record(elapsed)
            if elapsed > self.loop_seconds:
                # Warn once per streak of slow iterations; a service that is always slow
                # would otherwise log on every pass.
                log = logger.debug if overrunning else logger.warning
                log(
                    "%s: an iteration took %.2f s, longer than its %s s interval; "
                    "starting the next one now.",
                    self.name,
                    elapsed,
                    _seconds(self.loop_seconds),
                )
                overrunning = True
            else:
                overrunning = False
            self._maybe_log_status(clock())
            delay = started + self.loop_seconds - clock()
            if delay > 0:
                try:
                    await asyncio.wait_for(stopping.wait(), delay)
                except asyncio.TimeoutError:
                    pass
            else:
                # Overran: start again at once, but let other tasks (and stop()) in first.
                await asyncio.sleep(0)

    async def _run_iteration(self) -> None:
        self.iterations += 1
        try:
            await self.run_once()
        except Exception:
            self.failures += 1
            self._status_failures += 1
            logger.exception("%s: an iteration failed; the loop continues.", self.name)

    def _record(self, elapsed: float) -> None:
        self._status_iterations += 1
        self._status_slowest = max(self._status_slowest, elapsed)

    def _maybe_log_status(self, now: float) -> None:
        if self._last_status is None:
            self._last_status = now
            return
        if now - self._last_status < max(self.status_seconds, self.loop_seconds):
            return
        logger.info(
            "%s: %d iterations in the last %.0f s, %d failed, slowest %.2f s.",
            self.name,
            self._status_iterations,
            now - self._last_status,
            self._status_failures,
            self._status_slowest,
        )
        self._last_status = now
        self._status_iterations = 0
        self._status_failures = 0
        self._status_slowest = 0.0


def _service_config(key: str) -> dict:
    services = prefect.config.get("server", {}).get("services", {}) or {}
    section = services.get(key) if key else None
    return section if isinstance(section, dict) else {}


def _seconds(value: float) -> str:
    return f"{value:g}"
