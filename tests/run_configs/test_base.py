from __future__ import annotations

import pytest

import prefect
from prefect.run_configs import (
    DockerRun,
    ECSRun,
    KubernetesRun,
    LocalRun,
    RunConfig,
    UniversalRun,
    VertexRun,
)


def test_package_exports_every_run_config_class():
    assert sorted(prefect.run_configs.__all__) == [
        "DockerRun",
        "ECSRun",
        "KubernetesRun",
        "LocalRun",
        "RunConfig",
        "UniversalRun",
        "VertexRun",
    ]


def test_universal_run_defaults_to_no_env_and_no_labels():
    config = UniversalRun()
    assert config.env is None
    assert config.labels == set()
    assert isinstance(config, RunConfig)


def test_labels_are_stored_as_a_set():
    config = UniversalRun(env={"A": "1"}, labels=["b", "a", "b"])
    assert config.env == {"A": "1"}
    assert config.labels == {"a", "b"}


def test_labels_given_as_one_string_are_refused():
    with pytest.raises(TypeError, match=r"labels=\['dev'\]"):
        UniversalRun(labels="dev")


def test_run_configs_compare_by_type_and_fields():
    assert UniversalRun(labels=["a"]) == UniversalRun(labels=["a"])
    assert UniversalRun(labels=["a"]) != UniversalRun(labels=["b"])
    assert UniversalRun(env={"A": "1"}) != LocalRun(env={"A": "1"})
    assert UniversalRun() != object()


def test_labels_can_be_added_after_creation():
    config = LocalRun(labels=["a"])
    config.labels.update({"b"})
    assert config.serialize()["labels"] == ["a", "b"]


def test_serialize_gives_the_wire_form():
    data = UniversalRun(labels=["z", "a"]).serialize()
    assert data == {
        "__version__": prefect.__version__,
        "type": "UniversalRun",
        "env": None,
        "labels": ["a", "z"],
    }


def test_repr_names_the_class_and_the_fields_that_are_set():
    assert repr(LocalRun(working_dir="/w")) == "LocalRun(working_dir='/w')"
    assert repr(UniversalRun()) == "UniversalRun()"


@pytest.mark.parametrize(
    "cls", [UniversalRun, LocalRun, DockerRun, KubernetesRun, ECSRun, VertexRun]
)
def test_every_run_config_takes_env_and_labels(cls):
    config = cls(env={"K": "V"}, labels=["l"])
    assert config.env == {"K": "V"}
    assert config.labels == {"l"}


@pytest.mark.parametrize("cls", [LocalRun, DockerRun, KubernetesRun, ECSRun, VertexRun])
def test_arguments_are_keyword_only(cls):
    with pytest.raises(TypeError):
        cls({"K": "V"})


def test_run_config_is_reached_lazily_from_prefect():
    assert prefect.run_configs.LocalRun is LocalRun
