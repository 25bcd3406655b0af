"""The documents the views send, word for word as protocol section 4.4 lists them (a recording
client answers with canned rows)."""

from __future__ import annotations

from typing import Any

import pytest

import prefect
from prefect.backend import FlowRunView, FlowView, TaskRunView, TenantView
from prefect.backend.flow_run import check_for_compatible_agents
from prefect.utilities.graphql import GraphQLResult, parse_graphql

STATE = {"type": "Success", "message": "ok", "__version__": "1.4.1"}
FLOW_RUN = {
    "id": "fr",
    "name": "n",
    "flow_id": "f",
    "serialized_state": STATE,
    "states": [],
    "labels": [],
    "parameters": {},
    "context": {},
    "updated": "2024-01-01T00:00:00+00:00",
    "run_config": None,
    "logs": [],
}
TASK_RUN = {
    "id": "tr",
    "name": None,
    "task": {"id": "t", "slug": "s-1"},
    "map_index": -1,
    "serialized_state": STATE,
    "flow_run_id": "fr",
}
FLOW = {
    "id": "f",
    "settings": {},
    "run_config": None,
    "serialized_flow": {},
    "name": "flow",
    "archived": False,
    "project": {"name": "p"},
    "core_version": "1.4.1",
    "storage": None,
    "flow_group": {"labels": []},
}


class Recorder:
    sent: list[str] = []

    def graphql(self, query: Any, **kwargs: Any) -> GraphQLResult:
        text = " ".join(parse_graphql(query).split())
        self.sent.append(text)
        root = text.split()[2].split("(")[0]
        rows = {
            "flow_run": [FLOW_RUN],
            "task_run": [TASK_RUN],
            "flow": [FLOW],
            "tenant": [{"id": "x", "slug": "s", "name": "n"}],
            "agent": [],
        }[root]
        return GraphQLResult({"data": {root: rows}})


@pytest.fixture
def sent(monkeypatch) -> list[str]:
    Recorder.sent = []
    monkeypatch.setattr(prefect, "Client", Recorder)
    return Recorder.sent


FLOW_RUN_SELECTION = (
    "{ id name flow_id serialized_state states { timestamp serialized_state } labels "
    "parameters context updated run_config }"
)
TASK_RUN_SELECTION = "{ id name task { id slug } map_index serialized_state flow_run_id }"
FLOW_SELECTION = (
    "{ id settings run_config serialized_flow name archived project { name } core_version "
    "storage flow_group { labels } }"
)


def test_flow_run_view_documents(sent):
    view = FlowRunView.from_flow_run_id("fr", load_static_tasks=True)
    assert sent == [
        f'query {{ flow_run(where: {{ id: {{ _eq: "fr" }} }}) {FLOW_RUN_SELECTION} }}',
        'query { task_run(where: { map_index: { _eq: -1 }, flow_run_id: { _eq: "fr" }, '
        f"id: {{ _nin: [] }} }}) {TASK_RUN_SELECTION} }}",
    ]
    sent.clear()
    view.get_logs()
    assert sent == [
        'query { flow_run(where: { id: { _eq: "fr" } }) { logs(order_by: { timestamp: asc }, '
        'where: { _and: [{ timestamp: { _lte: "2024-01-01T00:00:00+00:00" } }, {}] }) '
        "{ timestamp message level } } }"
    ]
    sent.clear()
    view = FlowRunView.from_flow_run_id("fr")
    sent.clear()
    view.get_all_task_runs()
    assert sent == [
        'query { task_run(where: { flow_run_id: { _eq: "fr" } }) { id } }',
        'query { task_run(where: { flow_run_id: { _eq: "fr" }, id: { _nin: [] } }) '
        f"{TASK_RUN_SELECTION} }}",
    ]


def test_task_run_view_documents(sent):
    TaskRunView.from_task_slug("s-1", "fr", map_index=2)
    TaskRunView.from_task_run_id("tr")
    TaskRunView(
        "tr", "t", "s-1", "n", prefect.engine.state.Mapped(n_map_states=1), -1, "fr"
    ).get_result()
    assert sent == [
        'query { task_run(where: { task: { slug: { _eq: "s-1" } }, flow_run_id: { _eq: "fr" }, '
        f"map_index: {{ _eq: 2 }} }}) {TASK_RUN_SELECTION} }}",
        f'query {{ task_run(where: {{ id: {{ _eq: "tr" }} }}) {TASK_RUN_SELECTION} }}',
        'query { task_run(where: { task: { slug: { _eq: "s-1" } }, flow_run_id: { _eq: "fr" }, '
        f"map_index: {{ _neq: -1 }} }}, order_by: {{ map_index: asc }}) {TASK_RUN_SELECTION} }}",
    ]


def test_flow_view_tenant_and_agent_documents(sent):
    FlowView.from_flow_id("f")
    FlowView.from_flow_group_id("g")
    FlowView.from_flow_name("flow", project_name="p")
    FlowView.from_flow_name("flow")
    TenantView.from_tenant_id("x")
    check_for_compatible_agents([])
    assert sent == [
        f'query {{ flow(where: {{ id: {{ _eq: "f" }} }}) {FLOW_SELECTION} }}',
        'query { flow(where: { flow_group_id: { _eq: "g" } }, order_by: { created: desc }) '
        f"{FLOW_SELECTION} }}",
        'query { flow(where: { name: { _eq: "flow" }, archived: { _eq: false }, '
        'project: { name: { _eq: "p" } } }, order_by: { created: desc }) '
        f"{FLOW_SELECTION} }}",
        'query { flow(where: { name: { _eq: "flow" }, archived: { _eq: false } }, '
        f"order_by: {{ created: desc }}) {FLOW_SELECTION} }}",
        'query { tenant(where: { id: { _eq: "x" } }) { id slug name } }',
        "query { agent { last_queried labels name id } }",
    ]
