"""The initial schema: every table of protocol §8 with its constraints and indexes.

Written out in full rather than built from `prefect.server.database.models`, so this revision keeps
creating the same schema when the models change later (each change gets its own revision).

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

# The column types as they were at this revision (see models.py of the same date).
UUID = sa.Uuid(as_uuid=False)
JSON = sa.JSON(none_as_null=True).with_variant(
    postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
)
TIMESTAMP = sa.DateTime(timezone=True)


def _base(table: str) -> list[Any]:
    """The id and timestamps every table starts with, and its primary key."""
    return [
        sa.Column("id", UUID, nullable=False),
        sa.Column("created", TIMESTAMP, nullable=False),
        sa.Column("updated", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=f"pk_{table}"),
    ]


def _fk(table: str, column: str, target: str, *, nullable: bool, ondelete: str = "CASCADE") -> Any:
    """A uuid column and its foreign key constraint (named by the models' convention)."""
    return [
        sa.Column(column, UUID, nullable=nullable),
        sa.ForeignKeyConstraint(
            [column], [f"{target}.id"], name=f"fk_{table}__{column}__{target}", ondelete=ondelete
        ),
    ]


def _index(table: str, *columns: str) -> None:
    op.create_index(f"ix_{table}__{'_'.join(columns)}", table, list(columns), unique=False)


def _unique(table: str, *columns: str) -> sa.UniqueConstraint:
    return sa.UniqueConstraint(*columns, name=f"uq_{table}__{'_'.join(columns)}")


def _state_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(), nullable=True),
        sa.Column("serialized_state", JSON, nullable=True),
        sa.Column("state_timestamp", TIMESTAMP, nullable=True),
        sa.Column("state_message", sa.String(), nullable=True),
        sa.Column("state_result", JSON, nullable=True),
        sa.Column("state_start_time", TIMESTAMP, nullable=True),
    ]


def _create(table: str, *items: Any) -> None:
    flat: list[Any] = []
    for item in items:
        flat.extend(item if isinstance(item, list) else [item])
    op.create_table(table, *_base(table), *flat)


