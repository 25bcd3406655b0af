"""The 1.x JSON of every storage type (server-protocol.md 5.8), both ways."""

from __future__ import annotations

import pytest
from marshmallow import ValidationError

import prefect
from prefect import storage as storages
from prefect.serialization import storage as storage_schemas
from prefect.serialization.storage import (
    BaseStorageSchema,
    LocalSchema,
    S3Schema,
    StorageSchema,
)

V = prefect.__version__
BASE = {"__version__": V, "flows": {"my-flow": "LOCATION"}, "secrets": ["SECRET_A"]}


def build(kind: str):
    """One storage object of each kind, with one flow recorded at ``LOCATION``."""
    objects = {
        "Local": lambda: storages.Local(directory="/data/flows", validate=False),
        "Module": lambda: storages.Module("pkg.flows"),
        "S3": lambda: storages.S3(
            bucket="bkt", key="k", client_options={"region_name": "eu-west-1"}
        ),
        "GCS": lambda: storages.GCS(bucket="bkt", key="k", project="proj"),
        "Azure": lambda: storages.Azure(
            container="c", connection_string_secret="CS", blob_name="b"
        ),
        "GitHub": lambda: storages.GitHub(
            repo="org/repo",
            path="f.py",
            ref="main",
            access_token_secret="T",
            base_url="https://ghe",
        ),
        "GitLab": lambda: storages.GitLab(
            repo="g/p", host="https://gl", path="f.py", ref="v1", access_token_secret="T"
        ),
        "Bitbucket": lambda: storages.Bitbucket(
            project="PRJ",
            repo="r",
            workspace="ws",
            host="https://bb",
            path="f.py",
            ref="main",
            access_token_secret="T",
            cloud_username_secret="U",
            cloud_app_password_secret="P",
        ),
        "CodeCommit": lambda: storages.CodeCommit(
            repo="r", path="f.py", commit="abc", client_options={"region_name": "us-east-1"}
        ),
        "Webhook": lambda: storages.Webhook(
            build_request_kwargs={"url": "https://h/up", "headers": {"Auth": "${TOKEN}"}},
            build_request_http_method="PUT",
            get_flow_request_kwargs={"url": "https://h/down"},
            get_flow_request_http_method="GET",
        ),
        "Git": lambda: storages.Git(
            flow_path="flows/f.py",
            repo="org/repo",
            repo_host="gitlab.com",
            flow_name="my-flow",
            git_token_secret_name="T",
            git_token_username="me",
            branch_name="dev",
            clone_depth=3,
        ),
        "Docker": lambda: storages.Docker(
            registry_url="reg.io/team",
            image_name="img",
            image_tag="v1",
            base_image="python:3.11",
            prefect_version="1.4.1",
        ),
    }
    obj = objects[kind]()
    obj.flows = {"my-flow": "LOCATION"}
    obj.secrets = ["SECRET_A"]
    return obj


