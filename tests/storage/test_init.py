from __future__ import annotations

import pytest

import prefect
import prefect.storage
from prefect.storage import S3, Local, get_default_storage_class


def test_package_exports_every_storage_class():
    assert sorted(prefect.storage.__all__) == [
        "Azure",
        "Bitbucket",
        "CodeCommit",
        "Docker",
        "GCS",
        "Git",
        "GitHub",
        "GitLab",
        "Local",
        "Module",
        "S3",
        "Storage",
        "Webhook",
    ]
    for name in prefect.storage.__all__:
        assert getattr(prefect.storage, name).__name__ == name


def test_default_storage_class_is_local():
    assert get_default_storage_class() is Local


def test_default_storage_class_is_read_from_config_at_call_time():
    prefect.config.flows.defaults.storage.default_class = "prefect.storage.S3"
    assert get_default_storage_class() is S3


def test_default_storage_class_may_be_a_class():
    prefect.config.flows.defaults.storage.default_class = S3
    assert get_default_storage_class() is S3


def test_unimportable_default_storage_class_falls_back_to_local_with_a_warning():
    prefect.config.flows.defaults.storage.default_class = "no_such_module.Storage"
    with pytest.warns(UserWarning, match="Could not import no_such_module.Storage"):
        assert get_default_storage_class() is Local
