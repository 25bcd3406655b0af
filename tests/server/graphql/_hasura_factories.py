"""A small world of rows for the table-surface tests, and a helper that runs a query on it.

Rows are inserted directly with SQLAlchemy Core in one transaction (no api rules involved). Times
are fixed offsets from `T0`, so orderings are known. The schema holds only the table fields
(`table_query_fields()`), built once per process.
"""

from __future__ import annotations

import datetime
import itertools
from dataclasses import dataclass
from typing import Any

import graphql
import sqlalchemy as sa

from prefect.server.database import Database, models
from prefect.server.graphql.hasura import table_query_fields

T0 = datetime.datetime(2024, 1, 2, 3, 0, 0, tzinfo=datetime.timezone.utc)

SCHEMA = graphql.GraphQLSchema(query=graphql.GraphQLObjectType("Query", table_query_fields()))


def at(**offset: float) -> datetime.datetime:
    """`T0` plus a `datetime.timedelta(**offset)`."""
    return T0 + datetime.timedelta(**offset)


def iso(moment: datetime.datetime) -> str:
    """How the table surface prints a timestamp."""
    return moment.isoformat()


async def execute(
    db: Database, query: str, variables: dict[str, Any] | None = None
) -> graphql.ExecutionResult:
    return await graphql.graphql(
        SCHEMA,
        query,
        variable_values=variables,
        context_value={"db": db, "headers": {}, "agent_id": None, "core_version": None},
    )


async def query(db: Database, text: str, variables: dict[str, Any] | None = None) -> Any:
    """The `data` of a query that must succeed."""
    result = await execute(db, text, variables)
    assert result.errors is None, result.errors
    return result.data


async def query_errors(db: Database, text: str, variables: dict[str, Any] | None = None) -> str:
    """The error messages of a query that must fail, joined by newlines."""
    result = await execute(db, text, variables)
    assert result.errors, result.data
    return "\n".join(error.message for error in result.errors)


@dataclass
class World:
    tenant: str
    alpha: str
    beta: str
    etl_group: str
    report_group: str
    etl_v1: str
    etl_v2: str
    report: str
    other: str
    task_a: str
    task_b: str
    scheduled_run: str
    running_run: str
    done_run: str
    report_run: str
    tr_a: str
    tr_b: str
    tr_b0: str
    tr_b1: str
    tr_b2: str
    tr_done: str
    agent: str
    agent_config: str


