"""Collect ``bench_*.py`` here as test modules, so `pytest bench/ --benchmark-only` finds them.

`make test` runs only `tests/`, so these never slow down the main suite.
"""

from __future__ import annotations

from pathlib import Path

import pytest


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Module | None:
    # bench_import.py is a script (it times fresh interpreters), not a pytest-benchmark module.
    if file_path.suffix == ".py" and file_path.name.startswith("bench_"):
        if file_path.name != "bench_import.py":
            return pytest.Module.from_parent(parent, path=file_path)
    return None
