"""`prefect create project` against a real server."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner

import prefect
from prefect.cli import cli


def _invoke(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _projects() -> list[dict]:
    result = prefect.Client().graphql({"query": {"project": {"name", "description"}}})
    return [dict(row) for row in result.data.project]


def test_create_project_prints_created(prefect_server):
    result = _invoke("create", "project", "my-project", "-d", "about it")

    assert result.exit_code == 0
    assert result.output == "my-project created\n"
    assert _projects() == [{"name": "my-project", "description": "about it"}]


def test_creating_a_duplicate_project_keeps_one(prefect_server):
    _invoke("create", "project", "dup")

    result = _invoke("create", "project", "dup")

    # As in 1.4.1: the client finds the existing project and reports success.
    assert result.exit_code == 0
    assert result.output == "dup created\n"
    assert [p["name"] for p in _projects()] == ["dup"]


def test_skip_if_exists_says_so(prefect_server):
    _invoke("create", "project", "there")

    result = _invoke("create", "project", "there", "--skip-if-exists")

    assert result.exit_code == 0
    assert result.output == "there already exists\n"


def test_skip_if_exists_creates_a_missing_project(prefect_server):
    result = _invoke("create", "project", "new", "--skip-if-exists")

    assert result.output == "new created\n"
    assert [p["name"] for p in _projects()] == ["new"]


def test_name_is_required():
    result = CliRunner().invoke(cli, ["create", "project"])

    assert result.exit_code == 2
    assert "Missing argument 'NAME'" in result.output


@pytest.mark.parametrize("args", [["create", "--help"], ["create", "project", "--help"]])
def test_help(args):
    result = CliRunner().invoke(cli, args)

    assert result.exit_code == 0
    assert result.output.startswith("Usage: ")
