from __future__ import annotations

import base64
import datetime
import gzip
import json

import pytest
import sqlalchemy as sa
from tests.server.api._flow_factories import (
    add_flow_run,
    make_project,
    rows,
    serialized_flow,
)

from prefect.server.api import flows
from prefect.server.database import Database, models
from prefect.server.errors import ServerError

EDGES_ERROR = (
    "Edges could not be registered - some edges reference tasks that do not exist within this flow."
)


def compress(payload: dict) -> str:
    return base64.b64encode(gzip.compress(json.dumps(payload).encode())).decode()


async def _flow(db: Database, flow_id: str):
    [row] = await rows(db, models.flow, models.flow.c.id == flow_id)
    return row


async def test_create_flow_stores_the_flow_as_sent(db: Database, tenant_id: str):
    project_id = await make_project(db, tenant_id)
    payload = serialized_flow("etl")
    flow_id = await flows.create_flow(
        db, serialized_flow=payload, project_id=project_id, description="nightly"
    )
    row = await _flow(db, flow_id)
    assert row.tenant_id == tenant_id
    assert row.project_id == project_id
    assert (row.name, row.version, row.description) == ("etl", 1, "nightly")
    assert row.serialized_flow == payload
    assert row.environment is None
    assert row.run_config["type"] == "LocalRun"
    assert row.run_config["labels"] == ["dev"]
    assert row.storage["type"] == "Local"
    assert row.parameters == payload["parameters"]
    assert row.parameters[0]["name"] == "x"
    assert row.core_version == payload["__version__"]
    assert row.schedule is None
    assert row.archived is False
    assert row.is_schedule_active is False
    assert row.settings == {}

    [group] = await rows(db, models.flow_group)
    assert group.id == row.flow_group_id
    assert group.name == row.version_group_id
    assert group.tenant_id == tenant_id
    assert group.settings == {
        "heartbeat_enabled": True,
        "lazarus_enabled": True,
        "version_locking_enabled": False,
        "idempotency_key": None,
    }


async def test_create_flow_creates_task_and_edge_rows(db: Database, tenant_id: str):
    project_id = await make_project(db, tenant_id)
    payload = serialized_flow(retry_delay=datetime.timedelta(seconds=90))
    flow_id = await flows.create_flow(db, serialized_flow=payload, project_id=project_id)

    tasks = {row.slug: row for row in await rows(db, models.task)}
    assert set(tasks) == {"x", "inc-1", "total-1"}
    inc = tasks["inc-1"]
    assert (inc.flow_id, inc.tenant_id, inc.name) == (flow_id, tenant_id, "inc")
    assert inc.type == "prefect.tasks.core.function.FunctionTask"
    assert inc.max_retries == 2
    assert inc.retry_delay == datetime.timedelta(seconds=90)
    assert inc.tags == ["a", "b"]
    assert inc.trigger == "prefect.triggers.all_successful"
    assert inc.auto_generated is False
    assert inc.cache_key is None
    assert tasks["x"].type == "prefect.core.parameter.Parameter"
    assert tasks["x"].retry_delay is None

    edges = {
        (row.upstream_task_id, row.downstream_task_id): row for row in await rows(db, models.edge)
    }
    assert set(edges) == {
        (tasks["x"].id, inc.id),
        (inc.id, tasks["total-1"].id),
    }
    mapped = edges[(tasks["x"].id, inc.id)]
    assert (mapped.key, mapped.mapped, mapped.flow_id) == ("x", True, flow_id)
    assert edges[(inc.id, tasks["total-1"].id)].mapped is False


async def test_create_flow_from_compressed_string(db: Database, tenant_id: str):
    project_id = await make_project(db, tenant_id)
    payload = serialized_flow()
    flow_id = await flows.create_flow_from_compressed_string(
        db, serialized_flow=compress(payload), project_id=project_id, idempotency_key="k"
    )
    row = await _flow(db, flow_id)
    assert row.serialized_flow == payload
    assert len(await rows(db, models.task)) == 3


