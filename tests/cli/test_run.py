"""`prefect run`: local runs of a file/module and backend runs against a real server."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import prefect
from prefect.cli import cli

FLOW_SCRIPT = """
from prefect import Flow, Parameter, task

@task
def check(who, fail):
    if fail:
        raise ValueError("failing on purpose")
    return f"hello {who}"

with Flow("greet") as flow:
    who = Parameter("who")
    fail = Parameter("fail", default=False)
    check(who, fail)
"""


def _invoke(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "greet.py"
    path.write_text(textwrap.dedent(FLOW_SCRIPT))
    return path


@pytest.fixture
def registered(prefect_server: str, script: Path) -> dict[str, str]:
    """Flow `greet` registered in project `proj` (from the script)."""
    from prefect.cli.register import load_flows_from_script

    prefect.Client().create_project("proj")
    prefect.Client().create_project("other")
    flow = load_flows_from_script(str(script))[0]
    flow_id = flow.register("proj", no_url=True)
    group = prefect.Client().graphql({"query": {f'flow_by_pk(id: "{flow_id}")': {"flow_group_id"}}})
    return {"flow_id": flow_id, "flow_group_id": group.data.flow_by_pk.flow_group_id}


def _flow_runs() -> list[dict]:
    result = prefect.Client().graphql(
        {
            "query": {
                "flow_run": {
                    "id",
                    "name",
                    "flow_id",
                    "parameters",
                    "context",
                    "labels",
                    "state",
                    "idempotency_key",
                    "run_config",
                }
            }
        }
    )
    return [dict(row) for row in result.data.flow_run]


# --- local runs -------------------------------------------------------------------------------


def test_local_run_of_a_file_succeeds_with_exit_0(script):
    result = _invoke("run", "-p", str(script), "--param", "who=world")

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Retrieving local flow... Done"
    assert lines[1] == "Configured local flow run"
    assert lines[2] == "└── Parameters: {'who': 'world'}"
    assert lines[3] == "Running flow locally..."
    assert lines[-1] == "Flow run succeeded!"
    assert any("| INFO    |" in line for line in lines)


def test_local_run_that_fails_exits_1(script):
    result = _invoke("run", "-p", str(script), "--param", "who=x", "--param", "fail=true")

    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == "Flow run failed!"


def test_local_run_quiet_and_no_logs_print_nothing_but_the_result(script):
    quiet = _invoke("run", "-p", str(script), "--param", "who=x", "-q")
    assert quiet.exit_code == 0
    assert quiet.output == ""

    no_logs = _invoke("run", "-p", str(script), "--param", "who=x", "--no-logs")
    assert "| INFO    |" not in no_logs.output


def test_local_run_missing_required_parameter_is_one_line(script):
    result = _invoke("run", "-p", str(script))

    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == (
        "Flow 'greet' is missing required parameters: who; pass them with `--param name=value`."
    )


def test_local_run_of_a_broken_file_is_one_line(tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text("raise ImportError('no such thing')\n")

    result = _invoke("run", "-p", str(broken))

    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "Retrieving local flow... Error",
        "ImportError: no such thing",
    ]


def test_local_run_of_a_module(tmp_path, monkeypatch, script):
    (tmp_path / "cli_run_module_a.py").write_text(script.read_text())
    monkeypatch.syspath_prepend(str(tmp_path))

    result = _invoke("run", "-m", "cli_run_module_a", "--param", "who=m")

    assert result.exit_code == 0, result.output


def test_param_file_values_are_overridden_by_param(script, tmp_path):
    params = tmp_path / "params.json"
    params.write_text(json.dumps({"who": "file", "fail": True}))

    result = _invoke("run", "-p", str(script), "--param-file", str(params), "--param", "fail=false")

    assert result.exit_code == 0, result.output
    assert "└── Parameters: {'who': 'file', 'fail': False}" in result.output.splitlines()


def test_lookup_options_are_checked():
    none = CliRunner().invoke(cli, ["run"])
    assert none.exit_code == 1
    assert "Received no options to look up the flow." in none.output

    both = CliRunner().invoke(cli, ["run", "--id", "x", "--name", "y"])
    assert both.exit_code == 1
    assert "cannot specifiy both `--name` and `--id`" in both.output

    many = CliRunner().invoke(cli, ["run", "--path", "x", "--module", "y"])
    assert "Received too many options to look up the flow: --path, --module" in many.output


def test_schedule_is_only_for_local_runs(registered):
    result = _invoke("run", "--name", "greet", "--schedule")

    assert result.exit_code == 1
    assert "`--schedule` can only be specified for local flow runs" in result.output


# --- backend runs ------------------------------------------------------------------------------


def test_run_by_name_with_params_creates_a_flow_run(registered):
    result = _invoke("run", "--name", "greet", "--param", "who=world", "--param", 'fail={"a": [1]}')

    assert result.exit_code == 0, result.output
    runs = _flow_runs()
    assert len(runs) == 1
    run = runs[0]
    assert run["flow_id"] == registered["flow_id"]
    assert run["parameters"] == {"who": "world", "fail": {"a": [1]}}
    lines = result.output.splitlines()
    assert lines[0] == "Looking up flow metadata... Done"
    assert lines[1] == "Creating run for flow 'greet'... Done"
    assert lines[2] == f"└── Name: {run['name']}"
    assert lines[3] == f"└── UUID: {run['id']}"
    assert lines[5] == "└── Parameters: {'who': 'world', 'fail': {'a': [1]}}"
    assert lines[7].startswith("└── URL: http://localhost:8080/default/flow-run/")


def test_run_by_project_and_name_with_labels_context_and_run_name(registered):
    result = _invoke(
        "run",
        "--project",
        "proj",
        "--name",
        "greet",
        "--param",
        "who=x",
        "--label",
        "a",
        "--label",
        "b",
        "--context",
        "answer=42",
        "--run-name",
        "my-run",
    )

    assert result.exit_code == 0, result.output
    run = _flow_runs()[0]
    assert sorted(run["labels"]) == ["a", "b"]
    assert run["context"]["answer"] == 42
    assert run["name"] == "my-run"


def test_run_by_flow_id_and_by_flow_group_id(registered):
    for key in ("flow_id", "flow_group_id"):
        result = _invoke("run", "--id", registered[key], "--param", "who=x", "-q")
        assert result.exit_code == 0, result.output
    assert [r["flow_id"] for r in _flow_runs()] == [registered["flow_id"]] * 2


def test_quiet_prints_only_the_flow_run_id(registered):
    result = _invoke("run", "--name", "greet", "--param", "who=x", "--quiet")

    assert result.output == f"{_flow_runs()[0]['id']}\n"


def test_idempotency_key_gives_the_same_run(registered):
    first = _invoke("run", "--name", "greet", "--param", "who=x", "-q", "--idempotency-key", "k")
    second = _invoke("run", "--name", "greet", "--param", "who=x", "-q", "--idempotency-key", "k")

    assert first.output == second.output
    assert len(_flow_runs()) == 1


def test_log_level_sets_the_run_config_env(registered):
    result = _invoke("run", "--name", "greet", "--param", "who=x", "-q", "--log-level", "debug")

    assert result.exit_code == 0, result.output
    assert _flow_runs()[0]["run_config"]["env"] == {"PREFECT__LOGGING__LEVEL": "DEBUG"}


def test_unknown_project_is_one_line(registered):
    result = _invoke("run", "--project", "nope", "--name", "greet")

    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "Looking up flow metadata... Error",
        "Project 'nope' does not exist",
    ]


def test_unknown_flow_name_is_one_line(registered):
    in_project = _invoke("run", "--project", "other", "--name", "greet")
    assert in_project.exit_code == 1
    assert in_project.output.splitlines()[-1] == "Flow 'greet' not found in project 'other'"

    anywhere = _invoke("run", "--name", "nope")
    assert anywhere.exit_code == 1
    assert anywhere.output.splitlines()[-1] == "Flow 'nope' not found"


def test_unknown_id_is_one_line(registered):
    result = _invoke("run", "--id", "00000000-0000-0000-0000-000000000000")

    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == (
        "Failed to find flow id or flow group id matching '00000000-0000-0000-0000-000000000000'"
    )


def test_missing_required_parameter_is_one_line(registered):
    result = _invoke("run", "--name", "greet")

    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[-2] == "Creating run for flow 'greet'... Error"
    assert lines[-1].startswith("ClientError: Required parameters were not supplied")
    assert "who" in lines[-1]
    assert _flow_runs() == []


def test_server_unreachable_is_one_line(monkeypatch):
    from prefect.client import _http

    monkeypatch.setattr(_http, "RETRY_TOTAL", 0)
    monkeypatch.setitem(prefect.config.cloud, "api", "http://127.0.0.1:9")

    result = _invoke("run", "--name", "greet")

    assert result.exit_code == 1
    assert result.output.splitlines()[0] == "Looking up flow metadata... Error"
    assert "Could not connect to the Prefect API at http://127.0.0.1:9" in result.output
    assert len(result.output.splitlines()) == 2


def _fake_watch(final_state: Any, interrupt: bool = False) -> Any:
    from prefect.backend.flow_run import FlowRunLog

    def watch(flow_run_id: str, stream_states: bool = True, stream_logs: bool = True, **_: Any):
        import pendulum

        yield FlowRunLog(pendulum.now("UTC"), 20, "Flow run is running")
        if interrupt:
            raise KeyboardInterrupt
        prefect.Client().set_flow_run_state(flow_run_id, final_state)
        yield FlowRunLog(pendulum.now("UTC"), 40, "a problem")

    return watch


@pytest.mark.parametrize(
    "state, code, last",
    [
        ("Success", 0, "Flow run succeeded!"),
        ("Failed", 1, "Flow run failed!"),
    ],
)
def test_watch_streams_logs_and_exits_by_the_final_state(
    registered, monkeypatch, state, code, last
):
    from prefect.backend import flow_run
    from prefect.engine import state as states

    monkeypatch.setattr(flow_run, "watch_flow_run", _fake_watch(getattr(states, state)()))

    result = _invoke("run", "--name", "greet", "--param", "who=x", "--watch")

    assert result.exit_code == code, result.output
    lines = result.output.splitlines()
    assert "Watching flow run execution..." in lines
    assert any(line.endswith(" | INFO    | Flow run is running") for line in lines)
    assert any(line.endswith(" | ERROR   | a problem") for line in lines)
    assert lines[-1] == last


def test_ctrl_c_while_watching_cancels_the_run(registered, monkeypatch):
    from prefect.backend import flow_run
    from prefect.engine.state import Success

    monkeypatch.setattr(flow_run, "watch_flow_run", _fake_watch(Success(), interrupt=True))

    result = _invoke("run", "--name", "greet", "--param", "who=x", "--watch")

    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == "Cancelled flow run."
    assert _flow_runs()[0]["state"] in {"Cancelled", "Cancelling"}


@pytest.mark.integration
def test_execute_runs_the_flow_run_in_a_subprocess(registered):
    result = _invoke("run", "--name", "greet", "--param", "who=x", "--execute")

    assert result.exit_code == 0, result.output
    run = _flow_runs()[0]
    assert run["state"] == "Success"
    assert any(label.startswith("agentless-run-") for label in run["labels"])
    assert result.output.splitlines()[-1] == "Flow run succeeded!"


def test_an_id_that_is_not_a_uuid_is_one_line(registered):
    result = _invoke("run", "--id", "not-a-uuid")

    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == (
        "Failed to find flow id or flow group id matching 'not-a-uuid'"
    )


def test_a_file_with_several_flows_needs_a_name(tmp_path):
    path = tmp_path / "two.py"
    path.write_text("from prefect import Flow\na = Flow('a')\nb = Flow('b')\n")

    result = _invoke("run", "-p", str(path))

    assert result.exit_code == 1
    assert "Found multiple flows at" in result.output
    assert _invoke("run", "-p", str(path), "-n", "b").exit_code == 0


@pytest.mark.integration
def test_watch_follows_a_real_run_to_success(registered):
    import threading
    import time

    from prefect.engine.state import Running, Success

    def drive() -> None:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            runs = _flow_runs()
            if runs:
                client = prefect.Client()
                client.set_flow_run_state(runs[0]["id"], Running())
                client.write_run_logs(
                    [{"flow_run_id": runs[0]["id"], "name": "t", "message": "hi", "level": "INFO"}]
                )
                client.set_flow_run_state(runs[0]["id"], Success())
                return
            time.sleep(0.05)

    driver = threading.Thread(target=drive)
    driver.start()
    result = _invoke("run", "--name", "greet", "--param", "who=x", "--watch")
    driver.join()

    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "Flow run succeeded!"
    assert any(line.endswith("| INFO    | hi") for line in result.output.splitlines())


@pytest.mark.integration
def test_execute_of_a_failing_run_exits_1(registered):
    result = _invoke(
        "run", "--name", "greet", "--param", "who=x", "--param", "fail=true", "--execute"
    )

    assert result.exit_code == 1, result.output
    assert result.output.splitlines()[-1] == "Flow run failed!"
    assert _flow_runs()[0]["state"] == "Failed"


def test_local_run_context_reaches_the_flow(tmp_path):
    path = tmp_path / "ctx.py"
    path.write_text(
        textwrap.dedent(
            """
            import prefect
            from prefect import Flow, task

            @task
            def check():
                assert prefect.context.get("answer") == 42

            with Flow("ctx") as flow:
                check()
            """
        )
    )

    ok = _invoke("run", "-p", str(path), "--context", "answer=42")
    wrong = _invoke("run", "-p", str(path), "--context", "answer=41")

    assert ok.exit_code == 0, ok.output
    assert "└── Context: {'answer': 42}" in ok.output.splitlines()
    assert wrong.exit_code == 1
