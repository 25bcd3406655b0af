"""`prefect delete project` against a real server."""

from __future__ import annotations

from click.testing import CliRunner

import prefect
from prefect.cli import cli


def test_delete_project_removes_it(prefect_server):
    prefect.Client().create_project("gone")

    result = CliRunner().invoke(cli, ["delete", "project", "gone"])

    assert result.exit_code == 0
    assert result.output == "gone deleted\n"
    assert prefect.Client().graphql({"query": {"project": {"id"}}}).data.project == []


def test_deleting_an_unknown_project_fails_on_one_line(prefect_server):
    result = CliRunner().invoke(cli, ["delete", "project", "nope"])

    assert result.exit_code == 1
    assert result.output == "ValueError: Project 'nope' not found.\nError deleting project\n"
