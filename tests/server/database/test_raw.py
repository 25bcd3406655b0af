"""RawStatement runs exactly what SQLAlchemy would: same SQL, same stored values, same rows."""

from __future__ import annotations

import datetime
import uuid

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from prefect.server.database import _raw, models
from prefect.server.database._raw import RawStatement


def test_fast_sqlite_processors_store_what_sqlalchemy_stores():
    dialect = sqlite.dialect()
    timestamp = models.Timestamp()._cached_bind_processor(dialect)
    now = models.utcnow()
    for value in [
        now,
        now.replace(microsecond=0),
        datetime.datetime(
            2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone(datetime.timedelta(hours=2))
        ),
        datetime.datetime(2024, 1, 2, 3, 4, 5),
        "2024-01-02T03:04:05+02:00",
        None,
    ]:
        assert _raw._sqlite_timestamp(value) == timestamp(value)
    uuid_processor = sa.Uuid(as_uuid=False)._cached_bind_processor(dialect)
    for value in [str(uuid.uuid4()), str(uuid.uuid4()).upper(), None]:
        assert _raw._sqlite_uuid(value) == uuid_processor(value)
    json_processor = models.JSON.dialect_impl(dialect)._cached_bind_processor(dialect)
    for value in [{"a": [1, "é", None]}, [1, 2], "text", 3, None]:
        assert _raw._sqlite_json(value) == json_processor(value)


async def test_raw_statements_match_sqlalchemy(db, tenant_id):
    table = models.flow_group
    group_id = models.new_id()
    now = models.utcnow()
    insert = RawStatement(sa.insert(table))
    async with db.write() as conn:
        await insert.run(
            conn,
            {
                "id": group_id,
                "created": now,
                "updated": now,
                "tenant_id": tenant_id,
                "name": "g",
                "settings": {"heartbeat_enabled": True, "n": [1, 2]},
                "default_parameters": {},
            },
        )
    select = RawStatement(
        sa.select(
            table.c.id, table.c.created, table.c.settings["n"].label("n"), table.c.labels
        ).where(table.c.id == sa.bindparam("b_id"))
    )
    async with db.read() as conn:
        raw_rows = await select.fetch(conn, {"b_id": group_id})
        sa_rows = [
            tuple(row) for row in (await conn.execute(select.statement, {"b_id": group_id})).all()
        ]
    assert raw_rows == sa_rows == [(group_id, now, [1, 2], None)]
    update = RawStatement(sa.update(table).where(table.c.id == sa.bindparam("b_id")))
    async with db.write() as conn:
        changed = await update.run(conn, {"b_id": group_id, "labels": ["a"], "updated": now})
        unchanged = await update.run(
            conn, {"b_id": str(uuid.uuid4()), "labels": ["b"], "updated": now}
        )
    assert (changed, unchanged) == (1, 0)
    async with db.read() as conn:
        labels = (await conn.execute(sa.select(table.c.labels))).scalar_one()
    assert labels == ["a"]
