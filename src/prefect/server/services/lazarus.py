"""The Lazarus service (protocol §7): reschedules flow runs whose process has died.

A flow run in `Running` or `Submitted` receives a heartbeat from its process every 30 s. When the
heartbeat is older than `server.services.lazarus.heartbeat_cutoff_seconds` and none of its task
runs is still pending work (`Scheduled`, `Paused`, `Resume`, `Retrying`, `Running`,
`Cancelling`), the run is presumed lost: Lazarus writes `Scheduled` so an agent picks it up again,
up to `resurrection_attempt_limit` times, and then writes `Failed`. Flow groups whose settings turn
heartbeats or Lazarus off are left alone.

A run that never got a heartbeat (rows written outside the state API; a Running/Submitted write
always sets one) is judged by its `updated` time: the last moment anything touched the row is the
best evidence of life there is, and it never rescues a run forever since it does not move on its
own.

Deliberate addition to §7: a started service passes no judgement until it has been up for the
cutoff. Runs keep heartbeating while the server is down (the client just fails to deliver), so right
after a restart every live run would look dead; the wait gives them time to check in again.
"""

from __future__ import annotations

import datetime
import logging
from typing import Any

import sqlalchemy as sa

import prefect
from prefect.engine.state import Failed, Scheduled
from prefect.server.database import models
from prefect.server.services.loop import LoopService

__all__ = ["Lazarus", "flow_group_disables_heartbeat", "flow_group_disables_lazarus"]

logger = logging.getLogger(__name__)

LOG_NAME = "Lazarus.FlowRun"
RESCHEDULED_MESSAGE = "Rescheduled by a Lazarus process."

# Flow run states Lazarus watches, and task run states that mean "the run still has work queued
# or in progress" (such a run is waiting, not dead).
_WATCHED_STATES = ("Running", "Submitted")
_ACTIVE_TASK_STATES = ("Scheduled", "Paused", "Resume", "Retrying", "Running", "Cancelling")


def flow_group_disables_heartbeat(settings: Any) -> bool:
    """Whether a flow group's settings turn heartbeats off (`heartbeat_enabled: false` or
    `disable_heartbeat: true`)."""
    if not isinstance(settings, dict):
        return False
    return settings.get("heartbeat_enabled") is False or settings.get("disable_heartbeat") is True


def flow_group_disables_lazarus(settings: Any) -> bool:
    """Whether a flow group's settings keep Lazarus away (heartbeats off or `lazarus_enabled:
    false`)."""
    if flow_group_disables_heartbeat(settings):
        return True
    return isinstance(settings, dict) and settings.get("lazarus_enabled") is False


def last_sign_of_life() -> sa.ColumnElement[Any]:
    """A flow run's heartbeat, or its `updated` time when it never had one."""
    return sa.func.coalesce(models.flow_run.c.heartbeat, models.flow_run.c.updated)


class Lazarus(LoopService):
    """Reschedules (or finally fails) flow runs whose heartbeat stopped."""

    name = "Lazarus"
    config_key = "lazarus"
    default_loop_seconds = 600.0
    batch_size = 500

    async def run_once(self) -> None:
        """One pass: up to 500 lost runs, the least recently updated first."""
        settings = prefect.config.server.services.lazarus
        cutoff_seconds = float(settings.get("heartbeat_cutoff_seconds", 600))
        limit = int(settings.get("resurrection_attempt_limit", 3))
        cutoff = models.utcnow() - datetime.timedelta(seconds=cutoff_seconds)
        if not self.has_been_running_since(cutoff):
            return
        for run_id in await self._candidates(cutoff):
            if self.is_stopping:
                return
            try:
                await self._handle(run_id, cutoff, limit)
            except Exception:
                logger.exception("Lazarus: could not handle flow run %s.", run_id)

    def _query(self, cutoff: datetime.datetime) -> sa.Select[Any]:
        flow_run, task_run = models.flow_run, models.task_run
        flow, flow_group = models.flow, models.flow_group
        active_task_runs = (
            sa.select(task_run.c.id)
            .where(
                task_run.c.flow_run_id == flow_run.c.id,
                task_run.c.state.in_(_ACTIVE_TASK_STATES),
            )
            .exists()
        )
        return (
            sa.select(
                flow_run.c.id,
                flow_run.c.tenant_id,
                flow_run.c.times_resurrected,
                flow_group.c.settings,
            )
            .select_from(
                flow_run.join(flow, flow.c.id == flow_run.c.flow_id).join(
                    flow_group, flow_group.c.id == flow.c.flow_group_id
                )
            )
            .where(
                flow_run.c.state.in_(_WATCHED_STATES),
                last_sign_of_life() < cutoff,
                sa.not_(active_task_runs),
            )
            .order_by(flow_run.c.updated, flow_run.c.id)
        )

    async def _candidates(self, cutoff: datetime.datetime) -> list[str]:
        # Settings are JSON; they are checked here rather than in SQL so a hand-edited,
        # non-boolean value can never break the query. Paging keeps runs of opted-out flow groups
        # from filling the 500.
        query = self._query(cutoff)
        found: list[str] = []
        offset = 0
        async with self.db.read() as conn:
            while len(found) < self.batch_size:
                rows = (await conn.execute(query.offset(offset).limit(self.batch_size))).all()
                for row in rows:
                    if not flow_group_disables_lazarus(row.settings):
                        found.append(str(row.id))
                if len(rows) < self.batch_size:
                    break
                offset += len(rows)
        return found[: self.batch_size]

    async def _handle(self, run_id: str, cutoff: datetime.datetime, limit: int) -> None:
        from prefect.server.api import logs as logs_api
        from prefect.server.api import states as states_api

        # Re-check just before acting: the run may have sent a heartbeat or moved on while
        # earlier candidates were handled.
        async with self.db.read() as conn:
            row = (
                await conn.execute(self._query(cutoff).where(models.flow_run.c.id == run_id))
            ).first()
        if row is None or flow_group_disables_lazarus(row.settings):
            return
        times_resurrected = row.times_resurrected or 0
        if times_resurrected < limit:
            await states_api.set_flow_run_state(
                self.db,
                run_id,
                Scheduled(message=RESCHEDULED_MESSAGE, start_time=models.utcnow()),
            )
            async with self.db.write() as conn:
                await conn.execute(
                    sa.update(models.flow_run)
                    .where(models.flow_run.c.id == run_id)
                    .values(
                        times_resurrected=sa.func.coalesce(models.flow_run.c.times_resurrected, 0)
                        + 1
                    )
                )
            level = logging.INFO
            message = f"{RESCHEDULED_MESSAGE} This is attempt {times_resurrected + 1}."
        else:
            message = (
                f"A Lazarus process attempted to reschedule this run {limit} times without "
                "success. Marking as failed."
            )
            await states_api.set_flow_run_state(self.db, run_id, Failed(message=message))
            level = logging.ERROR
        logger.log(level, "Lazarus: flow run %s: %s", run_id, message)
        await logs_api.write_run_logs(
            self.db,
            [
                {
                    "tenant_id": str(row.tenant_id),
                    "flow_run_id": run_id,
                    "task_run_id": None,
                    "name": LOG_NAME,
                    "level": logging.getLevelName(level),
                    "message": message,
                }
            ],
        )
