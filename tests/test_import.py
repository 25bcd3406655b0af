"""`import prefect` stays light: heavy dependencies load only when a feature needs them.

Checked in a fresh interpreter, since in the test process other tests import anything they like.
Wall time is measured by `bench/bench_import.py`, not asserted here.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# Not imported by `import prefect`; each is imported inside the function that needs it.
HEAVY_MODULES = (
    "dask",
    "distributed",
    "sqlalchemy",
    "graphviz",
    "boto3",
    "marshmallow",
    "requests",
    # python-box and what it imports load when `prefect.config` is first used; its optional
    # converters only when a converter is used.
    "box",
    "yaml",
    "msgpack",
    "pendulum",
    "cloudpickle",
    "croniter",
)

CORE_NAMES = ("config", "context", "Flow", "task")

_PROBE = f"""
import json, sys
import prefect
loaded = sorted(
    name for name in {HEAVY_MODULES!r}
    if any(m == name or m.startswith(name + ".") for m in list(sys.modules))
)
present = {{name: hasattr(prefect, name) for name in {CORE_NAMES!r}}}
print(json.dumps({{"loaded": loaded, "present": present}}))
"""


@pytest.fixture(scope="module")
def import_probe() -> dict:
    completed = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=60, check=False
    )
    assert completed.returncode == 0, f"`import prefect` failed:\n{completed.stderr}"
    return json.loads(completed.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("heavy_module", HEAVY_MODULES)
def test_import_prefect_does_not_import_heavy_dependency(import_probe: dict, heavy_module: str):
    assert heavy_module not in import_probe["loaded"]


@pytest.mark.parametrize("name", CORE_NAMES)
def test_import_prefect_provides_core_name(import_probe: dict, name: str):
    assert import_probe["present"][name], f"prefect.{name} is missing after `import prefect`"


_CONFIG_PROBE = """
import sys
import box
import prefect
from prefect.configuration import Config, config
assert prefect.config is config is prefect.configuration.config
assert isinstance(config, box.Box) and isinstance(config, Config)
assert prefect.context.config is config
assert prefect.context is prefect.utilities.context.context
assert prefect.api is prefect.utilities.plugins.API
print(config.backend)
"""


def test_config_and_context_are_built_on_first_use_and_are_the_1x_objects():
    completed = subprocess.run(
        [sys.executable, "-c", _CONFIG_PROBE],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "server"


def test_lazily_bound_names_are_listed_by_dir():
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            "import prefect, prefect.configuration as c, prefect.utilities.context as x;"
            "print(all(n in dir(prefect) for n in ('config', 'context', 'api', 'Client')),"
            " 'config' in dir(c), 'context' in dir(x))",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "True True True"
