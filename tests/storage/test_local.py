from __future__ import annotations

import os
import socket
import sys
import uuid

import pytest

import prefect
from prefect.engine.results import LocalResult
from prefect.serialization.storage import StorageSchema
from prefect.storage import Local


def test_default_directory_is_flows_under_home_dir_and_is_created(tmp_path):
    prefect.config.home_dir = str(tmp_path / "home")
    storage = Local()
    assert storage.directory == str(tmp_path / "home" / "flows")
    assert os.path.isdir(storage.directory)
    assert isinstance(storage.result, LocalResult)
    assert storage.result.dir == storage.directory


def test_directory_is_made_absolute_when_validated(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    storage = Local(directory="relative/flows")
    assert storage.directory == str(tmp_path / "relative" / "flows")
    assert (tmp_path / "relative" / "flows").is_dir()


def test_without_validation_the_directory_is_neither_created_nor_changed(tmp_path):
    storage = Local(directory=str(tmp_path / "not-here"), validate=False)
    assert storage.directory == str(tmp_path / "not-here")
    assert not (tmp_path / "not-here").exists()


def test_add_flow_pickles_under_slugified_name_and_timestamp(tmp_path, make_flow, run_task):
    storage = Local(directory=str(tmp_path))
    flow = make_flow("My Flow!")

    location = storage.add_flow(flow)

    relative = os.path.relpath(location, tmp_path).split(os.sep)
    assert relative[0] == "my-flow"
    assert len(relative) == 2 and relative[1][:2] == "20"  # a slugified UTC timestamp
    assert os.path.isfile(location)
    assert storage.flows == {"My Flow!": location}
    assert "My Flow!" in storage
    assert run_task(storage.get_flow("My Flow!"), "increment") == 2


def test_each_registration_writes_a_new_file(tmp_path, make_flow):
    first = Local(directory=str(tmp_path)).add_flow(make_flow("f"))
    second = Local(directory=str(tmp_path)).add_flow(make_flow("f"))
    assert first != second
    assert os.path.isfile(first) and os.path.isfile(second)


def test_adding_a_second_flow_with_the_same_name_raises(tmp_path, make_flow):
    storage = Local(directory=str(tmp_path))
    storage.add_flow(make_flow("dup"))
    with pytest.raises(ValueError, match='Name conflict: Flow with the name "dup"'):
        storage.add_flow(make_flow("dup"))


def test_several_flows_are_kept_apart(tmp_path, make_flow, run_task):
    storage = Local(directory=str(tmp_path))
    storage.add_flow(make_flow("one", x=10))
    storage.add_flow(make_flow("two", x=20))
    assert run_task(storage.get_flow("one"), "increment") == 11
    assert run_task(storage.get_flow("two"), "increment") == 21


def test_path_is_where_the_pickle_is_written(tmp_path, make_flow, run_task):
    target = tmp_path / "sub" / "flow.prefect"
    storage = Local(path=str(target), directory=str(tmp_path))
    assert storage.add_flow(make_flow("f")) == str(target)
    assert target.is_file()
    assert run_task(storage.get_flow("f"), "increment") == 2


def test_get_flow_of_an_unknown_name_raises(tmp_path):
    with pytest.raises(ValueError, match="not contained in this Storage"):
        Local(directory=str(tmp_path)).get_flow("nope")


def test_script_storage_needs_a_path(tmp_path, make_flow):
    storage = Local(directory=str(tmp_path), stored_as_script=True)
    with pytest.raises(ValueError, match="`path` must be provided"):
        storage.add_flow(make_flow())


def test_script_storage_records_the_script_and_runs_it_on_load(tmp_path, flow_script, run_task):
    storage = Local(path=flow_script, stored_as_script=True, directory=str(tmp_path))
    flow = prefect.Flow("script-flow")  # only its name matters to add_flow
    assert storage.add_flow(flow) == flow_script
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == ["script_flow.py"]
    loaded = storage.get_flow("script-flow")
    assert loaded is not flow
    assert run_task(loaded, "double") == 42


def test_script_storage_path_may_be_a_module(tmp_path, monkeypatch, flow_script_text, run_task):
    module_name = f"stored_flows_{uuid.uuid4().hex}"
    (tmp_path / f"{module_name}.py").write_text(flow_script_text)
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        storage = Local(path=f"{module_name}:flow", stored_as_script=True, directory=str(tmp_path))
        storage.add_flow(prefect.Flow("script-flow"))
        assert run_task(storage.get_flow("script-flow"), "double") == 42
    finally:
        sys.modules.pop(module_name, None)


def test_hostname_is_a_default_label():
    storage = Local(validate=False, directory="x")
    assert storage.default_labels == [socket.gethostname()]
    assert storage.labels == [socket.gethostname()]


def test_default_labels_can_be_switched_off_per_storage_or_by_config():
    assert Local(validate=False, directory="x", add_default_labels=False).labels == []
    prefect.config.flows.defaults.storage.add_default_labels = False
    storage = Local(validate=False, directory="x", labels=["mine"])
    assert storage.add_default_labels is False
    assert storage.labels == ["mine"]


def test_given_labels_come_first():
    storage = Local(validate=False, directory="x", labels=["a", "b"])
    assert storage.labels == ["a", "b", socket.gethostname()]


def test_storage_rebuilt_from_its_json_loads_the_flow(tmp_path, make_flow, run_task):
    """What an agent does: read the registered storage JSON, then load the flow by name."""
    storage = Local(directory=str(tmp_path), secrets=["S"])
    storage.add_flow(make_flow("agent-flow", x=41))
    storage.build()

    rebuilt = StorageSchema().load(storage.serialize())

    assert isinstance(rebuilt, Local)
    assert rebuilt.flows == storage.flows
    assert rebuilt.secrets == ["S"]
    assert run_task(rebuilt.get_flow("agent-flow"), "increment") == 42


def test_build_returns_the_storage(tmp_path, make_flow):
    storage = Local(directory=str(tmp_path))
    storage.add_flow(make_flow())
    assert storage.build() is storage


def test_flow_serialize_with_build_adds_builds_and_embeds_the_storage(
    tmp_path, make_flow, run_task
):
    flow = make_flow("serialized", x=5)
    flow.storage = Local(directory=str(tmp_path))

    serialized = flow.serialize(build=True)

    storage_json = serialized["storage"]
    assert storage_json["type"] == "Local"
    assert list(storage_json["flows"]) == ["serialized"]
    loaded = StorageSchema().load(storage_json).get_flow("serialized")
    assert run_task(loaded, "increment") == 6
