from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from prefect.server.api import tenants
from prefect.server.database import Database, models
from prefect.server.errors import ServerError, UniquenessViolation


async def _tenants(db: Database) -> list:
    async with db.read() as conn:
        query = sa.select(models.tenant).order_by(models.tenant.c.slug)
        return list((await conn.execute(query)).all())


async def test_create_tenant_returns_its_id(db: Database):
    tenant_id = await tenants.create_tenant(db, "Acme Corp", "acme-corp")
    [row] = await _tenants(db)
    assert row.id == tenant_id
    assert (row.name, row.slug, row.settings) == ("Acme Corp", "acme-corp", {})


@pytest.mark.parametrize("slug", ["Acme", "acme corp", "acme_corp", "", "-acme", "acme--corp"])
async def test_create_tenant_refuses_a_slug_that_is_not_slugified(db: Database, slug: str):
    with pytest.raises(ServerError) as info:
        await tenants.create_tenant(db, "Acme", slug)
    assert info.value.message == 'Slug must be "slugified" (lowercase; no spaces)'
    assert await _tenants(db) == []


async def test_create_tenant_refuses_a_duplicate_slug(db: Database, tenant_id: str):
    with pytest.raises(UniquenessViolation) as info:
        await tenants.create_tenant(db, "Other", "default")
    assert info.value.message == "Uniqueness violation."
    assert len(await _tenants(db)) == 1


async def test_delete_tenant_reports_whether_it_existed(db: Database, tenant_id: str):
    assert await tenants.delete_tenant(db, tenant_id) is True
    assert await tenants.delete_tenant(db, tenant_id) is False
    assert await _tenants(db) == []


async def test_update_tenant_name_and_slug(db: Database, tenant_id: str):
    assert await tenants.update_tenant_name(db, tenant_id, "Renamed") == tenant_id
    assert await tenants.update_tenant_slug(db, tenant_id, "renamed-1") == tenant_id
    [row] = await _tenants(db)
    assert (row.name, row.slug) == ("Renamed", "renamed-1")


async def test_update_tenant_slug_validates_and_keeps_slugs_unique(db: Database, tenant_id: str):
    await tenants.create_tenant(db, "Other", "other")
    with pytest.raises(ServerError, match="slugified"):
        await tenants.update_tenant_slug(db, tenant_id, "Not A Slug")
    with pytest.raises(UniquenessViolation):
        await tenants.update_tenant_slug(db, tenant_id, "other")
    assert [row.slug for row in await _tenants(db)] == ["default", "other"]


async def test_updating_an_unknown_tenant_fails(db: Database):
    missing = models.new_id()
    with pytest.raises(ServerError, match="Update failed"):
        await tenants.update_tenant_name(db, missing, "x")
    with pytest.raises(ServerError, match="Update failed"):
        await tenants.update_tenant_settings(db, missing, {"a": 1})


async def test_update_tenant_settings_merges_keys(db: Database, tenant_id: str):
    await tenants.update_tenant_settings(db, tenant_id, {"a": 1, "b": 2})
    await tenants.update_tenant_settings(db, tenant_id, {"b": 3})
    [row] = await _tenants(db)
    assert row.settings == {"a": 1, "b": 3}


async def test_ensure_default_tenant_creates_the_default_tenant_once(db: Database):
    first = await tenants.ensure_default_tenant(db)
    again = await tenants.ensure_default_tenant(db)
    [row] = await _tenants(db)
    assert first == again == row.id
    assert (row.name, row.slug) == ("default", "default")


async def test_ensure_default_tenant_returns_the_first_existing_tenant_by_slug(db: Database):
    await tenants.create_tenant(db, "Zed", "zed")
    alpha = await tenants.create_tenant(db, "Alpha", "alpha")
    assert await tenants.ensure_default_tenant(db) == alpha
    assert len(await _tenants(db)) == 2


async def test_ensure_default_tenant_is_safe_when_called_concurrently(db: Database):
    ids = await asyncio.gather(*(tenants.ensure_default_tenant(db) for _ in range(5)))
    assert len(set(ids)) == 1
    assert len(await _tenants(db)) == 1


async def test_delete_tenant_deletes_everything_it_owns(db: Database, tenant_id: str):
    from tests.server.api._flow_factories import add_flow_run, rows, serialized_flow

    from prefect.server.api import agents, flows, projects

    project_id = await projects.create_project(db, tenant_id, "etl")
    flow_id = await flows.create_flow(db, serialized_flow=serialized_flow(), project_id=project_id)
    await add_flow_run(db, flow_id)
    await agents.register_agent(db, type="LocalAgent", tenant_id=tenant_id)
    assert await tenants.delete_tenant(db, tenant_id) is True
    for table in (models.project, models.flow, models.flow_group, models.task, models.flow_run):
        assert await rows(db, table) == [], table.name
    assert await rows(db, models.agent) == []
