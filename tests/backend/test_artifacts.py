"""Artifacts: written to the server only inside a backend task run, else nothing happens."""

from __future__ import annotations

import logging

import pytest

import prefect
from prefect.backend import (
    create_link_artifact,
    create_markdown_artifact,
    delete_artifact,
    update_link_artifact,
    update_markdown_artifact,
)


def _artifacts(client, task_run_id):
    answer = client.graphql(
        {
            "query": {
                f'task_run_artifact(where: {{task_run_id: {{_eq: "{task_run_id}"}}}})': {
                    "id",
                    "kind",
                    "data",
                }
            }
        }
    )
    return {row["id"]: (row["kind"], row["data"]) for row in answer["data"]["task_run_artifact"]}


@pytest.fixture
def task_run_id(registered):
    run_id = registered.client.create_flow_run(flow_id=registered.flow_id)
    task_id = registered.task_id(registered.slugs["numbers"])
    return registered.client.get_task_run_info(run_id, task_id).id


def test_artifacts_inside_a_backend_task_run(registered, task_run_id):
    client = registered.client
    with prefect.context(running_with_backend=True, task_run_id=task_run_id):
        link_id = create_link_artifact("https://example.com/a")
        markdown_id = create_markdown_artifact("# Title")
        assert link_id and markdown_id
        assert _artifacts(client, task_run_id) == {
            link_id: ("link", {"link": "https://example.com/a"}),
            markdown_id: ("markdown", {"markdown": "# Title"}),
        }
        update_link_artifact(link_id, "https://example.com/b")
        update_markdown_artifact(markdown_id, "*new*")
        assert _artifacts(client, task_run_id) == {
            link_id: ("link", {"link": "https://example.com/b"}),
            markdown_id: ("markdown", {"markdown": "*new*"}),
        }
        delete_artifact(link_id)
        assert set(_artifacts(client, task_run_id)) == {markdown_id}


def test_outside_a_backend_run_nothing_is_sent(monkeypatch):
    def no_client(*args, **kwargs):
        raise AssertionError("no request outside a backend run")

    monkeypatch.setattr(prefect, "Client", no_client)
    with prefect.context(task_run_id="tr"):
        assert create_link_artifact("x") is None
        assert create_markdown_artifact("x") is None
        update_link_artifact("a", "x")
        update_markdown_artifact("a", "x")
        delete_artifact("a")


def test_backend_run_without_a_task_run_warns(monkeypatch, caplog):
    monkeypatch.setattr(prefect, "Client", lambda: pytest.fail("no request without a task run"))
    # The warning itself must not be shipped to a backend that is not there.
    monkeypatch.setitem(prefect.config.cloud, "send_flow_run_logs", False)
    with prefect.context(running_with_backend=True, task_run_id=None):
        with caplog.at_level(logging.WARNING, logger="prefect.backend.artifacts"):
            assert create_link_artifact("x") is None
    assert "can only be created inside a task run" in caplog.text
