"""Helpers for GraphQL tests: the documents the 1.4.1 client sends, a real flow to register, and
a small world (project, flow, flow run) created through the mutations themselves.

Documents are written out as the client renders them (protocol §2.5): multi-line, four spaces
per level, `mutation($input: <name>_input!)` with the input in the variables.
"""

from __future__ import annotations

from typing import Any

from prefect.utilities.graphql import compress


def input_mutation(name: str, selection: str) -> str:
    """`mutation($input: <name>_input!) { <name>(input: $input) { <selection> } }`, as the client
    writes it; `selection` is the body of the selection set, one field per line."""
    body = "\n".join("        " + line for line in selection.strip().splitlines())
    return f"mutation($input: {name}_input!) {{\n    {name}(input: $input) {{\n{body}\n    }}\n}}"


def task_run_info_mutation(flow_run_id: str, task_id: str, map_index: int) -> str:
    """`get_or_create_task_run_info` with its input inline, as `Client.get_task_run_info` sends it."""
    arguments = f'flow_run_id: "{flow_run_id}", task_id: "{task_id}", map_index: {map_index}'
    return (
        "mutation {\n"
        f"    get_or_create_task_run_info(input: {{ {arguments} }}) {{\n"
        "        id\n        version\n        serialized_state\n"
        "    }\n"
        "}"
    )


STATES_SELECTION = "states {\n    id\n    status\n    message\n}"


def sample_flow() -> Any:
    """A flow with a required and an optional parameter, a mapped task and a reducer."""
    from prefect import Flow, Parameter, task
    from prefect.engine.results import PrefectResult

    @task(result=PrefectResult())
    def make_list(n):
        return list(range(n))

    @task(result=PrefectResult())
    def square(x):
        return x * x

    @task(result=PrefectResult())
    def report(values, greeting):
        return f"{greeting} {sum(values)}"

    with Flow("hello-server") as flow:
        n = Parameter("n", default=3)
        greeting = Parameter("greeting", required=True)
        report(square.map(make_list(n)), greeting)
    return flow


def compressed_flow() -> str:
    """The sample flow as `prefect register` sends it: the full JSON, gzipped, base64."""
    return compress(sample_flow().serialize())


async def create_project(graphql: Any, tenant_id: str, name: str = "project-one") -> str:
    answer = await graphql(
        input_mutation("create_project", "id"),
        {"input": {"name": name, "description": None, "tenant_id": tenant_id}},
    )
    return str(answer["data"]["create_project"]["id"])


async def create_flow(graphql: Any, project_id: str, **options: Any) -> str:
    answer = await graphql(
        input_mutation("create_flow_from_compressed_string", "id"),
        {
            "input": {
                "project_id": project_id,
                "serialized_flow": compressed_flow(),
                "set_schedule_active": False,
                **options,
            }
        },
    )
    return str(answer["data"]["create_flow_from_compressed_string"]["id"])


async def create_flow_run(graphql: Any, flow_id: str, **options: Any) -> str:
    inputs = {
        "flow_id": flow_id,
        "parameters": {"greeting": "hello"},
        "idempotency_key": "k-1",
        "flow_run_name": "fixed-name",
        **options,
    }
    answer = await graphql(input_mutation("create_flow_run", "id"), {"input": inputs})
    assert "errors" not in answer, answer
    return str(answer["data"]["create_flow_run"]["id"])


async def task_ids(db: Any, flow_id: str) -> dict[str, str]:
    """Task ids of a flow by slug, read straight from the database."""
    import sqlalchemy as sa

    from prefect.server.database import models

    async with db.read() as conn:
        rows = (
            await conn.execute(
                sa.select(models.task.c.slug, models.task.c.id).where(
                    models.task.c.flow_id == flow_id
                )
            )
        ).all()
    return {row.slug: str(row.id) for row in rows}


async def task_run_ids(db: Any, flow_run_id: str) -> dict[tuple[str, int], str]:
    """Task run ids of a flow run by (task slug, map index)."""
    import sqlalchemy as sa

    from prefect.server.database import models

    query = (
        sa.select(models.task.c.slug, models.task_run.c.map_index, models.task_run.c.id)
        .join(models.task, models.task.c.id == models.task_run.c.task_id)
        .where(models.task_run.c.flow_run_id == flow_run_id)
    )
    async with db.read() as conn:
        rows = (await conn.execute(query)).all()
    return {(row.slug, row.map_index): str(row.id) for row in rows}


async def make_world(graphql: Any, tenant_id: str, db: Any) -> dict[str, Any]:
    """Project, flow and flow run of the sample flow; their ids, with the flow's task ids."""
    project_id = await create_project(graphql, tenant_id)
    flow_id = await create_flow(graphql, project_id)
    flow_run_id = await create_flow_run(graphql, flow_id)
    return {
        "tenant_id": tenant_id,
        "project_id": project_id,
        "flow_id": flow_id,
        "flow_run_id": flow_run_id,
        "tasks": await task_ids(db, flow_id),
        "task_runs": await task_run_ids(db, flow_run_id),
    }


def state(type_: str, message: str | None = None, **extra: Any) -> dict[str, Any]:
    """A serialized state the way the 1.4.1 client sends it."""
    data: dict[str, Any] = {
        "type": type_,
        "message": message,
        "context": {},
        "cached_inputs": {},
        "__version__": "1.4.1",
        **extra,
    }
    if type_ != "Mapped":
        data.setdefault("_result", {"type": "NoResultType", "__version__": "1.4.1"})
    return data
