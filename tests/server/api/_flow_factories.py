"""Factories for the flow-side api tests: projects, realistic serialized flows (built with our
own `prefect.Flow`, so payloads are what the client sends), and run rows inserted directly."""

from __future__ import annotations

import datetime
from typing import Any

import sqlalchemy as sa

from prefect.server.database import Database, models

UTC = datetime.timezone.utc


async def make_project(db: Database, tenant_id: str, name: str = "project") -> str:
    from prefect.server.api.projects import create_project

    return await create_project(db, tenant_id, name)


def serialized_flow(
    name: str = "etl",
    *,
    schedule: Any = None,
    required_parameter: bool = False,
    with_tasks: bool = True,
    retry_delay: datetime.timedelta | None = None,
) -> dict[str, Any]:
    """A flow with a Parameter `x`, a task mapped over it and a task downstream of that, a
    LocalRun run config and Local storage, serialized as `Flow.serialize()` does."""
    from prefect import Flow, Parameter, task
    from prefect.run_configs import LocalRun
    from prefect.storage import Local

    @task(max_retries=2 if retry_delay else 0, retry_delay=retry_delay, tags=["b", "a"])
    def inc(x: int) -> int:
        return x + 1

    @task
    def total(values: list[int]) -> int:
        return sum(values)

    with Flow(
        name,
        schedule=schedule,
        run_config=LocalRun(working_dir="/tmp", labels=["dev"]),
        storage=Local(directory="/tmp/flows"),
    ) as flow:
        if required_parameter:
            x = Parameter("x")
        else:
            x = Parameter("x", default=[1, 2])
        total(inc.map(x))
    payload = flow.serialize()
    if not with_tasks:
        payload = {k: v for k, v in payload.items() if k not in ("tasks", "edges")}
    return payload


def interval_schedule(
    minutes: int = 1,
    *,
    start_date: datetime.datetime | None = None,
    parameter_defaults: dict | None = None,
    labels: list[str] | None = None,
) -> Any:
    from prefect.schedules import Schedule
    from prefect.schedules.clocks import IntervalClock

    clock = IntervalClock(
        datetime.timedelta(minutes=minutes),
        start_date=start_date,
        parameter_defaults=parameter_defaults,
        labels=labels,
    )
    return Schedule(clocks=[clock])


async def add_flow_run(
    db: Database,
    flow_id: str,
    *,
    state: str = "Scheduled",
    auto_scheduled: bool = False,
    scheduled_start_time: datetime.datetime | None = None,
    idempotency_key: str | None = None,
) -> str:
    """Insert a flow run row directly (no task runs, no state history)."""
    start = scheduled_start_time or datetime.datetime.now(UTC) + datetime.timedelta(hours=1)
    async with db.write() as conn:
        tenant_id = (
            await conn.execute(
                sa.select(models.flow.c.tenant_id).where(models.flow.c.id == flow_id)
            )
        ).scalar_one()
        result = await conn.execute(
            sa.insert(models.flow_run)
            .values(
                tenant_id=tenant_id,
                flow_id=flow_id,
                state=state,
                serialized_state={"type": state, "message": None},
                auto_scheduled=auto_scheduled,
                scheduled_start_time=start,
                state_start_time=start,
                idempotency_key=idempotency_key,
                version=1,
            )
            .returning(models.flow_run.c.id)
        )
        return str(result.scalar_one())


async def add_task_run(db: Database, flow_run_id: str) -> str:
    """Insert a task run row for the first task of the run's flow."""
    async with db.write() as conn:
        run = (
            await conn.execute(
                sa.select(models.flow_run.c.tenant_id, models.flow_run.c.flow_id).where(
                    models.flow_run.c.id == flow_run_id
                )
            )
        ).one()
        task_id = (
            await conn.execute(
                sa.select(models.task.c.id)
                .where(models.task.c.flow_id == run.flow_id)
                .order_by(models.task.c.slug)
                .limit(1)
            )
        ).scalar_one()
        result = await conn.execute(
            sa.insert(models.task_run)
            .values(tenant_id=run.tenant_id, flow_run_id=flow_run_id, task_id=task_id)
            .returning(models.task_run.c.id)
        )
        return str(result.scalar_one())


async def rows(db: Database, table: sa.Table, *where: Any) -> list[Any]:
    """All rows of a table matching `where`."""
    async with db.read() as conn:
        return list((await conn.execute(sa.select(table).where(*where))).all())
