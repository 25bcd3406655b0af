"""A registered child flow on the test server, for the flow-of-flows tasks."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

import prefect
from prefect import Flow, task
from prefect.engine.results import PrefectResult
from prefect.storage import Local


@task(result=PrefectResult())
def emit(x):
    return x


@dataclass
class Child:
    client: prefect.Client
    flow_id: str
    flow: Flow

    def task_id(self, slug: str) -> str:
        answer = self.client.graphql(
            {"query": {f'flow_by_pk(id: "{self.flow_id}")': {"tasks": {"id", "slug"}}}}
        )
        return next(t["id"] for t in answer["data"]["flow_by_pk"]["tasks"] if t["slug"] == slug)


@pytest.fixture
def child(prefect_server, tmp_path) -> Child:
    client = prefect.Client()
    client.create_project("kids")
    with Flow("child") as flow:
        emit.map([1, 2])
    flow.storage = Local(directory=str(tmp_path / "flows"))
    flow_id = flow.register(project_name="kids", no_url=True)
    return Child(client=client, flow_id=flow_id, flow=flow)
