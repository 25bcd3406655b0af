"""The zombie killer service (protocol §7): ends task and flow runs whose process has died.

(a) A task run in `Running` whose flow run's heartbeat is older than
`server.services.zombie_killer.heartbeat_cutoff_seconds` is a zombie (the 1.4.1 client sends no
task-run heartbeats, so the flow run's heartbeat is the only sign of life). If its flow run is
still `Running` and the task has retries left (fewer `Retrying` states in the task run's history
than `task.max_retries`), the task run gets a `Retrying` state due after `task.retry_delay`;
otherwise it is failed. (b) A flow run stuck in `Cancelling` with a stale heartbeat has no
process left to finish the cancellation, so it is finished as `Cancelled` here.

Flow groups whose settings turn heartbeats off are left alone. As in `lazarus`, a flow run without
any heartbeat is judged by its `updated` time, and a started service does nothing until it has
been up for the cutoff (so a server restart does not kill runs whose heartbeats could not arrive).
"""

from __future__ import annotations

import datetime
import logging
from typing import Any

import sqlalchemy as sa

import prefect
from prefect.engine.state import Cancelled, Failed, Retrying
from prefect.server.database import models
from prefect.server.database.engine import Database
from prefect.server.services.lazarus import flow_group_disables_heartbeat, last_sign_of_life
from prefect.server.services.loop import LoopService

__all__ = ["ZombieKiller"]

logger = logging.getLogger(__name__)

TASK_RUN_LOG_NAME = "ZombieKiller.TaskRun"
FLOW_RUN_LOG_NAME = "ZombieKiller.FlowRun"
CANCELLED_MESSAGE = "No heartbeat detected from the flow run; marking the run as cancelled."


def retry_message(retry: int, max_retries: int) -> str:
    # The missing space after "run." is the 1.x text, kept byte for byte.
    return (
        "No heartbeat detected from the remote task; retrying the run."
        f"This will be retry {retry} of {max_retries}."
    )


def failed_message(task_run_id: str, name: str | None) -> str:
    return (
        "No heartbeat detected from the remote task; marking the task run "
        f"{task_run_id} ({name}) as failed."
    )


