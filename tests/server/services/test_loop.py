"""Tests of `LoopService`, the base of the server's periodic services: interval, errors, stop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import pytest

import prefect
from prefect.server.services.loop import DEBUG_MODE_ENV_VAR, LoopService

LOOP_LOGGER = "prefect.server.services.loop"


async def wait_until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    """Poll `condition` until it holds; fail after `timeout` seconds (generous: it only matters
    when the test fails anyway)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not met before the deadline")
        await asyncio.sleep(0.01)


class Recorder(LoopService):
    """A service that records when each iteration started and can be told to fail or block."""

    name = "Recorder"
    config_key = "recorder"

    def __init__(self, loop_seconds: float | None = 0.05, *, duration: float = 0.0) -> None:
        super().__init__(db=None, loop_seconds=loop_seconds)  # type: ignore[arg-type]
        self.duration = duration
        self.starts: list[float] = []
        self.ends: list[float] = []
        self.completed = 0
        self.cancelled = False
        self.fail_on: set[int] = set()
        self.block = False

    async def run_once(self) -> None:
        self.starts.append(asyncio.get_running_loop().time())
        number = len(self.starts)
        try:
            if self.block:
                await asyncio.Event().wait()
            if self.duration:
                await asyncio.sleep(self.duration)
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        self.ends.append(asyncio.get_running_loop().time())
        if number in self.fail_on:
            raise RuntimeError(f"iteration {number} exploded")
        self.completed += 1


async def test_loop_runs_repeatedly_until_stopped():
    service = Recorder(loop_seconds=0.05)
    await service.start()
    try:
        assert service.is_running
        await wait_until(lambda: len(service.starts) >= 3)
    finally:
        await service.stop()
    assert not service.is_running
    count = len(service.starts)
    await asyncio.sleep(0.15)
    assert len(service.starts) == count


async def test_iterations_start_one_interval_apart():
    service = Recorder(loop_seconds=0.4, duration=0.3)
    await service.start()
    try:
        await wait_until(lambda: len(service.starts) >= 3)
    finally:
        await service.stop()
    gaps = [b - a for a, b in zip(service.starts, service.starts[1:])]
    # Measured from start to start: the 0.3 s of work is not added to the interval (0.7 s).
    # A late wake-up on a loaded machine lengthens a gap: one of them must still be short.
    assert all(gap >= 0.395 for gap in gaps), gaps
    assert min(gaps) < 0.65, gaps


async def test_overrunning_iterations_follow_at_once_and_are_logged_once(caplog):
    caplog.set_level(logging.WARNING, logger=LOOP_LOGGER)
    service = Recorder(loop_seconds=0.3, duration=0.35)
    await service.start()
    try:
        await wait_until(lambda: len(service.starts) >= 3)
    finally:
        await service.stop()
    gaps = [b - a for a, b in zip(service.starts, service.starts[1:])]
    assert all(gap >= 0.35 for gap in gaps), gaps
    # From the end of an overrunning iteration to the start of the next: one turn of the event
    # loop. Had it waited a full interval after each overrun, this would be 0.3 s.
    idle = [start - end for end, start in zip(service.ends, service.starts[1:])]
    assert all(pause < 0.2 for pause in idle[:2]), idle
    slow = [r for r in caplog.records if "longer than its 0.3 s interval" in r.getMessage()]
    assert len(slow) == 1
    assert "Recorder" in slow[0].getMessage()


async def test_loop_survives_an_exception_and_logs_it(caplog):
    caplog.set_level(logging.ERROR, logger=LOOP_LOGGER)
    service = Recorder(loop_seconds=0.02)
    service.fail_on = {1}
    await service.start()
    try:
        await wait_until(lambda: service.completed >= 2)
    finally:
        await service.stop()
    assert service.failures == 1
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "Recorder: an iteration failed" in errors[0].getMessage()
    assert errors[0].exc_info is not None
    assert "iteration 1 exploded" in str(errors[0].exc_info[1])


async def test_stop_while_sleeping_returns_promptly():
    service = Recorder(loop_seconds=60)
    # Neither the 60 s sleep nor a grace period may delay the stop.
    service.stop_grace_seconds = 60  # type: ignore[misc]
    await service.start()
    await wait_until(lambda: service.completed == 1)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await service.stop()
    assert loop.time() - started < 10
    assert not service.is_running
    assert len(service.starts) == 1


