"""Tests of the Lazarus service: lost flow runs are rescheduled, then failed (protocol §7)."""

from __future__ import annotations

import datetime

from tests.server.services._factories import (
    ago,
    create_flow,
    create_flow_run,
    create_task,
    create_task_run,
    fetch_logs,
    fetch_one,
    fetch_states,
)

import prefect
from prefect.server.database import models
from prefect.server.services.lazarus import Lazarus

STALE = 3600  # seconds; well past the default 10-minute cutoff


async def run_lazarus(db) -> None:
    await Lazarus(db).run_once()


async def state_of(db, flow_run_id: str) -> str:
    return (await fetch_one(db, models.flow_run, flow_run_id)).state


async def test_stale_running_run_is_rescheduled_and_logged(db, tenant_id):
    flow_id = await create_flow(db, tenant_id)
    run_id = await create_flow_run(db, tenant_id, flow_id, heartbeat=ago(STALE))
    before = models.utcnow()

    await run_lazarus(db)

    row = await fetch_one(db, models.flow_run, run_id)
    assert row.state == "Scheduled"
    assert row.state_message == "Rescheduled by a Lazarus process."
    assert row.times_resurrected == 1
    assert row.state_start_time >= before - datetime.timedelta(seconds=1)
    assert row.state_start_time <= models.utcnow()
    assert row.serialized_state["type"] == "Scheduled"
    assert await fetch_states(db, models.flow_run_state, "flow_run_id", run_id) == ["Scheduled"]
    [log] = await fetch_logs(db)
    assert log.flow_run_id == run_id
    assert log.task_run_id is None
    assert log.name == "Lazarus.FlowRun"
    assert log.level == "INFO"
    assert log.message == "Rescheduled by a Lazarus process. This is attempt 1."


async def test_stale_submitted_run_is_rescheduled(db, tenant_id):
    flow_id = await create_flow(db, tenant_id)
    run_id = await create_flow_run(db, tenant_id, flow_id, state="Submitted", heartbeat=ago(STALE))
    await run_lazarus(db)
    assert await state_of(db, run_id) == "Scheduled"


async def test_attempt_number_counts_earlier_resurrections(db, tenant_id):
    flow_id = await create_flow(db, tenant_id)
    run_id = await create_flow_run(
        db, tenant_id, flow_id, heartbeat=ago(STALE), times_resurrected=2
    )
    await run_lazarus(db)
    row = await fetch_one(db, models.flow_run, run_id)
    assert row.state == "Scheduled"
    assert row.times_resurrected == 3
    [log] = await fetch_logs(db)
    assert log.message == "Rescheduled by a Lazarus process. This is attempt 3."


async def test_run_past_the_resurrection_limit_is_failed(db, tenant_id):
    flow_id = await create_flow(db, tenant_id)
    run_id = await create_flow_run(
        db, tenant_id, flow_id, heartbeat=ago(STALE), times_resurrected=3
    )
    await run_lazarus(db)
    message = (
        "A Lazarus process attempted to reschedule this run 3 times without success. "
        "Marking as failed."
    )
    row = await fetch_one(db, models.flow_run, run_id)
    assert row.state == "Failed"
    assert row.state_message == message
    assert row.times_resurrected == 3
    [log] = await fetch_logs(db)
    assert (log.name, log.level, log.message) == ("Lazarus.FlowRun", "ERROR", message)


async def test_resurrection_limit_comes_from_config(db, tenant_id, monkeypatch):
    monkeypatch.setitem(prefect.config.server.services.lazarus, "resurrection_attempt_limit", 1)
    flow_id = await create_flow(db, tenant_id)
    run_id = await create_flow_run(
        db, tenant_id, flow_id, heartbeat=ago(STALE), times_resurrected=1
    )
    await run_lazarus(db)
    row = await fetch_one(db, models.flow_run, run_id)
    assert row.state == "Failed"
    assert "reschedule this run 1 times without success" in row.state_message


async def test_run_with_a_recent_heartbeat_is_left_alone(db, tenant_id):
    flow_id = await create_flow(db, tenant_id)
    run_id = await create_flow_run(db, tenant_id, flow_id, heartbeat=ago(30))
    await run_lazarus(db)
    assert await state_of(db, run_id) == "Running"
    assert await fetch_logs(db) == []


async def test_heartbeat_cutoff_comes_from_config(db, tenant_id, monkeypatch):
    flow_id = await create_flow(db, tenant_id)
    run_id = await create_flow_run(db, tenant_id, flow_id, heartbeat=ago(5))
    await run_lazarus(db)
    assert await state_of(db, run_id) == "Running"

    monkeypatch.setitem(prefect.config.server.services.lazarus, "heartbeat_cutoff_seconds", 1)
    await run_lazarus(db)
    assert await state_of(db, run_id) == "Scheduled"


async def test_run_without_heartbeat_is_judged_by_its_updated_time(db, tenant_id):
    flow_id = await create_flow(db, tenant_id)
    old = await create_flow_run(db, tenant_id, flow_id, heartbeat=None, updated=ago(STALE))
    recent = await create_flow_run(db, tenant_id, flow_id, heartbeat=None, updated=ago(5))
    await run_lazarus(db)
    assert await state_of(db, old) == "Scheduled"
    assert await state_of(db, recent) == "Running"


async def test_runs_in_other_states_are_left_alone(db, tenant_id):
    flow_id = await create_flow(db, tenant_id)
    states = ["Scheduled", "Success", "Failed", "Cancelling", "Pending", "Queued"]
    runs = {
        state: await create_flow_run(db, tenant_id, flow_id, state=state, heartbeat=ago(STALE))
        for state in states
    }
    await run_lazarus(db)
    assert {state: await state_of(db, run_id) for state, run_id in runs.items()} == {
        state: state for state in states
    }


