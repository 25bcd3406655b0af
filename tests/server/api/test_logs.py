from __future__ import annotations

import datetime

import pytest
from tests.server.api import _factories as f

from prefect.server.api.logs import write_run_logs
from prefect.server.database import models

MISSING_ID = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
async def flow_run_id(db, tenant_id):
    flow_id = await f.create_flow(db, tenant_id)
    return await f.create_flow_run(db, flow_id)


async def logs(db):
    return await f.fetch_all(db, models.log, order_by=models.log.c.message)


async def test_entries_become_log_rows(db, tenant_id, flow_run_id):
    flow_id = (await f.fetch(db, models.flow_run, flow_run_id)).flow_id
    task_id = (await f.create_tasks(db, flow_id, 1))[0]
    task_run_id = await f.create_task_run(db, flow_run_id, task_id)
    when = datetime.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=datetime.timezone.utc)
    before = models.utcnow()
    await write_run_logs(
        db,
        [
            {
                "flow_run_id": flow_run_id,
                "task_run_id": task_run_id,
                "timestamp": "2024-05-06T09:08:09.123456+02:00",
                "name": "prefect.CloudTaskRunner",
                "level": "ERROR",
                "message": "a: task failed",
                "info": {"k": [1, 2]},
            },
            {"flow_run_id": flow_run_id, "message": "b: from the agent", "name": "agent"},
            {"flow_run_id": flow_run_id, "message": "c: given time", "timestamp": when},
        ],
    )
    task_log, agent_log, timed = await logs(db)
    assert task_log.flow_run_id == flow_run_id
    assert task_log.task_run_id == task_run_id
    assert task_log.timestamp == when
    assert (task_log.name, task_log.level, task_log.info) == (
        "prefect.CloudTaskRunner",
        "ERROR",
        {"k": [1, 2]},
    )
    assert agent_log.task_run_id is None
    assert agent_log.level == "INFO"
    assert before <= agent_log.timestamp <= models.utcnow()
    assert agent_log.info is None
    assert timed.timestamp == when


async def test_a_single_entry_dict_is_accepted(db, flow_run_id):
    await write_run_logs(db, {"flow_run_id": flow_run_id, "message": "alone"})
    assert [row.message for row in await logs(db)] == ["alone"]


async def test_invalid_entries_are_skipped(db, flow_run_id):
    await write_run_logs(
        db,
        [
            {"flow_run_id": flow_run_id, "message": "a: kept"},
            {"flow_run_id": "bogus", "message": "bad id"},
            {"message": "no run"},
            {"flow_run_id": flow_run_id, "task_run_id": "bogus", "message": "bad task run"},
            {"flow_run_id": flow_run_id, "level": "LOUD", "message": "bad level"},
            {"flow_run_id": flow_run_id, "timestamp": "yesterday-ish", "message": "bad time"},
            {"flow_run_id": flow_run_id, "message": 42},
            "not an entry",
            {"flow_run_id": MISSING_ID, "message": "unknown run"},
            {"flow_run_id": flow_run_id, "task_run_id": MISSING_ID, "message": "unknown task run"},
            {"flow_run_id": flow_run_id.upper(), "message": "b: kept", "level": "debug"},
        ],
    )
    assert [(row.message, row.level) for row in await logs(db)] == [
        ("a: kept", "INFO"),
        ("b: kept", "DEBUG"),
    ]


async def test_nothing_to_write(db):
    await write_run_logs(db, [])
    await write_run_logs(db, [{"flow_run_id": MISSING_ID}])
    assert await logs(db) == []


async def test_a_given_tenant_is_stored_and_an_unknown_one_dropped(db, tenant_id, flow_run_id):
    await write_run_logs(db, [{"flow_run_id": flow_run_id, "tenant_id": tenant_id, "message": "a"}])
    await write_run_logs(
        db,
        [
            {"flow_run_id": flow_run_id, "tenant_id": MISSING_ID, "message": "b"},
            {"flow_run_id": flow_run_id, "tenant_id": "bogus", "message": "c"},
        ],
    )
    assert [(row.message, row.tenant_id) for row in await logs(db)] == [
        ("a", tenant_id),
        ("b", None),
        ("c", None),
    ]
