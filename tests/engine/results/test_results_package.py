from __future__ import annotations

import subprocess
import sys

import pytest

import prefect.engine.results as results


def test_package_all_is_the_reference_list():
    assert sorted(results.__all__) == [
        "AzureResult",
        "ConstantResult",
        "GCSResult",
        "LocalResult",
        "PrefectResult",
        "S3Result",
        "SecretResult",
    ]


def test_light_results_are_bound_at_import():
    from prefect.engine.results.constant_result import ConstantResult
    from prefect.engine.results.local_result import LocalResult
    from prefect.engine.results.prefect_result import PrefectResult
    from prefect.engine.results.secret_result import SecretResult

    assert results.ConstantResult is ConstantResult
    assert results.LocalResult is LocalResult
    assert results.PrefectResult is PrefectResult
    assert results.SecretResult is SecretResult


@pytest.mark.parametrize("name", ["S3Result", "GCSResult", "AzureResult"])
def test_cloud_results_are_loaded_from_their_own_module_on_access(name: str):
    module = f"prefect.engine.results.{name[:-6].lower()}_result"
    code = (
        "import sys, prefect.engine.results as r\n"
        f"print({module!r} in sys.modules)\n"
        "try:\n"
        f"    r.{name}\n"
        "except ImportError as exc:\n"
        "    print('import', exc.name)\n"
        "else:\n"
        f"    print('bound', r.{name}.__module__)\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    lines = completed.stdout.split()
    assert lines[0] == "False"  # nothing imported before access
    assert lines[-1] == module  # imported from (or missing as) its own module


def test_unknown_names_raise_attribute_error():
    with pytest.raises(AttributeError):
        results.NotAResult  # noqa: B018
