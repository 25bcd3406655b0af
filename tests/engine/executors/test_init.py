from __future__ import annotations

import subprocess
import sys
import types
import warnings

import pytest

import prefect.engine.executors as legacy
import prefect.executors
from prefect.engine.executors.local import LocalExecutor


def test_executor_is_the_new_base_class_itself():
    assert legacy.Executor is prefect.executors.Executor


def test_local_executor_is_the_warning_subclass():
    assert legacy.LocalExecutor is LocalExecutor
    assert issubclass(legacy.LocalExecutor, prefect.executors.LocalExecutor)
    assert legacy.LocalExecutor is not prefect.executors.LocalExecutor


def test_all_matches_the_new_package():
    assert sorted(legacy.__all__) == sorted(prefect.executors.__all__)


def test_importing_the_legacy_package_neither_warns_nor_imports_dask():
    code = (
        "import sys, warnings\n"
        "warnings.simplefilter('error')\n"
        "import prefect.engine.executors\n"
        "print('dask' in sys.modules, 'prefect.engine.executors.dask' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "False False"


def test_engine_package_binds_the_legacy_package():
    import prefect.engine

    assert prefect.engine.executors is legacy


@pytest.mark.parametrize("name", ["DaskExecutor", "LocalDaskExecutor"])
def test_dask_executors_come_from_the_legacy_dask_module_on_first_access(name, monkeypatch):
    fake = types.ModuleType("prefect.engine.executors.dask")
    marker = type(name, (prefect.executors.Executor,), {})
    setattr(fake, name, marker)
    monkeypatch.setitem(sys.modules, "prefect.engine.executors.dask", fake)
    monkeypatch.delitem(vars(legacy), name, raising=False)

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # looking the class up is not using it
            assert getattr(legacy, name) is marker
    finally:
        vars(legacy).pop(name, None)  # the real class is bound again on next access


def test_unknown_attributes_raise_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'SyncExecutor'"):
        legacy.SyncExecutor  # noqa: B018
