"""Test-wide fixtures: every test gets its own home directory, config and context."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator

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


# A real S3 API for tests: moto's server mode on loopback, started once per test session.
# `s3_server` gives the endpoint URL, `s3_bucket` a fresh empty bucket; while either is active boto3
# uses the endpoint (AWS_ENDPOINT_URL) with fake credentials and never probes a metadata address.

_FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}


@pytest.fixture(scope="session")
def _moto_endpoint() -> Iterator[str]:
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        if os.environ.get("CI"):
            raise
        pytest.skip("moto[server] is not installed (pip install -e '.[dev]')")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_server(_moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The endpoint URL of a real S3 API; boto3 clients made in the test use it."""
    for key, value in _FAKE_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", _moto_endpoint)
    from prefect.utilities import aws

    # Clients cached by earlier tests may point elsewhere.
    aws._CACHE.__dict__.pop("clients", None)
    return _moto_endpoint


@pytest.fixture
def s3_bucket(s3_server: str) -> str:
    """A new, empty bucket on the moto server; its name is returned."""
    import boto3

    name = f"test-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3_server).create_bucket(Bucket=name)
    return name


# Our own orchestration server, for client/agent/runner tests: the application under uvicorn in
# a background thread, on a free loopback port, with a fresh SQLite database and the services
# off (tests start what they need). The client's config points at it for the test.


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def prefect_server(tmp_path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The URL of a running server (`http://127.0.0.1:PORT`); `prefect.config.cloud.api` and
    `server.endpoint` point at it and the `default` tenant exists."""
    import asyncio
    import threading
    import time

    import uvicorn

    import prefect
    from prefect.server.app import create_app
    from prefect.server.database import Database

    url = f"sqlite:///{tmp_path / 'server.db'}"
    setup = Database(url)
    asyncio.run(setup.create_all())
    asyncio.run(setup.dispose())
    port = _free_port()
    app = create_app(Database(url), services=False)
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", loop="asyncio"
        )
    )
    thread = threading.Thread(target=server.run, name="prefect-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    api = f"http://127.0.0.1:{port}"
    monkeypatch.setitem(prefect.config.cloud, "api", api)
    monkeypatch.setitem(prefect.config.server, "endpoint", api)
    try:
        yield api
    finally:
        # Logs a flow run left pending go out now, while the server still answers (the log
        # shipper's client would otherwise retry a gone server for a minute).
        from prefect.utilities._cloud_logs import flush_run_logs

        flush_run_logs()
        server.should_exit = True
        thread.join(timeout=10)
