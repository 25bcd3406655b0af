from __future__ import annotations

import asyncio
import datetime
import hashlib
import json

import pytest
import sqlalchemy as sa
from tests.server.api._flow_factories import (
    add_flow_run,
    interval_schedule,
    make_project,
    rows,
    serialized_flow,
)

import prefect
from prefect.schedules import Schedule
from prefect.schedules.clocks import CronClock, IntervalClock
from prefect.server.api import flow_groups, flows, schedules
from prefect.server.database import Database, models
from prefect.server.errors import ServerError

UTC = datetime.timezone.utc
DAY_AGO = datetime.datetime.now(UTC) - datetime.timedelta(days=1)


async def _register(db: Database, tenant_id: str, schedule=None, **kwargs) -> str:
    project_id = await make_project(db, tenant_id)
    required = kwargs.pop("required_parameter", False)
    payload = serialized_flow(schedule=schedule, required_parameter=required)
    return await flows.create_flow(db, serialized_flow=payload, project_id=project_id, **kwargs)


async def _runs(db: Database, flow_id: str) -> list:
    async with db.read() as conn:
        query = (
            sa.select(models.flow_run)
            .where(models.flow_run.c.flow_id == flow_id)
            .order_by(models.flow_run.c.scheduled_start_time, models.flow_run.c.idempotency_key)
        )
        return list((await conn.execute(query)).all())


async def _flow(db: Database, flow_id: str):
    [row] = await rows(db, models.flow, models.flow.c.id == flow_id)
    return row


def test_idempotency_key_is_the_utc_start_time_plus_a_hash_of_parameters_and_labels():
    start = datetime.datetime(
        2030, 1, 2, 4, 5, tzinfo=datetime.timezone(datetime.timedelta(hours=1))
    )
    assert schedules.auto_scheduled_idempotency_key(start) == (
        "auto-scheduled:2030-01-02T03:05:00+00:00"
    )
    digest = hashlib.md5(
        json.dumps({"labels": ["a"], "parameters": {"x": 1}}, sort_keys=True).encode()
    ).hexdigest()
    assert schedules.auto_scheduled_idempotency_key(start, {"x": 1}, ["a"]) == (
        f"auto-scheduled:2030-01-02T03:05:00+00:00:{digest}"
    )


async def test_registering_a_scheduled_flow_activates_it_and_schedules_ten_runs(
    db: Database, tenant_id: str
):
    before = datetime.datetime.now(UTC)
    flow_id = await _register(db, tenant_id, interval_schedule(1, start_date=DAY_AGO))
    assert (await _flow(db, flow_id)).is_schedule_active is True

    runs = await _runs(db, flow_id)
    assert len(runs) == 10
    times = [run.scheduled_start_time for run in runs]
    assert all(time > before for time in times)
    assert all(b - a == datetime.timedelta(minutes=1) for a, b in zip(times, times[1:]))
    for run in runs:
        assert run.auto_scheduled is True
        assert run.state == "Scheduled"
        assert run.idempotency_key == f"auto-scheduled:{run.scheduled_start_time.isoformat()}"
        assert run.parameters == {"x": [1, 2]}
        assert run.labels == ["dev"]


async def test_scheduling_again_never_duplicates_runs(db: Database, tenant_id: str):
    flow_id = await _register(db, tenant_id, interval_schedule(1, start_date=DAY_AGO))
    assert await schedules.schedule_flow_runs(db, flow_id) == []
    assert await schedules.set_schedule_active(db, flow_id) is True
    assert len(await _runs(db, flow_id)) == 10


async def test_concurrent_schedulers_never_duplicate_runs(db: Database, tenant_id: str):
    flow_id = await _register(
        db, tenant_id, interval_schedule(1, start_date=DAY_AGO), set_schedule_active=False
    )
    await schedules.set_schedule_inactive(db, flow_id)
    async with db.write() as conn:
        await conn.execute(sa.update(models.flow).values(is_schedule_active=True))
    results = await asyncio.gather(
        *(schedules.schedule_flow_runs(db, flow_id, max_runs=5) for _ in range(3))
    )
    runs = await _runs(db, flow_id)
    assert len(runs) == 5
    assert len({run.idempotency_key for run in runs}) == 5
    assert {run.id for run in runs} == {run_id for result in results for run_id in result}


async def test_max_runs_keeps_that_many_future_runs(db: Database, tenant_id: str):
    flow_id = await _register(
        db, tenant_id, interval_schedule(1, start_date=DAY_AGO), set_schedule_active=False
    )
    async with db.write() as conn:
        await conn.execute(sa.update(models.flow).values(is_schedule_active=True))
    assert len(await schedules.schedule_flow_runs(db, flow_id, max_runs=3)) == 3
    assert len(await schedules.schedule_flow_runs(db, flow_id, max_runs=3)) == 0
    created = await schedules.schedule_flow_runs(db, flow_id, max_runs=5)
    assert len(created) == 2
    times = [run.scheduled_start_time for run in await _runs(db, flow_id)]
    assert len(times) == len(set(times)) == 5


