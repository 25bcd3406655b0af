from __future__ import annotations

import subprocess
import sys
import types

import pytest

import prefect
import prefect.executors
from prefect.executors.base import Executor
from prefect.executors.local import LocalExecutor


def test_package_exports_the_base_and_local_executors():
    assert prefect.executors.Executor is Executor
    assert prefect.executors.LocalExecutor is LocalExecutor
    assert sorted(prefect.executors.__all__) == [
        "DaskExecutor",
        "Executor",
        "LocalDaskExecutor",
        "LocalExecutor",
    ]


def test_importing_the_package_does_not_import_dask():
    code = (
        "import sys, prefect, prefect.executors\n"
        "print(sorted(m for m in ('dask', 'distributed', 'prefect.executors.dask') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("name", ["DaskExecutor", "LocalDaskExecutor"])
def test_dask_executors_are_bound_from_the_dask_module_on_first_access(name, monkeypatch):
    fake = types.ModuleType("prefect.executors.dask")
    marker = type(name, (Executor,), {})
    setattr(fake, name, marker)
    monkeypatch.setitem(sys.modules, "prefect.executors.dask", fake)
    monkeypatch.delitem(vars(prefect.executors), name, raising=False)

    try:
        assert getattr(prefect.executors, name) is marker
        assert vars(prefect.executors)[name] is marker  # cached: later lookups are plain
    finally:
        vars(prefect.executors).pop(name, None)  # the real class is bound again on next access


def test_unknown_attributes_raise_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'ThreadExecutor'"):
        prefect.executors.ThreadExecutor  # noqa: B018


def test_prefect_binds_the_executors_package():
    assert prefect.executors is sys.modules["prefect.executors"]
