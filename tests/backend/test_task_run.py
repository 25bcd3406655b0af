"""`TaskRunView` against the test server: lookups, results read from their locations, and
mapped children."""

from __future__ import annotations

import pytest

from prefect.backend import TaskRunView
from prefect.backend.task_run import NotLoaded
from prefect.engine.state import Mapped, Pending, Scheduled, Success


def test_from_task_run_id_has_every_property(registered, completed_run):
    task_run_id = completed_run.task_run_ids["numbers"]
    view = TaskRunView.from_task_run_id(task_run_id)
    assert view.task_run_id == task_run_id
    assert view.task_id == registered.task_id(registered.slugs["numbers"])
    assert view.task_slug == registered.slugs["numbers"]
    assert view.map_index == -1
    assert view.flow_run_id == completed_run.flow_run_id
    assert isinstance(view.state, Success)
    assert view._result is NotLoaded
    assert "result=<not loaded>" in repr(view)
    assert view.get_result() == [0, 1, 2]
    assert "result=[0, 1, 2]" in repr(view)


def test_from_task_run_id_needs_an_existing_id(registered):
    with pytest.raises(ValueError, match="task_run_id"):
        TaskRunView.from_task_run_id()
    with pytest.raises(ValueError, match="No task run found"):
        TaskRunView.from_task_run_id("00000000-0000-0000-0000-000000000000")


def test_from_task_slug_with_and_without_map_index(registered, completed_run):
    slug = registered.slugs["square"]
    parent = TaskRunView.from_task_slug(slug, completed_run.flow_run_id)
    assert parent.task_run_id == completed_run.task_run_ids["square"]
    assert isinstance(parent.state, Mapped)
    assert parent.state.n_map_states == 3
    child = TaskRunView.from_task_slug(slug, completed_run.flow_run_id, map_index=1)
    assert child.task_run_id == completed_run.child_ids[1]
    assert child.get_result() == 1
    with pytest.raises(ValueError, match="No task run found"):
        TaskRunView.from_task_slug(slug, completed_run.flow_run_id, map_index=7)


def test_result_of_a_mapped_parent_is_its_childrens_results(registered, completed_run):
    parent = TaskRunView.from_task_run_id(completed_run.task_run_ids["square"])
    assert parent.get_result() == [0, 1, 4]


def test_result_is_read_from_a_local_result_file(registered, completed_run):
    view = TaskRunView.from_task_run_id(completed_run.task_run_ids["stored_locally"])
    location = view.state._result.location
    assert location.startswith(completed_run.results_dir)
    assert view.get_result() == 5
    # Read once, then kept.
    view.state._result = None
    assert view.get_result() == 5


def test_iter_mapped_yields_one_view_per_child(registered, completed_run):
    parent = TaskRunView.from_task_run_id(completed_run.task_run_ids["square"])
    children = list(parent.iter_mapped())
    assert [child.map_index for child in children] == [0, 1, 2]
    assert [child.task_run_id for child in children] == completed_run.child_ids
    assert [child.get_result() for child in children] == [0, 1, 4]

    unmapped = TaskRunView.from_task_run_id(completed_run.task_run_ids["numbers"])
    with pytest.raises(TypeError, match="is not a mapped task"):
        list(unmapped.iter_mapped())


def test_get_latest_sees_new_states(registered):
    client = registered.client
    run_id = client.create_flow_run(flow_id=registered.flow_id)
    view = TaskRunView.from_task_slug(registered.slugs["numbers"], run_id)
    assert isinstance(view.state, Pending)
    client.set_task_run_state(view.task_run_id, Success("later"))
    latest = view.get_latest()
    assert isinstance(latest.state, Success)
    assert latest != view
    assert latest == view.get_latest()


def test_a_task_run_without_a_stored_state_is_scheduled():
    view = TaskRunView._from_task_run_data(
        {
            "id": "tr",
            "name": None,
            "task": {"id": "t", "slug": "s-1"},
            "map_index": -1,
            "serialized_state": None,
            "flow_run_id": "fr",
        }
    )
    assert isinstance(view.state, Scheduled)
    assert view.name is None
