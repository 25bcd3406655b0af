"""Fixtures for GraphQL tests: an HTTP client on the server application, in process.

`client` posts through `httpx.ASGITransport`, which does not run the application's lifespan, so
nothing is created at startup: tests that need a tenant use the `tenant_id` fixture.
`graphql` sends a request the way the 1.4.1 client does (variables as a JSON *string*, header
`X-PREFECT-CORE-VERSION`) and returns the decoded answer.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

GraphQL = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
async def client(db) -> AsyncIterator[httpx.AsyncClient]:
    """An `httpx.AsyncClient` on `create_app(db, services=False)`."""
    from prefect.server.app import create_app

    app = create_app(db, services=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as http:
        yield http


@pytest.fixture
def graphql(client) -> GraphQL:
    """`await graphql(query, variables=None, headers=None)` -> the JSON answer (HTTP 200 asserted)."""

    async def send(
        query: str,
        variables: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        status: int = 200,
    ) -> dict[str, Any]:
        response = await client.post(
            "/",
            json={"query": query, "variables": json.dumps(variables)},
            headers={"X-PREFECT-CORE-VERSION": "1.4.1", **(headers or {})},
        )
        assert response.status_code == status, response.text
        return response.json()

    return send
