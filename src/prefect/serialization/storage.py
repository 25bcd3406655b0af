"""Schemas of the `Storage` types: the ``storage`` object of a registered flow.

Every storage dumps ``flows`` (flow name -> location) and ``secrets`` plus the fields an agent
needs to find the flow again (`StorageSchema` picks the schema by class name, the ``"type"``
key). Labels, results and credentials are not serialized. Loading builds the storage object
without touching anything: `Local` does not create its directory, nothing is downloaded.
"""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, fields, post_load

from prefect.storage import (
    GCS,
    S3,
    Azure,
    Bitbucket,
    CodeCommit,
    Docker,
    Git,
    GitHub,
    GitLab,
    Local,
    Module,
    Storage,
    Webhook,
)
from prefect.utilities.serialization import JSONCompatible, ObjectSchema, OneOfSchema

__all__ = [
    "AzureSchema",
    "BaseStorageSchema",
    "BitbucketSchema",
    "CodeCommitSchema",
    "DockerSchema",
    "GCSSchema",
    "GitHubSchema",
    "GitLabSchema",
    "GitSchema",
    "LocalSchema",
    "ModuleSchema",
    "S3Schema",
    "StorageSchema",
    "WebhookSchema",
]


class BaseStorageSchema(ObjectSchema):
    """What every storage has: its flows' locations and the secrets their runs need."""

    class Meta:
        object_class = Storage

    flows = fields.Dict(keys=fields.Str(), values=fields.Str())
    secrets = fields.List(fields.Str(), allow_none=True)

    @post_load
    def create_object(self, data: dict, **kwargs: Any) -> Any:
        """Build the storage, then set its ``flows`` and ``secrets``."""
        if not self._create_object:
            return data
        flows = data.pop("flows", None) or {}
        secrets = data.pop("secrets", None) or []
        storage = super().create_object(data, **kwargs)
        storage.flows = flows
        storage.secrets = secrets
        return storage


class AzureSchema(BaseStorageSchema):
    """`Azure`: container, connection string secret name, blob name."""

    class Meta:
        object_class = Azure

    container = fields.String(allow_none=False)
    connection_string_secret = fields.String(allow_none=True)
    blob_name = fields.String(allow_none=True)
    stored_as_script = fields.Bool(allow_none=True)


class DockerSchema(BaseStorageSchema):
    """`Docker`: the image's registry, name and tag, and the flow paths inside it."""

    class Meta:
        object_class = Docker

    registry_url = fields.String(allow_none=True)
    image_name = fields.String(allow_none=True)
    image_tag = fields.String(allow_none=True)
    path = fields.String(allow_none=True)
    stored_as_script = fields.Bool(allow_none=True)
    prefect_version = fields.String(allow_none=False)


class GCSSchema(BaseStorageSchema):
    """`GCS`: bucket, key and project."""

    class Meta:
        object_class = GCS

    bucket = fields.Str(allow_none=False)
    key = fields.Str(allow_none=True)
    project = fields.Str(allow_none=True)
    stored_as_script = fields.Bool(allow_none=True)


class LocalSchema(BaseStorageSchema):
    """`Local`: directory and path; loads without creating the directory."""

    class Meta:
        object_class = Local

    directory = fields.Str(allow_none=False)
    path = fields.Str(allow_none=True)
    stored_as_script = fields.Bool(allow_none=True)

    @post_load
    def create_object(self, data: dict, **kwargs: Any) -> Any:
        """Build the `Local` storage with ``validate=False``."""
        if self._create_object:
            data["validate"] = False
        return super().create_object(data, **kwargs)


class S3Schema(BaseStorageSchema):
    """`S3`: bucket, key and the boto3 client options."""

    class Meta:
        object_class = S3

    bucket = fields.String(allow_none=False)
    key = fields.String(allow_none=True)
    stored_as_script = fields.Bool(allow_none=True)
    client_options = fields.Dict(keys=fields.Str(), values=JSONCompatible(), allow_none=True)


