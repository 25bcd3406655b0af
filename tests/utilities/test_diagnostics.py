"""`prefect.utilities.diagnostics`: the bug-report JSON names settings, never their values."""

from __future__ import annotations

import json
from datetime import timedelta

import prefect
from prefect import Flow, task
from prefect.engine.results import LocalResult
from prefect.run_configs import LocalRun
from prefect.schedules import IntervalSchedule
from prefect.utilities import diagnostics


def test_system_information_names_the_versions_and_backend():
    info = diagnostics.system_information()["system_information"]

    assert info["prefect_version"] == prefect.__version__
    assert info["prefect_backend"] == prefect.config.backend
    assert set(info) == {"platform", "prefect_backend", "prefect_version", "python_version"}


def test_config_overrides_mark_keys_and_hide_values(tmp_path, monkeypatch):
    user_config = tmp_path / "config.toml"
    user_config.write_text('[logging]\nlevel = "DEBUG"\n[context.secrets]\nMY_TOKEN = "abc"\n')
    monkeypatch.setattr(prefect.configuration, "USER_CONFIG", str(user_config))

    assert diagnostics.config_overrides() == {
        "config_overrides": {"logging": {"level": True}, "context": {}}
    }
    with_names = diagnostics.config_overrides(include_secret_names=True)["config_overrides"]
    assert with_names["context"] == {"secrets": {"MY_TOKEN": True}}
    assert "abc" not in json.dumps(with_names)


def test_environment_variables_lists_prefect_names_only(monkeypatch):
    monkeypatch.setenv("PREFECT__SOME__KEY", "hidden-value")
    monkeypatch.setenv("NOT_PREFECT", "x")

    names = diagnostics.environment_variables()["env_vars"]

    assert "PREFECT__SOME__KEY" in names
    assert "NOT_PREFECT" not in names


def test_flow_diagnostics_describe_the_flow_without_values(tmp_path):
    @task
    def noop():
        pass

    flow = Flow(
        "diag",
        schedule=IntervalSchedule(interval=timedelta(hours=1)),
        run_config=LocalRun(env={"TOKEN": "s3cr3t"}),
        result=LocalResult(dir=str(tmp_path)),
    )
    with flow:
        noop()

    report = json.loads(flow.diagnostics())

    assert "s3cr3t" not in json.dumps(report)
    info = report["flow_information"]
    assert info["task_count"] == 1
    assert info["run_config"]["type"] == "LocalRun"
    assert info["run_config"]["env"] is True
    assert info["result"]["type"] == "LocalResult"
    assert info["schedule"]["type"] == "Schedule"
    assert info["storage"] is False
    assert set(report) == {"config_overrides", "env_vars", "system_information", "flow_information"}
