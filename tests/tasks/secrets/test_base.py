from __future__ import annotations

import datetime
import json
from typing import Any

import pytest

import prefect
from prefect import Flow, task
from prefect.engine.results import LocalResult, SecretResult
from prefect.serialization.state import StateSchema
from prefect.tasks.secrets import EnvVarSecret, PrefectSecret, SecretBase
from prefect.utilities.configuration import set_temporary_config


class UpperSecret(SecretBase):
    """A custom secret store: the secret's value is its name in upper case."""

    def run(self, name: str | None = None) -> Any:
        return (name or self.name).upper()


def test_package_exports():
    assert sorted(prefect.tasks.secrets.__all__) == ["EnvVarSecret", "PrefectSecret", "SecretBase"]
    assert issubclass(PrefectSecret, SecretBase)
    assert issubclass(EnvVarSecret, PrefectSecret)
    assert issubclass(SecretBase, prefect.Task)


def test_secret_tasks_have_a_secret_result_pointing_at_themselves():
    secret = UpperSecret(name="token")
    assert isinstance(secret.result, SecretResult)
    assert secret.result.secret_task is secret
    assert secret.result.location == "token"


def test_secret_tasks_are_never_checkpointed():
    assert UpperSecret().checkpoint is False
    assert PrefectSecret("S", checkpoint=True).checkpoint is False


def test_a_result_argument_is_refused():
    with pytest.raises(ValueError, match="Result types are not supported"):
        PrefectSecret("S", result=LocalResult())


def test_prefect_secret_names_the_task_after_the_secret():
    secret = PrefectSecret("API_KEY")
    assert secret.name == "API_KEY"
    assert secret.secret_name == "API_KEY"


def test_prefect_secret_without_a_name_is_named_after_its_class():
    secret = PrefectSecret()
    assert secret.name == "PrefectSecret"
    assert secret.secret_name is None


def test_prefect_secret_retries_twice_one_second_apart_by_default():
    secret = PrefectSecret("S")
    assert secret.max_retries == 2
    assert secret.retry_delay == datetime.timedelta(seconds=1)
    custom = PrefectSecret("S", max_retries=0, retry_delay=None)
    assert custom.max_retries == 0
    assert custom.retry_delay is None


def test_run_returns_the_context_secret_decoded():
    with prefect.context(secrets={"S": '{"a": 1}', "T": "plain"}):
        assert PrefectSecret("S").run() == {"a": 1}
        assert PrefectSecret("S").run(name="T") == "plain"
        assert PrefectSecret().run(name="T") == "plain"


def test_run_without_any_name_is_refused():
    with pytest.raises(ValueError, match="secret name must be provided"):
        PrefectSecret().run()


def test_run_of_a_missing_secret_raises_value_error():
    with prefect.context(secrets={}):
        with pytest.raises(ValueError, match="PREFECT__CONTEXT__SECRETS__NOPE"):
            PrefectSecret("NOPE").run()


def test_secret_result_reads_through_the_task():
    secret = PrefectSecret("S")
    with prefect.context(secrets={"S": "one", "OTHER": "two"}):
        assert secret.result.read("OTHER").value == "two"
    with pytest.raises(ValueError, match="Cannot write"):
        secret.result.write("value")


@pytest.mark.parametrize("checkpointing", [False, True])
def test_flow_with_a_prefect_secret_runs_and_never_persists_the_value(checkpointing, tmp_path):
    @task
    def use(value: Any) -> int:
        return len(value["user"])

    with Flow("secrets", result=LocalResult(dir=str(tmp_path))) as flow:
        secret = PrefectSecret("CREDS")()
        used = use(secret)

    config = {"flows.checkpointing": checkpointing}
    secrets = {"CREDS": '{"user": "s3cr3t-user"}'}
    with set_temporary_config(config), prefect.context(secrets=secrets):
        state = flow.run()

    assert state.is_successful()
    secret_state = state.result[secret]
    assert secret_state.result == {"user": "s3cr3t-user"}
    assert isinstance(secret_state._result, SecretResult)
    assert state.result[used].result == 11
    # Checkpointing writes the other task's result, never the secret's.
    written = [path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()]
    assert len(written) == (1 if checkpointing else 0)
    assert not any(b"s3cr3t" in content for content in written)
    # What a state reports to a backend says where the secret comes from, never its value.
    dumped = StateSchema().dump(secret_state)
    assert dumped["_result"]["type"] == "SecretResult"
    assert dumped["_result"]["secret_type"] == "prefect.tasks.secrets.base.PrefectSecret"
    assert "s3cr3t" not in json.dumps(dumped)


def test_flow_with_a_missing_secret_fails_the_secret_task():
    with Flow("missing") as flow:
        secret = PrefectSecret("NOPE", max_retries=0, retry_delay=None)()
    with prefect.context(secrets={}):
        state = flow.run()
    assert state.is_failed()
    assert "PREFECT__CONTEXT__SECRETS__NOPE" in state.result[secret].message


def test_secret_read_while_building_is_refused_but_works_in_the_run():
    reader = PrefectSecret("S")
    with prefect.context(secrets={"S": "v"}):
        with Flow("build") as flow:
            with pytest.raises(ValueError, match="during a flow run"):
                reader.run()
            secret = reader()
        assert flow.run().result[secret].result == "v"


def test_custom_secret_base_subclass_runs_in_a_flow():
    with Flow("custom") as flow:
        secret = UpperSecret(name="token")()
    state = flow.run()
    assert state.result[secret].result == "TOKEN"
    assert isinstance(state.result[secret]._result, SecretResult)
