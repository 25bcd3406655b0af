"""Schemas of the run configs, in the 1.x JSON form the backend stores and agents read.

Every run config dumps ``__version__``, ``type`` (the class name), ``env`` and ``labels`` (a
sorted list), plus the fields of its class; `RunConfigSchema` picks the schema by ``type``.
Loading gives back an equal run config object.
"""

from __future__ import annotations

from marshmallow import EXCLUDE, fields

from prefect.run_configs import (
    DockerRun,
    ECSRun,
    KubernetesRun,
    LocalRun,
    RunConfig,
    UniversalRun,
    VertexRun,
)
from prefect.utilities.serialization import JSONCompatible, ObjectSchema, OneOfSchema, SortedList

__all__ = [
    "DockerRunSchema",
    "ECSRunSchema",
    "KubernetesRunSchema",
    "LocalRunSchema",
    "RunConfigSchema",
    "RunConfigSchemaBase",
    "UniversalRunSchema",
    "VertexRunSchema",
]


class RunConfigSchemaBase(ObjectSchema):
    """The fields every run config has: ``env`` and ``labels``."""

    class Meta:
        object_class = RunConfig

    env = fields.Dict(keys=fields.String(), allow_none=True)
    labels = SortedList(fields.String())


class UniversalRunSchema(RunConfigSchemaBase):
    """`UniversalRun`: the base fields only."""

    class Meta:
        object_class = UniversalRun


class KubernetesRunSchema(RunConfigSchemaBase):
    """`KubernetesRun`: template, image, resources, service account and pull settings."""

    class Meta:
        object_class = KubernetesRun

    job_template_path = fields.String(allow_none=True)
    job_template = JSONCompatible(allow_none=True)
    image = fields.String(allow_none=True)
    cpu_limit = fields.String(allow_none=True)
    cpu_request = fields.String(allow_none=True)
    memory_limit = fields.String(allow_none=True)
    memory_request = fields.String(allow_none=True)
    service_account_name = fields.String(allow_none=True)
    image_pull_secrets = fields.List(fields.String(), allow_none=True)
    image_pull_policy = fields.String(allow_none=True)


class ECSRunSchema(RunConfigSchemaBase):
    """`ECSRun`: task definition (by value, path or ARN), image, resources, roles."""

    class Meta:
        object_class = ECSRun

    task_definition_path = fields.String(allow_none=True)
    task_definition_arn = fields.String(allow_none=True)
    task_definition = JSONCompatible(allow_none=True)
    image = fields.String(allow_none=True)
    cpu = fields.String(allow_none=True)
    memory = fields.String(allow_none=True)
    task_role_arn = fields.String(allow_none=True)
    execution_role_arn = fields.String(allow_none=True)
    run_task_kwargs = JSONCompatible(allow_none=True)


class LocalRunSchema(RunConfigSchemaBase):
    """`LocalRun`: the working directory."""

    class Meta:
        object_class = LocalRun

    working_dir = fields.String(allow_none=True)


class DockerRunSchema(RunConfigSchemaBase):
    """`DockerRun`: image, ports and host config."""

    class Meta:
        object_class = DockerRun

    image = fields.String(allow_none=True)
    ports = fields.List(fields.Integer(), allow_none=True)
    host_config = fields.Dict(keys=fields.String(), allow_none=True)


class VertexRunSchema(RunConfigSchemaBase):
    """`VertexRun`: image, machine type, scheduling, service account, network, worker pools."""

    class Meta:
        object_class = VertexRun

    image = fields.String(allow_none=True)
    machine_type = fields.String(allow_none=True)
    scheduling = fields.Dict(keys=fields.String(), allow_none=True)
    service_account = fields.String(allow_none=True)
    network = fields.String(allow_none=True)
    worker_pool_specs = fields.List(fields.Dict(keys=fields.String()), allow_none=True)


class RunConfigSchema(OneOfSchema):
    """Any run config, chosen by its class name (the ``"type"`` key)."""

    class Meta:
        # Newer writers may add keys: readers ignore what they do not know.
        unknown = EXCLUDE

    type_schemas = {
        "KubernetesRun": KubernetesRunSchema,
        "ECSRun": ECSRunSchema,
        "LocalRun": LocalRunSchema,
        "DockerRun": DockerRunSchema,
        "UniversalRun": UniversalRunSchema,
        "VertexRun": VertexRunSchema,
    }
