from __future__ import annotations

import pytest
from tests.server.api._flow_factories import rows

from prefect.server.api import agents
from prefect.server.database import Database, models
from prefect.server.errors import ServerError


async def test_register_agent_stores_sorted_labels(db: Database, tenant_id: str):
    agent_id = await agents.register_agent(
        db,
        type="LocalAgent",
        tenant_id=tenant_id,
        name="laptop",
        labels=["b", "a"],
        core_version="1.4.1",
    )
    [row] = await rows(db, models.agent)
    assert row.id == agent_id
    assert (row.tenant_id, row.type, row.name, row.core_version) == (
        tenant_id,
        "LocalAgent",
        "laptop",
        "1.4.1",
    )
    assert row.labels == ["a", "b"]
    assert row.last_queried is not None


async def test_registering_the_same_agent_again_returns_its_id(db: Database, tenant_id: str):
    first = await agents.register_agent(
        db, type="LocalAgent", tenant_id=tenant_id, name="a", labels=["x", "y"], core_version="1"
    )
    again = await agents.register_agent(
        db, type="LocalAgent", tenant_id=tenant_id, name="a", labels=["y", "x"], core_version="1"
    )
    assert again == first
    assert len(await rows(db, models.agent)) == 1


@pytest.mark.parametrize(
    "change",
    [
        {"name": "b"},
        {"type": "DockerAgent"},
        {"labels": ["x"]},
        {"core_version": "2"},
        {"name": None},
        {"core_version": None},
    ],
)
async def test_a_different_identity_registers_a_new_agent(
    db: Database, tenant_id: str, change: dict
):
    base = {"type": "LocalAgent", "name": "a", "labels": ["x", "y"], "core_version": "1"}
    first = await agents.register_agent(db, tenant_id=tenant_id, **base)
    second = await agents.register_agent(db, tenant_id=tenant_id, **{**base, **change})
    assert second != first
    assert len(await rows(db, models.agent)) == 2


async def test_register_agent_without_tenant_uses_the_first_tenant(db: Database, tenant_id: str):
    from prefect.server.api.tenants import create_tenant

    await create_tenant(db, "Zed", "zed")
    await agents.register_agent(db, type="LocalAgent")
    [row] = await rows(db, models.agent)
    assert row.tenant_id == tenant_id
    assert (row.name, row.labels, row.core_version) == (None, [], None)
    assert await agents.register_agent(db, type="LocalAgent") == row.id


async def test_register_agent_without_any_tenant_fails(db: Database):
    with pytest.raises(ServerError):
        await agents.register_agent(db, type="LocalAgent")


async def test_delete_agent(db: Database, tenant_id: str):
    agent_id = await agents.register_agent(db, type="LocalAgent", tenant_id=tenant_id)
    assert await agents.delete_agent(db, agent_id) is True
    assert await agents.delete_agent(db, agent_id) is False
    assert await rows(db, models.agent) == []


async def test_agent_config_crud(db: Database, tenant_id: str):
    config_id = await agents.create_agent_config(
        db, tenant_id=tenant_id, name="cfg", settings={"a": 1}
    )
    [row] = await rows(db, models.agent_config)
    assert (row.id, row.tenant_id, row.name, row.settings) == (
        config_id,
        tenant_id,
        "cfg",
        {"a": 1},
    )

    assert await agents.update_agent_config(db, config_id, settings={"b": 2}) is True
    [row] = await rows(db, models.agent_config)
    assert (row.name, row.settings) == ("cfg", {"b": 2})
    assert await agents.update_agent_config(db, config_id, name="renamed") is True
    assert await agents.update_agent_config(db, config_id) is True
    [row] = await rows(db, models.agent_config)
    assert (row.name, row.settings) == ("renamed", {"b": 2})

    agent_id = await agents.register_agent(
        db, type="LocalAgent", tenant_id=tenant_id, agent_config_id=config_id
    )
    assert await agents.delete_agent_config(db, config_id) is True
    assert await agents.delete_agent_config(db, config_id) is False
    [agent] = await rows(db, models.agent)
    assert (agent.id, agent.agent_config_id) == (agent_id, None)

    missing = models.new_id()
    assert await agents.update_agent_config(db, missing, name="x") is False
    assert await agents.update_agent_config(db, missing) is False


async def test_create_agent_config_defaults_to_empty_settings(db: Database, tenant_id: str):
    await agents.create_agent_config(db, tenant_id=tenant_id)
    [row] = await rows(db, models.agent_config)
    assert (row.name, row.settings) == (None, {})
