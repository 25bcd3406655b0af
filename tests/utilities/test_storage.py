from __future__ import annotations

import binascii
import sys
import uuid

import cloudpickle
import pytest

import prefect
from prefect import Flow, task
from prefect.exceptions import FlowStorageError
from prefect.storage import Docker, Local
from prefect.utilities.storage import (
    extract_flow_from_file,
    extract_flow_from_module,
    flow_from_bytes_pickle,
    flow_to_bytes_pickle,
    get_flow_image,
)

SCRIPT = """
import prefect
from prefect import Flow, task

seen_path = prefect.context.get("local_script_path")
seen_loading = prefect.context.get("loading_flow")


@task
def double(x):
    return 2 * x


with Flow("script-flow") as flow:
    double(21)

if __name__ == "__main__":
    raise SystemExit("a loader must not run the __main__ block")
"""

TWO_FLOWS = """
from prefect import Flow
first = Flow("first")
second = Flow("second")
"""


def run_result(flow: Flow, task_name: str):
    state = flow.run()
    assert state.is_successful()
    (found,) = flow.get_tasks(name=task_name)
    return state.result[found].result


@pytest.fixture
def script_path(tmp_path):
    path = tmp_path / "flow_script.py"
    path.write_text(SCRIPT)
    return str(path)


@pytest.fixture
def module_dir(tmp_path, monkeypatch):
    """A directory on sys.path; modules written there are forgotten after the test."""
    monkeypatch.syspath_prepend(str(tmp_path))
    before = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - before:
        sys.modules.pop(name, None)


def write_module(directory, source: str) -> str:
    name = f"flows_{uuid.uuid4().hex}"
    (directory / f"{name}.py").write_text(source)
    return name


# --- extract_flow_from_file ------------------------------------------------------------------


def test_extract_flow_from_file_runs_the_script(script_path):
    flow = extract_flow_from_file(file_path=script_path)
    assert flow.name == "script-flow"
    assert run_result(flow, "double") == 42


def test_extract_flow_from_contents_text_and_bytes():
    assert extract_flow_from_file(file_contents=SCRIPT).name == "script-flow"
    assert extract_flow_from_file(file_contents=SCRIPT.encode()).name == "script-flow"


def test_script_sees_loading_flow_and_its_path_in_context(script_path):
    flow = extract_flow_from_file(file_path=script_path)
    script_globals = flow.get_tasks(name="double")[0].run.__globals__
    assert script_globals["seen_loading"] is True
    assert script_globals["seen_path"] == script_path
    assert prefect.context.get("loading_flow") is None


def test_flow_run_inside_a_script_is_skipped_with_a_warning():
    source = "from prefect import Flow\nflow = Flow('f')\nflow.run()\n"
    with pytest.warns(UserWarning, match="flow.run"):
        flow = extract_flow_from_file(file_contents=source)
    assert flow.name == "f"


def test_extract_flow_from_file_needs_exactly_one_source(script_path):
    with pytest.raises(ValueError, match="not both"):
        extract_flow_from_file(file_path=script_path, file_contents=SCRIPT)
    with pytest.raises(ValueError, match="Provide either"):
        extract_flow_from_file()


def test_script_without_flows_raises():
    with pytest.raises(ValueError, match="No flows found"):
        extract_flow_from_file(file_contents="x = 1\n")


def test_script_with_several_flows_needs_a_name():
    with pytest.raises(ValueError, match="Multiple flows found") as info:
        extract_flow_from_file(file_contents=TWO_FLOWS)
    assert "'first'" in str(info.value) and "'second'" in str(info.value)
    assert extract_flow_from_file(file_contents=TWO_FLOWS, flow_name="second").name == "second"


def test_script_flow_name_must_exist():
    with pytest.raises(ValueError, match="'third' not found"):
        extract_flow_from_file(file_contents=TWO_FLOWS, flow_name="third")


def test_script_errors_propagate_with_the_file_name(tmp_path):
    path = tmp_path / "broken.py"
    path.write_text("from prefect import Flow\nraise RuntimeError('boom')\n")
    with pytest.raises(RuntimeError, match="boom") as info:
        extract_flow_from_file(file_path=str(path))
    assert any(str(entry.path) == str(path) for entry in info.traceback)


# --- extract_flow_from_module ----------------------------------------------------------------


def test_extract_flow_from_module_finds_the_only_flow(module_dir):
    name = write_module(module_dir, SCRIPT)
    flow = extract_flow_from_module(name)
    assert flow.name == "script-flow"
    assert run_result(flow, "double") == 42


