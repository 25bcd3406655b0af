from __future__ import annotations

from prefect.run_configs import LocalRun


def test_defaults():
    config = LocalRun()
    assert config.env is None
    assert config.working_dir is None
    assert config.labels == set()


def test_all_arguments_are_stored():
    config = LocalRun(env={"A": "1"}, working_dir="/srv/flows", labels=["host"])
    assert config.env == {"A": "1"}
    assert config.working_dir == "/srv/flows"
    assert config.labels == {"host"}


def test_serialize_includes_working_dir():
    data = LocalRun(working_dir="relative/dir").serialize()
    assert data["type"] == "LocalRun"
    assert data["working_dir"] == "relative/dir"