async def test_create_flow_from_an_undecodable_string_fails(db: Database, tenant_id: str):
    project_id = await make_project(db, tenant_id)
    for text in [
        "not base64!",
        base64.b64encode(b"not gzip").decode(),
        base64.b64encode(gzip.compress(b"{not json")).decode(),
        base64.b64encode(gzip.compress(b"[1, 2]")).decode(),
    ]:
        with pytest.raises(ServerError) as info:
            await flows.create_flow_from_compressed_string(
                db, serialized_flow=text, project_id=project_id
            )
        assert info.value.message == "Unable to decompress serialized flow"
    assert await rows(db, models.flow) == []


async def test_create_flow_in_an_unknown_project_fails(db: Database, tenant_id: str):
    with pytest.raises(ServerError) as info:
        await flows.create_flow(db, serialized_flow=serialized_flow(), project_id=models.new_id())
    assert info.value.message == "Invalid project."
    assert await rows(db, models.flow_group) == []


async def test_flows_from_core_versions_before_0_6_1_are_refused(db: Database, tenant_id: str):
    project_id = await make_project(db, tenant_id)
    for version in ["0.5.5", "0.6.0", "0.1.0rc1"]:
        payload = {**serialized_flow(), "__version__": version}
        with pytest.raises(ServerError, match="0.6.1"):
            await flows.create_flow(db, serialized_flow=payload, project_id=project_id)
    assert await rows(db, models.flow) == []


async def test_flows_from_supported_core_versions_are_accepted(db: Database, tenant_id: str):
    project_id = await make_project(db, tenant_id)
    for version in ["0.6.1", "0.15.13", "1.4.1", "1.5.0+12.gabcdef"]:
        payload = {**serialized_flow(), "__version__": version}
        flow_id = await flows.create_flow(db, serialized_flow=payload, project_id=project_id)
        assert (await _flow(db, flow_id)).core_version == version


async def test_registering_the_same_name_again_makes_a_new_version_and_archives_the_old(
    db: Database, tenant_id: str
):
    project_id = await make_project(db, tenant_id)
    first = await flows.create_flow(db, serialized_flow=serialized_flow(), project_id=project_id)
    second = await flows.create_flow(db, serialized_flow=serialized_flow(), project_id=project_id)
    third = await flows.create_flow(db, serialized_flow=serialized_flow(), project_id=project_id)
    rows_by_id = {row.id: row for row in await rows(db, models.flow)}
    assert [rows_by_id[i].version for i in (first, second, third)] == [1, 2, 3]
    assert [rows_by_id[i].archived for i in (first, second, third)] == [True, True, False]
    assert len({row.version_group_id for row in rows_by_id.values()}) == 1
    assert len({row.flow_group_id for row in rows_by_id.values()}) == 1
    assert len(await rows(db, models.flow_group)) == 1


async def test_other_names_and_other_projects_get_their_own_version_groups(
    db: Database, tenant_id: str
):
    project_a = await make_project(db, tenant_id, "a")
    project_b = await make_project(db, tenant_id, "b")
    ids = [
        await flows.create_flow(db, serialized_flow=serialized_flow("etl"), project_id=project_a),
        await flows.create_flow(db, serialized_flow=serialized_flow("other"), project_id=project_a),
        await flows.create_flow(db, serialized_flow=serialized_flow("etl"), project_id=project_b),
    ]
    flow_rows = [await _flow(db, flow_id) for flow_id in ids]
    assert len({row.version_group_id for row in flow_rows}) == 3
    assert [row.version for row in flow_rows] == [1, 1, 1]
    assert not any(row.archived for row in flow_rows)
    assert len(await rows(db, models.flow_group)) == 3


async def test_an_explicit_version_group_id_is_used(db: Database, tenant_id: str):
    project_id = await make_project(db, tenant_id)
    first = await flows.create_flow(
        db, serialized_flow=serialized_flow("a"), project_id=project_id, version_group_id="vg-1"
    )
    second = await flows.create_flow(
        db, serialized_flow=serialized_flow("b"), project_id=project_id, version_group_id="vg-1"
    )
    one, two = await _flow(db, first), await _flow(db, second)
    assert one.version_group_id == two.version_group_id == "vg-1"
    assert (one.version, two.version) == (1, 2)
    assert one.archived is True
    [group] = await rows(db, models.flow_group)
    assert group.name == "vg-1"


