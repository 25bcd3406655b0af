"""The server's tables (protocol §8) as SQLAlchemy Core tables, and the relationships between them.

Every table has a server-generated uuid `id` and `created`/`updated` timestamps. The same
metadata serves SQLite (the embedded default) and PostgreSQL: ids are `Uuid` (native on
PostgreSQL, 32 hex characters on SQLite), JSON columns are `JSONB` on PostgreSQL, and
timestamps are always stored and returned in UTC (`Timestamp`).

`RELATIONSHIPS` describes the object and array relationships of the Hasura-shaped query surface;
the GraphQL layer generates its types from `metadata` and `RELATIONSHIPS` alone.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

__all__ = [
    "RELATIONSHIPS",
    "Relationship",
    "Timestamp",
    "metadata",
    "new_id",
    "utcnow",
]

UTC = datetime.timezone.utc


def utcnow() -> datetime.datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.datetime.now(UTC)


def new_id() -> str:
    """A new random row id (canonical lower-case hyphenated text)."""
    return str(uuid.uuid4())


class Timestamp(sa.types.TypeDecorator[datetime.datetime]):
    """A timezone-aware UTC timestamp on every database.

    Accepts datetimes (naive ones are taken as UTC) and ISO-8601 strings; SQLite stores naive UTC
    text (so comparisons stay lexicographic and correct), PostgreSQL a `timestamptz`.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> datetime.datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = parse_timestamp(value)
        elif not isinstance(value, datetime.datetime):
            raise TypeError(f"expected a datetime or an ISO-8601 string, got {value!r}")
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        else:
            value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> datetime.datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # raw SQL on SQLite
            value = datetime.datetime.fromisoformat(value)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def parse_timestamp(text: str) -> datetime.datetime:
    """Parse an ISO-8601 timestamp; a trailing `Z` and any offset are accepted."""
    try:
        value = datetime.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        import pendulum

        try:
            parsed = pendulum.parse(text)
        except Exception as exc:
            raise ValueError(f"Invalid timestamp {text!r}: expected ISO-8601") from exc
        if not isinstance(parsed, datetime.datetime):
            raise ValueError(f"Invalid timestamp {text!r}: expected a date and a time") from None
        value = datetime.datetime.fromisoformat(parsed.isoformat())
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


# JSON columns: JSONB on PostgreSQL; Python None is SQL NULL (not the JSON `null` literal).
JSON = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")
UUID = sa.Uuid(as_uuid=False)

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s__%(column_0_N_name)s",
        "uq": "uq_%(table_name)s__%(column_0_N_name)s",
        "fk": "fk_%(table_name)s__%(column_0_name)s__%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _table(name: str, *items: Any) -> sa.Table:
    return sa.Table(
        name,
        metadata,
        sa.Column("id", UUID, primary_key=True, default=new_id),
        sa.Column("created", Timestamp(), nullable=False, default=utcnow),
        sa.Column("updated", Timestamp(), nullable=False, default=utcnow, onupdate=utcnow),
        *items,
    )


def _fk(column: str, target: str, ondelete: str | None = "CASCADE", **kw: Any) -> sa.Column[Any]:
    return sa.Column(column, UUID, sa.ForeignKey(f"{target}.id", ondelete=ondelete), **kw)


def _state_columns() -> list[sa.Column[Any]]:
    """The denormalised current state a run row mirrors from its newest state row."""
    return [
        sa.Column("version", sa.Integer, nullable=False, default=0),
        sa.Column("state", sa.String),
        sa.Column("serialized_state", JSON),
        sa.Column("state_timestamp", Timestamp()),
        sa.Column("state_message", sa.String),
        sa.Column("state_result", JSON),
        sa.Column("state_start_time", Timestamp()),
    ]


tenant = _table(
    "tenant",
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("slug", sa.String(255), nullable=False, unique=True),
    sa.Column("info", JSON),
    sa.Column("settings", JSON, nullable=False, default=dict),
)

