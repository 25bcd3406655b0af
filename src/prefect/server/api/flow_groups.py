"""Flow groups: the settings shared by every version of a flow (one group per version group):
default parameters, labels, description, run config, schedule, and the heartbeat and Lazarus
switches that the flow mutations set (protocol §6.9).

Group values win over the flow's own: `create_flow_run` reads the group's labels, run config
and default parameters first, and the scheduler the group's schedule.
"""

from __future__ import annotations

import datetime
from typing import Any

import sqlalchemy as sa

from prefect.server.database import Database, models
from prefect.server.errors import ServerError

__all__ = [
    "delete_flow_group",
    "disable_flow_heartbeat",
    "disable_flow_lazarus_process",
    "enable_flow_heartbeat",
    "enable_flow_lazarus_process",
    "delete_flow_group_schedule",
    "set_flow_group_default_parameters",
    "set_flow_group_description",
    "set_flow_group_labels",
    "set_flow_group_run_config",
    "set_flow_group_schedule",
]


async def delete_flow_group(db: Database, flow_group_id: str) -> bool:
    """Delete every flow of the group (with their runs), then the group; whether it existed."""
    from prefect.server.api.flows import delete_flow_rows

    async with db.read() as conn:
        exists = await conn.execute(
            sa.select(models.flow_group.c.id).where(models.flow_group.c.id == flow_group_id)
        )
        if exists.scalar_one_or_none() is None:
            return False
        flow_ids = list(
            (
                await conn.execute(
                    sa.select(models.flow.c.id).where(models.flow.c.flow_group_id == flow_group_id)
                )
            ).scalars()
        )
    for flow_id in flow_ids:
        await delete_flow_rows(db, str(flow_id), delete_empty_group=False)
    async with db.write() as conn:
        # Flows and runs registered meanwhile go with the group (foreign keys cascade).
        result = await conn.execute(
            sa.delete(models.flow_group).where(models.flow_group.c.id == flow_group_id)
        )
    return bool(result.rowcount)


async def _update(db: Database, flow_group_id: str, **values: Any) -> bool:
    async with db.write() as conn:
        result = await conn.execute(
            sa.update(models.flow_group)
            .where(models.flow_group.c.id == flow_group_id)
            .values(**values)
        )
        return bool(result.rowcount)


async def set_flow_group_default_parameters(
    db: Database, flow_group_id: str, parameters: dict | None
) -> bool:
    """Set the parameter values every run of the group starts from (over the flow's defaults).

    Returns False for an unknown group.
    """
    if parameters is not None and not isinstance(parameters, dict):
        raise ServerError("Invalid parameters: expected a JSON object.")
    return await _update(db, flow_group_id, default_parameters=parameters or {})


async def set_flow_group_labels(db: Database, flow_group_id: str, labels: list[str] | None) -> bool:
    """Set the labels of the group's runs (deduplicated, sorted); None clears them, so runs
    fall back to the run config's labels. Returns False for an unknown group."""
    value = None if labels is None else sorted(set(labels))
    return await _update(db, flow_group_id, labels=value)


async def set_flow_group_description(
    db: Database, flow_group_id: str, description: str | None
) -> bool:
    """Set (or clear) the group's description. Returns False for an unknown group."""
    return await _update(db, flow_group_id, description=description)


async def set_flow_group_run_config(
    db: Database, flow_group_id: str, run_config: dict | None
) -> bool:
    """Set (or clear) the run config that overrides the flow's. Returns False for an unknown
    group."""
    if run_config is not None and not isinstance(run_config, dict):
        raise ServerError("Invalid run config: expected a JSON object.")
    return await _update(db, flow_group_id, run_config=run_config)


def _build_clocks(
    cron_clocks: list[dict] | None, interval_clocks: list[dict] | None, timezone: str | None
) -> list[dict[str, Any]]:
    """The JSON of the requested clocks, each built and dumped through the schedule schema."""
    import pendulum

    from prefect.schedules import clocks
    from prefect.serialization.schedule import ClockSchema

    try:
        zone = pendulum.timezone(timezone or "UTC")
    except Exception:
        raise ServerError(f"Invalid timezone: {timezone!r}") from None
    start_date = pendulum.now(zone).replace(microsecond=0)
    built: list[Any] = []
    try:
        for cron_clock in cron_clocks or []:
            built.append(
                clocks.CronClock(
                    cron=cron_clock["cron"],
                    start_date=start_date,
                    parameter_defaults=cron_clock.get("parameter_defaults") or {},
                    labels=cron_clock.get("labels"),
                )
            )
        for interval_clock in interval_clocks or []:
            seconds = interval_clock["interval"]
            if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 60:
                raise ValueError(f"Interval must be at least 60 seconds, got {seconds!r}.")
            built.append(
                clocks.IntervalClock(
                    interval=datetime.timedelta(seconds=seconds),
                    start_date=start_date,
                    parameter_defaults=interval_clock.get("parameter_defaults") or {},
                    labels=interval_clock.get("labels"),
                )
            )
        dumped = [ClockSchema().dump(clock) for clock in built]
        for clock_json in dumped:
            ClockSchema().load(clock_json)
    except (KeyError, TypeError, ValueError) as exc:
        raise ServerError(f"Invalid clock: {exc}") from None
    except Exception as exc:  # marshmallow's ValidationError and friends
        raise ServerError(f"Invalid clock: {exc}") from None
    return dumped


