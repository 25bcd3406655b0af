"""Hot-path guard: function calls per task run, counted by cProfile (deterministic, unlike
wall time). A change that adds work to every task run shows up here; raise a bound only with
before/after figures from `bench/` in the issue note."""

from __future__ import annotations

import cProfile
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
    assert calls_per_task_run(flow, 200) <= 320  # 278 when last measured


def test_a_mapped_child_run_makes_a_bounded_number_of_calls(quiet_prefect_logger):
    with Flow("map") as flow:
        inc.map(list(range(200)))
    assert calls_per_task_run(flow, 202) <= 350  # 307 when last measured
