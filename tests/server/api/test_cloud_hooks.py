from __future__ import annotations

import pytest
from tests.server.api._flow_factories import rows

from prefect.server.api import cloud_hooks, messages
from prefect.server.database import Database, models
from prefect.server.errors import ServerError


async def test_create_a_cloud_hook(db: Database, tenant_id: str):
    hook_id = await cloud_hooks.create_cloud_hook(
        db,
        tenant_id=tenant_id,
        type="WEBHOOK",
        states=["Failed", "Success"],
        name="notify",
        version_group_id="vg",
        config={"url": "http://127.0.0.1/hook"},
    )
    [row] = await rows(db, models.cloud_hook)
    assert row.id == hook_id
    assert (row.tenant_id, row.type, row.states, row.name) == (
        tenant_id,
        "WEBHOOK",
        ["Failed", "Success"],
        "notify",
    )
    assert (row.version_group_id, row.config, row.active) == (
        "vg",
        {"url": "http://127.0.0.1/hook"},
        True,
    )


async def test_an_unknown_hook_type_is_refused(db: Database, tenant_id: str):
    with pytest.raises(ServerError, match="EMAIL"):
        await cloud_hooks.create_cloud_hook(db, tenant_id=tenant_id, type="EMAIL", states=[])
    assert await rows(db, models.cloud_hook) == []


async def test_activate_deactivate_test_and_delete_a_cloud_hook(db: Database, tenant_id: str):
    hook_id = await cloud_hooks.create_cloud_hook(
        db, tenant_id=tenant_id, type="SLACK_WEBHOOK", states=["Failed"]
    )
    assert await cloud_hooks.set_cloud_hook_inactive(db, hook_id) is True
    assert (await rows(db, models.cloud_hook))[0].active is False
    assert await cloud_hooks.set_cloud_hook_active(db, hook_id) is True
    assert (await rows(db, models.cloud_hook))[0].active is True
    assert await cloud_hooks.test_cloud_hook(db, hook_id, state_type="FAILED") is True

    assert await cloud_hooks.delete_cloud_hook(db, hook_id) is True
    assert await cloud_hooks.delete_cloud_hook(db, hook_id) is False
    assert await cloud_hooks.set_cloud_hook_active(db, hook_id) is False
    assert await cloud_hooks.set_cloud_hook_inactive(db, hook_id) is False
    with pytest.raises(ServerError, match="not found"):
        await cloud_hooks.test_cloud_hook(db, hook_id)


async def test_messages_are_marked_read_and_unread_and_deleted(db: Database, tenant_id: str):
    message_id = await messages.create_message(db, tenant_id=tenant_id, text="hello")
    [row] = await rows(db, models.message)
    assert (row.id, row.read, row.text, row.content) == (message_id, False, "hello", {})

    assert await messages.mark_message_as_read(db, message_id) is True
    assert (await rows(db, models.message))[0].read is True
    assert await messages.mark_message_as_unread(db, message_id) is True
    assert (await rows(db, models.message))[0].read is False

    assert await messages.delete_message(db, message_id) is True
    assert await messages.delete_message(db, message_id) is False
    assert await messages.mark_message_as_read(db, message_id) is False
    assert await messages.mark_message_as_unread(db, message_id) is False
