"""`prefect backend server|cloud`: the backend file it writes."""

from __future__ import annotations

import pytest
import toml
from click.testing import CliRunner

from prefect.cli import cli
from prefect.configuration import load_configuration


@pytest.fixture
def backend_file(tmp_path, monkeypatch):
    path = tmp_path / "backend.toml"
    monkeypatch.setenv("PREFECT__BACKEND_CONFIG_PATH", str(path))
    return path


@pytest.mark.parametrize("name", ["server", "cloud"])
def test_switching_writes_the_backend_file(backend_file, name):
    result = CliRunner().invoke(cli, ["backend", name])

    assert result.exit_code == 0
    assert result.output == f"Backend switched to {name}\n"
    assert toml.loads(backend_file.read_text()) == {"backend": name}


def test_switching_back_and_forth_keeps_the_last_choice(backend_file):
    CliRunner().invoke(cli, ["backend", "server"])
    CliRunner().invoke(cli, ["backend", "cloud"])
    CliRunner().invoke(cli, ["backend", "server"])

    assert toml.loads(backend_file.read_text()) == {"backend": "server"}


def test_the_written_file_sets_the_backend_of_a_new_config(backend_file):
    from prefect.configuration import DEFAULT_CONFIG

    CliRunner().invoke(cli, ["backend", "server"])
    config = load_configuration(DEFAULT_CONFIG, backend_config_path=str(backend_file))

    assert config.backend == "server"
    assert config.cloud.api == config.server.endpoint


def test_an_unknown_backend_is_refused(backend_file):
    result = CliRunner().invoke(cli, ["backend", "nope"])

    assert result.exit_code == 1
    assert result.output == "nope is not a valid backend API. Backends: server, cloud\n"
    assert not backend_file.exists()
