"""Documents with inline literals: validated once per shape, templated on the short path, and
each request still gets its own values."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from prefect.server.database import models
from prefect.server.graphql.execution import _shape

TASK_RUN_INFO = """query {
    get_task_run_info(task_run_id: "%s") {
        id
        version
        state
    }
}"""

SET_NAME = """mutation {
    set_task_run_name(input: { task_run_id: "%s", name: "%s" }) {
        success
    }
}"""


def test_shape_blanks_strings_and_numbers_but_not_names():
    text = 'mutation { f(input: { id: "a\\"b", n: -1, x: 2.5e3, name2: true }) { a1 } }'
    assert _shape(text) == 'mutation { f(input: { id: "", n: 0, x: 0.0, name2: true }) { a1 } }'
    assert _shape("query { hello }") is None
    assert _shape('query { a(b: """block""") }') is None


async def _task_runs(db, tenant_id: str, count: int) -> list[str]:
    from tests.server.api import _factories as f

    flow_id = await f.create_flow(db, tenant_id)
    task_ids = await f.create_tasks(db, flow_id, count)
    run_id = await f.create_flow_run(db, flow_id, state="Running")
    return [await f.create_task_run(db, run_id, task_id) for task_id in task_ids]


async def test_each_request_of_one_shape_gets_its_own_values(db, tenant_id, graphql):
    first, second, third = await _task_runs(db, tenant_id, 3)
    names = {first: 'one "quoted"', second: "two\\nlines", third: "três"}
    for run_id, name in names.items():
        escaped = name.replace('"', '\\"')
        answer = await graphql(SET_NAME % (run_id, escaped))
        assert answer == {"data": {"set_task_run_name": {"success": True}}}
    async with db.read() as conn:
        rows = (await conn.execute(sa.select(models.task_run.c.id, models.task_run.c.name))).all()
    assert {str(row.id): row.name for row in rows} == {
        first: 'one "quoted"',
        second: "two\nlines",
        third: "três",
    }


async def test_a_bad_uuid_in_a_known_shape_is_an_error_naming_the_argument(db, tenant_id, graphql):
    [run_id] = await _task_runs(db, tenant_id, 1)
    good = await graphql(TASK_RUN_INFO % run_id)
    assert good["data"]["get_task_run_info"]["id"] == run_id
    response = await graphql(TASK_RUN_INFO % "not-a-uuid", status=200)
    assert response["data"] is None or response["data"]["get_task_run_info"] is None
    assert "task_run_id" in str(response["errors"]) or "not-a-uuid" in str(response["errors"])


async def test_a_document_that_fails_validation_is_refused_even_after_its_shape_was_seen(
    db, tenant_id, graphql
):
    [run_id] = await _task_runs(db, tenant_id, 1)
    await graphql(SET_NAME % (run_id, "x"))
    # Same text but an int where the schema wants a string: another shape, so validated.
    bad = SET_NAME.replace('name: "%s"', "name: %s") % (run_id, "5")
    response = await graphql(bad, status=400)
    assert response["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_unknown_run_in_a_templated_document_is_refused(db, tenant_id, graphql):
    [run_id] = await _task_runs(db, tenant_id, 1)
    await graphql(TASK_RUN_INFO % run_id)
    missing = str(uuid.uuid4())
    response = await graphql(TASK_RUN_INFO % missing)
    assert response["data"]["get_task_run_info"] is None
    assert response["errors"][0]["message"] == "Invalid task run ID"
