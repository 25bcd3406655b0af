from __future__ import annotations

import logging

import pytest
from marshmallow import ValidationError

import prefect
from prefect import Flow, task
from prefect.engine.results import LocalResult
from prefect.storage import Storage


class MemoryStorage(Storage):
    """A minimal concrete storage: keeps flows in memory."""

    def add_flow(self, flow):
        self._check_new_flow(flow)
        self.flows[flow.name] = flow.name
        self._flows[flow.name] = flow
        return flow.name

    def get_flow(self, flow_name):
        return self._flows[flow_name]


def test_storage_is_abstract():
    with pytest.raises(TypeError):
        Storage()


def test_defaults():
    storage = MemoryStorage()
    assert storage.result is None
    assert storage.secrets == []
    assert storage.flows == {}
    assert storage.stored_as_script is False
    assert storage.add_default_labels is True
    assert storage.labels == []
    assert storage.default_labels == []


def test_arguments_are_kept():
    result = LocalResult(dir="x", validate_dir=False)
    storage = MemoryStorage(
        result=result, secrets=["A"], labels=["l"], add_default_labels=False, stored_as_script=True
    )
    assert storage.result is result
    assert storage.secrets == ["A"]
    assert storage.labels == ["l"]
    assert storage.add_default_labels is False
    assert storage.stored_as_script is True


def test_add_default_labels_default_is_read_from_config_at_construction():
    prefect.config.flows.defaults.storage.add_default_labels = False
    assert MemoryStorage().add_default_labels is False


def test_name_repr_and_logger():
    storage = MemoryStorage()
    assert storage.name == "MemoryStorage"
    assert repr(storage) == "<Storage: MemoryStorage>"
    assert isinstance(storage.logger, logging.Logger)
    assert storage.logger.name == "prefect.MemoryStorage"


def test_contains_finds_flow_names_only():
    storage = MemoryStorage()
    flow = Flow("f")
    storage.add_flow(flow)
    assert "f" in storage
    assert "g" not in storage
    assert flow not in storage
    assert 1 not in storage


def test_base_get_flow_is_not_implemented():
    class NoGet(Storage):
        def add_flow(self, flow):
            return ""

    with pytest.raises(NotImplementedError):
        NoGet().get_flow("f")


def test_build_returns_self():
    storage = MemoryStorage()
    storage.add_flow(Flow("f"))
    assert storage.build() is storage


def _retrying_flow(result=None):
    @task
    def upstream():
        return 1

    @task(max_retries=2, retry_delay=__import__("datetime").timedelta(seconds=1))
    def downstream(x):
        return x

    with Flow("retrying", result=result) as flow:
        downstream(upstream())
    return flow


def test_build_refuses_retrying_task_whose_upstream_has_no_result():
    storage = MemoryStorage()
    storage.add_flow(_retrying_flow())
    with pytest.raises(ValueError, match="has retry settings but some upstream dependencies"):
        storage.build()


def test_build_accepts_retrying_task_when_the_flow_or_storage_has_a_result():
    with_flow_result = MemoryStorage()
    with_flow_result.add_flow(_retrying_flow(result=LocalResult(dir="x", validate_dir=False)))
    assert with_flow_result.build() is with_flow_result

    with_storage_result = MemoryStorage(result=LocalResult(dir="x", validate_dir=False))
    with_storage_result.add_flow(_retrying_flow())
    assert with_storage_result.build() is with_storage_result


def test_build_refuses_cached_task_without_result():
    import datetime

    @task(cache_for=datetime.timedelta(minutes=1))
    def cached():
        return 1

    flow = Flow("cached", tasks=[cached])
    storage = MemoryStorage()
    storage.add_flow(flow)
    with pytest.raises(ValueError, match="has cache_for set but does not have a result"):
        storage.build()


def test_serialize_of_a_storage_without_schema_fails_clearly():
    with pytest.raises(ValidationError, match="MemoryStorage"):
        MemoryStorage().serialize()
