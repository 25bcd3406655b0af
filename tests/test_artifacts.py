"""`prefect.artifacts`: the deprecated names warn and call their `prefect.backend` versions."""

from __future__ import annotations

import pytest

import prefect
from prefect import artifacts
from prefect.backend import artifacts as backend_artifacts


class RecordingClient:
    calls: list[tuple[str, dict]] = []

    def create_task_run_artifact(self, **kwargs):
        self.calls.append(("create", kwargs))
        return f"artifact-{len(self.calls)}"

    def update_task_run_artifact(self, **kwargs):
        self.calls.append(("update", kwargs))

    def delete_task_run_artifact(self, **kwargs):
        self.calls.append(("delete", kwargs))


@pytest.fixture
def recorded(monkeypatch):
    RecordingClient.calls = []
    monkeypatch.setattr(prefect, "Client", RecordingClient)
    with prefect.context(running_with_backend=True, task_run_id="tr-1"):
        yield RecordingClient.calls


@pytest.mark.parametrize(
    ("old", "new", "args", "call"),
    [
        ("create_link", "create_link_artifact", ("http://x",), ("create", {"kind": "link"})),
        ("create_markdown", "create_markdown_artifact", ("# x",), ("create", {"kind": "markdown"})),
        ("update_link", "update_link_artifact", ("a-1", "http://y"), ("update", {})),
        ("update_markdown", "update_markdown_artifact", ("a-1", "y"), ("update", {})),
        ("delete_artifact", "delete_artifact", ("a-1",), ("delete", {})),
    ],
)
def test_deprecated_names_warn_and_forward(recorded, old, new, args, call):
    with pytest.warns(
        UserWarning, match=rf"`prefect.artifacts.{old}` is deprecated; use `prefect.backend.{new}`"
    ):
        getattr(artifacts, old)(*args)
    kind, expected = call
    assert recorded[-1][0] == kind
    assert expected.items() <= recorded[-1][1].items()
    assert hasattr(backend_artifacts, new)


def test_forwarded_data(recorded):
    with pytest.warns(UserWarning):
        assert artifacts.create_link("http://x") == "artifact-1"
    with pytest.warns(UserWarning):
        artifacts.update_markdown("artifact-1", "body")
    assert recorded == [
        ("create", {"task_run_id": "tr-1", "kind": "link", "data": {"link": "http://x"}}),
        ("update", {"task_run_artifact_id": "artifact-1", "data": {"markdown": "body"}}),
    ]


def test_outside_a_backend_run_they_only_warn(monkeypatch):
    monkeypatch.setattr(prefect, "Client", lambda: pytest.fail("no request"))
    with pytest.warns(UserWarning):
        assert artifacts.create_markdown("x") is None
