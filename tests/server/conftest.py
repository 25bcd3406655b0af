"""Server test fixtures: one parametrized `db` fixture runs every server test on SQLite and on a
real PostgreSQL.

The schema is created once per test session and database; each test starts from empty tables.
Under `CI=true` a missing PostgreSQL fails the PostgreSQL tests; elsewhere they are skipped.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import pytest
from tests.server import _postgres

_CI = bool(os.environ.get("CI"))


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The URL of a PostgreSQL database for this test session (see `_postgres`)."""
    given = os.environ.get("PREFECT_TEST_POSTGRES_URL")
    if given:
        yield given
        return
    try:
        cluster = _postgres.Cluster()
        url = cluster.start()
    except _postgres.PostgresUnavailable as exc:
        if _CI:
            pytest.fail(f"PostgreSQL is required under CI=true: {exc}")
        pytest.skip(f"PostgreSQL unavailable: {exc}")
    try:
        yield url
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def _databases(tmp_path_factory) -> Iterator[dict]:
    """Databases created so far in this session, by dialect (each created on first use)."""
    found: dict = {}
    yield found
    # Engines are disposed with the event loop at the end of the session.


@pytest.fixture(params=["sqlite", "postgresql"])
async def db(request, _databases, tmp_path_factory) -> AsyncIterator:
    """A `prefect.server.database.Database` with every table empty, on SQLite and PostgreSQL."""
    from prefect.server.database import Database

    database = _databases.get(request.param)
    if database is None:
        if request.param == "sqlite":
            path = tmp_path_factory.mktemp("server-db") / "server.db"
            database = Database(f"sqlite:///{path}")
        else:
            database = Database(request.getfixturevalue("postgres_url"))
            await database.drop_all()
        await database.create_all()
        _databases[request.param] = database
    await database.clear()
    yield database


@pytest.fixture
async def tenant_id(db) -> str:
    """The id of a `default` tenant, inserted directly."""
    import sqlalchemy as sa

    from prefect.server.database import models

    async with db.write() as conn:
        result = await conn.execute(
            sa.insert(models.tenant)
            .values(name="default", slug="default")
            .returning(models.tenant.c.id)
        )
        return str(result.scalar_one())