class GitHubSchema(BaseStorageSchema):
    """`GitHub`: repository, ref, script path, token secret name, API URL."""

    class Meta:
        object_class = GitHub

    repo = fields.String(allow_none=False)
    ref = fields.String(allow_none=True)
    path = fields.String(allow_none=True)
    access_token_secret = fields.String(allow_none=True)
    base_url = fields.String(allow_none=True)


class GitLabSchema(BaseStorageSchema):
    """`GitLab`: project, host, script path, ref, token secret name."""

    class Meta:
        object_class = GitLab

    repo = fields.String(allow_none=False)
    host = fields.String(allow_none=True)
    path = fields.String(allow_none=True)
    ref = fields.String(allow_none=True)
    access_token_secret = fields.String(allow_none=True)


class BitbucketSchema(BaseStorageSchema):
    """`Bitbucket`: project, repository, workspace, host, path, ref and secret names."""

    class Meta:
        object_class = Bitbucket

    project = fields.String(allow_none=False)
    repo = fields.String(allow_none=False)
    workspace = fields.String(allow_none=True)
    host = fields.String(allow_none=True)
    path = fields.String(allow_none=True)
    ref = fields.String(allow_none=True)
    access_token_secret = fields.String(allow_none=True)
    cloud_username_secret = fields.String(allow_none=True)
    cloud_app_password_secret = fields.String(allow_none=True)


class CodeCommitSchema(BaseStorageSchema):
    """`CodeCommit`: repository, path, commit and the boto3 client options."""

    class Meta:
        object_class = CodeCommit

    repo = fields.String(allow_none=False)
    path = fields.String(allow_none=True)
    commit = fields.String(allow_none=True)
    client_options = fields.Dict(keys=fields.Str(), values=JSONCompatible(), allow_none=True)


class WebhookSchema(BaseStorageSchema):
    """`Webhook`: the two requests (``${NAME}`` placeholders are kept unrendered)."""

    class Meta:
        object_class = Webhook

    build_request_kwargs = fields.Dict(keys=fields.Str(), allow_none=False)
    build_request_http_method = fields.String(allow_none=False)
    get_flow_request_kwargs = fields.Dict(keys=fields.Str(), allow_none=False)
    get_flow_request_http_method = fields.String(allow_none=False)
    stored_as_script = fields.Bool(allow_none=True)


class GitSchema(BaseStorageSchema):
    """`Git`: where the repository is, what to check out and how to authenticate."""

    class Meta:
        object_class = Git

    flow_path = fields.String(allow_none=False)
    repo = fields.String(allow_none=True)
    repo_host = fields.String(allow_none=True)
    flow_name = fields.String(allow_none=True)
    git_token_secret_name = fields.String(allow_none=True)
    git_token_username = fields.String(allow_none=True)
    git_clone_url_secret_name = fields.String(allow_none=True)
    branch_name = fields.String(allow_none=True)
    tag = fields.String(allow_none=True)
    commit = fields.String(allow_none=True)
    clone_depth = fields.Int(allow_none=True)
    use_ssh = fields.Bool(allow_none=True)
    format_access_token = fields.Bool(allow_none=True)


class ModuleSchema(BaseStorageSchema):
    """`Module`: the module path."""

    class Meta:
        object_class = Module

    module = fields.String(allow_none=False)


class StorageSchema(OneOfSchema):
    """Any storage, chosen by its class name (the ``"type"`` key)."""

    class Meta:
        # Newer writers may add keys: readers ignore what they do not know.
        unknown = EXCLUDE

    type_schemas = {
        "Azure": AzureSchema,
        "Docker": DockerSchema,
        "GCS": GCSSchema,
        "Local": LocalSchema,
        "Module": ModuleSchema,
        "S3": S3Schema,
        "GitHub": GitHubSchema,
        "GitLab": GitLabSchema,
        "Bitbucket": BitbucketSchema,
        "CodeCommit": CodeCommitSchema,
        "Webhook": WebhookSchema,
        "Git": GitSchema,
    }