def _create_state_table(table: str, run_table: str) -> None:
    _create(
        table,
        _fk(table, "tenant_id", "tenant", nullable=False),
        _fk(table, f"{run_table}_id", run_table, nullable=False),
        sa.Column("timestamp", TIMESTAMP, nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("message", sa.String(), nullable=True),
        sa.Column("result", JSON, nullable=True),
        sa.Column("start_time", TIMESTAMP, nullable=True),
        sa.Column("serialized_state", JSON, nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
    )
    _index(table, f"{run_table}_id")
    _index(table, "timestamp")


def upgrade() -> None:
    _create(
        "tenant",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("slug", sa.String(length=255), nullable=False),
        sa.Column("info", JSON, nullable=True),
        sa.Column("settings", JSON, nullable=False),
        _unique("tenant", "slug"),
    )
    _create(
        "project",
        _fk("project", "tenant_id", "tenant", nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("description", sa.String(), nullable=True),
        _unique("project", "tenant_id", "name"),
    )
    _create(
        "flow_group",
        _fk("flow_group", "tenant_id", "tenant", nullable=False),
        sa.Column("name", sa.String(), nullable=True),
        sa.Column("labels", JSON, nullable=True),
        sa.Column("schedule", JSON, nullable=True),
        sa.Column("settings", JSON, nullable=False),
        sa.Column("default_parameters", JSON, nullable=False),
        sa.Column("run_config", JSON, nullable=True),
        sa.Column("description", sa.String(), nullable=True),
    )
    _index("flow_group", "tenant_id", "name")

    _create(
        "flow",
        _fk("flow", "tenant_id", "tenant", nullable=False),
        _fk("flow", "project_id", "project", nullable=False),
        _fk("flow", "flow_group_id", "flow_group", nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("version_group_id", sa.String(), nullable=True),
        sa.Column("description", sa.String(), nullable=True),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("serialized_flow", JSON, nullable=True),
        sa.Column("environment", JSON, nullable=True),
        sa.Column("run_config", JSON, nullable=True),
        sa.Column("storage", JSON, nullable=True),
        sa.Column("parameters", JSON, nullable=True),
        sa.Column("core_version", sa.String(), nullable=True),
        sa.Column("schedule", JSON, nullable=True),
        sa.Column("is_schedule_active", sa.Boolean(), nullable=False),
        sa.Column("settings", JSON, nullable=False),
    )
    for column in ("project_id", "flow_group_id", "name", "version", "version_group_id"):
        _index("flow", column)

    _create(
        "task",
        _fk("task", "tenant_id", "tenant", nullable=False),
        _fk("task", "flow_id", "flow", nullable=False),
        sa.Column("name", sa.String(), nullable=True),
        sa.Column("slug", sa.String(), nullable=True),
        sa.Column("description", sa.String(), nullable=True),
        sa.Column("type", sa.String(), nullable=True),
        sa.Column("max_retries", sa.Integer(), nullable=True),
        sa.Column("retry_delay", sa.Interval(), nullable=True),
        sa.Column("trigger", sa.String(), nullable=True),
        sa.Column("tags", JSON, nullable=False),
        sa.Column("mapped", sa.Boolean(), nullable=False),
        sa.Column("auto_generated", sa.Boolean(), nullable=False),
        sa.Column("cache_key", sa.String(), nullable=True),
        sa.Column("is_root_task", sa.Boolean(), nullable=False),
        sa.Column("is_terminal_task", sa.Boolean(), nullable=False),
        sa.Column("is_reference_task", sa.Boolean(), nullable=False),
        _unique("task", "flow_id", "slug"),
    )
    _index("task", "flow_id")

    _create(
        "edge",
        _fk("edge", "tenant_id", "tenant", nullable=False),
        _fk("edge", "flow_id", "flow", nullable=False),
        _fk("edge", "upstream_task_id", "task", nullable=False),
        _fk("edge", "downstream_task_id", "task", nullable=False),
        sa.Column("key", sa.String(), nullable=True),
        sa.Column("mapped", sa.Boolean(), nullable=False),
        _unique("edge", "flow_id", "downstream_task_id", "upstream_task_id"),
    )
    _index("edge", "flow_id")

    _create(
        "agent_config",
        _fk("agent_config", "tenant_id", "tenant", nullable=False),
        sa.Column("name", sa.String(), nullable=True),
        sa.Column("settings", JSON, nullable=False),
    )
    _create(
        "agent",
        _fk("agent", "tenant_id", "tenant", nullable=False),
        _fk("agent", "agent_config_id", "agent_config", nullable=True, ondelete="SET NULL"),
        sa.Column("name", sa.String(), nullable=True),
        sa.Column("type", sa.String(), nullable=True),
        sa.Column("core_version", sa.String(), nullable=True),
        sa.Column("labels", JSON, nullable=False),
        sa.Column("last_queried", TIMESTAMP, nullable=True),
    )

    _create(
        "flow_run",
        _fk("flow_run", "tenant_id", "tenant", nullable=False),
        _fk("flow_run", "flow_id", "flow", nullable=False),
        _fk("flow_run", "agent_id", "agent", nullable=True, ondelete="SET NULL"),
        sa.Column("name", sa.String(), nullable=True),
        sa.Column("parameters", JSON, nullable=True),
        sa.Column("context", JSON, nullable=True),
        sa.Column("labels", JSON, nullable=False),
        sa.Column("run_config", JSON, nullable=True),
        sa.Column("scheduled_start_time", TIMESTAMP, nullable=False),
        sa.Column("auto_scheduled", sa.Boolean(), nullable=False),
        sa.Column("idempotency_key", sa.String(), nullable=True),
        sa.Column("heartbeat", TIMESTAMP, nullable=True),
        sa.Column("start_time", TIMESTAMP, nullable=True),
        sa.Column("end_time", TIMESTAMP, nullable=True),
        sa.Column("times_resurrected", sa.Integer(), nullable=True),
        _state_columns(),
        _unique("flow_run", "idempotency_key", "flow_id"),
    )
    for columns in (("tenant_id",), ("agent_id",), ("heartbeat",), ("state",)):
        _index("flow_run", *columns)
    _index("flow_run", "tenant_id", "state", "state_start_time")
    # The newest runs of a flow first (flow pages, the scheduler's look-ahead).
    op.create_index(
        "ix_flow_run__flow_id",
        "flow_run",
        ["flow_id", sa.text("scheduled_start_time DESC")],
        unique=False,
    )

    _create(
        "task_run",
        _fk("task_run", "tenant_id", "tenant", nullable=False),
        _fk("task_run", "flow_run_id", "flow_run", nullable=False),
        _fk("task_run", "task_id", "task", nullable=False),
        sa.Column("map_index", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(), nullable=True),
        sa.Column("cache_key", sa.String(), nullable=True),
        sa.Column("heartbeat", TIMESTAMP, nullable=True),
        sa.Column("start_time", TIMESTAMP, nullable=True),
        sa.Column("end_time", TIMESTAMP, nullable=True),
        _state_columns(),
        _unique("task_run", "flow_run_id", "task_id", "map_index"),
    )
    for column in ("task_id", "cache_key", "heartbeat", "state"):
        _index("task_run", column)

    _create_state_table("flow_run_state", "flow_run")
    _create_state_table("task_run_state", "task_run")

    _create(
        "log",
        _fk("log", "tenant_id", "tenant", nullable=True),
        _fk("log", "flow_run_id", "flow_run", nullable=True),
        _fk("log", "task_run_id", "task_run", nullable=True),
        sa.Column("timestamp", TIMESTAMP, nullable=False),
        sa.Column("name", sa.String(), nullable=True),
        sa.Column("level", sa.String(), nullable=True),
        sa.Column("message", sa.String(), nullable=True),
        sa.Column("info", JSON, nullable=True),
        sa.Column("is_loaded_from_archive", sa.Boolean(), nullable=True),
    )
    _index("log", "flow_run_id")
    _index("log", "task_run_id")

    _create(
        "task_run_artifact",
        _fk("task_run_artifact", "tenant_id", "tenant", nullable=False),
        _fk("task_run_artifact", "task_run_id", "task_run", nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("data", JSON, nullable=False),
    )
    _index("task_run_artifact", "task_run_id")

    _create(
        "cloud_hook",
        _fk("cloud_hook", "tenant_id", "tenant", nullable=True),
        sa.Column("name", sa.String(), nullable=True),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("states", JSON, nullable=True),
        sa.Column("config", JSON, nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version_group_id", sa.String(), nullable=True),
    )
    _create(
        "message",
        _fk("message", "tenant_id", "tenant", nullable=False),
        sa.Column("read", sa.Boolean(), nullable=False),
        sa.Column("type", sa.String(), nullable=True),
        sa.Column("text", sa.String(), nullable=True),
        sa.Column("content", JSON, nullable=False),
    )


# Children before parents, so foreign keys never dangle while tables are dropped.
_TABLES_IN_DROP_ORDER = (
    "message",
    "cloud_hook",
    "task_run_artifact",
    "log",
    "task_run_state",
    "flow_run_state",
    "task_run",
    "flow_run",
    "agent",
    "agent_config",
    "edge",
    "task",
    "flow",
    "flow_group",
    "project",
    "tenant",
)


def downgrade() -> None:
    for table in _TABLES_IN_DROP_ORDER:
        op.drop_table(table)
