from __future__ import annotations

import sys
import uuid

import pytest

from prefect import Flow
from prefect.serialization.storage import StorageSchema
from prefect.storage import Module


@pytest.fixture
def flow_module(tmp_path, monkeypatch, flow_script_text):
    name = f"module_storage_{uuid.uuid4().hex}"
    (tmp_path / f"{name}.py").write_text(flow_script_text)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    sys.modules.pop(name, None)


def test_module_storage_is_a_script_storage_without_default_labels():
    storage = Module("pkg.flows")
    assert storage.module == "pkg.flows"
    assert storage.stored_as_script is True
    assert storage.labels == []


def test_add_flow_records_the_module(flow_module):
    storage = Module(flow_module)
    assert storage.add_flow(Flow("script-flow")) == flow_module
    assert storage.flows == {"script-flow": flow_module}
    with pytest.raises(ValueError, match="Name conflict"):
        storage.add_flow(Flow("script-flow"))


def test_get_flow_imports_the_module(flow_module, run_task):
    storage = Module(flow_module)
    storage.add_flow(Flow("script-flow"))
    rebuilt = StorageSchema().load(storage.serialize())
    assert rebuilt.module == flow_module
    assert run_task(rebuilt.get_flow("script-flow"), "double") == 42


def test_get_flow_with_attribute_syntax(flow_module, run_task):
    assert run_task(Module(f"{flow_module}:flow").get_flow("script-flow"), "double") == 42


def test_get_flow_of_a_name_the_module_lacks_raises(flow_module):
    with pytest.raises(ValueError, match="'other' not found"):
        Module(flow_module).get_flow("other")