async def test_runs_with_task_runs_still_at_work_are_left_alone(db, tenant_id):
    flow_id = await create_flow(db, tenant_id)
    task_id = await create_task(db, tenant_id, flow_id)
    runs = {}
    for task_state in ["Scheduled", "Paused", "Resume", "Retrying", "Running", "Cancelling"]:
        run_id = await create_flow_run(db, tenant_id, flow_id, heartbeat=ago(STALE))
        await create_task_run(db, tenant_id, run_id, task_id, state=task_state)
        runs[task_state] = run_id
    await run_lazarus(db)
    for task_state, run_id in runs.items():
        assert await state_of(db, run_id) == "Running", task_state
    assert await fetch_logs(db) == []


async def test_run_whose_task_runs_are_finished_or_pending_is_rescheduled(db, tenant_id):
    flow_id = await create_flow(db, tenant_id)
    run_id = await create_flow_run(db, tenant_id, flow_id, heartbeat=ago(STALE))
    for number, task_state in enumerate(["Success", "Failed", "Pending"]):
        task_id = await create_task(db, tenant_id, flow_id, slug=f"t{number}")
        await create_task_run(db, tenant_id, run_id, task_id, state=task_state)
    await run_lazarus(db)
    assert await state_of(db, run_id) == "Scheduled"


async def test_flow_groups_that_opt_out_are_left_alone(db, tenant_id):
    runs = []
    for number, settings in enumerate(
        [{"heartbeat_enabled": False}, {"disable_heartbeat": True}, {"lazarus_enabled": False}]
    ):
        flow_id = await create_flow(db, tenant_id, name=f"f{number}", settings=settings)
        runs.append(await create_flow_run(db, tenant_id, flow_id, heartbeat=ago(STALE)))
    await run_lazarus(db)
    for run_id in runs:
        assert await state_of(db, run_id) == "Running"


async def test_flow_group_with_explicitly_enabled_settings_is_watched(db, tenant_id):
    settings = {"heartbeat_enabled": True, "lazarus_enabled": True, "disable_heartbeat": False}
    flow_id = await create_flow(db, tenant_id, settings=settings)
    run_id = await create_flow_run(db, tenant_id, flow_id, heartbeat=ago(STALE))
    await run_lazarus(db)
    assert await state_of(db, run_id) == "Scheduled"


async def test_batch_takes_the_least_recently_updated_runs_skipping_opted_out_ones(db, tenant_id):
    opted_out = await create_flow(db, tenant_id, name="off", settings={"lazarus_enabled": False})
    flow_id = await create_flow(db, tenant_id, name="on")
    # The oldest rows belong to the opted-out flow; they must not use up the batch.
    for minutes in (300, 290, 280):
        await create_flow_run(
            db, tenant_id, opted_out, heartbeat=ago(STALE), updated=ago(minutes * 60)
        )
    newest = await create_flow_run(db, tenant_id, flow_id, heartbeat=ago(STALE), updated=ago(70))
    middle = await create_flow_run(db, tenant_id, flow_id, heartbeat=ago(STALE), updated=ago(80))
    oldest = await create_flow_run(db, tenant_id, flow_id, heartbeat=ago(STALE), updated=ago(90))
    service = Lazarus(db)
    service.batch_size = 2
    await service.run_once()
    assert await state_of(db, oldest) == "Scheduled"
    assert await state_of(db, middle) == "Scheduled"
    assert await state_of(db, newest) == "Running"


async def test_one_failing_run_does_not_stop_the_others(db, tenant_id, monkeypatch, caplog):
    from prefect.server.api import states as states_api

    flow_id = await create_flow(db, tenant_id)
    bad = await create_flow_run(db, tenant_id, flow_id, heartbeat=ago(STALE), updated=ago(90))
    good = await create_flow_run(db, tenant_id, flow_id, heartbeat=ago(STALE), updated=ago(80))
    real = states_api.set_flow_run_state

    async def flaky(db_, flow_run_id, state, **kwargs):
        if flow_run_id == bad:
            raise RuntimeError("database hiccup")
        return await real(db_, flow_run_id, state, **kwargs)

    monkeypatch.setattr(states_api, "set_flow_run_state", flaky)
    await run_lazarus(db)
    assert await state_of(db, bad) == "Running"
    assert (await fetch_one(db, models.flow_run, bad)).times_resurrected == 0
    assert await state_of(db, good) == "Scheduled"
    assert any(bad in record.getMessage() for record in caplog.records)


async def test_rescheduled_run_is_not_touched_again_until_it_runs(db, tenant_id):
    flow_id = await create_flow(db, tenant_id)
    run_id = await create_flow_run(db, tenant_id, flow_id, heartbeat=ago(STALE))
    await run_lazarus(db)
    await run_lazarus(db)
    row = await fetch_one(db, models.flow_run, run_id)
    assert row.times_resurrected == 1
    assert len(await fetch_logs(db)) == 1


async def test_started_service_waits_one_cutoff_before_judging_runs(db, tenant_id):
    flow_id = await create_flow(db, tenant_id)
    run_id = await create_flow_run(db, tenant_id, flow_id, heartbeat=ago(STALE))
    service = Lazarus(db)
    # Just (re)started: the run's heartbeats may simply not have reached a stopped server.
    service.started_at = models.utcnow()
    await service.run_once()
    assert await state_of(db, run_id) == "Running"

    service.started_at = ago(601)
    await service.run_once()
    assert await state_of(db, run_id) == "Scheduled"
