"""Tests of `Services`, the set of background loops the server's lifespan starts and stops."""

from __future__ import annotations

import asyncio

import pytest
from tests.server.services._factories import ago, create_flow, create_flow_run, fetch_one

import prefect
from prefect.server.database import models
from prefect.server.services import Lazarus, Scheduler, Services, ZombieKiller


async def wait_until(condition, timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await condition():
        if loop.time() > deadline:
            raise AssertionError("condition not met before the deadline")
        await asyncio.sleep(0.02)


async def test_start_runs_every_enabled_service_and_stop_ends_them(db):
    services = Services(db)
    await services.start()
    try:
        running = list(services.running)
        assert [type(s) for s in running] == [Scheduler, Lazarus, ZombieKiller]
        assert all(s.is_running for s in running)
    finally:
        await services.stop()
    assert services.running == []
    assert not any(s.is_running for s in running)


async def test_services_read_their_intervals_from_config(db, monkeypatch):
    for key, seconds in [("scheduler", 11), ("lazarus", 22), ("zombie_killer", 33)]:
        monkeypatch.setitem(prefect.config.server.services[key], "loop_seconds", seconds)
    services = Services(db)
    await services.start()
    try:
        assert [s.loop_seconds for s in services.running] == [11.0, 22.0, 33.0]
    finally:
        await services.stop()


async def test_services_disabled_globally_start_nothing(db, monkeypatch):
    monkeypatch.setitem(prefect.config.server.services, "enabled", False)
    services = Services(db)
    await services.start()
    assert services.running == []
    await services.stop()


async def test_explicit_enabled_overrides_the_global_flag(db, monkeypatch):
    monkeypatch.setitem(prefect.config.server.services, "enabled", False)
    services = Services(db, enabled=True)
    await services.start()
    try:
        assert len(services.running) == 3
    finally:
        await services.stop()
    monkeypatch.setitem(prefect.config.server.services, "enabled", True)
    services = Services(db, enabled=False)
    await services.start()
    assert services.running == []


@pytest.mark.parametrize("key", ["scheduler", "lazarus", "zombie_killer"])
async def test_a_disabled_service_is_not_started(db, monkeypatch, key):
    monkeypatch.setitem(prefect.config.server.services[key], "enabled", False)
    services = Services(db)
    await services.start()
    try:
        keys = [s.config_key for s in services.running]
        assert key not in keys
        assert len(keys) == 2
    finally:
        await services.stop()


async def test_start_twice_does_not_duplicate_services(db):
    services = Services(db)
    await services.start()
    try:
        first = list(services.running)
        await services.start()
        assert services.running == first
    finally:
        await services.stop()


async def test_running_services_resurrect_a_lost_flow_run(db, tenant_id, monkeypatch):
    monkeypatch.setitem(prefect.config.server.services.lazarus, "loop_seconds", 0.05)
    # A started Lazarus waits one cutoff before judging anything (server restarts).
    monkeypatch.setitem(prefect.config.server.services.lazarus, "heartbeat_cutoff_seconds", 0.3)
    monkeypatch.setitem(prefect.config.server.services.scheduler, "enabled", False)
    monkeypatch.setitem(prefect.config.server.services.zombie_killer, "enabled", False)
    flow_id = await create_flow(db, tenant_id)
    services = Services(db)
    await services.start()
    try:
        # Created after the first pass may have run: a later pass must pick it up.
        run_id = await create_flow_run(db, tenant_id, flow_id, heartbeat=ago(3600))

        async def rescheduled() -> bool:
            return (await fetch_one(db, models.flow_run, run_id)).state == "Scheduled"

        await wait_until(rescheduled)
    finally:
        await services.stop()