project = _table(
    "project",
    _fk("tenant_id", "tenant", nullable=False),
    sa.Column("name", sa.String, nullable=False),
    sa.Column("description", sa.String),
    sa.UniqueConstraint("tenant_id", "name"),
)

flow_group = _table(
    "flow_group",
    _fk("tenant_id", "tenant", nullable=False),
    sa.Column("name", sa.String),
    sa.Column("labels", JSON),
    sa.Column("schedule", JSON),
    sa.Column("settings", JSON, nullable=False, default=dict),
    sa.Column("default_parameters", JSON, nullable=False, default=dict),
    sa.Column("run_config", JSON),
    sa.Column("description", sa.String),
    sa.Index(None, "tenant_id", "name"),
)

flow = _table(
    "flow",
    _fk("tenant_id", "tenant", nullable=False),
    _fk("project_id", "project", nullable=False, index=True),
    _fk("flow_group_id", "flow_group", nullable=False, index=True),
    sa.Column("name", sa.String, nullable=False, index=True),
    sa.Column("version", sa.Integer, index=True),
    sa.Column("version_group_id", sa.String, index=True),
    sa.Column("description", sa.String),
    sa.Column("archived", sa.Boolean, nullable=False, default=False),
    sa.Column("serialized_flow", JSON),
    sa.Column("environment", JSON),
    sa.Column("run_config", JSON),
    sa.Column("storage", JSON),
    sa.Column("parameters", JSON),
    sa.Column("core_version", sa.String),
    sa.Column("schedule", JSON),
    sa.Column("is_schedule_active", sa.Boolean, nullable=False, default=False),
    sa.Column("settings", JSON, nullable=False, default=dict),
)

task = _table(
    "task",
    _fk("tenant_id", "tenant", nullable=False),
    _fk("flow_id", "flow", nullable=False, index=True),
    sa.Column("name", sa.String),
    sa.Column("slug", sa.String),
    sa.Column("description", sa.String),
    sa.Column("type", sa.String),
    sa.Column("max_retries", sa.Integer),
    sa.Column("retry_delay", sa.Interval),
    sa.Column("trigger", sa.String),
    sa.Column("tags", JSON, nullable=False, default=list),
    sa.Column("mapped", sa.Boolean, nullable=False, default=False),
    sa.Column("auto_generated", sa.Boolean, nullable=False, default=False),
    sa.Column("cache_key", sa.String),
    sa.Column("is_root_task", sa.Boolean, nullable=False, default=False),
    sa.Column("is_terminal_task", sa.Boolean, nullable=False, default=False),
    sa.Column("is_reference_task", sa.Boolean, nullable=False, default=False),
    sa.UniqueConstraint("flow_id", "slug"),
)

edge = _table(
    "edge",
    _fk("tenant_id", "tenant", nullable=False),
    _fk("flow_id", "flow", nullable=False, index=True),
    _fk("upstream_task_id", "task", nullable=False),
    _fk("downstream_task_id", "task", nullable=False),
    sa.Column("key", sa.String),
    sa.Column("mapped", sa.Boolean, nullable=False, default=False),
    sa.UniqueConstraint("flow_id", "downstream_task_id", "upstream_task_id"),
)

agent_config = _table(
    "agent_config",
    _fk("tenant_id", "tenant", nullable=False),
    sa.Column("name", sa.String),
    sa.Column("settings", JSON, nullable=False, default=dict),
)

agent = _table(
    "agent",
    _fk("tenant_id", "tenant", nullable=False),
    _fk("agent_config_id", "agent_config", ondelete="SET NULL"),
    sa.Column("name", sa.String),
    sa.Column("type", sa.String),
    sa.Column("core_version", sa.String),
    sa.Column("labels", JSON, nullable=False, default=list),
    sa.Column("last_queried", Timestamp(), default=utcnow),
)

