"""`prefect.utilities.backend`: the backend file in the home directory."""

from __future__ import annotations

import toml

import prefect
from prefect.utilities.backend import backend_path, load_backend, save_backend


def test_backend_file_round_trip(tmp_path, monkeypatch):
    monkeypatch.delenv("PREFECT__BACKEND_CONFIG_PATH", raising=False)
    home = tmp_path / "home-dir"
    monkeypatch.setitem(prefect.config, "home_dir", str(home))
    path = backend_path()
    assert path == home / "backend.toml"
    assert load_backend() == {}

    save_backend("server")
    assert toml.loads(path.read_text()) == {"backend": "server"}
    assert load_backend() == {"backend": "server"}
    save_backend("cloud")
    assert load_backend() == {"backend": "cloud"}


def test_the_environment_names_another_backend_file(tmp_path, monkeypatch):
    target = tmp_path / "elsewhere" / "b.toml"
    monkeypatch.setenv("PREFECT__BACKEND_CONFIG_PATH", str(target))
    assert backend_path() == target
    save_backend("cloud")
    assert toml.loads(target.read_text()) == {"backend": "cloud"}
    assert load_backend() == {"backend": "cloud"}


def test_backend_file_is_read_by_the_configuration_loader(tmp_path, monkeypatch):
    from prefect.configuration import DEFAULT_CONFIG, load_configuration

    monkeypatch.delenv("PREFECT__BACKEND_CONFIG_PATH", raising=False)
    monkeypatch.setitem(prefect.config, "home_dir", str(tmp_path))
    save_backend("cloud")
    config = load_configuration(
        DEFAULT_CONFIG, backend_config_path=str(backend_path()), env_var_prefix="NO_SUCH_PREFIX"
    )
    assert config.backend == "cloud"
    save_backend("server")
    config = load_configuration(
        DEFAULT_CONFIG, backend_config_path=str(backend_path()), env_var_prefix="NO_SUCH_PREFIX"
    )
    assert config.backend == "server"
