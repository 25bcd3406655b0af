"""`CancellationWatcher`: polls a run's state; `Cancelling` interrupts the main thread (only
while the block runs) or is noticed by the final check when the block ends."""

from __future__ import annotations

import threading
import time

import pytest

from prefect.engine.cloud._cancellation import CancellationWatcher
from prefect.engine.state import Cancelling, Running

pytestmark = pytest.mark.timeout(30)


def test_cancelling_interrupts_a_blocked_main_thread():
    reads: list[int] = []

    def read_state():
        reads.append(1)
        return Cancelling() if len(reads) >= 2 else Running()

    watcher = CancellationWatcher(read_state, interval=0.05)
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        with watcher:
            time.sleep(20)
    assert watcher.cancelled
    assert time.monotonic() - started < 10


def test_the_final_check_sees_a_cancellation_at_the_end_of_the_block():
    states = iter([Running()] * 1000)
    watcher = CancellationWatcher(lambda: next(states), interval=60)
    with watcher:
        states = iter([Cancelling()])
    # One read, at exit: marked cancelled, and no interrupt (the block has ended).
    assert watcher.cancelled


def test_outside_the_main_thread_it_only_marks_the_run_cancelled():
    outcome: dict = {}

    def in_thread():
        watcher = CancellationWatcher(lambda: Cancelling(), interval=0.01)
        with watcher:
            deadline = time.monotonic() + 10
            while not watcher.cancelled and time.monotonic() < deadline:
                time.sleep(0.01)
        outcome["cancelled"] = watcher.cancelled

    thread = threading.Thread(target=in_thread)
    thread.start()
    thread.join()
    assert outcome == {"cancelled": True}


def test_failed_reads_are_logged_and_polling_goes_on(caplog):
    reads: list[int] = []

    def read_state():
        reads.append(1)
        if len(reads) == 1:
            raise ConnectionError("down")
        return Running()

    with CancellationWatcher(read_state, interval=0.01):
        deadline = time.monotonic() + 10
        while len(reads) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
    assert len(reads) >= 3
    assert "Error checking the flow run state" in caplog.text
