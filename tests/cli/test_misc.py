"""`prefect version`, `prefect config`, `prefect diagnostics` and `prefect repl`."""

from __future__ import annotations

import json

from click.testing import CliRunner

import prefect
from prefect.cli import cli


def test_version_prints_the_version():
    result = CliRunner().invoke(cli, ["version"])

    assert result.exit_code == 0
    assert result.output == f"{prefect.__version__}\n"


def test_config_prints_the_effective_config_as_json(monkeypatch):
    monkeypatch.setitem(prefect.config.server, "port", 4321)

    result = CliRunner().invoke(cli, ["config"])

    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["server"]["port"] == 4321
    assert data["backend"] == prefect.config.backend


def test_diagnostics_prints_system_information():
    result = CliRunner().invoke(cli, ["diagnostics"])

    assert result.exit_code == 0
    info = json.loads(result.output)["system_information"]
    assert info["prefect_version"] == prefect.__version__
    assert info["prefect_backend"] == prefect.config.backend


def test_repl_without_click_repl_names_the_package(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "click_repl", None)

    result = CliRunner().invoke(cli, ["repl"])

    assert result.exit_code == 1
    assert result.output == (
        "Error: `prefect repl` needs the `click-repl` package: pip install click-repl\n"
    )