async def test_same_idempotency_key_returns_the_newest_flow_without_creating_one(
    db: Database, tenant_id: str
):
    project_id = await make_project(db, tenant_id)
    first = await flows.create_flow(
        db, serialized_flow=serialized_flow(), project_id=project_id, idempotency_key="abc"
    )
    again = await flows.create_flow(
        db, serialized_flow=serialized_flow(), project_id=project_id, idempotency_key="abc"
    )
    assert again == first
    assert len(await rows(db, models.flow)) == 1
    assert len(await rows(db, models.task)) == 3

    changed = await flows.create_flow(
        db, serialized_flow=serialized_flow(), project_id=project_id, idempotency_key="def"
    )
    assert changed != first
    assert (await _flow(db, changed)).version == 2
    [group] = await rows(db, models.flow_group)
    assert group.settings["idempotency_key"] == "def"


async def test_no_idempotency_key_always_registers_and_clears_the_stored_key(
    db: Database, tenant_id: str
):
    project_id = await make_project(db, tenant_id)
    await flows.create_flow(
        db, serialized_flow=serialized_flow(), project_id=project_id, idempotency_key="abc"
    )
    await flows.create_flow(db, serialized_flow=serialized_flow(), project_id=project_id)
    [group] = await rows(db, models.flow_group)
    assert group.settings["idempotency_key"] is None
    third = await flows.create_flow(
        db, serialized_flow=serialized_flow(), project_id=project_id, idempotency_key="abc"
    )
    assert (await _flow(db, third)).version == 3


async def test_an_edge_to_an_unknown_task_registers_nothing(db: Database, tenant_id: str):
    project_id = await make_project(db, tenant_id)
    payload = serialized_flow()
    payload["edges"].append(
        {
            "upstream_task": {"slug": "x"},
            "downstream_task": {"slug": "missing-1"},
            "key": None,
            "mapped": False,
        }
    )
    with pytest.raises(ServerError) as info:
        await flows.create_flow(db, serialized_flow=payload, project_id=project_id)
    assert info.value.message == EDGES_ERROR
    for table in (models.flow, models.flow_group, models.task, models.edge):
        assert await rows(db, table) == [], table.name


async def test_duplicate_tasks_and_edges_are_ignored(db: Database, tenant_id: str):
    project_id = await make_project(db, tenant_id)
    payload = serialized_flow()
    payload["tasks"].append(dict(payload["tasks"][0]))
    payload["edges"].append(dict(payload["edges"][0]))
    await flows.create_flow(db, serialized_flow=payload, project_id=project_id)
    assert len(await rows(db, models.task)) == 3
    assert len(await rows(db, models.edge)) == 2


async def test_many_tasks_and_edges_are_inserted_in_batches(db: Database, tenant_id: str):
    project_id = await make_project(db, tenant_id)
    count = flows.BATCH_SIZE * 2 + 7
    tasks = [{"name": "t", "slug": f"t-{i}", "tags": [], "max_retries": 0} for i in range(count)]
    edges = [
        {"upstream_task": {"slug": f"t-{i}"}, "downstream_task": {"slug": f"t-{i + 1}"}}
        for i in range(count - 1)
    ]
    payload = {"name": "big", "tasks": tasks, "edges": edges, "__version__": "1.4.1"}
    await flows.create_flow(db, serialized_flow=payload, project_id=project_id)
    assert len(await rows(db, models.task)) == count
    assert len(await rows(db, models.edge)) == count - 1


