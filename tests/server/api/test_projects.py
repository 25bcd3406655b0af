from __future__ import annotations

import pytest
import sqlalchemy as sa
from tests.server.api._flow_factories import add_flow_run, add_task_run, rows, serialized_flow

from prefect.server.api import flows, projects
from prefect.server.database import Database, models
from prefect.server.errors import ServerError, UniquenessViolation


async def test_create_project_stores_name_and_description(db: Database, tenant_id: str):
    project_id = await projects.create_project(db, tenant_id, "etl", "nightly jobs")
    [row] = await rows(db, models.project)
    assert (row.id, row.tenant_id, row.name, row.description) == (
        project_id,
        tenant_id,
        "etl",
        "nightly jobs",
    )


async def test_duplicate_project_name_in_a_tenant_is_a_uniqueness_violation(
    db: Database, tenant_id: str
):
    await projects.create_project(db, tenant_id, "etl")
    with pytest.raises(UniquenessViolation) as info:
        await projects.create_project(db, tenant_id, "etl")
    assert info.value.message == "Uniqueness violation."
    assert len(await rows(db, models.project)) == 1


async def test_same_project_name_in_another_tenant_is_allowed(db: Database, tenant_id: str):
    from prefect.server.api.tenants import create_tenant

    other = await create_tenant(db, "Other", "other")
    await projects.create_project(db, tenant_id, "etl")
    await projects.create_project(db, other, "etl")
    assert len(await rows(db, models.project)) == 2


async def test_create_project_in_an_unknown_tenant_fails(db: Database):
    with pytest.raises(ServerError, match="Invalid tenant ID."):
        await projects.create_project(db, models.new_id(), "etl")


async def test_delete_project_cascades_to_flows_runs_and_states(db: Database, tenant_id: str):
    project_id = await projects.create_project(db, tenant_id, "etl")
    flow_id = await flows.create_flow(db, serialized_flow=serialized_flow(), project_id=project_id)
    run_id = await add_flow_run(db, flow_id)
    await add_task_run(db, run_id)
    async with db.write() as conn:
        await conn.execute(
            sa.insert(models.log).values(tenant_id=tenant_id, flow_run_id=run_id, message="hi")
        )

    assert await projects.delete_project(db, project_id) is True
    for table in (models.project, models.flow, models.flow_group, models.task, models.edge):
        assert await rows(db, table) == [], table.name
    for table in (models.flow_run, models.task_run, models.log):
        assert await rows(db, table) == [], table.name
    assert await projects.delete_project(db, project_id) is False


async def test_set_project_name_and_description(db: Database, tenant_id: str):
    project_id = await projects.create_project(db, tenant_id, "etl", "old")
    assert await projects.set_project_name(db, project_id, "reports") == project_id
    assert await projects.set_project_description(db, project_id, None) == project_id
    [row] = await rows(db, models.project)
    assert (row.name, row.description) == ("reports", None)


async def test_set_project_name_to_an_existing_name_is_a_uniqueness_violation(
    db: Database, tenant_id: str
):
    await projects.create_project(db, tenant_id, "etl")
    other = await projects.create_project(db, tenant_id, "reports")
    with pytest.raises(UniquenessViolation):
        await projects.set_project_name(db, other, "etl")


async def test_updating_an_unknown_project_fails(db: Database):
    missing = models.new_id()
    with pytest.raises(ServerError) as info:
        await projects.set_project_name(db, missing, "x")
    assert info.value.message == "Update failed"
    with pytest.raises(ServerError, match="^Update failed$"):
        await projects.set_project_description(db, missing, "x")


async def test_delete_project_keeps_a_flow_group_still_used_in_another_project(
    db: Database, tenant_id: str
):
    project_a = await projects.create_project(db, tenant_id, "a")
    project_b = await projects.create_project(db, tenant_id, "b")
    await flows.create_flow(db, serialized_flow=serialized_flow(), project_id=project_a)
    moved = await flows.create_flow(db, serialized_flow=serialized_flow(), project_id=project_a)
    await flows.update_flow_project(db, moved, project_b)

    assert await projects.delete_project(db, project_a) is True
    [flow] = await rows(db, models.flow)
    assert flow.id == moved
    [group] = await rows(db, models.flow_group)
    assert group.id == flow.flow_group_id
