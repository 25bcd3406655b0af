"""Test-wide fixtures: every test gets its own home directory, config and context."""

from __future__ import annotations

import os
import tempfile

# Before `prefect` is imported anywhere: keep the developer's ~/.prefect out of the tests.
_SESSION_HOME = tempfile.mkdtemp(prefix="prefect-tests-home-")
os.environ["HOME"] = _SESSION_HOME
os.environ["PREFECT__USER_CONFIG_PATH"] = os.path.join(_SESSION_HOME, "no-user-config.toml")
os.environ["PREFECT__BACKEND_CONFIG_PATH"] = os.path.join(_SESSION_HOME, "no-backend.toml")
for _key in [k for k in os.environ if k.startswith("PREFECT__") and "CONFIG_PATH" not in k]:
    del os.environ[_key]

import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile(
    "ci",
    deadline=None,
    max_examples=100,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, max_examples=50)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture(autouse=True)
def isolated_prefect(tmp_path, monkeypatch):
    """A temporary home directory, and config and context restored after the test."""
    import prefect

    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    config_snapshot = prefect.config.copy()
    context_snapshot = dict(prefect.context)
    try:
        yield home
    finally:
        prefect.config.clear()
        prefect.config.update(config_snapshot)
        prefect.context.clear()
        prefect.context.update(context_snapshot)
