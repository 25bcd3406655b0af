"""`FlowView` lookups against the test server."""

from __future__ import annotations

import pytest

import prefect
from prefect import Flow
from prefect.backend import FlowView
from prefect.run_configs import UniversalRun
from prefect.storage import Local


def _flow_group_id(client, flow_id):
    answer = client.graphql({"query": {f'flow_by_pk(id: "{flow_id}")': {"flow_group_id"}}})
    return answer["data"]["flow_by_pk"]["flow_group_id"]


def test_from_flow_id_has_every_field(registered):
    view = FlowView.from_flow_id(registered.flow_id)
    assert view.flow_id == registered.flow_id
    assert view.name == "backend-views"
    assert view.project_name == "views"
    assert view.archived is False
    assert isinstance(view.settings, dict)
    assert isinstance(view.run_config, UniversalRun)
    assert isinstance(view.storage, Local)
    assert view.storage.directory == registered.flow.storage.directory
    assert view.core_version == prefect.__version__
    assert view.flow_group_labels == []
    assert view.serialized_flow["name"] == "backend-views"
    rebuilt = view.flow
    assert isinstance(rebuilt, Flow)
    assert rebuilt.name == "backend-views"
    assert {t.name for t in rebuilt.tasks} == {t.name for t in registered.flow.tasks}
    # The real flow comes from storage.
    loaded = view.storage.get_flow(view.name)
    assert {t.name for t in loaded.tasks} == {t.name for t in registered.flow.tasks}
    assert "FlowView(" in repr(view) and "Local" in repr(view)
    with pytest.raises(AttributeError):
        view.name = "frozen"  # type: ignore[misc]


def test_from_flow_group_id_and_from_id(registered):
    group_id = _flow_group_id(registered.client, registered.flow_id)
    assert FlowView.from_flow_group_id(group_id).flow_id == registered.flow_id
    assert FlowView.from_id(registered.flow_id).flow_id == registered.flow_id
    assert FlowView.from_id(group_id).flow_id == registered.flow_id
    with pytest.raises(ValueError, match="No flow or flow group has the id"):
        FlowView.from_id("00000000-0000-0000-0000-000000000000")
    with pytest.raises(ValueError, match="No flow or flow group has the id 'not-a-uuid'"):
        FlowView.from_id("not-a-uuid")
    with pytest.raises(ValueError, match="No flow found"):
        FlowView.from_flow_id("00000000-0000-0000-0000-000000000000")


def test_a_new_version_replaces_the_old_one(registered, tmp_path):
    flow = registered.flow
    flow.storage = Local(directory=str(tmp_path / "second"))
    second_id = flow.register(project_name="views", no_url=True)
    assert second_id != registered.flow_id
    assert FlowView.from_flow_id(registered.flow_id).archived is True
    group_id = _flow_group_id(registered.client, second_id)
    assert FlowView.from_flow_group_id(group_id).flow_id == second_id
    assert FlowView.from_flow_name("backend-views").flow_id == second_id


def test_from_flow_name_within_projects(registered, tmp_path):
    client = registered.client
    assert FlowView.from_flow_name("backend-views").flow_id == registered.flow_id
    assert (
        FlowView.from_flow_name("backend-views", project_name="views").flow_id == registered.flow_id
    )
    with pytest.raises(ValueError, match="No flow found"):
        FlowView.from_flow_name("backend-views", project_name="elsewhere")
    with pytest.raises(ValueError, match="No flow found"):
        FlowView.from_flow_name("no-such-flow")
    # `None` asks for flows outside any project; every flow has one on the server.
    with pytest.raises(ValueError, match="No flow found"):
        FlowView.from_flow_name("backend-views", project_name=None)  # type: ignore[arg-type]

    client.create_project("other")
    flow = Flow("backend-views")
    flow.storage = Local(directory=str(tmp_path / "other-flows"))
    other_id = flow.register(project_name="other", no_url=True)
    with pytest.raises(ValueError, match=r"Found 2 flows named 'backend-views'.*project_name"):
        FlowView.from_flow_name("backend-views")
    assert FlowView.from_flow_name("backend-views", last_updated=True).flow_id == other_id
    assert FlowView.from_flow_name("backend-views", project_name="other").flow_id == other_id
