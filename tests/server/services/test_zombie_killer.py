"""Tests of the zombie killer: task runs of dead flow runs are retried or failed, and stale
`Cancelling` flow runs are finished (protocol §7)."""

from __future__ import annotations

import datetime

from tests.server.services._factories import (
    add_task_run_state,
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
from prefect.server.services.zombie_killer import ZombieKiller

STALE = 3600  # seconds; well past the default 10-minute cutoff


async def run_zombie_killer(db) -> None:
    await ZombieKiller(db).run_once()


async def zombie(
    db,
    tenant_id,
    *,
    flow_run_state="Running",
    heartbeat=None,
    settings=None,
    max_retries=0,
    retry_delay=None,
    task_run_name=None,
):
    """A Running task run of a flow run with a stale heartbeat: (flow_run_id, task_run_id)."""
    flow_id = await create_flow(db, tenant_id, settings=settings)
    task_id = await create_task(
        db, tenant_id, flow_id, name="extract", max_retries=max_retries, retry_delay=retry_delay
    )
    flow_run_id = await create_flow_run(
        db,
        tenant_id,
        flow_id,
        state=flow_run_state,
        heartbeat=heartbeat if heartbeat is not None else ago(STALE),
    )
    task_run_id = await create_task_run(db, tenant_id, flow_run_id, task_id, name=task_run_name)
    return flow_run_id, task_run_id


async def test_zombie_with_retries_left_is_retried_after_the_retry_delay(db, tenant_id):
    flow_run_id, task_run_id = await zombie(
        db, tenant_id, max_retries=2, retry_delay=datetime.timedelta(seconds=30)
    )
    before = models.utcnow()

    await run_zombie_killer(db)
    after = models.utcnow()

    message = (
        "No heartbeat detected from the remote task; retrying the run.This will be retry 1 of 2."
    )
    row = await fetch_one(db, models.task_run, task_run_id)
    assert row.state == "Retrying"
    assert row.state_message == message
    assert row.serialized_state["run_count"] == 1
    # 30 s after the moment the zombie killer ran, however long that took on a loaded machine.
    second = datetime.timedelta(seconds=1)
    retry_delay = datetime.timedelta(seconds=30)
    assert before + retry_delay - second <= row.state_start_time <= after + retry_delay + second
    [log] = await fetch_logs(db)
    assert (log.name, log.level, log.message) == ("ZombieKiller.TaskRun", "ERROR", message)
    assert log.flow_run_id == flow_run_id
    assert log.task_run_id == task_run_id
    # The flow run itself is not this part's business.
    assert (await fetch_one(db, models.flow_run, flow_run_id)).state == "Running"


async def test_retry_number_counts_earlier_retrying_states(db, tenant_id):
    _, task_run_id = await zombie(db, tenant_id, max_retries=3)
    await add_task_run_state(db, tenant_id, task_run_id, "Retrying")
    await run_zombie_killer(db)
    row = await fetch_one(db, models.task_run, task_run_id)
    assert row.state == "Retrying"
    assert row.state_message.endswith("This will be retry 2 of 3.")
    assert row.serialized_state["run_count"] == 2
    # No retry delay: due at once.
    assert row.state_start_time <= models.utcnow()


async def test_zombie_without_retries_left_is_failed(db, tenant_id):
    _, task_run_id = await zombie(db, tenant_id, max_retries=2)
    for _ in range(2):
        await add_task_run_state(db, tenant_id, task_run_id, "Retrying")
    await run_zombie_killer(db)
    row = await fetch_one(db, models.task_run, task_run_id)
    message = (
        "No heartbeat detected from the remote task; marking the task run "
        f"{task_run_id} (extract) as failed."
    )
    assert row.state == "Failed"
    assert row.state_message == message
    [log] = await fetch_logs(db)
    assert (log.name, log.level, log.message) == ("ZombieKiller.TaskRun", "ERROR", message)


async def test_failed_message_prefers_the_task_run_name(db, tenant_id):
    _, task_run_id = await zombie(db, tenant_id, task_run_name="extract-2024")
    await run_zombie_killer(db)
    row = await fetch_one(db, models.task_run, task_run_id)
    assert row.state_message.endswith(f"task run {task_run_id} (extract-2024) as failed.")


async def test_zombie_of_a_flow_run_that_is_not_running_is_failed_despite_retries(db, tenant_id):
    task_runs = [
        (await zombie(db, tenant_id, flow_run_state=flow_run_state, max_retries=5))[1]
        for flow_run_state in ["Submitted", "Failed", "Cancelling"]
    ]
    await run_zombie_killer(db)
    for task_run_id in task_runs:
        assert (await fetch_one(db, models.task_run, task_run_id)).state == "Failed"


async def test_task_run_of_a_flow_run_with_a_recent_heartbeat_is_left_alone(db, tenant_id):
    _, task_run_id = await zombie(db, tenant_id, heartbeat=ago(30))
    await run_zombie_killer(db)
    assert (await fetch_one(db, models.task_run, task_run_id)).state == "Running"
    assert await fetch_logs(db) == []


async def test_heartbeat_cutoff_comes_from_config(db, tenant_id, monkeypatch):
    _, task_run_id = await zombie(db, tenant_id, heartbeat=ago(5))
    await run_zombie_killer(db)
    assert (await fetch_one(db, models.task_run, task_run_id)).state == "Running"

    monkeypatch.setitem(prefect.config.server.services.zombie_killer, "heartbeat_cutoff_seconds", 1)
    await run_zombie_killer(db)
    assert (await fetch_one(db, models.task_run, task_run_id)).state == "Failed"


async def test_task_runs_in_other_states_are_left_alone(db, tenant_id):
    flow_id = await create_flow(db, tenant_id)
    flow_run_id = await create_flow_run(db, tenant_id, flow_id, heartbeat=ago(STALE))
    states = ["Retrying", "Success", "Pending", "Cancelling", "Scheduled"]
    task_runs = {}
    for number, state in enumerate(states):
        task_id = await create_task(db, tenant_id, flow_id, slug=f"t{number}", max_retries=0)
        task_runs[state] = await create_task_run(db, tenant_id, flow_run_id, task_id, state=state)
    await run_zombie_killer(db)
    for state, task_run_id in task_runs.items():
        assert (await fetch_one(db, models.task_run, task_run_id)).state == state
    assert await fetch_logs(db) == []


async def test_flow_groups_without_heartbeats_are_left_alone(db, tenant_id):
    task_runs = [
        (await zombie(db, tenant_id, settings=settings))[1]
        for settings in [{"heartbeat_enabled": False}, {"disable_heartbeat": True}]
    ]
    await run_zombie_killer(db)
    for task_run_id in task_runs:
        assert (await fetch_one(db, models.task_run, task_run_id)).state == "Running"


async def test_disabling_lazarus_does_not_protect_zombies(db, tenant_id):
    _, task_run_id = await zombie(db, tenant_id, settings={"lazarus_enabled": False})
    await run_zombie_killer(db)
    assert (await fetch_one(db, models.task_run, task_run_id)).state == "Failed"


async def test_one_failing_task_run_does_not_stop_the_others(db, tenant_id, monkeypatch):
    from prefect.server.api import states as states_api

    _, bad = await zombie(db, tenant_id)
    _, good = await zombie(db, tenant_id)
    real = states_api.set_task_run_state

    async def flaky(db_, task_run_id, state, **kwargs):
        if task_run_id == bad:
            raise RuntimeError("database hiccup")
        return await real(db_, task_run_id, state, **kwargs)

    monkeypatch.setattr(states_api, "set_task_run_state", flaky)
    await run_zombie_killer(db)
    assert (await fetch_one(db, models.task_run, bad)).state == "Running"
    assert (await fetch_one(db, models.task_run, good)).state == "Failed"


async def test_batch_skips_task_runs_of_flow_groups_without_heartbeats(db, tenant_id):
    for _ in range(2):
        await zombie(db, tenant_id, settings={"heartbeat_enabled": False})
    _, task_run_id = await zombie(db, tenant_id)
    service = ZombieKiller(db)
    service.page_size = 1
    await service.run_once()
    assert (await fetch_one(db, models.task_run, task_run_id)).state == "Failed"


async def test_started_service_waits_one_cutoff_before_judging_runs(db, tenant_id):
    _, task_run_id = await zombie(db, tenant_id)
    flow_id = await create_flow(db, tenant_id)
    cancelling = await create_flow_run(
        db, tenant_id, flow_id, state="Cancelling", heartbeat=ago(STALE)
    )
    service = ZombieKiller(db)
    service.started_at = models.utcnow()
    await service.run_once()
    assert (await fetch_one(db, models.task_run, task_run_id)).state == "Running"
    assert (await fetch_one(db, models.flow_run, cancelling)).state == "Cancelling"

    service.started_at = ago(601)
    await service.run_once()
    assert (await fetch_one(db, models.task_run, task_run_id)).state == "Failed"
    assert (await fetch_one(db, models.flow_run, cancelling)).state == "Cancelled"


# --- (b) Cancelling flow runs ---------------------------------------------------------------

CANCELLED = "No heartbeat detected from the flow run; marking the run as cancelled."


async def test_stale_cancelling_flow_run_is_finished_as_cancelled(db, tenant_id):
    flow_id = await create_flow(db, tenant_id)
    flow_run_id = await create_flow_run(
        db, tenant_id, flow_id, state="Cancelling", heartbeat=ago(STALE)
    )
    await run_zombie_killer(db)
    row = await fetch_one(db, models.flow_run, flow_run_id)
    assert row.state == "Cancelled"
    assert row.state_message == CANCELLED
    assert await fetch_states(db, models.flow_run_state, "flow_run_id", flow_run_id) == [
        "Cancelled"
    ]
    [log] = await fetch_logs(db)
    assert (log.name, log.level, log.message) == ("ZombieKiller.FlowRun", "ERROR", CANCELLED)
    assert log.flow_run_id == flow_run_id
    assert log.task_run_id is None


async def test_cancelling_flow_run_with_a_recent_heartbeat_is_left_alone(db, tenant_id):
    flow_id = await create_flow(db, tenant_id)
    flow_run_id = await create_flow_run(
        db, tenant_id, flow_id, state="Cancelling", heartbeat=ago(30)
    )
    await run_zombie_killer(db)
    assert (await fetch_one(db, models.flow_run, flow_run_id)).state == "Cancelling"


async def test_cancelling_flow_run_of_a_group_without_heartbeats_is_left_alone(db, tenant_id):
    flow_id = await create_flow(db, tenant_id, settings={"disable_heartbeat": True})
    flow_run_id = await create_flow_run(
        db, tenant_id, flow_id, state="Cancelling", heartbeat=ago(STALE)
    )
    await run_zombie_killer(db)
    assert (await fetch_one(db, models.flow_run, flow_run_id)).state == "Cancelling"


async def test_stale_running_flow_run_is_not_cancelled(db, tenant_id):
    flow_id = await create_flow(db, tenant_id)
    flow_run_id = await create_flow_run(db, tenant_id, flow_id, heartbeat=ago(STALE))
    await run_zombie_killer(db)
    assert (await fetch_one(db, models.flow_run, flow_run_id)).state == "Running"


async def test_zombie_task_run_of_a_stale_cancelling_flow_run_is_failed_then_run_cancelled(
    db, tenant_id
):
    flow_run_id, task_run_id = await zombie(
        db, tenant_id, flow_run_state="Cancelling", max_retries=3
    )
    await run_zombie_killer(db)
    assert (await fetch_one(db, models.task_run, task_run_id)).state == "Failed"
    assert (await fetch_one(db, models.flow_run, flow_run_id)).state == "Cancelled"
