"""Wire compatibility with the Prefect 1.4.1 client (server-protocol.md §4, server-happy-path.md).

`tests/fixtures/server/NNN_<operation>.json` hold, in order, one conversation of the client,
agent, flow runners, backend views and CLI with the server: each file is one request exactly as
the 1.4.1 client side writes it (document text indented four spaces per level, `variables` as a
JSON *string*) and the golden answer. The test replays them in order through the ASGI transport,
on SQLite and PostgreSQL, and compares every answer.

Placeholders keep the files stable:

* in requests, `<name>` is replaced by a value known at that point: `<tenant_id>`, ids captured
  from earlier answers (`"capture": {"flow_id": ["data", "create_flow_run", "id"]}`),
  `<task:SLUG>` (a task of the `<flow_id>` flow), `<task_run:SLUG>` / `<task_run:SLUG:INDEX>`
  (a task run of the `<flow_run_id>` run), `<now+10s>` / `<now-3s>` (ISO timestamps);
* in answers, every known id becomes its `<name>`, any other uuid `<uuid>`, timestamps of
  the last two days `<timestamp>`, and the server's own version `<server_version>`. Files with
  `"unordered": true` compare lists without their order (queries without `order_by`).

To re-record the answers after an intended change, run with `PREFECT_UPDATE_GOLDEN=1` and review
the diff of `tests/fixtures/server/` before committing.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from tests.server.graphql._world import (
    STATES_SELECTION,
    compressed_flow,
    input_mutation,
    state,
    task_run_info_mutation,
)

import prefect
from prefect.server.app import create_app
from prefect.server.database import models

FIXTURES = sorted((Path(__file__).parents[1] / "fixtures" / "server").glob("*.json"))
UPDATE = os.environ.get("PREFECT_UPDATE_GOLDEN") == "1"
UUID_TEXT = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
TIMESTAMP_TEXT = re.compile(
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$"
)
PLACEHOLDER = re.compile(r"<([a-z_]+(?::[A-Za-z0-9_.-]+)*|now[+-]\d+s)>")


@pytest.fixture
async def client(db):
    app = create_app(db, services=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as http:
        yield http


async def _known_ids(db, names: dict[str, str]) -> dict[str, str]:
    """Placeholders of the tasks of `<flow_id>` and the task runs of `<flow_run_id>`."""
    found: dict[str, str] = {}
    async with db.read() as conn:
        if "flow_id" in names:
            rows = await conn.execute(
                sa.select(models.task.c.slug, models.task.c.id).where(
                    models.task.c.flow_id == names["flow_id"]
                )
            )
            found.update({f"task:{row.slug}": str(row.id) for row in rows})
        if "flow_run_id" in names:
            rows = await conn.execute(
                sa.select(models.task.c.slug, models.task_run.c.map_index, models.task_run.c.id)
                .join(models.task, models.task.c.id == models.task_run.c.task_id)
                .where(models.task_run.c.flow_run_id == names["flow_run_id"])
            )
            for row in rows:
                suffix = "" if row.map_index == -1 else f":{row.map_index}"
                found[f"task_run:{row.slug}{suffix}"] = str(row.id)
    return found


def _substitute(text: str, names: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        key = match.group(1)
        if key.startswith("now"):
            seconds = int(key[3:-1])
            moment = datetime.datetime.now(datetime.timezone.utc)
            return (moment + datetime.timedelta(seconds=seconds)).isoformat()
        if key not in names:
            raise KeyError(f"placeholder <{key}> is not known at this point of the conversation")
        return names[key]

    return PLACEHOLDER.sub(value, text)


def _substitute_all(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, str):
        return _substitute(value, names)
    if isinstance(value, list):
        return [_substitute_all(item, names) for item in value]
    if isinstance(value, dict):
        return {key: _substitute_all(item, names) for key, item in value.items()}
    return value


def _is_recent(text: str) -> bool:
    try:
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return abs(datetime.datetime.now(datetime.timezone.utc) - moment) < datetime.timedelta(days=2)


def _normalise(value: Any, placeholders: dict[str, str], unordered: bool) -> Any:
    if isinstance(value, str):
        if value in placeholders:
            return placeholders[value]
        if UUID_TEXT.match(value):
            return "<uuid>"
        if TIMESTAMP_TEXT.match(value) and _is_recent(value):
            return "<timestamp>"
        if value == prefect.__version__:
            return "<server_version>"
        return value
    if isinstance(value, list):
        items = [_normalise(item, placeholders, unordered) for item in value]
        if unordered:
            items.sort(key=lambda item: json.dumps(item, sort_keys=True))
        return items
    if isinstance(value, dict):
        return {key: _normalise(item, placeholders, unordered) for key, item in value.items()}
    return value


def _dig(value: Any, path: list[str]) -> Any:
    for key in path:
        value = value[key]
    return value


@pytest.mark.skipif(not FIXTURES, reason="no golden files")
async def test_golden_conversation_of_the_1_4_1_client(db, client, tenant_id):
    names: dict[str, str] = {"tenant_id": tenant_id}
    mismatches = []
    for path in FIXTURES:
        fixture = json.loads(path.read_text())
        names.update(await _known_ids(db, names))
        request = fixture["request"]
        variables = _substitute_all(request["variables"], names)
        headers = {"X-PREFECT-CORE-VERSION": "1.4.1"}
        headers.update(_substitute_all(request.get("headers", {}), names))
        response = await client.post(
            "/",
            json={
                "query": _substitute(request["query"], names),
                "variables": json.dumps(variables),
            },
            headers=headers,
        )
        body = response.json()
        for name, location in fixture.get("capture", {}).items():
            names[name] = _dig(body, location)
        names.update(await _known_ids(db, names))
        placeholders = {value: f"<{key}>" for key, value in names.items()}
        actual = {
            "status": response.status_code,
            "body": _normalise(body, placeholders, fixture.get("unordered", False)),
        }
        if UPDATE:
            fixture["response"] = actual
            path.write_text(json.dumps(fixture, indent=2, ensure_ascii=False) + "\n")
        elif actual != fixture.get("response"):
            mismatches.append(
                f"{path.name} ({fixture['caller']}):\n"
                f"  expected {json.dumps(fixture.get('response'), sort_keys=True)}\n"
                f"  got      {json.dumps(actual, sort_keys=True)}"
            )
    assert not mismatches, "\n".join(mismatches)


def test_golden_files_name_their_caller_and_use_the_client_layout():
    assert len(FIXTURES) >= 60
    for path in FIXTURES:
        fixture = json.loads(path.read_text())
        assert fixture["caller"], path.name
        query = fixture["request"]["query"]
        if query not in ("query{hello}",):
            # Rendered by the client's dict-to-GraphQL converter (protocol §2.5).
            assert query.startswith(("query {\n    ", "mutation {\n    ", "mutation($input: "))
        assert "response" in fixture, f"{path.name}: record it with PREFECT_UPDATE_GOLDEN=1"


# --- the happy path of server-happy-path.md, end to end -----------------------------------


class Conversation:
    """Sends requests the way the 1.4.1 client does; every answer must be free of errors."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.headers = {"X-PREFECT-CORE-VERSION": "1.4.1"}

    async def send(self, query: str, variables: Any = None, **headers: str) -> Any:
        response = await self.client.post(
            "/",
            json={"query": query, "variables": json.dumps(variables)},
            headers={**self.headers, **headers},
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body
        return body["data"]

    async def set_flow_state(self, flow_run_id: str, new_state: dict, version: Any = None) -> None:
        data = await self.send(
            input_mutation("set_flow_run_states", STATES_SELECTION),
            {
                "input": {
                    "states": [{"state": new_state, "flow_run_id": flow_run_id, "version": version}]
                }
            },
        )
        assert data["set_flow_run_states"]["states"][0]["status"] == "SUCCESS"

    async def set_task_state(self, task_run_id: str, new_state: dict, version: Any = None) -> None:
        data = await self.send(
            input_mutation("set_task_run_states", STATES_SELECTION),
            {
                "input": {
                    "states": [{"state": new_state, "task_run_id": task_run_id, "version": version}]
                }
            },
        )
        assert data["set_task_run_states"]["states"] == [
            {"id": task_run_id, "status": "SUCCESS", "message": None}
        ]


def _result(value: Any) -> dict[str, Any]:
    return {"type": "PrefectResult", "location": json.dumps(value), "__version__": "1.4.1"}


async def test_happy_path_from_tenant_to_finished_run(db, client):
    from prefect.server.api import tenants

    await tenants.ensure_default_tenant(db)
    talk = Conversation(client)
    # 0b/1: readiness, tenant, project.
    assert (await talk.send("query{hello}"))["hello"]
    [tenant] = (await talk.send("query {\n    tenant {\n        id\n    }\n}"))["tenant"]
    project_id = (
        await talk.send(
            input_mutation("create_project", "id"),
            {"input": {"name": "P", "description": None, "tenant_id": tenant["id"]}},
        )
    )["create_project"]["id"]
    # 2: prefect register.
    register = {
        "input": {
            "project_id": project_id,
            "serialized_flow": compressed_flow(),
            "set_schedule_active": True,
            "idempotency_key": uuid.uuid4().hex,
        }
    }
    mutation = input_mutation("create_flow_from_compressed_string", "id")
    flow_id = (await talk.send(mutation, register))["create_flow_from_compressed_string"]["id"]
    assert (await talk.send(mutation, register))["create_flow_from_compressed_string"][
        "id"
    ] == flow_id
    # 3: prefect run.
    flow_run_id = (
        await talk.send(
            input_mutation("create_flow_run", "id"),
            {
                "input": {
                    "flow_id": flow_id,
                    "parameters": {"n": 3, "greeting": "hello"},
                    "context": {},
                    "idempotency_key": "K",
                }
            },
        )
    )["create_flow_run"]["id"]
    # 4: the agent.
    agent_id = (
        await talk.send(
            input_mutation("register_agent", "id"),
            {
                "input": {
                    "type": "LocalAgent",
                    "name": "agent",
                    "labels": [],
                    "tenant_id": tenant["id"],
                    "agent_config_id": None,
                }
            },
        )
    )["register_agent"]["id"]
    talk.headers["X-PREFECT-AGENT-ID"] = agent_id
    before = (
        datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=10)
    ).isoformat()
    queue = await talk.send(
        input_mutation("get_runs_in_queue", "flow_run_ids"),
        {"input": {"before": before, "labels": [], "tenant_id": tenant["id"]}},
    )
    assert queue["get_runs_in_queue"]["flow_run_ids"] == [flow_run_id]
    [run] = (
        await talk.send(
            'query {\n    flow_run(where: { id: { _in: ["FLOW_RUN_ID"] } }) {\n        id\n'
            "        version\n        serialized_state\n    }\n}".replace(
                "FLOW_RUN_ID", flow_run_id
            )
        )
    )["flow_run"]
    scheduled = run["serialized_state"]
    assert scheduled["type"] == "Scheduled"
    await talk.set_flow_state(
        flow_run_id,
        state("Submitted", "Submitted for execution", state=scheduled),
        run["version"],
    )
    del talk.headers["X-PREFECT-AGENT-ID"]
    # 5: the flow-run process.
    info_query = (
        'query {\n    flow_run_by_pk(id: "FLOW_RUN_ID") {\n        id\n        version\n'
        "        serialized_state\n        task_runs(where: { map_index: { _eq: -1 } }) {\n"
        "            id\n            task {\n                id\n                slug\n"
        "            }\n            version\n            serialized_state\n        }\n    }\n}"
    ).replace("FLOW_RUN_ID", flow_run_id)
    info = (await talk.send(info_query))["flow_run_by_pk"]
    assert info["serialized_state"]["type"] == "Submitted"
    tasks = {task_run["task"]["slug"]: task_run["task"]["id"] for task_run in info["task_runs"]}
    assert set(tasks) == {"n", "greeting", "make_list-1", "square-1", "report-1"}
    await talk.set_flow_state(flow_run_id, state("Running", "Running flow."), info["version"])
    heartbeat = (
        'mutation {\n    update_flow_run_heartbeat(input: { flow_run_id: "FLOW_RUN_ID" }) {\n'
        "        success\n    }\n}"
    ).replace("FLOW_RUN_ID", flow_run_id)
    assert (await talk.send(heartbeat, None, **{"X-PREFECT-HEARTBEAT-ID": flow_run_id}))[
        "update_flow_run_heartbeat"
    ] == {"success": True}

    async def run_task(slug: str, map_index: int, final: dict) -> str:
        got = (await talk.send(task_run_info_mutation(flow_run_id, tasks[slug], map_index)))[
            "get_or_create_task_run_info"
        ]
        await talk.set_task_state(got["id"], state("Running", "Starting task run."), got["version"])
        await talk.set_task_state(got["id"], final)
        return str(got["id"])

    await run_task("n", -1, state("Success", "Task run succeeded.", _result=_result(3)))
    await run_task(
        "greeting", -1, state("Success", "Task run succeeded.", _result=_result("hello"))
    )
    await run_task(
        "make_list-1", -1, state("Success", "Task run succeeded.", _result=_result([0, 1, 2]))
    )
    parent = (await talk.send(task_run_info_mutation(flow_run_id, tasks["square-1"], -1)))[
        "get_or_create_task_run_info"
    ]
    await talk.set_task_state(
        parent["id"], state("Mapped", "Ready to proceed with mapping.", n_map_states=3)
    )
    children = [
        await run_task(
            "square-1",
            index,
            state("Success", "Task run succeeded.", _result=_result(index * index)),
        )
        for index in range(3)
    ]
    # The reducer fails once, retries, then succeeds.
    report = await run_task(
        "report-1",
        -1,
        state(
            "Retrying",
            "Retrying Task (after attempt 1 of 3)",
            start_time=datetime.datetime.now(datetime.timezone.utc).isoformat(),
            run_count=1,
        ),
    )
    assert (
        await run_task(
            "report-1", -1, state("Success", "Task run succeeded.", _result=_result("hello 5"))
        )
        == report
    )
    await talk.send(
        input_mutation("write_run_logs", "success"),
        {
            "input": {
                "logs": [
                    {
                        "flow_run_id": flow_run_id,
                        "task_run_id": None,
                        "timestamp": datetime.datetime.now(datetime.timezone.utc).isoformat(),
                        "name": "prefect.CloudFlowRunner",
                        "level": "INFO",
                        "message": "Beginning Flow run for 'hello-server'",
                    },
                    {
                        "flow_run_id": flow_run_id,
                        "task_run_id": report,
                        "timestamp": datetime.datetime.now(datetime.timezone.utc).isoformat(),
                        "name": "prefect.CloudTaskRunner",
                        "level": "INFO",
                        "message": "Task 'report': Finished task run for task with final state: 'Success'",
                    },
                ]
            }
        },
    )
    await talk.set_flow_state(flow_run_id, state("Success", "All reference tasks succeeded."))

    # 6: read it all back through the table queries.
    view = (
        await talk.send(
            'query {\n    flow_run(where: { id: { _eq: "FLOW_RUN_ID" } }) {\n        id\n        name\n'
            "        serialized_state\n        states {\n            timestamp\n"
            "            serialized_state\n        }\n        labels\n        parameters\n"
            "        logs(order_by: { timestamp: asc }) {\n            message\n            level\n"
            "        }\n    }\n}".replace("FLOW_RUN_ID", flow_run_id)
        )
    )["flow_run"][0]
    assert view["serialized_state"]["type"] == "Success"
    history = [
        item["serialized_state"]["type"]
        for item in sorted(view["states"], key=lambda item: item["timestamp"])
    ]
    assert history == ["Scheduled", "Submitted", "Running", "Success"]
    assert view["parameters"] == {"n": 3, "greeting": "hello"}
    assert [log["message"] for log in view["logs"]] == [
        "Beginning Flow run for 'hello-server'",
        "Task 'report': Finished task run for task with final state: 'Success'",
    ]
    task_runs = (
        await talk.send(
            'query {\n    task_run(where: { flow_run_id: { _eq: "FLOW_RUN_ID" }, id: { _nin: [] } }) {\n'
            "        id\n        map_index\n        state\n        task {\n            slug\n"
            "        }\n        serialized_state\n    }\n}".replace("FLOW_RUN_ID", flow_run_id)
        )
    )["task_run"]
    assert len(task_runs) == 8
    by_key = {(row["task"]["slug"], row["map_index"]): row for row in task_runs}
    assert by_key[("square-1", -1)]["state"] == "Mapped"
    assert {by_key[("square-1", index)]["id"] for index in range(3)} == set(children)
    assert by_key[("report-1", -1)]["serialized_state"]["_result"]["location"] == '"hello 5"'
    assert all(row["state"] in ("Success", "Mapped") for row in task_runs)
    mapped = (
        await talk.send(
            'query {\n    task_run(where: { task: { slug: { _eq: "square-1" } }, flow_run_id: '
            '{ _eq: "FLOW_RUN_ID" }, map_index: { _neq: -1 } }, order_by: { map_index: asc }) {\n'
            "        map_index\n        serialized_state\n    }\n}".replace(
                "FLOW_RUN_ID", flow_run_id
            )
        )
    )["task_run"]
    assert [json.loads(row["serialized_state"]["_result"]["location"]) for row in mapped] == [
        0,
        1,
        4,
    ]
    runs = (
        await talk.send(
            'query {\n    flow_run(where: { flow: { _and: { name: { _eq: "hello-server" }, '
            "project: { name: { _eq: null } } } } }, limit: 10, order_by: { created: desc }) {\n"
            "        flow {\n            name\n        }\n        id\n        state\n"
            "        start_time\n    }\n}"
        )
    )["flow_run"]
    assert [(row["id"], row["state"], row["flow"]["name"]) for row in runs] == [
        (flow_run_id, "Success", "hello-server")
    ]
    assert runs[0]["start_time"] is not None