class ZombieKiller(LoopService):
    """Retries or fails task runs, and finishes cancelling flow runs, whose heartbeat stopped."""

    name = "ZombieKiller"
    config_key = "zombie_killer"
    default_loop_seconds = 120.0
    batch_size = 5000
    # Rows read per query while collecting candidates.
    page_size = 1000

    async def run_once(self) -> None:
        """One pass: zombie task runs first (up to 5000), then stale `Cancelling` flow runs."""
        settings = prefect.config.server.services.zombie_killer
        cutoff_seconds = float(settings.get("heartbeat_cutoff_seconds", 600))
        cutoff = models.utcnow() - datetime.timedelta(seconds=cutoff_seconds)
        if not self.has_been_running_since(cutoff):
            return
        for task_run_id in await self._candidates(self._task_run_query(cutoff)):
            if self.is_stopping:
                return
            try:
                await self._handle_task_run(task_run_id, cutoff)
            except Exception:
                logger.exception("ZombieKiller: could not handle task run %s.", task_run_id)
        for flow_run_id in await self._candidates(self._cancelling_query(cutoff)):
            if self.is_stopping:
                return
            try:
                await self._handle_cancelling_flow_run(flow_run_id, cutoff)
            except Exception:
                logger.exception("ZombieKiller: could not handle flow run %s.", flow_run_id)

    def _task_run_query(self, cutoff: datetime.datetime) -> sa.Select[Any]:
        task_run, task, flow_run = models.task_run, models.task, models.flow_run
        flow, flow_group = models.flow, models.flow_group
        return (
            sa.select(
                task_run.c.id,
                task_run.c.name,
                task_run.c.tenant_id,
                task_run.c.flow_run_id,
                task.c.name.label("task_name"),
                task.c.max_retries,
                task.c.retry_delay,
                flow_run.c.state.label("flow_run_state"),
                flow_group.c.settings,
            )
            .select_from(
                task_run.join(task, task.c.id == task_run.c.task_id)
                .join(flow_run, flow_run.c.id == task_run.c.flow_run_id)
                .join(flow, flow.c.id == flow_run.c.flow_id)
                .join(flow_group, flow_group.c.id == flow.c.flow_group_id)
            )
            .where(task_run.c.state == "Running", last_sign_of_life() < cutoff)
            .order_by(task_run.c.updated, task_run.c.id)
        )

    def _cancelling_query(self, cutoff: datetime.datetime) -> sa.Select[Any]:
        flow_run, flow, flow_group = models.flow_run, models.flow, models.flow_group
        return (
            sa.select(flow_run.c.id, flow_run.c.tenant_id, flow_group.c.settings)
            .select_from(
                flow_run.join(flow, flow.c.id == flow_run.c.flow_id).join(
                    flow_group, flow_group.c.id == flow.c.flow_group_id
                )
            )
            .where(flow_run.c.state == "Cancelling", last_sign_of_life() < cutoff)
            .order_by(flow_run.c.updated, flow_run.c.id)
        )

    async def _candidates(self, query: sa.Select[Any]) -> list[str]:
        # Settings are JSON, checked in Python (see lazarus); paging keeps runs of flow groups
        # without heartbeats from using up the batch.
        found: list[str] = []
        offset = 0
        async with self.db.read() as conn:
            while len(found) < self.batch_size:
                rows = (await conn.execute(query.offset(offset).limit(self.page_size))).all()
                for row in rows:
                    if not flow_group_disables_heartbeat(row.settings):
                        found.append(str(row.id))
                if len(rows) < self.page_size:
                    break
                offset += len(rows)
        return found[: self.batch_size]

    async def _handle_task_run(self, task_run_id: str, cutoff: datetime.datetime) -> None:
        from prefect.server.api import states as states_api

        task_run_state = models.task_run_state
        retries = (
            sa.select(sa.func.count())
            .select_from(task_run_state)
            .where(
                task_run_state.c.task_run_id == models.task_run.c.id,
                task_run_state.c.state == "Retrying",
            )
            .scalar_subquery()
        )
        query = self._task_run_query(cutoff).add_columns(retries.label("retries"))
        # Re-check just before acting: the flow run may have sent a heartbeat meanwhile.
        async with self.db.read() as conn:
            row = (await conn.execute(query.where(models.task_run.c.id == task_run_id))).first()
        if row is None or flow_group_disables_heartbeat(row.settings):
            return
        max_retries = row.max_retries or 0
        retries_so_far = row.retries or 0
        if row.flow_run_state == "Running" and retries_so_far < max_retries:
            now = models.utcnow()
            delay = row.retry_delay or datetime.timedelta(0)
            message = retry_message(retries_so_far + 1, max_retries)
            state: Retrying | Failed = Retrying(
                message=message, run_count=retries_so_far + 1, start_time=now + delay
            )
        else:
            message = failed_message(task_run_id, row.name or row.task_name)
            state = Failed(message=message)
        await states_api.set_task_run_state(self.db, task_run_id, state)
        logger.error("ZombieKiller: task run %s: %s", task_run_id, message)
        await _write_log(
            self.db,
            tenant_id=row.tenant_id,
            flow_run_id=row.flow_run_id,
            task_run_id=task_run_id,
            name=TASK_RUN_LOG_NAME,
            message=message,
        )

    async def _handle_cancelling_flow_run(
        self, flow_run_id: str, cutoff: datetime.datetime
    ) -> None:
        from prefect.server.api import states as states_api

        query = self._cancelling_query(cutoff).where(models.flow_run.c.id == flow_run_id)
        async with self.db.read() as conn:
            row = (await conn.execute(query)).first()
        if row is None or flow_group_disables_heartbeat(row.settings):
            return
        await states_api.set_flow_run_state(
            self.db, flow_run_id, Cancelled(message=CANCELLED_MESSAGE)
        )
        logger.error("ZombieKiller: flow run %s: %s", flow_run_id, CANCELLED_MESSAGE)
        await _write_log(
            self.db,
            tenant_id=row.tenant_id,
            flow_run_id=flow_run_id,
            task_run_id=None,
            name=FLOW_RUN_LOG_NAME,
            message=CANCELLED_MESSAGE,
        )


async def _write_log(
    db: Database,
    *,
    tenant_id: Any,
    flow_run_id: Any,
    task_run_id: str | None,
    name: str,
    message: str,
) -> None:
    from prefect.server.api import logs as logs_api

    await logs_api.write_run_logs(
        db,
        [
            {
                "tenant_id": str(tenant_id) if tenant_id is not None else None,
                "flow_run_id": str(flow_run_id),
                "task_run_id": task_run_id,
                "name": name,
                "level": "ERROR",
                "message": message,
            }
        ],
    )