async def test_stop_lets_a_running_iteration_finish_within_the_grace_period():
    service = Recorder(loop_seconds=60, duration=0.2)
    await service.start()
    await wait_until(lambda: len(service.starts) == 1)
    await service.stop()
    assert service.completed == 1
    assert not service.cancelled


async def test_stop_cancels_an_iteration_that_outlasts_the_grace_period():
    service = Recorder(loop_seconds=60)
    service.block = True
    service.stop_grace_seconds = 0.05  # type: ignore[misc]
    await service.start()
    await wait_until(lambda: len(service.starts) == 1)
    await service.stop()
    assert service.cancelled
    assert service.completed == 0
    assert not service.is_running


async def test_stop_before_start_and_twice_is_harmless():
    service = Recorder()
    await service.stop()
    await service.start()
    await service.stop()
    await service.stop()
    assert not service.is_running


async def test_status_line_is_rate_limited(caplog):
    caplog.set_level(logging.INFO, logger=LOOP_LOGGER)
    service = Recorder(loop_seconds=0.02)
    service.status_seconds = 0.1  # type: ignore[misc]
    await service.start()
    try:
        await wait_until(lambda: len(service.starts) >= 12)
    finally:
        await service.stop()
    status = [r for r in caplog.records if "iterations in the last" in r.getMessage()]
    assert status
    # At most one status line per 0.1 s (the first one 0.1 s after the first iteration), not one
    # per 0.02 s iteration: measured against the time the iterations really took, which a loaded
    # machine stretches.
    span = service.starts[-1] - service.starts[0]
    assert len(status) <= span / 0.1 + 1, (len(status), len(service.starts), span)


def test_loop_seconds_come_from_the_service_config(monkeypatch):
    monkeypatch.setitem(prefect.config.server.services, "recorder", {"loop_seconds": 7})
    assert Recorder(loop_seconds=None).read_loop_seconds() == 7.0


def test_constructor_loop_seconds_win_over_the_config(monkeypatch):
    monkeypatch.setitem(prefect.config.server.services, "recorder", {"loop_seconds": 7})
    assert Recorder(loop_seconds=0.5).read_loop_seconds() == 0.5


def test_default_loop_seconds_when_not_configured():
    assert Recorder(loop_seconds=None).read_loop_seconds() == LoopService.default_loop_seconds


@pytest.mark.parametrize("value", ["1", "true", "yes"])
def test_debug_mode_shortens_the_interval_to_one_second(monkeypatch, value):
    monkeypatch.setenv(DEBUG_MODE_ENV_VAR, value)
    monkeypatch.setitem(prefect.config.server.services.scheduler, "loop_seconds", 150)
    from prefect.server.services import Scheduler

    assert Scheduler(db=None).read_loop_seconds() == 1.0  # type: ignore[arg-type]


def test_debug_mode_off_values_keep_the_configured_interval(monkeypatch):
    monkeypatch.setenv(DEBUG_MODE_ENV_VAR, "false")
    monkeypatch.setitem(prefect.config.server.services.scheduler, "loop_seconds", 150)
    from prefect.server.services import Scheduler

    assert Scheduler(db=None).read_loop_seconds() == 150.0  # type: ignore[arg-type]


async def test_start_reads_the_interval_from_config(monkeypatch):
    monkeypatch.setitem(prefect.config.server.services, "recorder", {"loop_seconds": 0.05})
    service = Recorder(loop_seconds=None)
    await service.start()
    try:
        assert service.loop_seconds == 0.05
        await wait_until(lambda: len(service.starts) >= 2)
    finally:
        await service.stop()


async def test_run_once_of_the_base_class_is_abstract():
    with pytest.raises(NotImplementedError):
        await LoopService(db=None).run_once()  # type: ignore[arg-type]


async def test_started_at_is_recorded_by_start():
    from prefect.server.database.models import utcnow

    service = Recorder(loop_seconds=60)
    assert service.started_at is None
    assert service.has_been_running_since(utcnow())
    before = utcnow()
    await service.start()
    try:
        assert service.started_at is not None and service.started_at >= before
        assert not service.has_been_running_since(before)
        assert service.has_been_running_since(utcnow())
    finally:
        await service.stop()
