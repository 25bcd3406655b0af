from __future__ import annotations

from prefect.run_configs import DockerRun


def test_defaults():
    config = DockerRun()
    assert config.image is None
    assert config.ports is None
    assert config.host_config is None
    assert config.env is None
    assert config.labels == set()


def test_all_arguments_are_stored():
    config = DockerRun(
        image="img:1",
        env={"A": "1"},
        labels=["docker"],
        ports=(8080, 8787),
        host_config={"mem_limit": "1g"},
    )
    assert config.image == "img:1"
    assert config.ports == [8080, 8787]
    assert config.host_config == {"mem_limit": "1g"}
    assert config.labels == {"docker"}


def test_serialize_includes_docker_fields():
    data = DockerRun(image="img", ports=[1]).serialize()
    assert data["image"] == "img"
    assert data["ports"] == [1]
    assert data["host_config"] is None