async def set_flow_group_schedule(
    db: Database,
    flow_group_id: str,
    *,
    cron_clocks: list[dict] | None = None,
    interval_clocks: list[dict] | None = None,
    timezone: str | None = None,
) -> bool:
    """Give the group a schedule of cron and interval clocks (it wins over the flows' own).

    Args:
        db: the server database
        flow_group_id: the group
        cron_clocks: `{"cron", "parameter_defaults"}` items
        interval_clocks: `{"interval" (seconds, at least 60), "parameter_defaults"}` items
        timezone: the zone the clocks start in (and cron expressions are read in); default UTC

    The group's auto-scheduled runs still `Scheduled` are deleted; the scheduler creates the
    new schedule's runs for flows whose schedule is active.

    Returns:
        False for an unknown group

    Raises:
        ServerError: no clock, an invalid clock or an unknown time zone
    """
    if not cron_clocks and not interval_clocks:
        raise ServerError("A schedule needs at least one cron or interval clock.")
    schedule = {"type": "Schedule", "clocks": _build_clocks(cron_clocks, interval_clocks, timezone)}
    return await _replace_schedule(db, flow_group_id, schedule)


async def delete_flow_group_schedule(db: Database, flow_group_id: str) -> bool:
    """Remove the group's schedule and its auto-scheduled runs still `Scheduled`.

    Returns False for an unknown group.
    """
    return await _replace_schedule(db, flow_group_id, None)


async def _replace_schedule(db: Database, flow_group_id: str, schedule: dict | None) -> bool:
    from prefect.server.api.schedules import delete_auto_scheduled_runs

    async with db.write() as conn:
        result = await conn.execute(
            sa.update(models.flow_group)
            .where(models.flow_group.c.id == flow_group_id)
            .values(schedule=schedule)
        )
        if not result.rowcount:
            return False
        group_flows = sa.select(models.flow.c.id).where(
            models.flow.c.flow_group_id == flow_group_id
        )
        await delete_auto_scheduled_runs(conn, models.flow_run.c.flow_id.in_(group_flows))
    return True


async def _update_group_settings(db: Database, flow_id: str, changes: dict[str, Any]) -> bool:
    async with db.write() as conn:
        group_id = (
            await conn.execute(
                sa.select(models.flow.c.flow_group_id).where(models.flow.c.id == flow_id)
            )
        ).scalar_one_or_none()
        if group_id is None:
            return False
        settings = (
            await conn.execute(
                sa.select(models.flow_group.c.settings)
                .where(models.flow_group.c.id == group_id)
                .with_for_update()
            )
        ).scalar_one()
        await conn.execute(
            sa.update(models.flow_group)
            .where(models.flow_group.c.id == group_id)
            .values(settings={**(settings or {}), **changes})
        )
    return True


async def enable_flow_heartbeat(db: Database, flow_id: str) -> bool:
    """Turn heartbeats on for the flow's group; False for an unknown flow."""
    return await _update_group_settings(
        db, flow_id, {"heartbeat_enabled": True, "disable_heartbeat": False}
    )


async def disable_flow_heartbeat(db: Database, flow_id: str) -> bool:
    """Turn heartbeats off for the flow's group (the zombie killer and Lazarus skip its runs)."""
    return await _update_group_settings(
        db, flow_id, {"heartbeat_enabled": False, "disable_heartbeat": True}
    )


async def enable_flow_lazarus_process(db: Database, flow_id: str) -> bool:
    """Let Lazarus reschedule the flow group's lost runs; False for an unknown flow."""
    return await _update_group_settings(db, flow_id, {"lazarus_enabled": True})


async def disable_flow_lazarus_process(db: Database, flow_id: str) -> bool:
    """Keep Lazarus away from the flow group's runs; False for an unknown flow."""
    return await _update_group_settings(db, flow_id, {"lazarus_enabled": False})
