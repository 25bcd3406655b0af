"""The stand-ins that keep python-box's optional converters unloaded until used.

Each check runs in a fresh interpreter: in the test process the real modules are loaded already.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest


def run_fresh(code: str) -> str:
    completed = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout.strip()


def test_box_import_leaves_yaml_msgpack_and_toml_unloaded():
    out = run_fresh(
        """
        import sys
        from prefect.utilities._lazy_import import import_box
        import_box()
        print(sorted(type(sys.modules[m]).__name__ for m in ("yaml", "msgpack", "toml")))
        """
    )
    assert out == "['_DeferredModule', '_DeferredModule', '_DeferredModule']"


def test_first_attribute_use_loads_the_real_package_in_place():
    out = run_fresh(
        """
        import sys
        from prefect.utilities._lazy_import import import_box
        Box = import_box()
        import yaml
        stand_in = yaml
        assert yaml.safe_load("a: [1, 2]") == {"a": [1, 2]}
        assert sys.modules["yaml"] is stand_in and type(stand_in).__name__ == "module"
        import yaml.loader
        assert yaml.loader.SafeLoader is yaml.SafeLoader
        print(Box(a=1).to_yaml().strip())
        """
    )
    assert out == "a: 1"


def test_exception_classes_read_early_are_the_real_ones():
    out = run_fresh(
        """
        from prefect.utilities._lazy_import import import_box
        Box = import_box()
        from box.from_file import YAMLError, UnpackException
        import yaml, msgpack
        assert YAMLError is yaml.YAMLError
        assert UnpackException is msgpack.UnpackException
        try:
            Box.from_yaml("a: [")
        except YAMLError as exc:
            print(type(exc).__name__)
        """
    )
    assert out == "ParserError"


def test_msgpack_and_toml_converters_work_through_the_stand_ins():
    out = run_fresh(
        """
        from prefect.utilities._lazy_import import import_box
        Box = import_box()
        packed = Box(a=3).to_msgpack()
        print(Box.from_msgpack(packed).a, Box(b=2).to_toml().strip())
        """
    )
    assert out == "3 b = 2"


def test_defer_import_of_a_missing_package_returns_none():
    from prefect.utilities._lazy_import import defer_import

    assert defer_import("surely_not_an_installed_package_xyz") is None


@pytest.mark.parametrize("name", ["json", "os"])
def test_defer_import_of_a_loaded_module_returns_it(name):
    from prefect.utilities._lazy_import import defer_import

    assert defer_import(name) is sys.modules[name]
