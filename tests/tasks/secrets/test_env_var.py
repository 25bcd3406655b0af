from __future__ import annotations

import json

import pytest

from prefect import Flow
from prefect.engine.results import SecretResult
from prefect.serialization.result import StateResultSchema
from prefect.tasks.secrets import EnvVarSecret


def test_defaults():
    secret = EnvVarSecret("HOME_DIR")
    assert secret.name == "HOME_DIR"
    assert secret.secret_name == "HOME_DIR"
    assert secret.cast is None
    assert secret.raise_if_missing is False
    assert isinstance(secret.result, SecretResult)


def test_reads_the_variable_at_run_time(monkeypatch):
    secret = EnvVarSecret("MY_VAR")
    monkeypatch.setenv("MY_VAR", "value")
    assert secret.run() == "value"


def test_run_name_overrides_the_init_name(monkeypatch):
    monkeypatch.setenv("OTHER_VAR", "other")
    assert EnvVarSecret("MY_VAR").run(name="OTHER_VAR") == "other"
    assert EnvVarSecret().run(name="OTHER_VAR") == "other"


def test_missing_variable_gives_none(monkeypatch):
    monkeypatch.delenv("MISSING_VAR", raising=False)
    assert EnvVarSecret("MISSING_VAR").run() is None


def test_missing_variable_raises_when_asked(monkeypatch):
    monkeypatch.delenv("MISSING_VAR", raising=False)
    with pytest.raises(ValueError, match="Environment variable not set: MISSING_VAR"):
        EnvVarSecret("MISSING_VAR", raise_if_missing=True).run()


def test_cast_is_applied_to_present_values_only(monkeypatch):
    monkeypatch.setenv("PORT_VAR", "8080")
    monkeypatch.setenv("JSON_VAR", '{"a": [1]}')
    monkeypatch.delenv("MISSING_VAR", raising=False)
    assert EnvVarSecret("PORT_VAR", cast=int).run() == 8080
    assert EnvVarSecret("JSON_VAR", cast=json.loads).run() == {"a": [1]}
    assert EnvVarSecret("MISSING_VAR", cast=int).run() is None


def test_values_are_not_json_decoded_without_a_cast(monkeypatch):
    monkeypatch.setenv("JSON_VAR", '{"a": 1}')
    assert EnvVarSecret("JSON_VAR").run() == '{"a": 1}'


def test_run_without_any_name_is_refused():
    with pytest.raises(ValueError, match="must be provided"):
        EnvVarSecret().run()


def test_runs_in_a_flow(monkeypatch):
    monkeypatch.setenv("FLOW_VAR", "42")
    with Flow("env") as flow:
        secret = EnvVarSecret("FLOW_VAR", cast=int)()
    assert flow.run().result[secret].result == 42


def test_secret_result_schema_rebuilds_the_env_var_task(monkeypatch):
    monkeypatch.setenv("SCHEMA_VAR", "x")
    dumped = StateResultSchema().dump(EnvVarSecret("SCHEMA_VAR").result)
    assert dumped["secret_type"] == "prefect.tasks.secrets.env_var.EnvVarSecret"
    loaded = StateResultSchema().load(dumped)
    assert isinstance(loaded.secret_task, EnvVarSecret)
    assert loaded.read(loaded.location).value == "x"