async def test_register_tasks_and_edges_after_creating_a_flow_without_them(
    db: Database, tenant_id: str
):
    project_id = await make_project(db, tenant_id)
    full = serialized_flow()
    flow_id = await flows.create_flow(
        db, serialized_flow=serialized_flow(with_tasks=False), project_id=project_id
    )
    assert await rows(db, models.task) == []

    assert await flows.register_tasks(db, flow_id, full["tasks"][:2]) is True
    assert await flows.register_tasks(db, flow_id, full["tasks"]) is True
    assert await flows.register_tasks(db, flow_id, []) is True
    assert sorted(row.slug for row in await rows(db, models.task)) == ["inc-1", "total-1", "x"]
    stored = (await _flow(db, flow_id)).serialized_flow
    assert [task["slug"] for task in stored["tasks"]] == ["inc-1", "total-1", "x"]

    assert await flows.register_edges(db, flow_id, full["edges"]) is True
    assert await flows.register_edges(db, flow_id, full["edges"]) is True
    assert await flows.register_edges(db, flow_id, []) is True
    assert len(await rows(db, models.edge)) == 2
    assert "edges" not in (await _flow(db, flow_id)).serialized_flow


async def test_register_edges_with_an_unknown_slug_fails(db: Database, tenant_id: str):
    project_id = await make_project(db, tenant_id)
    flow_id = await flows.create_flow(db, serialized_flow=serialized_flow(), project_id=project_id)
    edge = {"upstream_task": {"slug": "x"}, "downstream_task": {"slug": "nope"}}
    with pytest.raises(ServerError) as info:
        await flows.register_edges(db, flow_id, [edge])
    assert info.value.message == EDGES_ERROR


async def test_register_tasks_on_an_unknown_flow_fails(db: Database):
    with pytest.raises(ServerError, match="not found"):
        await flows.register_tasks(db, models.new_id(), [])
    with pytest.raises(ServerError, match="not found"):
        await flows.register_edges(db, models.new_id(), [])


async def test_delete_flow_deletes_runs_tasks_edges_and_the_empty_group(
    db: Database, tenant_id: str
):
    project_id = await make_project(db, tenant_id)
    flow_id = await flows.create_flow(db, serialized_flow=serialized_flow(), project_id=project_id)
    for _ in range(3):
        await add_flow_run(db, flow_id)
    assert await flows.delete_flow(db, flow_id) is True
    for table in (models.flow, models.flow_run, models.task, models.edge, models.flow_group):
        assert await rows(db, table) == [], table.name
    assert await flows.delete_flow(db, flow_id) is False


async def test_delete_flow_keeps_a_group_with_other_versions(db: Database, tenant_id: str):
    project_id = await make_project(db, tenant_id)
    old = await flows.create_flow(db, serialized_flow=serialized_flow(), project_id=project_id)
    new = await flows.create_flow(db, serialized_flow=serialized_flow(), project_id=project_id)
    assert await flows.delete_flow(db, old) is True
    assert [row.id for row in await rows(db, models.flow)] == [new]
    assert len(await rows(db, models.flow_group)) == 1


async def test_archive_flow_deletes_auto_scheduled_runs_and_cancels_ad_hoc_ones(
    db: Database, tenant_id: str
):
    project_id = await make_project(db, tenant_id)
    flow_id = await flows.create_flow(db, serialized_flow=serialized_flow(), project_id=project_id)
    auto = await add_flow_run(db, flow_id, auto_scheduled=True)
    auto_running = await add_flow_run(db, flow_id, auto_scheduled=True, state="Running")
    ad_hoc = await add_flow_run(db, flow_id)

    assert await flows.archive_flow(db, flow_id) is True

    assert (await _flow(db, flow_id)).archived is True
    runs = {row.id: row for row in await rows(db, models.flow_run)}
    assert auto not in runs
    assert runs[auto_running].state == "Running"
    assert runs[ad_hoc].state == "Cancelled"
    assert runs[ad_hoc].state_message == f"Flow {flow_id} was archived."


async def test_archive_an_unknown_flow_returns_false(db: Database):
    assert await flows.archive_flow(db, models.new_id()) is False


