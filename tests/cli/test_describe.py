"""`prefect describe flows|tasks|flow-runs` against a real server."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

import prefect
from prefect.cli import cli


def _invoke(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def world(prefect_server: str) -> dict[str, str]:
    from prefect import Flow, Parameter, task
    from prefect.storage import Local

    prefect.Client().create_project("proj")

    @task(name="double", max_retries=2, retry_delay=__import__("datetime").timedelta(seconds=3))
    def double(x: int) -> int:
        return 2 * x

    with Flow("described", storage=Local(add_default_labels=False)) as flow:
        double(Parameter("x", default=2))
    flow_id = flow.register("proj", no_url=True)
    run_id = prefect.Client().create_flow_run(
        flow_id=flow_id, run_name="the-run", parameters={"x": 5}
    )
    return {"flow_id": flow_id, "run_id": run_id}


def test_describe_flows_as_json(world):
    result = _invoke("describe", "flows", "--name", "described")

    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["name"] == "described"
    assert data["version"] == 1
    assert data["project"] == {"name": "proj"}
    assert data["archived"] is False
    assert data["storage"]["type"] == "Local"
    assert [p["name"] for p in data["parameters"]] == ["x"]


def test_describe_flows_as_yaml(world):
    result = _invoke("describe", "flows", "-n", "described", "-o", "yaml")

    assert yaml.safe_load(result.output)["name"] == "described"


def test_describe_an_unknown_flow(world):
    result = _invoke("describe", "flows", "-n", "nope")

    assert result.exit_code == 1
    assert result.output == "nope not found\n"


def test_describe_tasks_prints_one_object_per_task(world):
    result = _invoke("describe", "tasks", "-n", "described")

    assert result.exit_code == 0, result.output
    tasks = sorted(
        (json.loads(line) for line in result.output.splitlines()), key=lambda t: t["name"]
    )
    assert [t["name"] for t in tasks] == ["double", "x"]
    assert tasks[0]["max_retries"] == 2
    assert tasks[0]["type"] == "prefect.tasks.core.function.FunctionTask"


def test_describe_flow_runs(world):
    result = _invoke("describe", "flow-runs", "-n", "the-run", "-fn", "described")

    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["name"] == "the-run"
    assert data["flow"] == {"name": "described"}
    assert data["parameters"] == {"x": 5}
    assert data["serialized_state"]["type"] == "Scheduled"


def test_describe_needs_a_name():
    result = CliRunner().invoke(cli, ["describe", "flows"])

    assert result.exit_code == 2
    assert "Missing option '--name'" in result.output
