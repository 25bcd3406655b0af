"""Real runs read back through the views: `execute_flow_run` (in this process, with
`CloudFlowRunner`) and `execute_flow_run_in_subprocess` (``python -m prefect execute flow-run``),
then `FlowRunView`, `TaskRunView` and the flow-of-flows tasks on the finished run."""

from __future__ import annotations

import pendulum
import pytest

import prefect
from prefect.backend import FlowRunView
from prefect.backend.execution import execute_flow_run, execute_flow_run_in_subprocess
from prefect.engine.state import Mapped, Success
from prefect.tasks.prefect import get_task_run_result, wait_for_flow_run
from prefect.utilities.logging import LOG_MANAGER


@pytest.fixture
def no_heartbeat_process(monkeypatch):
    monkeypatch.setitem(prefect.config.cloud, "heartbeat_mode", "off")


def test_in_process_run_is_visible_through_the_views(registered, no_heartbeat_process):
    run_id = registered.client.create_flow_run(flow_id=registered.flow_id, parameters={"n": 4})
    try:
        view = execute_flow_run(run_id)
    finally:
        LOG_MANAGER.flush()
    assert isinstance(view.state, Success)
    assert [type(s).__name__ for s in view.states] == ["Scheduled", "Running", "Success"]
    assert view.parameters == {"n": 4}

    task_runs = view.get_all_task_runs()
    # n, numbers, the mapped parent, its four children, stored_locally
    assert len(task_runs) == 8
    assert all(task_run.state.is_finished() for task_run in task_runs)
    square = view.get_task_run(task_slug=registered.slugs["square"])
    assert isinstance(square.state, Mapped)
    assert square.get_result() == [0, 1, 4, 9]
    assert [child.get_result() for child in square.iter_mapped()] == [0, 1, 4, 9]
    # Written by the flow's LocalResult (from its Local storage) and read back from the file.
    assert view.get_task_run(task_slug=registered.slugs["stored_locally"]).get_result() == 14

    logs = view.get_logs(end_time=pendulum.now("UTC").add(minutes=1))
    messages = [log.message for log in logs]
    assert messages[0] == "Beginning Flow run for 'backend-views'"
    assert "Flow run SUCCESS: all reference tasks succeeded" in messages


@pytest.mark.integration
def test_subprocess_run_then_wait_and_read_results(registered, no_heartbeat_process):
    run_id = registered.client.create_flow_run(flow_id=registered.flow_id, parameters={"n": 2})
    view = execute_flow_run_in_subprocess(run_id)
    assert isinstance(view.state, Success)
    assert [type(s).__name__ for s in view.states] == [
        "Scheduled",
        "Submitted",
        "Running",
        "Success",
    ]
    waited = wait_for_flow_run.run(run_id, stream_logs=True, raise_final_state=False)
    assert waited.flow_run_id == run_id and isinstance(waited.state, Success)
    assert get_task_run_result.run(run_id, registered.slugs["square"]) == [0, 1]
    assert get_task_run_result.run(run_id, registered.slugs["square"], map_index=1) == 1
    assert get_task_run_result.run(run_id, registered.slugs["stored_locally"]) == 1
    latest = FlowRunView.from_flow_run_id(run_id)
    logs = latest.get_logs(end_time=pendulum.now("UTC").add(minutes=1))
    assert "Beginning Flow run for 'backend-views'" in [log.message for log in logs]


def test_artifacts_and_child_runs_made_inside_a_backend_run(
    registered, tmp_path, no_heartbeat_process
):
    from prefect import Flow, task
    from prefect.backend import create_link_artifact, create_markdown_artifact
    from prefect.storage import Local
    from prefect.tasks.prefect import create_flow_run

    @task
    def report():
        return [create_markdown_artifact("# Report"), create_link_artifact("https://x.test")]

    with Flow("parent") as parent:
        report()
        create_flow_run(flow_name="backend-views", project_name="views")
    parent.storage = Local(directory=str(tmp_path / "parent-flows"))
    parent_id = parent.register(project_name="views", no_url=True)
    run_id = registered.client.create_flow_run(flow_id=parent_id, run_name="mom")
    try:
        view = execute_flow_run(run_id)
    finally:
        LOG_MANAGER.flush()
    assert isinstance(view.state, Success)

    report_run = view.get_task_run(task_slug=parent.slugs[parent.get_tasks(name="report")[0]])
    markdown_id, link_id = report_run.get_result()
    answer = registered.client.graphql(
        {
            "query": {
                f'task_run_artifact(where: {{task_run_id: {{_eq: "{report_run.task_run_id}"}}}})': (
                    "id",
                    "kind",
                    "data",
                )
            }
        }
    )
    stored = {row["id"]: (row["kind"], row["data"]) for row in answer["data"]["task_run_artifact"]}
    assert stored == {
        markdown_id: ("markdown", {"markdown": "# Report"}),
        link_id: ("link", {"link": "https://x.test"}),
    }

    create_slug = parent.slugs[parent.get_tasks(name="create_flow_run")[0]]
    child_run_id = view.get_task_run(task_slug=create_slug).get_result()
    child = FlowRunView.from_flow_run_id(child_run_id)
    assert child.flow_id == registered.flow_id
    assert child.name == "mom-backend-views"