flow_run = _table(
    "flow_run",
    _fk("tenant_id", "tenant", nullable=False, index=True),
    _fk("flow_id", "flow", nullable=False),
    _fk("agent_id", "agent", ondelete="SET NULL", index=True),
    sa.Column("name", sa.String),
    sa.Column("parameters", JSON, default=dict),
    sa.Column("context", JSON),
    sa.Column("labels", JSON, nullable=False, default=list),
    sa.Column("run_config", JSON),
    sa.Column("scheduled_start_time", Timestamp(), nullable=False, default=utcnow),
    sa.Column("auto_scheduled", sa.Boolean, nullable=False, default=False),
    sa.Column("idempotency_key", sa.String),
    sa.Column("heartbeat", Timestamp(), index=True),
    sa.Column("start_time", Timestamp()),
    sa.Column("end_time", Timestamp()),
    sa.Column("times_resurrected", sa.Integer, default=0),
    *_state_columns(),
    sa.UniqueConstraint("idempotency_key", "flow_id"),
    sa.Index(None, "state"),
    sa.Index(None, "flow_id", sa.text("scheduled_start_time DESC")),
    sa.Index(None, "tenant_id", "state", "state_start_time"),
)

task_run = _table(
    "task_run",
    _fk("tenant_id", "tenant", nullable=False),
    _fk("flow_run_id", "flow_run", nullable=False),
    _fk("task_id", "task", nullable=False, index=True),
    sa.Column("map_index", sa.Integer, nullable=False, default=-1),
    sa.Column("name", sa.String),
    sa.Column("cache_key", sa.String, index=True),
    sa.Column("heartbeat", Timestamp(), index=True),
    sa.Column("start_time", Timestamp()),
    sa.Column("end_time", Timestamp()),
    *_state_columns(),
    # Also serves lookups by flow_run_id alone (its leading column).
    sa.UniqueConstraint("flow_run_id", "task_id", "map_index"),
    sa.Index(None, "state"),
)


def _state_table(name: str, run_table: str) -> sa.Table:
    return _table(
        name,
        _fk("tenant_id", "tenant", nullable=False),
        _fk(f"{run_table}_id", run_table, nullable=False, index=True),
        sa.Column("timestamp", Timestamp(), nullable=False, default=utcnow, index=True),
        sa.Column("state", sa.String, nullable=False),
        sa.Column("message", sa.String),
        sa.Column("result", JSON),
        sa.Column("start_time", Timestamp()),
        sa.Column("serialized_state", JSON, nullable=False),
        sa.Column("version", sa.Integer, default=1),
    )


flow_run_state = _state_table("flow_run_state", "flow_run")
task_run_state = _state_table("task_run_state", "task_run")

log = _table(
    "log",
    _fk("tenant_id", "tenant"),
    _fk("flow_run_id", "flow_run", index=True),
    _fk("task_run_id", "task_run", index=True),
    sa.Column("timestamp", Timestamp(), nullable=False, default=utcnow),
    sa.Column("name", sa.String),
    sa.Column("level", sa.String),
    sa.Column("message", sa.String),
    sa.Column("info", JSON),
    sa.Column("is_loaded_from_archive", sa.Boolean, default=False),
)

task_run_artifact = _table(
    "task_run_artifact",
    _fk("tenant_id", "tenant", nullable=False),
    _fk("task_run_id", "task_run", nullable=False, index=True),
    sa.Column("kind", sa.String, nullable=False),
    sa.Column("data", JSON, nullable=False, default=dict),
)

cloud_hook = _table(
    "cloud_hook",
    _fk("tenant_id", "tenant"),
    sa.Column("name", sa.String),
    sa.Column("type", sa.String, nullable=False),
    sa.Column("states", JSON),
    sa.Column("config", JSON, nullable=False, default=dict),
    sa.Column("active", sa.Boolean, nullable=False, default=True),
    sa.Column("version_group_id", sa.String),
)

