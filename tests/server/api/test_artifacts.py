from __future__ import annotations

import pytest
from tests.server.api._flow_factories import (
    add_flow_run,
    add_task_run,
    make_project,
    rows,
    serialized_flow,
)

from prefect.server.api import artifacts, flows
from prefect.server.api.tenants import create_tenant
from prefect.server.database import Database, models
from prefect.server.errors import ServerError


async def _task_run(db: Database, tenant_id: str) -> str:
    project_id = await make_project(db, tenant_id)
    flow_id = await flows.create_flow(db, serialized_flow=serialized_flow(), project_id=project_id)
    return await add_task_run(db, await add_flow_run(db, flow_id))


async def test_create_update_and_delete_an_artifact(db: Database, tenant_id: str):
    task_run_id = await _task_run(db, tenant_id)
    artifact_id = await artifacts.create_task_run_artifact(
        db, task_run_id=task_run_id, kind="markdown", data={"markdown": "# hi"}
    )
    [row] = await rows(db, models.task_run_artifact)
    assert (row.id, row.task_run_id, row.tenant_id, row.kind, row.data) == (
        artifact_id,
        task_run_id,
        tenant_id,
        "markdown",
        {"markdown": "# hi"},
    )

    assert await artifacts.update_task_run_artifact(db, artifact_id, {"link": "x"}) is True
    [row] = await rows(db, models.task_run_artifact)
    assert (row.kind, row.data) == ("markdown", {"link": "x"})

    assert await artifacts.delete_task_run_artifact(db, artifact_id) is True
    assert await artifacts.delete_task_run_artifact(db, artifact_id) is False
    assert await artifacts.update_task_run_artifact(db, artifact_id, {}) is False
    assert await rows(db, models.task_run_artifact) == []


async def test_the_artifact_takes_the_task_runs_tenant(db: Database, tenant_id: str):
    task_run_id = await _task_run(db, tenant_id)
    await artifacts.create_task_run_artifact(
        db, task_run_id=task_run_id, kind="link", data={}, tenant_id=tenant_id
    )
    other = await create_tenant(db, "Other", "other")
    with pytest.raises(ServerError) as info:
        await artifacts.create_task_run_artifact(
            db, task_run_id=task_run_id, kind="link", data={}, tenant_id=other
        )
    assert info.value.message == "Invalid tenant ID."
    assert len(await rows(db, models.task_run_artifact)) == 1


async def test_an_artifact_needs_an_existing_task_run(db: Database, tenant_id: str):
    missing = models.new_id()
    with pytest.raises(ServerError) as info:
        await artifacts.create_task_run_artifact(db, task_run_id=missing, kind="markdown", data={})
    assert info.value.message == f"Task run {missing} not found"
