"""Fixtures for the backend views: a registered flow on the test server, and flow runs whose
states, task runs and logs the tests write through `prefect.Client` (no agent, no runner)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pendulum
import pytest

import prefect
from prefect import Flow, Parameter, task
from prefect.engine.results import LocalResult, PrefectResult
from prefect.engine.state import Mapped, Running, Submitted, Success
from prefect.storage import Local


@task(result=PrefectResult())
def numbers(n):
    return list(range(n))


@task(result=PrefectResult())
def square(x):
    return x * x


@task
def stored_locally(values):
    return sum(values)


def build_flow() -> Flow:
    with Flow("backend-views") as flow:
        n = Parameter("n", default=3)
        values = numbers(n)
        squares = square.map(values)
        stored_locally(squares)
    return flow


@dataclass
class Registered:
    client: prefect.Client
    flow: Flow
    flow_id: str
    project: str
    slugs: dict[str, str] = field(default_factory=dict)

    def task_id(self, slug: str) -> str:
        answer = self.client.graphql(
            {"query": {f'flow_by_pk(id: "{self.flow_id}")': {"tasks": {"id", "slug"}}}}
        )
        tasks = answer["data"]["flow_by_pk"]["tasks"]
        return next(t["id"] for t in tasks if t["slug"] == slug)


@pytest.fixture
def registered(prefect_server, tmp_path) -> Registered:
    client = prefect.Client()
    client.create_project("views")
    flow = build_flow()
    flow.storage = Local(directory=str(tmp_path / "flows"))
    flow_id = flow.register(project_name="views", no_url=True)
    slugs = {t.name: flow.slugs[t] for t in flow.tasks}
    return Registered(client=client, flow=flow, flow_id=flow_id, project="views", slugs=slugs)


@dataclass
class CompletedRun:
    flow_run_id: str
    task_run_ids: dict[str, str]
    child_ids: list[str]
    log_times: list[pendulum.DateTime]
    results_dir: str


def complete_run(registered: Registered, tmp_path, n: int = 3) -> CompletedRun:
    """Drive a flow run through Submitted, Running and Success as a runner would, writing
    task-run states with results and three log lines."""
    client = registered.client
    run_id = client.create_flow_run(
        flow_id=registered.flow_id, parameters={"n": n}, labels=["here"], run_name="done-run"
    )
    info = client.get_flow_run_info(run_id)
    client.set_flow_run_state(run_id, Submitted("Submitted for execution", state=info.state))
    client.set_flow_run_state(run_id, Running("Running flow."))

    slugs = registered.slugs
    ids: dict[str, str] = {}

    def finish(name: str, state, map_index=None) -> str:
        task_id = registered.task_id(slugs[name])
        run = client.get_task_run_info(run_id, task_id, map_index=map_index)
        client.set_task_run_state(run.id, Running("Starting task run."))
        client.set_task_run_state(run.id, state)
        return run.id

    values = list(range(n))
    ids["n"] = finish("n", _success(n, PrefectResult()))
    ids["numbers"] = finish("numbers", _success(values, PrefectResult()))
    child_ids = [
        finish("square", _success(v * v, PrefectResult()), map_index=i)
        for i, v in enumerate(values)
    ]
    ids["square"] = finish("square", Mapped("Ready to proceed with mapping.", n_map_states=n))
    results_dir = str(tmp_path / "results")
    ids["stored_locally"] = finish(
        "stored_locally", _success(sum(v * v for v in values), LocalResult(dir=results_dir))
    )

    start = pendulum.now("UTC").subtract(seconds=30)
    log_times = [start.add(seconds=i) for i in range(3)]
    client.write_run_logs(
        [
            {
                "flow_run_id": run_id,
                "task_run_id": None,
                "name": "prefect.CloudFlowRunner",
                "level": level,
                "message": message,
                "timestamp": when.isoformat(),
            }
            for when, level, message in zip(
                log_times,
                ["INFO", "WARNING", "ERROR"],
                ["first", "second", "third"],
            )
        ]
    )
    client.set_flow_run_state(run_id, Success("All reference tasks succeeded."))
    return CompletedRun(run_id, ids, child_ids, log_times, results_dir)


def _success(value, result):
    """A `Success` whose result was written to ``result``'s location (as a runner does)."""
    written = result.write(value)
    state = Success("Task run succeeded.", result=written)
    return state


@pytest.fixture
def completed_run(registered, tmp_path) -> CompletedRun:
    return complete_run(registered, tmp_path)