def test_extract_flow_from_module_attribute_syntax(module_dir):
    name = write_module(module_dir, TWO_FLOWS + "class Holder:\n    inner = second\n")
    assert extract_flow_from_module(f"{name}:first").name == "first"
    assert extract_flow_from_module(f"{name}:Holder.inner").name == "second"
    assert extract_flow_from_module(f"{name}:first", flow_name="first").name == "first"
    with pytest.raises(ValueError, match="named 'first'"):
        extract_flow_from_module(f"{name}:first", flow_name="second")
    with pytest.raises(ValueError, match="no attribute 'missing'"):
        extract_flow_from_module(f"{name}:missing")
    with pytest.raises(ValueError, match="not a Flow"):
        extract_flow_from_module(f"{name}:Holder")


def test_extract_flow_from_module_by_name_among_several(module_dir):
    name = write_module(module_dir, TWO_FLOWS)
    assert extract_flow_from_module(name, flow_name="second").name == "second"
    with pytest.raises(ValueError, match="Multiple flows found"):
        extract_flow_from_module(name)
    with pytest.raises(ValueError, match="'third' not found"):
        extract_flow_from_module(name, flow_name="third")


def test_extract_flow_from_module_without_flows(module_dir):
    name = write_module(module_dir, "x = 1\n")
    with pytest.raises(ValueError, match="No flows found in module"):
        extract_flow_from_module(name)


def test_unimportable_module_names_the_module():
    with pytest.raises(ModuleNotFoundError, match="no_such_flows_module") as info:
        extract_flow_from_module("no_such_flows_module:flow")
    assert info.value.name == "no_such_flows_module"


# --- pickles ---------------------------------------------------------------------------------


def make_flow() -> Flow:
    @task
    def add(x, y):
        return x + y

    with Flow("pickled") as flow:
        add(1, 2)
    return flow


def test_pickle_round_trip_runs():
    data = flow_to_bytes_pickle(make_flow())
    assert isinstance(data, bytes)
    assert run_result(flow_from_bytes_pickle(data), "add") == 3


def test_pickle_records_the_build_versions():
    envelope = cloudpickle.loads(binascii.a2b_base64(flow_to_bytes_pickle(Flow("f"))))
    assert set(envelope["versions"]) == {"cloudpickle", "prefect", "python"}
    assert envelope["versions"]["prefect"] == prefect.__version__
    assert envelope["versions"]["python"] == "{}.{}.{}".format(*sys.version_info[:3])
    assert cloudpickle.loads(envelope["flow"]).name == "f"


def test_plain_cloudpickle_bytes_of_older_releases_still_load():
    assert flow_from_bytes_pickle(cloudpickle.dumps(Flow("old"))).name == "old"


def _envelope(flow_bytes: bytes, **versions: str) -> bytes:
    return binascii.b2a_base64(cloudpickle.dumps({"flow": flow_bytes, "versions": versions}))


# Protocol-0 pickle of a global from a module that does not exist.
MISSING_MODULE_PICKLE = b"cno_such_module_for_flows\nThing\n."


def test_failed_unpickle_names_the_error_and_version_mismatches():
    data = _envelope(MISSING_MODULE_PICKLE, prefect="0.0.1", python="2.7.0", cloudpickle="0.1")
    with pytest.raises(FlowStorageError) as info:
        flow_from_bytes_pickle(data)
    message = str(info.value)
    assert "An error occurred while unpickling the flow:" in message
    assert "ModuleNotFoundError" in message and "no_such_module_for_flows" in message
    assert "version mismatches" in message
    assert (
        f"- prefect: (flow built with '0.0.1', currently running with {prefect.__version__!r})"
        in message
    )
    assert "- python: (flow built with '2.7.0'" in message
    assert "missing Python module" in message


def test_failed_unpickle_without_mismatch_does_not_mention_versions():
    current = cloudpickle.loads(binascii.a2b_base64(flow_to_bytes_pickle(Flow("f"))))["versions"]
    with pytest.raises(FlowStorageError) as info:
        flow_from_bytes_pickle(_envelope(MISSING_MODULE_PICKLE, **current))
    assert "version mismatches" not in str(info.value)


def test_garbage_bytes_raise_flow_storage_error():
    with pytest.raises(FlowStorageError, match="unpickling"):
        flow_from_bytes_pickle(b"definitely not a pickle")


# --- get_flow_image --------------------------------------------------------------------------


def test_get_flow_image_names_the_docker_image():
    flow = Flow("f", storage=Docker(registry_url="reg.io/team", image_name="img", image_tag="v1"))
    assert get_flow_image(flow) == "reg.io/team/img:v1"


def test_get_flow_image_refuses_other_storage(tmp_path):
    flow = Flow("f", storage=Local(directory=str(tmp_path)))
    with pytest.raises(ValueError, match="not of type Docker"):
        get_flow_image(flow)
