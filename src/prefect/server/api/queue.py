"""The agents' work queue: which flow runs an agent should start now (protocol §6.7).

The query does not claim runs; an agent takes a run by writing its Submitted state, which the
Submitted lock in `prefect.server.api.states` makes exclusive.
"""

from __future__ import annotations

import datetime
from typing import Any

import sqlalchemy as sa

import prefect
from prefect.server.api.states import SCHEDULED_STATES, _is_uuid
from prefect.server.database import models
from prefect.server.database.engine import Database
from prefect.server.errors import ServerError

__all__ = ["get_runs_in_queue"]

# Fetched before the label filter; the filter then cuts to `queued_runs_returned_limit`.
_FETCH_LIMIT = 75

_flow_run = models.flow_run
_task_run = models.task_run
_SCHEDULED = sorted(SCHEDULED_STATES)

_SELECT_QUEUED_RUNS = (
    sa.select(_flow_run.c.id, _flow_run.c.labels)
    .where(
        _flow_run.c.tenant_id == sa.bindparam("b_tenant_id"),
        sa.or_(
            sa.and_(
                _flow_run.c.state.in_(_SCHEDULED),
                _flow_run.c.state_start_time <= sa.bindparam("b_before"),
            ),
            # A running flow run with task runs waiting to be retried: the agent restarts it.
            sa.and_(
                _flow_run.c.state == "Running",
                sa.exists().where(
                    _task_run.c.flow_run_id == _flow_run.c.id,
                    _task_run.c.state.in_(_SCHEDULED),
                    _task_run.c.state_start_time <= sa.bindparam("b_before"),
                ),
            ),
        ),
    )
    .order_by(_flow_run.c.state_start_time.asc().nulls_last(), _flow_run.c.id)
    .limit(_FETCH_LIMIT)
)
_TOUCH_AGENT = sa.update(models.agent).where(models.agent.c.id == sa.bindparam("b_id"))


def _matches(run_labels: Any, agent_labels: set[str]) -> bool:
    labels = set(run_labels or ())
    if not labels:
        # Unlabeled runs only go to unlabeled agents.
        return not agent_labels
    return labels <= agent_labels


async def get_runs_in_queue(
    db: Database,
    tenant_id: str | None,
    *,
    before: datetime.datetime | str | None = None,
    labels: list[str] | None = None,
    agent_id: str | None = None,
) -> list[str]:
    """The ids of the flow runs an agent with `labels` should start, earliest first.

    Args:
        db: the database.
        tenant_id: the tenant whose runs to return.
        before: only runs due at or before this time (default now).
        labels: the agent's labels; a run goes to an agent that has all of the run's labels,
            and a run without labels only to an agent without labels.
        agent_id: the asking agent (`X-PREFECT-AGENT-ID`); its `last_queried` becomes now.

    Returns:
        at most `server.api.queued_runs_returned_limit` flow run ids.

    Raises:
        ServerError: `Invalid tenant ID` when `tenant_id` is missing.
    """
    if not tenant_id or not _is_uuid(tenant_id):
        raise ServerError("Invalid tenant ID")
    now = models.utcnow()
    if before is None:
        before = now
    elif isinstance(before, str):
        before = models.parse_timestamp(before)
    agent_labels = set(labels or ())
    limit = prefect.config.server.api.queued_runs_returned_limit
    async with db.read() as conn:
        rows = (
            await conn.execute(_SELECT_QUEUED_RUNS, {"b_tenant_id": tenant_id, "b_before": before})
        ).all()
    run_ids = [str(run_id) for run_id, run_labels in rows if _matches(run_labels, agent_labels)]
    if agent_id is not None and _is_uuid(agent_id):
        async with db.write() as conn:
            await conn.execute(_TOUCH_AGENT, {"b_id": agent_id, "last_queried": now})
    return run_ids[:limit]