async def test_registering_a_new_version_archives_the_old_versions_runs(
    db: Database, tenant_id: str
):
    project_id = await make_project(db, tenant_id)
    old = await flows.create_flow(db, serialized_flow=serialized_flow(), project_id=project_id)
    auto = await add_flow_run(db, old, auto_scheduled=True)
    done = await add_flow_run(db, old, state="Success")
    await flows.create_flow(db, serialized_flow=serialized_flow(), project_id=project_id)
    remaining = {row.id for row in await rows(db, models.flow_run)}
    assert auto not in remaining
    assert done in remaining


async def test_update_flow_project(db: Database, tenant_id: str):
    from prefect.server.api.tenants import create_tenant

    project_a = await make_project(db, tenant_id, "a")
    project_b = await make_project(db, tenant_id, "b")
    flow_id = await flows.create_flow(db, serialized_flow=serialized_flow(), project_id=project_a)
    assert await flows.update_flow_project(db, flow_id, project_b) == flow_id
    assert (await _flow(db, flow_id)).project_id == project_b

    other_tenant = await create_tenant(db, "Other", "other")
    foreign = await make_project(db, other_tenant, "c")
    for bad in (foreign, models.new_id()):
        with pytest.raises(ServerError) as info:
            await flows.update_flow_project(db, flow_id, bad)
        assert info.value.message == "Invalid project."
    with pytest.raises(ServerError, match="not found"):
        await flows.update_flow_project(db, models.new_id(), project_a)


async def test_heartbeat_and_lazarus_switches_change_the_group_settings(
    db: Database, tenant_id: str
):
    project_id = await make_project(db, tenant_id)
    flow_id = await flows.create_flow(
        db, serialized_flow=serialized_flow(), project_id=project_id, idempotency_key="k"
    )

    async def settings() -> dict:
        [group] = await rows(db, models.flow_group)
        return group.settings

    assert await flows.disable_flow_heartbeat(db, flow_id) is True
    assert await flows.disable_flow_lazarus_process(db, flow_id) is True
    current = await settings()
    assert current["heartbeat_enabled"] is False
    assert current["disable_heartbeat"] is True
    assert current["lazarus_enabled"] is False
    assert current["idempotency_key"] == "k"

    assert await flows.enable_flow_heartbeat(db, flow_id) is True
    assert await flows.enable_flow_lazarus_process(db, flow_id) is True
    current = await settings()
    assert (current["heartbeat_enabled"], current["disable_heartbeat"]) == (True, False)
    assert current["lazarus_enabled"] is True

    missing = models.new_id()
    assert await flows.enable_flow_heartbeat(db, missing) is False
    assert await flows.disable_flow_lazarus_process(db, missing) is False


async def test_a_flow_without_schedule_never_gets_an_active_schedule(db: Database, tenant_id: str):
    project_id = await make_project(db, tenant_id)
    flow_id = await flows.create_flow(
        db, serialized_flow=serialized_flow(), project_id=project_id, set_schedule_active=True
    )
    assert (await _flow(db, flow_id)).is_schedule_active is False
    async with db.read() as conn:
        count = await conn.execute(sa.select(sa.func.count()).select_from(models.flow_run))
        assert count.scalar_one() == 0


async def test_concurrent_registrations_get_distinct_versions(db: Database, tenant_id: str):
    import asyncio

    project_id = await make_project(db, tenant_id)
    ids = await asyncio.gather(
        *(
            flows.create_flow(db, serialized_flow=serialized_flow(), project_id=project_id)
            for _ in range(4)
        )
    )
    flow_rows = await rows(db, models.flow)
    assert sorted(row.version for row in flow_rows) == [1, 2, 3, 4]
    assert {row.id for row in flow_rows} == set(ids)
    assert len({row.version_group_id for row in flow_rows}) == 1
    assert [row.version for row in flow_rows if not row.archived] == [4]
    assert len(await rows(db, models.flow_group)) == 1


async def test_the_schedule_functions_are_available_from_flows():
    from prefect.server.api import schedules

    assert flows.set_schedule_active is schedules.set_schedule_active
    assert flows.set_schedule_inactive is schedules.set_schedule_inactive
    assert flows.schedule_flow_runs is schedules.schedule_flow_runs