GOLDEN = {
    "Local": {"directory": "/data/flows", "path": None, "stored_as_script": False},
    "Module": {"module": "pkg.flows"},
    "S3": {
        "bucket": "bkt",
        "key": "k",
        "stored_as_script": False,
        "client_options": {"region_name": "eu-west-1"},
    },
    "GCS": {"bucket": "bkt", "key": "k", "project": "proj", "stored_as_script": False},
    "Azure": {
        "container": "c",
        "connection_string_secret": "CS",
        "blob_name": "b",
        "stored_as_script": False,
    },
    "GitHub": {
        "repo": "org/repo",
        "ref": "main",
        "path": "f.py",
        "access_token_secret": "T",
        "base_url": "https://ghe",
    },
    "GitLab": {
        "repo": "g/p",
        "host": "https://gl",
        "path": "f.py",
        "ref": "v1",
        "access_token_secret": "T",
    },
    "Bitbucket": {
        "project": "PRJ",
        "repo": "r",
        "workspace": "ws",
        "host": "https://bb",
        "path": "f.py",
        "ref": "main",
        "access_token_secret": "T",
        "cloud_username_secret": "U",
        "cloud_app_password_secret": "P",
    },
    "CodeCommit": {
        "repo": "r",
        "path": "f.py",
        "commit": "abc",
        "client_options": {"region_name": "us-east-1"},
    },
    "Webhook": {
        "build_request_kwargs": {"url": "https://h/up", "headers": {"Auth": "${TOKEN}"}},
        "build_request_http_method": "PUT",
        "get_flow_request_kwargs": {"url": "https://h/down"},
        "get_flow_request_http_method": "GET",
        "stored_as_script": False,
    },
    "Git": {
        "flow_path": "flows/f.py",
        "repo": "org/repo",
        "repo_host": "gitlab.com",
        "flow_name": "my-flow",
        "git_token_secret_name": "T",
        "git_token_username": "me",
        "git_clone_url_secret_name": None,
        "branch_name": "dev",
        "tag": None,
        "commit": None,
        "clone_depth": 3,
        "use_ssh": False,
        "format_access_token": True,
    },
    "Docker": {
        "registry_url": "reg.io/team",
        "image_name": "img",
        "image_tag": "v1",
        "path": None,
        "stored_as_script": False,
        "prefect_version": "1.4.1",
    },
}


def golden(kind: str) -> dict:
    return {**BASE, "type": kind, **GOLDEN[kind]}


@pytest.mark.parametrize("kind", sorted(GOLDEN))
def test_dump_gives_the_1x_json(kind):
    assert StorageSchema().dump(build(kind)) == golden(kind)
    assert build(kind).serialize() == golden(kind)


@pytest.mark.parametrize("kind", sorted(GOLDEN))
def test_load_rebuilds_an_equal_storage(kind):
    loaded = StorageSchema().load(golden(kind))
    assert type(loaded) is getattr(storages, kind)
    assert loaded.flows == {"my-flow": "LOCATION"}
    assert loaded.secrets == ["SECRET_A"]
    for field, value in GOLDEN[kind].items():
        assert getattr(loaded, field) == value, field
    assert loaded.serialize() == golden(kind)


def test_every_schema_of_the_reference_exists():
    for name in (
        "BaseStorageSchema",
        "AzureSchema",
        "DockerSchema",
        "GCSSchema",
        "LocalSchema",
        "S3Schema",
        "GitHubSchema",
        "GitLabSchema",
        "BitbucketSchema",
        "CodeCommitSchema",
        "WebhookSchema",
        "GitSchema",
        "ModuleSchema",
        "StorageSchema",
    ):
        assert isinstance(getattr(storage_schemas, name), type), name
    assert issubclass(S3Schema, BaseStorageSchema)


def test_loading_local_storage_does_not_touch_the_file_system(tmp_path):
    directory = tmp_path / "on-another-machine"
    loaded = StorageSchema().load({**golden("Local"), "directory": str(directory)})
    assert loaded.directory == str(directory)
    assert not directory.exists()


def test_loading_the_minimal_document_of_older_writers():
    loaded = StorageSchema().load({"type": "Local", "directory": "/d"})
    assert loaded.flows == {} and loaded.secrets == []
    loaded = StorageSchema().load({"type": "Module", "module": "m", "secrets": None})
    assert loaded.secrets == []


def test_unknown_keys_are_ignored():
    loaded = StorageSchema().load({**golden("S3"), "added_later": 1})
    assert loaded.bucket == "bkt"


def test_load_without_creating_the_object_gives_the_fields():
    data = LocalSchema().load(golden("Local"), create_object=False)
    assert data["directory"] == "/data/flows"
    assert data["flows"] == {"my-flow": "LOCATION"}


def test_unknown_type_and_missing_required_fields_fail_validation():
    with pytest.raises(ValidationError):
        StorageSchema().load({"type": "FTP", "flows": {}})
    with pytest.raises(ValidationError):
        StorageSchema().load({"type": "S3", "bucket": None})


def test_flow_locations_must_be_strings():
    with pytest.raises(ValidationError):
        StorageSchema().load({**golden("Module"), "flows": {"f": 1}})
