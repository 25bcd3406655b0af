"""The HTTP side of the server application (protocol §1): endpoints, request bodies, error
answers, the document cache, `/health`, and the lifespan (default tenant, services)."""

from __future__ import annotations

import json
import logging

import httpx
import pytest
import sqlalchemy as sa

import prefect
from prefect.server.app import create_app
from prefect.server.database import models
from prefect.server.errors import ServerError, VersionLockError
from prefect.server.graphql.execution import DocumentCache
from prefect.server.graphql.schema import get_schema

HELLO = {"data": {"hello": "👋"}}
CANCEL = """mutation($input: cancel_flow_run_input!) {
    cancel_flow_run(input: $input) {
        state
    }
}"""
RUN_ID = "6e8f1b6c-2a4e-4d5c-9d8e-0f1a2b3c4d5e"


@pytest.fixture
async def app(db):
    return create_app(db, services=False)


@pytest.fixture
async def client(app):
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as http:
        yield http


@pytest.mark.parametrize("path", ["/", "/graphql", "/graphql/"])
async def test_every_graphql_path_answers_the_same_without_redirect(client, path):
    response = await client.post(path, json={"query": "query { hello }", "variables": "null"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == HELLO


@pytest.mark.parametrize(
    "body",
    [
        {"query": "query{hello}"},
        {"query": "query { hello }", "variables": None},
        {"query": "query { hello }", "variables": "null"},
        {"query": "query { hello }", "variables": "{}"},
        {"query": "query { hello }", "variables": {}},
        {"query": "query { hello }", "variables": ""},
    ],
)
async def test_variables_may_be_absent_null_an_object_or_json_text(client, body):
    response = await client.post("/", json=body)
    assert response.status_code == 200
    assert response.json() == HELLO


async def test_variables_as_json_text_reach_the_resolver(client, monkeypatch):
    seen = []

    async def cancel_flow_run(db, flow_run_id):
        seen.append(flow_run_id)
        return "Cancelled"

    monkeypatch.setattr("prefect.server.api.runs.cancel_flow_run", cancel_flow_run)
    variables = json.dumps({"input": {"flow_run_id": RUN_ID.upper()}})
    response = await client.post("/graphql", json={"query": CANCEL, "variables": variables})
    assert response.json() == {"data": {"cancel_flow_run": {"state": "Cancelled"}}}
    # UUID inputs arrive canonical (lower case).
    assert seen == [RUN_ID]


async def test_a_syntax_error_is_http_400_parse_failed(client):
    response = await client.post("/", json={"query": "query { hello "})
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    assert "Syntax Error" in error["message"]


@pytest.mark.parametrize(
    "query",
    [
        "query { no_such_field }",
        'mutation { cancel_flow_run(input: {flow_run_id: "RUN", surprise: 1}) { state } }'.replace(
            "RUN", RUN_ID
        ),
        "mutation { cancel_flow_run(input: {flow_run_id: 12}) { state } }",
        "query { hello { nested } }",
    ],
    ids=["unknown-field", "unknown-input-field", "wrong-type", "selection-on-scalar"],
)
async def test_documents_the_schema_refuses_are_http_400_validation_failed(client, query):
    response = await client.post("/", json={"query": query})
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors
    assert {error["extensions"]["code"] for error in errors} == {"GRAPHQL_VALIDATION_FAILED"}


async def test_variables_that_do_not_fit_are_http_400_validation_failed(client):
    variables = json.dumps({"input": {"flow_run_id": RUN_ID, "surprise": True}})
    response = await client.post("/", json={"query": CANCEL, "variables": variables})
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "surprise" in error["message"]


async def test_an_invalid_uuid_variable_is_refused_before_execution(client):
    variables = json.dumps({"input": {"flow_run_id": "not-a-uuid"}})
    response = await client.post("/", json={"query": CANCEL, "variables": variables})
    assert response.status_code == 400
    assert "not-a-uuid" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"variables": {}}', 'no "query"'),
        (b'{"query": "query { hello }", "variables": "{oops"}', '"variables"'),
        (b'{"query": "query { hello }", "variables": [1]}', '"variables" must be'),
    ],
)
async def test_malformed_bodies_are_http_400_with_a_clear_message(client, content, fragment):
    response = await client.post("/", content=content, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert fragment in error["message"]


async def test_a_server_error_is_http_200_with_its_message_and_code(client, monkeypatch):
    async def cancel_flow_run(db, flow_run_id):
        raise VersionLockError("State update failed for flow run ID x")

    monkeypatch.setattr("prefect.server.api.runs.cancel_flow_run", cancel_flow_run)
    variables = json.dumps({"input": {"flow_run_id": RUN_ID}})
    response = await client.post("/", json={"query": CANCEL, "variables": variables})
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {"cancel_flow_run": None}
    [error] = body["errors"]
    assert error["message"] == "State update failed for flow run ID x"
    assert error["extensions"] == {"code": "VERSION_LOCKING_ERROR"}
    assert error["path"] == ["cancel_flow_run"]


async def test_a_server_error_without_code_is_internal_server_error(client, monkeypatch):
    async def cancel_flow_run(db, flow_run_id):
        raise ServerError("Uniqueness violation.")

    monkeypatch.setattr("prefect.server.api.runs.cancel_flow_run", cancel_flow_run)
    variables = json.dumps({"input": {"flow_run_id": RUN_ID}})
    body = (await client.post("/", json={"query": CANCEL, "variables": variables})).json()
    [error] = body["errors"]
    assert error["message"] == "Uniqueness violation."
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    # The 1.x client matches the text inside the repr of the error list (protocol §1.5).
    assert "'Uniqueness violation.'" in repr(body["errors"])


async def test_a_bug_in_a_resolver_is_logged_and_answered_without_traceback(
    client, monkeypatch, caplog
):
    async def cancel_flow_run(db, flow_run_id):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr("prefect.server.api.runs.cancel_flow_run", cancel_flow_run)
    variables = json.dumps({"input": {"flow_run_id": RUN_ID}})
    with caplog.at_level(logging.ERROR, logger="prefect.server"):
        response = await client.post("/", json={"query": CANCEL, "variables": variables})
    assert response.status_code == 200
    [error] = response.json()["errors"]
    assert error["message"] == "Internal server error: ZeroDivisionError: division by zero"
    assert "Traceback" not in response.text
    [record] = [r for r in caplog.records if r.exc_info]
    assert record.exc_info[0] is ZeroDivisionError


async def test_a_bug_outside_the_resolvers_is_still_http_200(client, monkeypatch, caplog):
    async def broken(*args, **kwargs):
        raise RuntimeError("no luck")

    monkeypatch.setattr("prefect.server.app.execute_body", broken)
    with caplog.at_level(logging.ERROR, logger="prefect.server"):
        response = await client.post("/", json={"query": "query { hello }"})
    assert response.status_code == 200
    assert response.json()["errors"][0]["message"] == "Internal server error: RuntimeError: no luck"
    assert any(record.exc_info for record in caplog.records)


async def test_a_database_error_is_named_without_its_sql(client, monkeypatch):
    from sqlalchemy.exc import IntegrityError

    async def cancel_flow_run(db, flow_run_id):
        raise IntegrityError("INSERT INTO secret_table VALUES (?)", ("payload",), Exception("boom"))

    monkeypatch.setattr("prefect.server.api.runs.cancel_flow_run", cancel_flow_run)
    variables = json.dumps({"input": {"flow_run_id": RUN_ID}})
    response = await client.post("/", json={"query": CANCEL, "variables": variables})
    [error] = response.json()["errors"]
    assert error["message"] == "Internal server error: IntegrityError: (builtins.Exception) boom"
    assert "secret_table" not in response.text


async def test_heartbeat_with_inline_input_succeeds_even_when_the_write_fails(client, monkeypatch):
    async def update_flow_run_heartbeat(db, flow_run_id):
        raise RuntimeError("database went away")

    monkeypatch.setattr(
        "prefect.server.api.runs.update_flow_run_heartbeat", update_flow_run_heartbeat
    )
    query = (
        'mutation {\n    update_flow_run_heartbeat(input: { flow_run_id: "RUN" }) {\n'
        "        success\n    }\n}"
    ).replace("RUN", RUN_ID)
    response = await client.post(
        "/", json={"query": query, "variables": "null"}, headers={"X-PREFECT-HEARTBEAT-ID": RUN_ID}
    )
    assert response.json() == {"data": {"update_flow_run_heartbeat": {"success": True}}}


async def test_agent_and_core_version_headers_reach_the_context(client, monkeypatch):
    seen = {}

    async def get_runs_in_queue(db, tenant_id, *, before=None, labels=None, agent_id=None):
        seen.update(agent_id=agent_id, labels=labels, before=before)
        return ["a"]

    async def register_agent(db, **kwargs):
        seen.update(kwargs)
        return RUN_ID

    monkeypatch.setattr("prefect.server.api.queue.get_runs_in_queue", get_runs_in_queue)
    monkeypatch.setattr("prefect.server.api.agents.register_agent", register_agent)
    queue = """mutation($input: get_runs_in_queue_input!) {
    get_runs_in_queue(input: $input) {
        flow_run_ids
    }
}"""
    variables = {
        "input": {
            "before": "2024-01-02T03:04:05.123456+00:00",
            "labels": ["x"],
            "tenant_id": RUN_ID,
        }
    }
    response = await client.post(
        "/",
        json={"query": queue, "variables": json.dumps(variables)},
        headers={"x-Prefect-Agent-Id": "agent-7"},
    )
    assert response.json() == {"data": {"get_runs_in_queue": {"flow_run_ids": ["a"]}}}
    assert seen["agent_id"] == "agent-7"
    assert seen["before"].isoformat() == "2024-01-02T03:04:05.123456+00:00"
    register = """mutation($input: register_agent_input!) {
    register_agent(input: $input) {
        id
    }
}"""
    variables = {
        "input": {
            "type": "LocalAgent",
            "name": "agent",
            "labels": [],
            "tenant_id": RUN_ID,
            "agent_config_id": None,
        }
    }
    response = await client.post(
        "/",
        json={"query": register, "variables": json.dumps(variables)},
        headers={"X-PREFECT-CORE-VERSION": "1.4.1"},
    )
    assert response.json() == {"data": {"register_agent": {"id": RUN_ID}}}
    assert seen["core_version"] == "1.4.1"
    assert seen["agent_config_id"] is None


async def test_health_reports_ok_and_the_version(client):
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": prefect.__version__}


async def test_the_same_document_text_is_parsed_once(client, app):
    documents = app.state.documents
    for _ in range(3):
        await client.post("/", json={"query": "query { hello }"})
    await client.post("/", json={"query": "query{hello}"})
    assert len(documents) == 2
    document = documents.get("query { hello }")
    assert documents.get("query { hello }") is document


def test_document_cache_drops_the_least_recently_used():
    cache = DocumentCache(get_schema(), size=2)
    first = cache.get("query { hello }")
    cache.get("query{hello}")
    cache.get("query { hello }")
    cache.get("query  {hello}")
    assert len(cache) == 2
    assert cache.get("query { hello }") is first


async def test_lifespan_creates_the_default_tenant_and_runs_services(db, monkeypatch):
    events = []

    class FakeServices:
        def __init__(self, database, *, enabled=None):
            assert database is db
            assert enabled is True
            events.append("init")

        async def start(self):
            events.append("start")

        async def stop(self):
            events.append("stop")

    monkeypatch.setattr("prefect.server.services.Services", FakeServices)
    app = create_app(db, services=True)
    async with app.router.lifespan_context(app):
        assert events == ["init", "start"]
        async with db.read() as conn:
            rows = (await conn.execute(sa.select(models.tenant.c.slug))).all()
        assert [row.slug for row in rows] == ["default"]
    assert events == ["init", "start", "stop"]
    # Running the lifespan again does not add a second tenant.
    async with app.router.lifespan_context(app):
        pass
    async with db.read() as conn:
        count = (await conn.execute(sa.select(sa.func.count()).select_from(models.tenant))).scalar()
    assert count == 1


@pytest.mark.parametrize(("enabled", "expected"), [(True, ["start", "stop"]), (False, [])])
async def test_services_follow_the_config_when_not_given(db, monkeypatch, enabled, expected):
    events = []

    class FakeServices:
        def __init__(self, database, *, enabled=None):
            assert enabled is True

        async def start(self):
            events.append("start")

        async def stop(self):
            events.append("stop")

    monkeypatch.setattr("prefect.server.services.Services", FakeServices)
    monkeypatch.setitem(prefect.config.server.services, "enabled", enabled)
    app = create_app(db)
    async with app.router.lifespan_context(app):
        pass
    assert events == expected


async def test_a_database_given_to_the_app_is_not_disposed(db, monkeypatch):
    disposed = []

    async def dispose():
        disposed.append(True)

    monkeypatch.setattr(db, "dispose", dispose)
    app = create_app(db, services=False)
    async with app.router.lifespan_context(app):
        pass
    assert disposed == []


async def test_the_app_opens_and_disposes_the_configured_database(tmp_path, monkeypatch):
    from prefect.server.database import Database

    url = f"sqlite:///{tmp_path / 'app.db'}"
    setup = Database(url)
    await setup.create_all()
    await setup.dispose()
    monkeypatch.setitem(prefect.config.server.database, "connection_url", url)
    disposed = []
    original = Database.dispose

    async def dispose(self):
        disposed.append(self.url)
        await original(self)

    monkeypatch.setattr(Database, "dispose", dispose)
    app = create_app(services=False)
    async with app.router.lifespan_context(app):
        assert app.state.db.url == url
    assert disposed == [url]
