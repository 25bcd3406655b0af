"""Hot-path guard: function calls per task run, counted by cProfile (deterministic, unlike
wall time). A change that adds work to every task run shows up here; raise a bound only with
before/after figures from `bench/` in the issue note."""

from __future__ import annotations

import cProfile
import io
import logging
import pstats

import pytest

from prefect import Flow, task


@task
def inc(x):
    return x + 1


def calls_per_task_run(flow: Flow, task_runs: int) -> float:
    flow.run()  # warm: lazy imports, caches
    profile = cProfile.Profile()
    profile.enable()
    state = flow.run()
    profile.disable()
    assert state.is_successful()
    return sum(stat[1] for stat in pstats.Stats(profile).stats.values()) / task_runs


@pytest.fixture
def info_lines_to_a_buffer():
    """INFO logging as a user has it, the stream handler writing to a buffer. The test itself
    must empty the root logger's handlers (pytest adds its capture handler at each phase)."""
    logger = logging.getLogger("prefect")
    stream_handler = next(
        h for h in logger.handlers if getattr(h, "_prefect_handler_role", None) == "stream"
    )
    buffer = io.StringIO()
    old_stream = stream_handler.setStream(buffer)
    level = logger.level
    logger.setLevel(logging.INFO)
    yield buffer
    logger.setLevel(level)
    stream_handler.setStream(old_stream)


@pytest.fixture
def quiet_prefect_logger():
    logger = logging.getLogger("prefect")
    level = logger.level
    logger.setLevel(logging.WARNING)
    yield
    logger.setLevel(level)


def test_a_chain_task_run_makes_a_bounded_number_of_calls(quiet_prefect_logger):
    with Flow("chain") as flow:
        x = inc(0)
        for _ in range(199):
            x = inc(x)
    assert calls_per_task_run(flow, 200) <= 200  # 174 when last measured (278 before)


def test_a_mapped_child_run_makes_a_bounded_number_of_calls(quiet_prefect_logger):
    with Flow("map") as flow:
        inc.map(list(range(200)))
    assert calls_per_task_run(flow, 202) <= 225  # 194 when last measured (307 before)


def test_a_chain_task_run_with_info_lines_makes_a_bounded_number_of_calls(
    info_lines_to_a_buffer, monkeypatch
):
    with Flow("chain") as flow:
        x = inc(0)
        for _ in range(199):
            x = inc(x)
    with monkeypatch.context() as patch:
        patch.setattr(logging.getLogger(), "handlers", [])  # no capture: lines as users get
        calls = calls_per_task_run(flow, 200)
    # Both runs logged two lines per task run.
    assert info_lines_to_a_buffer.getvalue().count("Starting task run...") == 400
    assert calls <= 235  # 206 when last measured
