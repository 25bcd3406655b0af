from __future__ import annotations

import datetime

import pytest
from tests.server.api import _factories as f

import prefect
from prefect.server.api.queue import get_runs_in_queue
from prefect.server.database import models
from prefect.server.errors import ServerError

HOUR = datetime.timedelta(hours=1)


@pytest.fixture
async def flow_id(db, tenant_id):
    return await f.create_flow(db, tenant_id)


async def scheduled_run(db, flow_id, *, state="Scheduled", due=-HOUR, labels=()):
    """A flow run in `state` whose state start time is `due` from now."""
    return await f.create_flow_run(
        db,
        flow_id,
        state=state,
        state_start_time=models.utcnow() + due,
        labels=sorted(labels),
    )


async def test_tenant_is_required(db):
    for tenant_id in (None, "", "bogus"):
        with pytest.raises(ServerError) as raised:
            await get_runs_in_queue(db, tenant_id)
        assert raised.value.message == "Invalid tenant ID"


async def test_scheduled_like_runs_that_are_due_are_returned_earliest_first(db, tenant_id, flow_id):
    late = await scheduled_run(db, flow_id, due=-HOUR)
    early = await scheduled_run(db, flow_id, state="Retrying", due=-3 * HOUR)
    middle = await scheduled_run(db, flow_id, state="Paused", due=-2 * HOUR)
    queued = await scheduled_run(
        db, flow_id, state="Queued", due=-30 * datetime.timedelta(minutes=1)
    )
    resume = await scheduled_run(db, flow_id, state="Resume", due=-datetime.timedelta(minutes=1))
    await scheduled_run(db, flow_id, due=HOUR)  # not due yet
    for state in ("Pending", "Submitted", "Running", "Success", "Cancelled"):
        await scheduled_run(db, flow_id, state=state)
    other_tenant = await f.insert(db, models.tenant, name="other", slug="other")
    await scheduled_run(db, await f.create_flow(db, other_tenant))

    assert await get_runs_in_queue(db, tenant_id) == [early, middle, late, queued, resume]
    # `before` moves the horizon.
    later = models.utcnow() + 2 * HOUR
    assert len(await get_runs_in_queue(db, tenant_id, before=later)) == 6
    assert await get_runs_in_queue(
        db, tenant_id, before=models.utcnow() - 90 * datetime.timedelta(minutes=1)
    ) == [early, middle]
    assert len(await get_runs_in_queue(db, tenant_id, before=later.isoformat())) == 6


async def test_running_runs_with_task_runs_to_retry_are_returned(db, tenant_id, flow_id):
    task_ids = await f.create_tasks(db, flow_id, 2)
    retrying = await f.create_flow_run(db, flow_id, state="Running")
    await f.create_task_run(db, retrying, task_ids[0], state="Success")
    await f.create_task_run(
        db, retrying, task_ids[1], state="Retrying", state_start_time=models.utcnow() - HOUR
    )
    waiting = await f.create_flow_run(db, flow_id, state="Running")
    await f.create_task_run(
        db, waiting, task_ids[0], state="Retrying", state_start_time=models.utcnow() + HOUR
    )
    busy = await f.create_flow_run(db, flow_id, state="Running")
    await f.create_task_run(db, busy, task_ids[0], state="Running")
    scheduled = await scheduled_run(db, flow_id)

    assert await get_runs_in_queue(db, tenant_id) == [scheduled, retrying]


async def test_run_labels_must_be_a_subset_of_the_agent_labels(db, tenant_id, flow_id):
    unlabeled = await scheduled_run(db, flow_id, due=-4 * HOUR)
    dev = await scheduled_run(db, flow_id, labels=["dev"], due=-3 * HOUR)
    dev_gpu = await scheduled_run(db, flow_id, labels=["dev", "gpu"], due=-2 * HOUR)
    prod = await scheduled_run(db, flow_id, labels=["prod"], due=-HOUR)

    assert await get_runs_in_queue(db, tenant_id) == [unlabeled]
    assert await get_runs_in_queue(db, tenant_id, labels=[]) == [unlabeled]
    assert await get_runs_in_queue(db, tenant_id, labels=["dev"]) == [dev]
    assert await get_runs_in_queue(db, tenant_id, labels=["gpu", "dev", "x"]) == [dev, dev_gpu]
    assert await get_runs_in_queue(db, tenant_id, labels=["prod", "dev"]) == [dev, prod]


async def test_results_are_cut_to_the_configured_limit_after_filtering(
    db, tenant_id, flow_id, monkeypatch
):
    monkeypatch.setitem(prefect.config.server.api, "queued_runs_returned_limit", 3)
    for index in range(4):
        await scheduled_run(db, flow_id, labels=["other"], due=-(10 + index) * HOUR)
    mine = [await scheduled_run(db, flow_id, due=-(5 - index) * HOUR) for index in range(5)]
    assert await get_runs_in_queue(db, tenant_id) == mine[:3]


async def test_asking_agent_is_marked_as_queried(db, tenant_id):
    agent_id = await f.create_agent(db, tenant_id, last_queried=models.utcnow() - HOUR)
    other = await f.create_agent(db, tenant_id, last_queried=models.utcnow() - HOUR)
    before = models.utcnow()
    await get_runs_in_queue(db, tenant_id, agent_id=agent_id)
    assert (await f.fetch(db, models.agent, agent_id)).last_queried >= before
    assert (await f.fetch(db, models.agent, other)).last_queried < before
    await get_runs_in_queue(db, tenant_id, agent_id="00000000-0000-4000-8000-000000000000")