async def test_max_runs_defaults_to_the_configured_limit(
    db: Database, tenant_id: str, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setitem(prefect.config.server.services.scheduler, "max_scheduled_runs_per_flow", 4)
    flow_id = await _register(db, tenant_id, interval_schedule(1, start_date=DAY_AGO))
    assert len(await _runs(db, flow_id)) == 4


async def test_a_cron_schedule_creates_runs_at_the_matching_times(db: Database, tenant_id: str):
    schedule = Schedule(clocks=[CronClock("0 * * * *")])
    flow_id = await _register(db, tenant_id, schedule)
    runs = await _runs(db, flow_id)
    assert len(runs) == 10
    for run in runs:
        assert (run.scheduled_start_time.minute, run.scheduled_start_time.second) == (0, 0)
    first, second = runs[0].scheduled_start_time, runs[1].scheduled_start_time
    assert second - first == datetime.timedelta(hours=1)


async def test_clocks_with_parameter_defaults_and_labels_make_one_run_per_event(
    db: Database, tenant_id: str
):
    schedule = Schedule(
        clocks=[
            IntervalClock(
                datetime.timedelta(hours=1), start_date=DAY_AGO, parameter_defaults={"x": [5]}
            ),
            IntervalClock(
                datetime.timedelta(hours=1),
                start_date=DAY_AGO,
                parameter_defaults={"x": [6]},
                labels=["gpu"],
            ),
        ]
    )
    flow_id = await _register(db, tenant_id, schedule)
    runs = await _runs(db, flow_id)
    assert len(runs) == 10
    by_time: dict = {}
    for run in runs:
        by_time.setdefault(run.scheduled_start_time, []).append(run)
    assert all(len(group) == 2 for group in by_time.values())
    params = {json.dumps(run.parameters) for run in runs}
    assert params == {'{"x": [5]}', '{"x": [6]}'}
    for run in runs:
        assert run.idempotency_key.startswith("auto-scheduled:")
        assert len(run.idempotency_key.rsplit(":", 1)[1]) == 32
        if run.parameters == {"x": [6]}:
            assert run.labels == ["gpu"]
        else:
            assert run.labels == ["dev"]

    # Events that carry parameters are not skipped for being before the latest run, but
    # their keys still prevent duplicates.
    assert await schedules.schedule_flow_runs(db, flow_id, max_runs=12) != []
    again = await _runs(db, flow_id)
    assert len(again) == 12
    assert len({run.idempotency_key for run in again}) == 12


async def test_events_not_after_the_latest_auto_scheduled_run_are_skipped(
    db: Database, tenant_id: str
):
    flow_id = await _register(
        db, tenant_id, interval_schedule(1, start_date=DAY_AGO), set_schedule_active=False
    )
    later = datetime.datetime.now(UTC) + datetime.timedelta(hours=2)
    await add_flow_run(
        db, flow_id, auto_scheduled=True, state="Success", scheduled_start_time=later
    )
    async with db.write() as conn:
        await conn.execute(sa.update(models.flow).values(is_schedule_active=True))
    assert await schedules.schedule_flow_runs(db, flow_id) == []


async def test_no_run_is_created_in_the_past(db: Database, tenant_id: str):
    past = datetime.datetime(2020, 1, 1, tzinfo=UTC)
    schedule = Schedule(clocks=[IntervalClock(datetime.timedelta(minutes=1), end_date=past)])
    flow_id = await _register(db, tenant_id, schedule)
    assert (await _flow(db, flow_id)).is_schedule_active is True
    assert await _runs(db, flow_id) == []


async def test_the_group_schedule_wins_over_the_flow_schedule(db: Database, tenant_id: str):
    flow_id = await _register(
        db, tenant_id, interval_schedule(1, start_date=DAY_AGO), set_schedule_active=False
    )
    group_id = (await _flow(db, flow_id)).flow_group_id
    assert await flow_groups.set_flow_group_schedule(
        db, group_id, cron_clocks=[{"cron": "30 3 * * *", "parameter_defaults": {"x": [9]}}]
    )
    assert await schedules.set_schedule_active(db, flow_id) is True
    runs = await _runs(db, flow_id)
    assert len(runs) == 10
    for run in runs:
        assert (run.scheduled_start_time.hour, run.scheduled_start_time.minute) == (3, 30)
        assert run.parameters == {"x": [9]}


async def test_a_group_schedule_lets_a_flow_without_schedule_be_activated(
    db: Database, tenant_id: str
):
    flow_id = await _register(db, tenant_id)
    assert await schedules.set_schedule_active(db, flow_id) is False
    group_id = (await _flow(db, flow_id)).flow_group_id
    await flow_groups.set_flow_group_schedule(db, group_id, interval_clocks=[{"interval": 3600}])
    assert await schedules.set_schedule_active(db, flow_id) is True
    runs = await _runs(db, flow_id)
    assert len(runs) == 10
    gaps = {b.scheduled_start_time - a.scheduled_start_time for a, b in zip(runs, runs[1:])}
    assert gaps == {datetime.timedelta(hours=1)}


async def test_required_parameters_must_be_supplied_by_every_clock(db: Database, tenant_id: str):
    flow_id = await _register(
        db, tenant_id, interval_schedule(1), required_parameter=True, set_schedule_active=False
    )
    with pytest.raises(ServerError) as info:
        await schedules.set_schedule_active(db, flow_id)
    assert info.value.message == "Can not schedule a flow that has required parameters."
    assert (await _flow(db, flow_id)).is_schedule_active is False

    group_id = (await _flow(db, flow_id)).flow_group_id
    await flow_groups.set_flow_group_default_parameters(db, group_id, {"x": [3]})
    assert await schedules.set_schedule_active(db, flow_id) is True
    runs = await _runs(db, flow_id)
    assert len(runs) == 10
    assert all(run.parameters == {"x": [3]} for run in runs)


async def test_required_parameters_supplied_by_the_clock_allow_scheduling(
    db: Database, tenant_id: str
):
    schedule = interval_schedule(1, parameter_defaults={"x": [4]})
    flow_id = await _register(db, tenant_id, schedule, required_parameter=True)
    assert (await _flow(db, flow_id)).is_schedule_active is True
    assert len(await _runs(db, flow_id)) == 10


async def test_registration_succeeds_when_the_schedule_cannot_be_activated(
    db: Database, tenant_id: str
):
    flow_id = await _register(db, tenant_id, interval_schedule(1), required_parameter=True)
    assert (await _flow(db, flow_id)).is_schedule_active is False
    assert await _runs(db, flow_id) == []


async def test_set_schedule_active_false_at_registration_leaves_it_off(
    db: Database, tenant_id: str
):
    flow_id = await _register(db, tenant_id, interval_schedule(1), set_schedule_active=False)
    assert (await _flow(db, flow_id)).is_schedule_active is False
    assert await schedules.schedule_flow_runs(db, flow_id) == []


async def test_set_schedule_active_on_an_unknown_flow_returns_false(db: Database):
    assert await schedules.set_schedule_active(db, models.new_id()) is False
    assert await schedules.set_schedule_inactive(db, models.new_id()) is False
    assert await schedules.schedule_flow_runs(db, models.new_id()) == []


async def test_set_schedule_inactive_deletes_only_auto_scheduled_scheduled_runs(
    db: Database, tenant_id: str
):
    flow_id = await _register(db, tenant_id, interval_schedule(1))
    ad_hoc = await add_flow_run(db, flow_id)
    running = await add_flow_run(db, flow_id, auto_scheduled=True, state="Running")
    assert await schedules.set_schedule_inactive(db, flow_id) is True
    assert (await _flow(db, flow_id)).is_schedule_active is False
    assert {run.id for run in await _runs(db, flow_id)} == {ad_hoc, running}
    assert await schedules.schedule_flow_runs(db, flow_id) == []


async def test_archived_flows_get_no_scheduled_runs(db: Database, tenant_id: str):
    flow_id = await _register(db, tenant_id, interval_schedule(1))
    await flows.archive_flow(db, flow_id)
    assert await _runs(db, flow_id) == []
    assert await schedules.schedule_flow_runs(db, flow_id) == []


async def test_a_new_version_gets_its_own_runs_and_the_old_ones_go(db: Database, tenant_id: str):
    old = await _register(db, tenant_id, interval_schedule(1, start_date=DAY_AGO))
    project_id = (await _flow(db, old)).project_id
    new = await flows.create_flow(
        db,
        serialized_flow=serialized_flow(schedule=interval_schedule(1, start_date=DAY_AGO)),
        project_id=project_id,
    )
    assert await _runs(db, old) == []
    assert len(await _runs(db, new)) == 10


async def test_a_dates_clock_schedules_exactly_its_future_dates(db: Database, tenant_id: str):
    from prefect.schedules.clocks import DatesClock

    now = datetime.datetime.now(UTC).replace(microsecond=0)
    dates = [now - datetime.timedelta(hours=1)] + [now + datetime.timedelta(days=d) for d in (1, 2)]
    flow_id = await _register(db, tenant_id, Schedule(clocks=[DatesClock(dates, labels=["x"])]))
    runs = await _runs(db, flow_id)
    assert [run.scheduled_start_time for run in runs] == dates[1:]
    assert all(run.labels == ["x"] for run in runs)
    for run in runs:
        expected = schedules.auto_scheduled_idempotency_key(run.scheduled_start_time, {}, ["x"])
        assert (
            run.idempotency_key
            == expected
            != (schedules.auto_scheduled_idempotency_key(run.scheduled_start_time))
        )
