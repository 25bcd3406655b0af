from __future__ import annotations

import datetime

import pytest
from tests.server.api._flow_factories import (
    add_flow_run,
    interval_schedule,
    make_project,
    rows,
    serialized_flow,
)

from prefect.serialization.schedule import ScheduleSchema
from prefect.server.api import flow_groups, flows
from prefect.server.database import Database, models
from prefect.server.errors import ServerError


async def _group_of_new_flow(db: Database, tenant_id: str, **kwargs) -> tuple[str, str]:
    project_id = await make_project(db, tenant_id)
    flow_id = await flows.create_flow(
        db, serialized_flow=serialized_flow(**kwargs), project_id=project_id
    )
    [flow] = await rows(db, models.flow, models.flow.c.id == flow_id)
    return flow.flow_group_id, flow_id


async def _group(db: Database, group_id: str):
    [group] = await rows(db, models.flow_group, models.flow_group.c.id == group_id)
    return group


async def test_set_default_parameters_description_and_run_config(db: Database, tenant_id: str):
    group_id, _ = await _group_of_new_flow(db, tenant_id)
    run_config = {"type": "LocalRun", "labels": ["x"], "env": None}
    assert await flow_groups.set_flow_group_default_parameters(db, group_id, {"x": [7]}) is True
    assert await flow_groups.set_flow_group_description(db, group_id, "the etl") is True
    assert await flow_groups.set_flow_group_run_config(db, group_id, run_config) is True
    group = await _group(db, group_id)
    assert group.default_parameters == {"x": [7]}
    assert group.description == "the etl"
    assert group.run_config == run_config

    assert await flow_groups.set_flow_group_run_config(db, group_id, None) is True
    assert await flow_groups.set_flow_group_default_parameters(db, group_id, None) is True
    group = await _group(db, group_id)
    assert (group.run_config, group.default_parameters) == (None, {})


async def test_labels_are_deduplicated_and_null_clears_them(db: Database, tenant_id: str):
    group_id, _ = await _group_of_new_flow(db, tenant_id)
    assert await flow_groups.set_flow_group_labels(db, group_id, ["b", "a", "b"]) is True
    assert (await _group(db, group_id)).labels == ["a", "b"]
    assert await flow_groups.set_flow_group_labels(db, group_id, []) is True
    assert (await _group(db, group_id)).labels == []
    assert await flow_groups.set_flow_group_labels(db, group_id, None) is True
    assert (await _group(db, group_id)).labels is None


async def test_mutations_on_an_unknown_group_return_false(db: Database):
    missing = models.new_id()
    assert await flow_groups.set_flow_group_labels(db, missing, ["a"]) is False
    assert await flow_groups.set_flow_group_description(db, missing, "d") is False
    assert await flow_groups.set_flow_group_default_parameters(db, missing, {}) is False
    assert await flow_groups.set_flow_group_run_config(db, missing, None) is False
    assert (
        await flow_groups.set_flow_group_schedule(db, missing, interval_clocks=[{"interval": 60}])
        is False
    )
    assert await flow_groups.delete_flow_group_schedule(db, missing) is False
    assert await flow_groups.delete_flow_group(db, missing) is False


async def test_set_flow_group_schedule_builds_a_schedule_of_cron_and_interval_clocks(
    db: Database, tenant_id: str
):
    group_id, _ = await _group_of_new_flow(db, tenant_id)
    assert await flow_groups.set_flow_group_schedule(
        db,
        group_id,
        cron_clocks=[{"cron": "0 9 * * 1-5", "parameter_defaults": {"x": [1]}}],
        interval_clocks=[{"interval": 3600, "parameter_defaults": None}],
        timezone="America/New_York",
    )
    schedule = (await _group(db, group_id)).schedule
    assert schedule["type"] == "Schedule"
    cron, interval = schedule["clocks"]
    assert cron["type"] == "CronClock"
    assert cron["cron"] == "0 9 * * 1-5"
    assert cron["parameter_defaults"] == {"x": [1]}
    assert cron["start_date"]["tz"] == "America/New_York"
    assert interval["type"] == "IntervalClock"
    assert interval["interval"] == 3600 * 1_000_000
    assert interval["parameter_defaults"] == {}
    assert interval["start_date"]["tz"] == "America/New_York"

    loaded = ScheduleSchema().load(schedule)
    after = datetime.datetime(2030, 1, 7, 12, tzinfo=datetime.timezone.utc)  # a Monday
    events = loaded.next(3, after=after, return_events=True)
    cron_times = [e.start_time for e in events if e.parameter_defaults == {"x": [1]}]
    for time in cron_times:
        local = time.astimezone(datetime.timezone(datetime.timedelta(hours=-5)))
        assert (local.hour, local.minute) == (9, 0)


async def test_set_flow_group_schedule_defaults_to_utc(db: Database, tenant_id: str):
    group_id, _ = await _group_of_new_flow(db, tenant_id)
    await flow_groups.set_flow_group_schedule(db, group_id, cron_clocks=[{"cron": "* * * * *"}])
    [clock] = (await _group(db, group_id)).schedule["clocks"]
    assert clock["start_date"]["tz"] == "UTC"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"cron_clocks": [{"cron": "not a cron"}]},
        {"interval_clocks": [{"interval": 30}]},
        {"interval_clocks": [{"interval": "60"}]},
        {"cron_clocks": [{"cron": "* * * * *"}], "timezone": "Mars/Olympus_Mons"},
        {},
    ],
)
async def test_set_flow_group_schedule_validates_the_clocks(
    db: Database, tenant_id: str, kwargs: dict
):
    group_id, _ = await _group_of_new_flow(db, tenant_id)
    with pytest.raises(ServerError):
        await flow_groups.set_flow_group_schedule(db, group_id, **kwargs)
    assert (await _group(db, group_id)).schedule is None


async def test_changing_the_group_schedule_deletes_its_auto_scheduled_runs(
    db: Database, tenant_id: str
):
    group_id, flow_id = await _group_of_new_flow(db, tenant_id)
    auto = await add_flow_run(db, flow_id, auto_scheduled=True)
    done = await add_flow_run(db, flow_id, auto_scheduled=True, state="Success")
    ad_hoc = await add_flow_run(db, flow_id)
    await flow_groups.set_flow_group_schedule(db, group_id, interval_clocks=[{"interval": 600}])
    assert {run.id for run in await rows(db, models.flow_run)} == {done, ad_hoc}

    auto = await add_flow_run(db, flow_id, auto_scheduled=True)
    assert await flow_groups.delete_flow_group_schedule(db, group_id) is True
    assert (await _group(db, group_id)).schedule is None
    remaining = {run.id for run in await rows(db, models.flow_run)}
    assert auto not in remaining
    assert remaining == {done, ad_hoc}


async def test_delete_flow_group_deletes_its_flows_and_runs(db: Database, tenant_id: str):
    group_id, flow_id = await _group_of_new_flow(db, tenant_id, schedule=interval_schedule(5))
    project_id = (await rows(db, models.flow))[0].project_id
    await flows.create_flow(db, serialized_flow=serialized_flow(), project_id=project_id)
    other = await flows.create_flow(
        db, serialized_flow=serialized_flow("other"), project_id=project_id
    )
    await add_flow_run(db, flow_id)
    assert await flow_groups.delete_flow_group(db, group_id) is True
    assert [row.id for row in await rows(db, models.flow)] == [other]
    assert len(await rows(db, models.flow_group)) == 1
    assert await rows(db, models.flow_run, models.flow_run.c.flow_id == flow_id) == []
