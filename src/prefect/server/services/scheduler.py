"""The scheduler service (protocol §7): keeps future runs queued for every active schedule.

Every pass walks the flows with `is_schedule_active` and not archived, in batches ordered by id,
and asks `api.schedules.schedule_flow_runs` to top each one up to
`server.services.scheduler.max_scheduled_runs_per_flow` future runs. That function is idempotent
(its idempotency keys make a second pass over the same events a no-op), so a pass that dies half
way is simply repeated.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa

from prefect.server.database import models
from prefect.server.services.loop import LoopService

__all__ = ["Scheduler"]

logger = logging.getLogger(__name__)


class Scheduler(LoopService):
    """Schedules the next runs of every flow with an active schedule."""

    name = "Scheduler"
    config_key = "scheduler"
    default_loop_seconds = 150.0
    batch_size = 500

    async def run_once(self) -> None:
        """One pass over the active, unarchived flows; a failing flow is logged and skipped."""
        from prefect.server.api import schedules as schedules_api

        flow = models.flow
        last_id: str | None = None
        scheduled = 0
        while True:
            query = (
                sa.select(flow.c.id)
                .where(flow.c.is_schedule_active.is_(True), flow.c.archived.is_(False))
                .order_by(flow.c.id)
                .limit(self.batch_size)
            )
            # Keyset paging: flows created or deactivated during the pass cannot shift a page.
            if last_id is not None:
                query = query.where(flow.c.id > last_id)
            async with self.db.read() as conn:
                flow_ids = [str(row) for row in (await conn.execute(query)).scalars()]
            for flow_id in flow_ids:
                if self.is_stopping:
                    return
                try:
                    run_ids = await schedules_api.schedule_flow_runs(self.db, flow_id)
                except Exception:
                    logger.exception("Scheduler: could not schedule runs of flow %s.", flow_id)
                    continue
                scheduled += len(run_ids or ())
            if len(flow_ids) < self.batch_size:
                break
            last_id = flow_ids[-1]
        if scheduled:
            logger.info("Scheduler: scheduled %d flow runs.", scheduled)
