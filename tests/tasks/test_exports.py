"""The task-library packages export the 1.4.1 names, and the integrations load lazily."""

from __future__ import annotations

import importlib
import json
import sys
import types
from pathlib import Path

import pytest

import prefect
import prefect.tasks

_FIXTURE = Path(__file__).parents[1] / "fixtures" / "api_exports.json"
_MODULES = json.loads(_FIXTURE.read_text())["modules"]
_OURS = sorted(
    name
    for name in _MODULES
    if name == "prefect.tasks"
    or name.startswith(("prefect.tasks.core", "prefect.tasks.control_flow"))
)
_LAZY = {"files", "database", "docker", "github", "notifications", "secrets", "shell"}


@pytest.mark.parametrize("module_name", _OURS)
def test_module_all_matches_reference(module_name):
    module = importlib.import_module(module_name)
    expected = _MODULES[module_name]["all"]
    if expected is None:
        assert not hasattr(module, "__all__")
    else:
        assert sorted(module.__all__) == sorted(expected)


@pytest.mark.parametrize("module_name", _OURS)
def test_module_binds_reference_names(module_name):
    module = importlib.import_module(module_name)
    for bound in _MODULES[module_name]["bound"]:
        if module_name == "prefect.tasks" and bound["name"] in _LAZY:
            continue  # later issues; covered by the lazy-loading tests below
        value = getattr(module, bound["name"])
        if bound["kind"] == "submodule":
            assert value is sys.modules[bound["target"]]
        else:
            target_module, _, target_name = bound["target"].rpartition(".")
            assert value is getattr(importlib.import_module(target_module), target_name)


@pytest.mark.parametrize("module_name", _OURS)
def test_module_defines_reference_classes_and_functions(module_name):
    module = importlib.import_module(module_name)
    for entry in _MODULES[module_name]["classes"] + _MODULES[module_name]["functions"]:
        assert callable(getattr(module, entry["name"]))


def test_tasks_package_exports_task():
    assert prefect.tasks.__all__ == ["Task"]
    assert prefect.tasks.Task is prefect.core.task.Task


def test_core_and_control_flow_are_imported_with_the_package():
    assert "prefect.tasks.core.resource_manager" in sys.modules
    assert "prefect.tasks.control_flow.conditional" in sys.modules


def _unbind(monkeypatch, name):
    if name in vars(prefect.tasks):
        monkeypatch.delitem(vars(prefect.tasks), name)


def test_lazy_subpackage_is_imported_on_first_access(monkeypatch):
    fake = types.ModuleType("prefect.tasks.shell")
    monkeypatch.setitem(sys.modules, "prefect.tasks.shell", fake)
    _unbind(monkeypatch, "shell")
    assert prefect.tasks.shell is fake


def test_missing_lazy_subpackage_raises_attribute_error(monkeypatch):
    def not_found(name):
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)

    _unbind(monkeypatch, "docker")
    monkeypatch.setattr(prefect.tasks.importlib, "import_module", not_found)
    with pytest.raises(AttributeError, match="docker"):
        prefect.tasks.docker
    assert not hasattr(prefect.tasks, "docker")


def test_lazy_subpackage_missing_its_own_dependency_raises_that_error(monkeypatch):
    def dependency_missing(name):
        raise ModuleNotFoundError("No module named 'docker'", name="docker")

    _unbind(monkeypatch, "docker")
    monkeypatch.setattr(prefect.tasks.importlib, "import_module", dependency_missing)
    with pytest.raises(ModuleNotFoundError, match="docker"):
        prefect.tasks.docker


def test_unknown_attribute_raises_attribute_error():
    with pytest.raises(AttributeError, match="not_a_subpackage"):
        prefect.tasks.not_a_subpackage


def test_dir_lists_lazy_subpackages():
    assert _LAZY <= set(dir(prefect.tasks))
    assert {"Task", "core", "control_flow"} <= set(dir(prefect.tasks))
