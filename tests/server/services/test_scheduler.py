"""Tests of the scheduler service: every active, unarchived flow gets its upcoming runs."""

from __future__ import annotations

import asyncio
import datetime

import sqlalchemy as sa
from tests.server.services._factories import create_flow

import prefect
from prefect.schedules import Schedule
from prefect.schedules.clocks import IntervalClock
from prefect.serialization.schedule import ScheduleSchema
from prefect.server.database import models
from prefect.server.services.scheduler import Scheduler


def every_minute() -> dict:
    return ScheduleSchema().dump(Schedule(clocks=[IntervalClock(datetime.timedelta(minutes=1))]))


async def runs_of(db, flow_id: str) -> list:
    async with db.read() as conn:
        query = (
            sa.select(models.flow_run)
            .where(models.flow_run.c.flow_id == flow_id)
            .order_by(models.flow_run.c.scheduled_start_time)
        )
        return list((await conn.execute(query)).all())


class RecordingScheduleFlowRuns:
    """Stands in for `schedule_flow_runs`: records the flows asked for, fails for some."""

    def __init__(self, failing: set[str] = frozenset()) -> None:
        self.calls: list[str] = []
        self.failing = failing

    async def __call__(self, db, flow_id, max_runs=None):
        self.calls.append(flow_id)
        if flow_id in self.failing:
            raise RuntimeError(f"cannot schedule {flow_id}")
        return ["run-id"]


async def test_active_flow_gets_its_upcoming_runs(db, tenant_id, monkeypatch):
    monkeypatch.setitem(prefect.config.server.services.scheduler, "max_scheduled_runs_per_flow", 3)
    flow_id = await create_flow(db, tenant_id, is_schedule_active=True, schedule=every_minute())
    now = models.utcnow()

    await Scheduler(db).run_once()

    runs = await runs_of(db, flow_id)
    assert len(runs) == 3
    assert all(run.auto_scheduled and run.state == "Scheduled" for run in runs)
    assert all(run.scheduled_start_time > now for run in runs)
    starts = [run.scheduled_start_time for run in runs]
    assert [b - a for a, b in zip(starts, starts[1:])] == [datetime.timedelta(minutes=1)] * 2


async def test_second_pass_keeps_the_same_runs(db, tenant_id, monkeypatch):
    monkeypatch.setitem(prefect.config.server.services.scheduler, "max_scheduled_runs_per_flow", 3)
    flow_id = await create_flow(db, tenant_id, is_schedule_active=True, schedule=every_minute())
    service = Scheduler(db)
    await service.run_once()
    first = {run.id for run in await runs_of(db, flow_id)}
    await service.run_once()
    assert {run.id for run in await runs_of(db, flow_id)} == first


async def test_inactive_and_archived_flows_get_no_runs(db, tenant_id):
    inactive = await create_flow(
        db, tenant_id, name="inactive", is_schedule_active=False, schedule=every_minute()
    )
    archived = await create_flow(
        db,
        tenant_id,
        name="archived",
        is_schedule_active=True,
        archived=True,
        schedule=every_minute(),
    )
    await Scheduler(db).run_once()
    assert await runs_of(db, inactive) == []
    assert await runs_of(db, archived) == []


async def test_every_active_flow_is_visited_once_across_batches_in_id_order(
    db, tenant_id, monkeypatch
):
    from prefect.server.api import schedules as schedules_api

    active = [
        await create_flow(db, tenant_id, name=f"active-{n}", is_schedule_active=True)
        for n in range(5)
    ]
    await create_flow(db, tenant_id, name="inactive", is_schedule_active=False)
    await create_flow(db, tenant_id, name="archived", is_schedule_active=True, archived=True)
    recorder = RecordingScheduleFlowRuns()
    monkeypatch.setattr(schedules_api, "schedule_flow_runs", recorder)
    service = Scheduler(db)
    service.batch_size = 2

    await service.run_once()

    # Each batch is ordered by id; the database's own ordering decides (uuid order).
    async with db.read() as conn:
        expected = [
            str(flow_id)
            for flow_id in (
                await conn.execute(
                    sa.select(models.flow.c.id)
                    .where(models.flow.c.id.in_(active))
                    .order_by(models.flow.c.id)
                )
            ).scalars()
        ]
    assert recorder.calls == expected


async def test_one_failing_flow_does_not_stop_the_others(db, tenant_id, monkeypatch, caplog):
    from prefect.server.api import schedules as schedules_api

    flows = [
        await create_flow(db, tenant_id, name=f"active-{n}", is_schedule_active=True)
        for n in range(3)
    ]
    recorder = RecordingScheduleFlowRuns(failing={flows[1]})
    monkeypatch.setattr(schedules_api, "schedule_flow_runs", recorder)

    await Scheduler(db).run_once()

    assert sorted(recorder.calls) == sorted(flows)
    errors = [r for r in caplog.records if r.name == "prefect.server.services.scheduler"]
    assert any(flows[1] in r.getMessage() and r.exc_info for r in errors)


async def test_pass_with_no_active_flows_does_nothing(db, tenant_id, monkeypatch):
    from prefect.server.api import schedules as schedules_api

    recorder = RecordingScheduleFlowRuns()
    monkeypatch.setattr(schedules_api, "schedule_flow_runs", recorder)
    await Scheduler(db).run_once()
    assert recorder.calls == []


async def test_pass_ends_early_once_the_service_is_stopping(db, tenant_id, monkeypatch):
    from prefect.server.api import schedules as schedules_api

    for n in range(3):
        await create_flow(db, tenant_id, name=f"active-{n}", is_schedule_active=True)
    service = Scheduler(db)
    recorder = RecordingScheduleFlowRuns()

    async def stop_after_first(db_, flow_id, max_runs=None):
        # What stop() does first: signal the loop, which checks between flows.
        service._stopping = asyncio.Event()
        service._stopping.set()
        return await recorder(db_, flow_id, max_runs)

    monkeypatch.setattr(schedules_api, "schedule_flow_runs", stop_after_first)
    await service.run_once()
    assert len(recorder.calls) == 1
