"""Flow schedules: switching them on and off, and creating the upcoming auto-scheduled runs
(protocol §6.9; the scheduler service calls `schedule_flow_runs` for every active flow).

A flow's effective schedule is its group's when the group has one, else the flow's own. Runs
are created through `prefect.server.api.runs.create_flow_run` with an idempotency key derived
from the event (start time, and parameters and labels when the clock has them), so repeated
calls, concurrent schedulers and restarts never create the same run twice.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from prefect.server.database import Database, models
from prefect.server.errors import ServerError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = [
    "auto_scheduled_idempotency_key",
    "delete_auto_scheduled_runs",
    "schedule_flow_runs",
    "set_schedule_active",
    "set_schedule_inactive",
]

logger = logging.getLogger(__name__)

_REQUIRED_PARAMETERS_ERROR = "Can not schedule a flow that has required parameters."


def auto_scheduled_idempotency_key(
    start_time: datetime.datetime, parameters: dict | None = None, labels: list[str] | None = None
) -> str:
    """The idempotency key of the run a schedule event creates.

    `auto-scheduled:<UTC start time, ISO>`, plus `:<md5 of the parameters and labels JSON>`
    when the event carries either (two clocks firing at once with different parameters make
    two runs).
    """
    utc = start_time.astimezone(datetime.timezone.utc)
    key = "auto-scheduled:" + datetime.datetime.fromisoformat(utc.isoformat()).isoformat()
    if parameters or labels:
        payload = json.dumps({"labels": labels, "parameters": parameters or {}}, sort_keys=True)
        key += ":" + hashlib.md5(payload.encode("utf-8"), usedforsecurity=False).hexdigest()
    return key


async def delete_auto_scheduled_runs(
    conn: AsyncConnection, flow_ids: sa.ColumnElement[Any]
) -> None:
    """Delete the auto-scheduled runs still `Scheduled` of the flows matched by `flow_ids`."""
    await conn.execute(
        sa.delete(models.flow_run).where(
            flow_ids,
            models.flow_run.c.state == "Scheduled",
            models.flow_run.c.auto_scheduled.is_(True),
        )
    )


async def _flow_and_group(conn: AsyncConnection, flow_id: str) -> Any:
    query = (
        sa.select(
            models.flow.c.id,
            models.flow.c.schedule,
            models.flow.c.parameters,
            models.flow.c.archived,
            models.flow.c.is_schedule_active,
            models.flow_group.c.schedule.label("group_schedule"),
            models.flow_group.c.default_parameters,
        )
        .select_from(
            models.flow.join(
                models.flow_group, models.flow_group.c.id == models.flow.c.flow_group_id
            )
        )
        .where(models.flow.c.id == flow_id)
    )
    return (await conn.execute(query)).one_or_none()


def _check_required_parameters(
    schedule: dict, parameters: Any, default_parameters: dict | None
) -> None:
    required = {
        p.get("name") or p.get("slug")
        for p in parameters or []
        if isinstance(p, dict) and p.get("required")
    }
    if not required:
        return
    for clock in schedule.get("clocks") or []:
        supplied = set(default_parameters or {}) | set(clock.get("parameter_defaults") or {})
        if not required <= supplied:
            raise ServerError(_REQUIRED_PARAMETERS_ERROR)


async def set_schedule_active(db: Database, flow_id: str) -> bool:
    """Turn a flow's schedule on and create its upcoming runs.

    Returns:
        False (nothing changed) for an unknown flow or one without a schedule (on the flow or
        its group); True otherwise

    Raises:
        ServerError: the flow has required parameters that a clock does not supply, even with
            the group's default parameters
    """
    async with db.write() as conn:
        row = await _flow_and_group(conn, flow_id)
        if row is None:
            return False
        schedule = row.group_schedule or row.schedule
        if not schedule:
            return False
        _check_required_parameters(schedule, row.parameters, row.default_parameters)
        await conn.execute(
            sa.update(models.flow)
            .where(models.flow.c.id == flow_id)
            .values(is_schedule_active=True)
        )
    await schedule_flow_runs(db, flow_id)
    return True


async def set_schedule_inactive(db: Database, flow_id: str) -> bool:
    """Turn a flow's schedule off and delete its auto-scheduled runs still `Scheduled`.

    Returns False for an unknown flow.
    """
    async with db.write() as conn:
        result = await conn.execute(
            sa.update(models.flow)
            .where(models.flow.c.id == flow_id)
            .values(is_schedule_active=False)
        )
        if not result.rowcount:
            return False
        await delete_auto_scheduled_runs(conn, models.flow_run.c.flow_id == flow_id)
    return True


def _load_schedule(schedule: dict, flow_id: str) -> Any:
    from prefect.serialization.schedule import ScheduleSchema

    try:
        return ScheduleSchema().load(schedule)
    except Exception as exc:
        raise ServerError(f"Invalid schedule for flow {flow_id}: {exc}") from None


async def schedule_flow_runs(db: Database, flow_id: str, max_runs: int | None = None) -> list[str]:
    """Create the upcoming runs of an active, unarchived flow's schedule.

    Keeps up to `max_runs` future auto-scheduled runs in `Scheduled`: events not later than the
    latest existing auto-scheduled run are skipped (unless they carry parameter defaults or
    labels), and so are events whose run already exists. No run is created in the past.

    Args:
        db: the server database
        flow_id: the flow
        max_runs: how many future runs to keep; default the config's
            `server.services.scheduler.max_scheduled_runs_per_flow`

    Returns:
        the ids of the runs this call created
    """
    if max_runs is None:
        import prefect

        max_runs = int(prefect.config.server.services.scheduler.max_scheduled_runs_per_flow)
    if max_runs <= 0:
        return []
    now = models.utcnow()
    async with db.read() as conn:
        row = await _flow_and_group(conn, flow_id)
        if row is None or row.archived or not row.is_schedule_active:
            return []
        schedule_json = row.group_schedule or row.schedule
        if not schedule_json:
            return []
        auto_runs = (models.flow_run.c.flow_id == flow_id) & models.flow_run.c.auto_scheduled.is_(
            True
        )
        latest = (
            await conn.execute(
                sa.select(sa.func.max(models.flow_run.c.scheduled_start_time)).where(auto_runs)
            )
        ).scalar_one_or_none()
        future = await conn.execute(
            sa.select(models.flow_run.c.idempotency_key, models.flow_run.c.state).where(
                auto_runs, models.flow_run.c.scheduled_start_time > now
            )
        )
        future_rows = future.all()
    existing_keys = {r.idempotency_key for r in future_rows}
    room = max_runs - sum(1 for r in future_rows if r.state == "Scheduled")
    if room <= 0:
        return []

    schedule = _load_schedule(schedule_json, flow_id)
    events = schedule.next(max_runs, after=now, return_events=True)

    from prefect.server.api.runs import create_flow_run

    created: list[str] = []
    for event in events:
        if len(created) >= room:
            break
        start_time = event.start_time
        if start_time <= now:
            continue
        parameters = dict(event.parameter_defaults or {})
        labels = list(event.labels) if event.labels is not None else None
        if latest is not None and start_time <= latest and not parameters and not labels:
            continue
        key = auto_scheduled_idempotency_key(start_time, parameters, labels)
        if key in existing_keys:
            continue
        try:
            run_id = await create_flow_run(
                db,
                flow_id=flow_id,
                parameters=parameters,
                labels=labels,
                scheduled_start_time=start_time,
                idempotency_key=key,
                auto_scheduled=True,
            )
        except ServerError as exc:
            logger.warning("Flow %s: could not schedule a run at %s: %s", flow_id, start_time, exc)
            continue
        existing_keys.add(key)
        created.append(run_id)
    return created
