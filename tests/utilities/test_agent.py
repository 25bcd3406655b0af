"""`prefect.utilities.agent`: the image and the command of a flow run."""

from __future__ import annotations

import pytest

from prefect.run_configs import DockerRun, LocalRun
from prefect.storage import Docker, Local
from prefect.utilities.agent import get_flow_image, get_flow_run_command
from prefect.utilities.graphql import GraphQLResult


def flow_run(run_config=None, storage=None, core_version="1.4.1") -> GraphQLResult:
    storage = storage or Local(directory="/tmp/flows", add_default_labels=False)
    return GraphQLResult(
        {
            "id": "run",
            "run_config": run_config.serialize() if run_config is not None else None,
            "flow": {"storage": storage.serialize(), "core_version": core_version},
        }
    )


def test_image_comes_from_the_run_config_first():
    storage = Docker(registry_url="reg", image_name="stored", image_tag="1")
    assert get_flow_image(flow_run(DockerRun(image="from-run-config"), storage)) == (
        "from-run-config"
    )


def test_image_comes_from_docker_storage_next():
    storage = Docker(registry_url="reg", image_name="stored", image_tag="1")
    assert get_flow_image(flow_run(DockerRun(), storage)) == "reg/stored:1"


def test_image_falls_back_to_the_default_then_the_core_version():
    assert get_flow_image(flow_run(LocalRun()), default="mine") == "mine"
    assert get_flow_image(flow_run(core_version="1.4.1+5.gabc")) == "prefecthq/prefect:1.4.1"
    assert get_flow_image(flow_run(core_version=None)) == "prefecthq/prefect:latest"


@pytest.mark.parametrize(
    ("core_version", "command"),
    [
        ("1.4.1", "prefect execute flow-run"),
        ("0.15.0", "prefect execute flow-run"),
        ("0.14.22", "prefect execute cloud-flow"),
        ("0.14.0+12.g1234", "prefect execute cloud-flow"),
        (None, "prefect execute flow-run"),
    ],
)
def test_flow_run_command_depends_on_the_registering_version(core_version, command):
    assert get_flow_run_command(flow_run(core_version=core_version)) == command
