from __future__ import annotations

from typing import Any

import pytest

from prefect.engine.result import Result
from prefect.engine.results import SecretResult


class RecordingSecret:
    def __init__(self, name: str) -> None:
        self.name = name
        self.calls: list[Any] = []

    def run(self, name: str | None = None) -> str:
        self.calls.append(name)
        return f"secret-{name}"


def test_location_defaults_to_the_secret_task_name():
    task = RecordingSecret("API_KEY")
    result = SecretResult(task)
    assert isinstance(result, Result)
    assert result.secret_task is task
    assert result.location == "API_KEY"


def test_given_location_is_kept():
    assert SecretResult(RecordingSecret("A"), location="B").location == "B"


def test_read_runs_the_secret_task_with_the_location_as_name():
    task = RecordingSecret("API_KEY")
    result = SecretResult(task)
    read = result.read("OTHER")
    assert read is not result
    assert read.value == "secret-OTHER"
    assert read.location == "OTHER"
    assert task.calls == ["OTHER"]
    assert result.value is None


def test_write_is_refused():
    with pytest.raises(ValueError, match="SecretResult"):
        SecretResult(RecordingSecret("A")).write("value")
