from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from marshmallow import ValidationError

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
from prefect.serialization.run_config import (
    DockerRunSchema,
    ECSRunSchema,
    KubernetesRunSchema,
    LocalRunSchema,
    RunConfigSchema,
    RunConfigSchemaBase,
    UniversalRunSchema,
    VertexRunSchema,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "run_configs"

# Each object, built in Python, is what the 1.4.1 client serializes to fixtures/run_configs/<name>.
GOLDEN: dict[str, RunConfig] = {
    "universal_run": UniversalRun(labels=["gpu", "dev"]),
    "local_run": LocalRun(
        env={"PREFECT__LOGGING__LEVEL": "DEBUG"}, working_dir="/srv/flows", labels=["my-host"]
    ),
    "docker_run": DockerRun(
        image="prefecthq/prefect:1.4.1-python3.9",
        ports=[8080, 8787],
        host_config={"mem_limit": "2g"},
    ),
    "kubernetes_run": KubernetesRun(
        job_template_path="s3://my-bucket/job.yaml",
        image="my-image:latest",
        env={"A": "1"},
        cpu_limit=2,
        cpu_request="500m",
        memory_limit="4G",
        memory_request="2G",
        service_account_name="flows",
        image_pull_secrets=["registry-creds"],
        labels=["k8s"],
        image_pull_policy="IfNotPresent",
    ),
    "ecs_run": ECSRun(
        task_definition={"containerDefinitions": [{"name": "flow"}], "networkMode": "awsvpc"},
        image="my-image:1",
        cpu=1024,
        memory=2048,
        task_role_arn="arn:aws:iam::123456789012:role/task",
        execution_role_arn="arn:aws:iam::123456789012:role/exec",
        run_task_kwargs={"cluster": "my-cluster", "launchType": "FARGATE"},
        labels=["prod", "ecs"],
    ),
    "vertex_run": VertexRun(
        image="gcr.io/proj/flows:1",
        machine_type="n1-standard-8",
        scheduling={"timeout": "3600s"},
        service_account="flows@proj.iam.gserviceaccount.com",
        network="projects/123/global/networks/default",
        worker_pool_specs=[{"machine_spec": {"machine_type": "n1-standard-8"}, "replica_count": 1}],
    ),
}


def golden(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def with_our_version(document: dict) -> dict:
    return {**document, "__version__": prefect.__version__}


def test_every_schema_of_the_reference_exists():
    for schema in (
        UniversalRunSchema,
        KubernetesRunSchema,
        ECSRunSchema,
        LocalRunSchema,
        DockerRunSchema,
        VertexRunSchema,
    ):
        assert issubclass(schema, RunConfigSchemaBase)
    assert set(RunConfigSchema.type_schemas) == {
        "UniversalRun",
        "KubernetesRun",
        "ECSRun",
        "LocalRun",
        "DockerRun",
        "VertexRun",
    }


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_dump_matches_the_1_4_1_document(name):
    dumped = RunConfigSchema().dump(GOLDEN[name])
    assert dumped == with_our_version(golden(name))
    # What goes on the wire is JSON.
    assert json.loads(json.dumps(dumped)) == dumped


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_1_4_1_document_loads_to_an_equal_object(name):
    loaded = RunConfigSchema().load(golden(name))
    assert type(loaded) is type(GOLDEN[name])
    assert loaded == GOLDEN[name]
    assert isinstance(loaded.labels, set)


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_serialize_method_uses_the_schema(name):
    assert GOLDEN[name].serialize() == RunConfigSchema().dump(GOLDEN[name])


def test_labels_are_dumped_sorted():
    dumped = UniversalRun(labels=["c", "a", "b"]).serialize()
    assert dumped["labels"] == ["a", "b", "c"]


def test_documents_without_optional_keys_load_with_defaults():
    loaded = RunConfigSchema().load({"type": "VertexRun", "__version__": "1.4.1"})
    assert loaded == VertexRun()
    assert loaded.machine_type == "e2-standard-4"


def test_unknown_keys_from_newer_writers_are_ignored():
    loaded = RunConfigSchema().load(
        {"type": "LocalRun", "working_dir": "/w", "labels": [], "new_field": 1}
    )
    assert loaded == LocalRun(working_dir="/w")


def test_loading_a_remote_template_path_does_not_fetch_it():
    loaded = RunConfigSchema().load(
        {"type": "ECSRun", "task_definition_path": "s3://bucket/never-read.yaml", "labels": []}
    )
    assert loaded.task_definition_path == "s3://bucket/never-read.yaml"
    assert loaded.task_definition is None


def test_load_without_objects_gives_the_plain_fields():
    data = RunConfigSchema().load(golden("local_run"), create_object=False)
    assert data == {
        "env": {"PREFECT__LOGGING__LEVEL": "DEBUG"},
        "labels": ["my-host"],
        "working_dir": "/srv/flows",
    }


def test_unknown_type_is_a_validation_error():
    with pytest.raises(ValidationError):
        RunConfigSchema().load({"type": "NomadRun", "labels": []})


def test_base_run_config_has_no_wire_form():
    with pytest.raises(ValidationError, match="RunConfig"):
        RunConfigSchema().dump(RunConfig())


def test_non_json_job_template_is_refused_on_dump():
    config = KubernetesRun(job_template={"when": object()})
    with pytest.raises(ValidationError):
        config.serialize()


@pytest.mark.parametrize(
    "config",
    [
        UniversalRun(),
        LocalRun(),
        DockerRun(),
        KubernetesRun(),
        ECSRun(),
        VertexRun(),
        KubernetesRun(job_template={"kind": "Job"}, image_pull_secrets=[]),
        ECSRun(task_definition_arn="arn:x", env={"A": "1", "B": "2"}),
    ],
)
def test_round_trip_gives_an_equal_object(config: Any):
    assert RunConfigSchema().load(config.serialize()) == config