message = _table(
    "message",
    _fk("tenant_id", "tenant", nullable=False),
    sa.Column("read", sa.Boolean, nullable=False, default=False),
    sa.Column("type", sa.String),
    sa.Column("text", sa.String),
    sa.Column("content", JSON, nullable=False, default=dict),
)


@dataclass(frozen=True, slots=True)
class Relationship:
    """One relationship field of the query surface.

    `kind` is "object" (returns one row or null) or "array" (a list, which accepts where/order_by/
    limit/offset/distinct_on and has an `<name>_aggregate` twin). The related rows are those of
    `target` whose `remote_column` equals this row's `local_column`.
    """

    kind: str
    target: str
    local_column: str
    remote_column: str


def _obj(target: str, local: str) -> Relationship:
    return Relationship("object", target, local, "id")


def _arr(target: str, remote: str) -> Relationship:
    return Relationship("array", target, "id", remote)


RELATIONSHIPS: dict[str, dict[str, Relationship]] = {
    "tenant": {
        "projects": _arr("project", "tenant_id"),
        "flows": _arr("flow", "tenant_id"),
        "flow_groups": _arr("flow_group", "tenant_id"),
    },
    "project": {"tenant": _obj("tenant", "tenant_id"), "flows": _arr("flow", "project_id")},
    "flow_group": {"tenant": _obj("tenant", "tenant_id"), "flows": _arr("flow", "flow_group_id")},
    "flow": {
        "project": _obj("project", "project_id"),
        "tenant": _obj("tenant", "tenant_id"),
        "flow_group": _obj("flow_group", "flow_group_id"),
        "tasks": _arr("task", "flow_id"),
        "edges": _arr("edge", "flow_id"),
        "flow_runs": _arr("flow_run", "flow_id"),
    },
    "task": {
        "flow": _obj("flow", "flow_id"),
        "tenant": _obj("tenant", "tenant_id"),
        "task_runs": _arr("task_run", "task_id"),
        "upstream_edges": _arr("edge", "downstream_task_id"),
        "downstream_edges": _arr("edge", "upstream_task_id"),
    },
    "edge": {
        "flow": _obj("flow", "flow_id"),
        "tenant": _obj("tenant", "tenant_id"),
        "upstream_task": _obj("task", "upstream_task_id"),
        "downstream_task": _obj("task", "downstream_task_id"),
    },
    "flow_run": {
        "flow": _obj("flow", "flow_id"),
        "tenant": _obj("tenant", "tenant_id"),
        "agent": _obj("agent", "agent_id"),
        "task_runs": _arr("task_run", "flow_run_id"),
        "states": _arr("flow_run_state", "flow_run_id"),
        "logs": _arr("log", "flow_run_id"),
    },
    "task_run": {
        "flow_run": _obj("flow_run", "flow_run_id"),
        "task": _obj("task", "task_id"),
        "tenant": _obj("tenant", "tenant_id"),
        "states": _arr("task_run_state", "task_run_id"),
        "logs": _arr("log", "task_run_id"),
        "artifacts": _arr("task_run_artifact", "task_run_id"),
    },
    "flow_run_state": {"flow_run": _obj("flow_run", "flow_run_id")},
    "task_run_state": {"task_run": _obj("task_run", "task_run_id")},
    "log": {},
    "agent": {
        "agent_config": _obj("agent_config", "agent_config_id"),
        "flow_runs": _arr("flow_run", "agent_id"),
    },
    "agent_config": {"agents": _arr("agent", "agent_config_id")},
    "task_run_artifact": {"task_run": _obj("task_run", "task_run_id")},
    "cloud_hook": {},
    "message": {},
}

# The tables the query surface exposes, in a stable order.
TABLES: dict[str, sa.Table] = {name: metadata.tables[name] for name in RELATIONSHIPS}

# States whose timestamps set a run's end_time (exact class names, protocol §6.4).
END_STATES = frozenset({"Success", "Failed", "Cached", "TimedOut", "Looped", "Cancelled"})