async def make_world(db: Database, tenant_id: str) -> World:
    """Two projects, four flows (etl v1/v2 and other in alpha, report in beta), tasks, runs,
    task runs, states, logs and an agent."""
    ids: dict[str, Any] = {"tenant": tenant_id}
    # Rows in foreign-key order; runs of one table with the same keys go in one executemany.
    pending: list[tuple[sa.Table, dict[str, Any]]] = []

    def add(name: str, table: sa.Table, /, **values: Any) -> str:
        row_id = models.new_id()
        values.setdefault("tenant_id", tenant_id)
        pending.append((table, {"id": row_id, **values}))
        ids[name] = row_id
        return row_id

    add("alpha", models.project, name="alpha", description="first", created=at())
    add("beta", models.project, name="beta", created=at(minutes=1))
    add(
        "etl_group",
        models.flow_group,
        name="etl",
        labels=["a"],
        settings={"heartbeat_enabled": False, "tags": ["x", "y"], "nested": {"k": 1}},
    )
    add("report_group", models.flow_group, settings={"heartbeat_enabled": True})
    other_group = add("other_group", models.flow_group, labels=None)
    flow_common = {"storage": {"type": "Local"}, "settings": {"heartbeat_enabled": True}}
    add(
        "etl_v1",
        models.flow,
        project_id=ids["alpha"],
        flow_group_id=ids["etl_group"],
        name="etl",
        version=1,
        archived=True,
        created=at(),
        core_version="1.4.1",
        **flow_common,
    )
    add(
        "etl_v2",
        models.flow,
        project_id=ids["alpha"],
        flow_group_id=ids["etl_group"],
        name="etl",
        version=2,
        created=at(hours=1),
        core_version="1.4.1",
        environment=None,
        parameters=[{"name": "x", "required": False}],
        **flow_common,
    )
    add(
        "report",
        models.flow,
        project_id=ids["beta"],
        flow_group_id=ids["report_group"],
        name="report",
        version=1,
        created=at(hours=2),
        **flow_common,
    )
    add(
        "other",
        models.flow,
        project_id=ids["alpha"],
        flow_group_id=other_group,
        name="other",
        version=None,
        created=at(hours=3),
        description="the other one",
    )
    add(
        "task_a",
        models.task,
        flow_id=ids["etl_v2"],
        name="a",
        slug="a-1",
        type="prefect.Task",
        max_retries=1,
        retry_delay=datetime.timedelta(seconds=2),
        created=at(minutes=5),
    )
    add(
        "task_b",
        models.task,
        flow_id=ids["etl_v2"],
        name="b",
        slug="b-1",
        type="prefect.Task",
        mapped=True,
        created=at(minutes=6),
    )
    add(
        "edge",
        models.edge,
        flow_id=ids["etl_v2"],
        upstream_task_id=ids["task_a"],
        downstream_task_id=ids["task_b"],
        key="x",
    )
    add("agent_config", models.agent_config, settings={"s": 1})
    add(
        "agent",
        models.agent,
        name="agent-1",
        type="LocalAgent",
        labels=["a"],
        last_queried=at(),
        agent_config_id=ids["agent_config"],
    )

    def state(name: str, start: datetime.datetime | None = None) -> dict[str, Any]:
        return {
            "type": name,
            "message": None,
            "start_time": iso(start) if start else None,
            "__version__": "1.4.1",
        }

    add(
        "scheduled_run",
        models.flow_run,
        flow_id=ids["etl_v2"],
        name="sched",
        state="Scheduled",
        serialized_state=state("Scheduled", at(days=1)),
        scheduled_start_time=at(days=1),
        parameters={"x": 1},
        labels=["a"],
        version=1,
        created=at(minutes=1),
    )
    add(
        "running_run",
        models.flow_run,
        flow_id=ids["etl_v2"],
        agent_id=ids["agent"],
        name="running",
        state="Running",
        serialized_state=state("Running"),
        scheduled_start_time=at(hours=2),
        start_time=at(hours=2),
        version=3,
        created=at(minutes=2),
    )
    add(
        "done_run",
        models.flow_run,
        flow_id=ids["etl_v2"],
        name="done",
        state="Success",
        serialized_state=state("Success"),
        scheduled_start_time=at(hours=1),
        start_time=at(hours=1),
        end_time=at(hours=1, minutes=5),
        version=4,
        created=at(minutes=3),
    )
    add(
        "report_run",
        models.flow_run,
        flow_id=ids["report"],
        name="report-run",
        state="Scheduled",
        serialized_state=state("Scheduled"),
        scheduled_start_time=at(hours=3),
        version=1,
        created=at(minutes=4),
    )
    for key, flow_run, task, map_index, state_name, start, extra in (
        ("tr_a", "running_run", "task_a", -1, "Running", at(hours=2), {}),
        ("tr_b", "running_run", "task_b", -1, "Mapped", None, {}),
        ("tr_b0", "running_run", "task_b", 0, "Success", at(hours=2, minutes=1), {}),
        (
            "tr_b1",
            "running_run",
            "task_b",
            1,
            "Cached",
            None,
            {"cache_key": "k", "state_timestamp": at(hours=2, minutes=2)},
        ),
        ("tr_b2", "running_run", "task_b", 2, "Pending", None, {}),
        ("tr_done", "done_run", "task_a", -1, "Success", at(hours=1), {}),
    ):
        add(
            key,
            models.task_run,
            flow_run_id=ids[flow_run],
            task_id=ids[task],
            map_index=map_index,
            state=state_name,
            serialized_state=state(state_name, start),
            state_start_time=start,
            version=2,
            created=at(minutes=10 + len(ids)),
            **extra,
        )
    for i, (flow_run, name, when) in enumerate(
        (
            ("scheduled_run", "Scheduled", at(minutes=1)),
            ("running_run", "Scheduled", at(minutes=2)),
            ("running_run", "Submitted", at(minutes=3)),
            ("running_run", "Running", at(hours=2)),
        )
    ):
        add(
            f"frs{i}",
            models.flow_run_state,
            flow_run_id=ids[flow_run],
            state=name,
            timestamp=when,
            start_time=at(days=1) if name == "Scheduled" else None,
            serialized_state=state(name),
            version=i + 1,
        )
    add(
        "trs0",
        models.task_run_state,
        task_run_id=ids["tr_a"],
        state="Running",
        serialized_state=state("Running"),
    )
    for i in range(3):
        add(
            f"log{i}",
            models.log,
            flow_run_id=ids["running_run"],
            task_run_id=ids["tr_a"] if i == 2 else None,
            timestamp=at(hours=2, seconds=3 - i),
            level="INFO" if i else "ERROR",
            name="prefect.FlowRunner",
            message=f"m{3 - i}",
            info={"n": i},
        )
    async with db.write() as conn:
        batches = itertools.groupby(pending, key=lambda item: (item[0], tuple(sorted(item[1]))))
        for (table, _keys), rows in batches:
            await conn.execute(sa.insert(table), [values for _table, values in rows])
    return World(**{key: ids[key] for key in World.__dataclass_fields__})
