"""The server's ASGI application: GraphQL over HTTP, a health check, and the services.

The 1.x client posts to its configured URL with the trailing slash removed, so GraphQL answers
on `/`, `/graphql` and `/graphql/` alike, with no redirects (a 301/302 would turn the client's
POST into a GET; protocol §1.1). `GET /health` answers `{"status": "ok", "version": ...}`.

At startup the `default` tenant is created when the database has no tenant (what `prefect
server start` did with Docker, protocol §1.7), and the background services start when enabled.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from graphql import GraphQLSchema
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

import prefect
from prefect.server.database.engine import Database
from prefect.server.graphql.execution import (
    INTERNAL_ERROR,
    DocumentCache,
    execute_body,
    internal_error_message,
)
from prefect.server.graphql.schema import get_schema

__all__ = ["create_app"]

logger = logging.getLogger(__name__)

AGENT_ID_HEADER = "x-prefect-agent-id"
CORE_VERSION_HEADER = "x-prefect-core-version"


def _dumps(payload: Any) -> bytes:
    # `default=str` so that an odd value inside a JSON column can never turn an answer into a 500.
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str).encode(
        "utf-8"
    )


def _services_enabled(services: bool | None) -> bool:
    if services is not None:
        return services
    configured = prefect.config.get("server", {}).get("services", {}) or {}
    return bool(configured.get("enabled", True))


def _internal_error(exc: Exception) -> dict[str, Any]:
    return {
        "data": None,
        "errors": [
            {
                "message": internal_error_message(exc),
                "extensions": {"code": INTERNAL_ERROR},
            }
        ],
    }


class GraphQLEndpoint:
    """The ASGI app answering GraphQL POSTs.

    Plain ASGI rather than a Starlette request handler: this is the path of every state write,
    and skipping the Request/Response objects and the exception wrapper saves a measurable part
    of a request.
    """

    def __init__(self, db: Database, schema: GraphQLSchema, documents: DocumentCache) -> None:
        self.db = db
        self.schema = schema
        self.documents = documents

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            body = await _read_body(receive)
            headers = {
                key.decode("latin-1"): value.decode("latin-1") for key, value in scope["headers"]
            }
            context = {
                "db": self.db,
                "headers": headers,
                "agent_id": headers.get(AGENT_ID_HEADER) or None,
                "core_version": headers.get(CORE_VERSION_HEADER) or None,
            }
            status, payload = await execute_body(self.schema, self.documents, body, context)
        except Exception as exc:
            # Never a 5xx: the 1.x client would retry it for a minute (protocol §1.4).
            logger.exception("Unexpected error answering a GraphQL request")
            status, payload = 200, _internal_error(exc)
        content = _dumps(payload)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(content)).encode("latin-1")),
                ],
            }
        )
        await send({"type": "http.response.body", "body": content})


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


_GRAPHQL_PATHS = frozenset({"/", "/graphql", "/graphql/"})


class _ServerApp(Starlette):
    """Starlette, with GraphQL POSTs handed straight to their endpoint: the routing and the
    middleware stack (which only matter for the other paths) cost a measurable part of a state
    write."""

    graphql_endpoint: GraphQLEndpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and scope["path"] in _GRAPHQL_PATHS
        ):
            await self.graphql_endpoint(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def create_app(database: Database | None = None, *, services: bool | None = None) -> Starlette:
    """Build the server application.

    Args:
        database: the database to serve; by default one is opened on
            `server.database.connection_url` (and disposed of at shutdown).
        services: start the background services (scheduler, Lazarus, zombie killer) with the
            application; `None` follows `server.services.enabled`.

    Returns:
        the Starlette application (run its lifespan to create the default tenant and start the
        services).
    """
    owns_database = database is None
    db = database or Database(prefect.config.server.database.connection_url)
    schema = get_schema()
    documents = DocumentCache(schema)

    graphql_endpoint = GraphQLEndpoint(db, schema, documents)

    async def health(_request: Request) -> Response:
        return JSONResponse({"status": "ok", "version": prefect.__version__})

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        from prefect.server.api import tenants

        running: Any = None
        try:
            await tenants.ensure_default_tenant(db)
            if _services_enabled(services):
                from prefect.server.services import Services

                # Decided here, so `Services` must not re-read `server.services.enabled`.
                running = Services(db, enabled=True)
                await running.start()
            yield
        finally:
            if running is not None:
                await running.stop()
            if owns_database:
                await db.dispose()

    routes = [
        Route(path, graphql_endpoint, methods=["POST"]) for path in ("/", "/graphql", "/graphql/")
    ]
    routes.append(Route("/health", health, methods=["GET"]))
    app = _ServerApp(routes=routes, lifespan=lifespan)
    app.graphql_endpoint = graphql_endpoint
    # A missing or extra trailing slash must never answer with a redirect (protocol §1.1).
    app.router.redirect_slashes = False
    app.state.db = db
    app.state.documents = documents
    return app
