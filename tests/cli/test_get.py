"""`prefect get flows|projects|flow-runs|tasks|logs`: the 1.x tables, against a real server."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from click.testing import CliRunner

import prefect
from prefect.cli import cli


def _invoke(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _columns(line: str) -> list[str]:
    return re.split(r"\s{2,}", line.strip())


@pytest.fixture
def world(prefect_server: str) -> dict[str, str]:
    """Project `proj` with flow `flow-a` (v1, v2) holding task `work`, a run, and logs."""
    from prefect import Flow, task
    from prefect.storage import Local

    client = prefect.Client()
    client.create_project("proj", project_description="the project")
    client.create_project("empty")

    @task(name="work")
    def work() -> int:
        return 1

    ids = []
    for _ in range(2):
        flow = Flow("flow-a", tasks=[work], storage=Local(add_default_labels=False))
        ids.append(flow.register("proj", no_url=True))
    run_id = client.create_flow_run(flow_id=ids[-1], run_name="run-one")
    client.write_run_logs(
        [
            {
                "flow_run_id": run_id,
                "name": "test",
                "message": "first message",
                "level": "INFO",
                "timestamp": "2024-01-02T03:04:05+00:00",
            },
            {
                "flow_run_id": run_id,
                "name": "test",
                "message": "second message",
                "level": "ERROR",
                "timestamp": "2024-01-02T03:04:06+00:00",
            },
        ]
    )
    return {"flow_id": ids[-1], "old_flow_id": ids[0], "run_id": run_id}


def test_get_flows_shows_the_newest_version(world):
    result = _invoke("get", "flows")

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert _columns(lines[0]) == ["NAME", "VERSION", "AGE", "ID", "PROJECT NAME"]
    assert len(lines) == 2
    row = _columns(lines[1])
    assert row[0] == "flow-a"
    assert row[1] == "2"
    assert row[3] == world["flow_id"]
    assert row[4] == "proj"


def test_get_flows_all_versions(world):
    result = _invoke("get", "flows", "--all-versions")

    rows = [_columns(line) for line in result.output.splitlines()[1:]]
    assert [(r[1], r[3]) for r in rows] == [("2", world["flow_id"]), ("1", world["old_flow_id"])]


def test_get_flows_filters(world):
    assert len(_invoke("get", "flows", "--project", "empty").output.splitlines()) == 1
    assert len(_invoke("get", "flows", "--name", "other").output.splitlines()) == 1
    rows = _invoke("get", "flows", "--version", "1").output.splitlines()[1:]
    assert [_columns(r)[3] for r in rows] == [world["old_flow_id"]]


def test_get_projects(world):
    result = _invoke("get", "projects")

    lines = result.output.splitlines()
    assert _columns(lines[0]) == ["NAME", "FLOW COUNT", "AGE", "DESCRIPTION"]
    rows = [_columns(line) for line in lines[1:]]
    assert [r[0] for r in rows] == ["empty", "proj"]
    assert rows[0][1] == "0"
    assert rows[1][1] == "1"
    assert rows[1][3] == "the project"

    named = _invoke("get", "projects", "--name", "proj").output.splitlines()
    assert len(named) == 2


def test_get_flow_runs(world):
    result = _invoke("get", "flow-runs")

    lines = result.output.splitlines()
    assert _columns(lines[0]) == ["NAME", "FLOW NAME", "STATE", "AGE", "START TIME", "ID"]
    row = _columns(lines[1])
    assert row[:3] == ["run-one", "flow-a", "Scheduled"]
    assert row[-1] == world["run_id"]


def test_get_flow_runs_started_only(world):
    result = _invoke("get", "flow-runs", "--started")

    assert result.output.splitlines()[1:] == []


def test_get_flow_runs_by_flow_and_project(world):
    assert len(_invoke("get", "flow-runs", "--flow", "flow-a").output.splitlines()) == 2
    assert len(_invoke("get", "flow-runs", "--project", "empty").output.splitlines()) == 1


def test_get_tasks(world):
    result = _invoke("get", "tasks", "--flow-name", "flow-a", "--flow-version", "2")

    lines = result.output.splitlines()
    assert _columns(lines[0]) == ["NAME", "FLOW NAME", "FLOW VERSION", "AGE", "MAPPED", "TYPE"]
    row = _columns(lines[1])
    assert row[:3] == ["work", "flow-a", "2"]
    assert row[-1] == "prefect.tasks.core.function.FunctionTask"
    assert len(lines) == 2


def test_get_logs_by_id_and_by_name(world):
    for args in (["--id", world["run_id"]], ["--name", "run-one"]):
        result = _invoke("get", "logs", *args)

        assert result.exit_code == 0, result.output
        lines = result.output.splitlines()
        assert _columns(lines[0]) == ["TIMESTAMP", "LEVEL", "MESSAGE"]
        assert [_columns(line)[1:] for line in lines[1:]] == [
            ["INFO", "first message"],
            ["ERROR", "second message"],
        ]


def test_get_logs_needs_a_name_or_id(world):
    result = _invoke("get", "logs")

    assert result.exit_code == 1
    assert result.output == "Either --name or --id must be provided\n"


def test_get_logs_of_an_unknown_run(world):
    result = _invoke("get", "logs", "--name", "nope")

    assert result.exit_code == 1
    assert result.output == "nope not found\n"


def test_an_api_error_is_one_line(prefect_server):
    result = _invoke("get", "logs", "--id", "not-a-uuid")

    assert result.exit_code == 1
    assert len(result.output.splitlines()) == 1
    assert result.output.startswith("ClientError: ")


def test_get_logs_info_prints_the_records_as_json(world):
    result = _invoke("get", "logs", "--id", world["run_id"], "--info")

    assert result.exit_code == 0, result.output
    records = json.loads(result.output)
    assert isinstance(records, list) and len(records) == 2
