"""`prefect agent ...`: options, help and errors (CliRunner), with the agent classes replaced
by recorders; one test starts a real local agent against the test server."""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest
from click.testing import CliRunner

import prefect
from prefect.cli import cli


class RecordingAgent:
    """Stands in for an agent class: records how it was built and what config it saw."""

    built: list[dict[str, Any]] = []

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs

    def start(self) -> None:
        config = prefect.config
        RecordingAgent.built.append(
            dict(
                self.kwargs,
                api=config.cloud.api,
                api_key=config.cloud.get("api_key"),
                tenant_id=config.cloud.get("tenant_id"),
                level=config.cloud.agent.level,
            )
        )


@pytest.fixture
def recorded(monkeypatch) -> list[dict[str, Any]]:
    import prefect.agent.local

    RecordingAgent.built = []
    monkeypatch.setattr(prefect.agent.local, "LocalAgent", RecordingAgent)
    return RecordingAgent.built


def invoke(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args), prog_name="prefect", catch_exceptions=False)


def test_agent_group_lists_every_kind():
    result = invoke("agent", "--help")
    assert result.exit_code == 0
    for line in [
        "  docker      Run flows in Docker containers (needs the `docker` extra).",
        "  ecs         Run flows as AWS ECS tasks (needs the `aws` extra).",
        "  kubernetes  Run flows as Kubernetes jobs (needs the `kubernetes` extra).",
        "  local       Run flows as processes on this machine.",
        "  vertex      Run flows on Google Vertex AI (needs the `gcp` extra).",
    ]:
        assert line in result.output
    assert invoke("agent", "local", "--help").output.endswith(
        "Commands:\n"
        "  install  Print a supervisord configuration that keeps a local agent running.\n"
        "  start    Start a local agent (runs until interrupted).\n"
    )


def test_local_start_help_lists_the_1_4_1_options():
    result = invoke("agent", "local", "start", "--help")
    assert result.exit_code == 0
    assert result.output.startswith(
        "Usage: prefect agent local start [OPTIONS]\n\n"
        "  Start a local agent (runs until interrupted).\n\nOptions:\n"
    )
    for option in [
        "-k, --key TEXT",
        "--tenant-id TEXT",
        "-a, --api TEXT",
        "--agent-config-id TEXT",
        "-n, --name TEXT",
        "-l, --label TEXT",
        "-e, --env TEXT",
        "--max-polls INTEGER",
        "--agent-address TEXT",
        "--no-cloud-logs",
        "--log-level [",
        "-p, --import-path TEXT",
        "-f, --show-flow-logs",
        "--hostname-label / --no-hostname-label",
    ]:
        assert f"  {option}" in result.output, option


def test_local_start_passes_every_option_to_the_agent(recorded):
    result = invoke(
        "agent", "local", "start",
        "-k", "KEY", "--tenant-id", "T", "-a", "http://api:1", "--agent-config-id", "C",
        "-n", "nm", "-l", "b", "-l", "a", "-l", "b", "-e", "A=1", "-e", "B=x=y",
        "--max-polls", "3", "--agent-address", "http://127.0.0.1:9", "--no-cloud-logs",
        "--log-level", "debug", "-p", "/p1", "-p", "/p2", "-f", "--no-hostname-label",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert recorded == [
        {
            "labels": ["a", "b"],
            "env_vars": {"A": "1", "B": "x=y"},
            "agent_config_id": "C",
            "name": "nm",
            "max_polls": 3,
            "agent_address": "http://127.0.0.1:9",
            "no_cloud_logs": True,
            "import_paths": ["/p1", "/p2"],
            "show_flow_logs": True,
            "hostname_label": False,
            "api": "http://api:1",
            "api_key": "KEY",
            "tenant_id": "T",
            "level": "DEBUG",
        }
    ]
    # The temporary settings end with the command.
    assert prefect.config.cloud.get("api_key") != "KEY"


def test_local_start_defaults(recorded):
    assert invoke("agent", "local", "start").exit_code == 0
    [built] = recorded
    assert {k: built[k] for k in built if k not in ("api", "api_key", "tenant_id", "level")} == {
        "labels": [],
        "env_vars": {},
        "agent_config_id": None,
        "name": None,
        "max_polls": None,
        "agent_address": None,
        "no_cloud_logs": None,
        "import_paths": [],
        "show_flow_logs": False,
        "hostname_label": True,
    }


def test_env_without_equals_sign_is_a_usage_error(recorded):
    result = CliRunner().invoke(cli, ["agent", "local", "start", "-e", "NOVALUE"])
    assert result.exit_code == 2
    assert result.output.endswith(
        "Error: Invalid value for '--env' / '-e': 'NOVALUE' is not of the form KEY=VALUE.\n"
    )
    assert recorded == []


def test_bad_log_level_is_a_usage_error(recorded):
    result = CliRunner().invoke(cli, ["agent", "local", "start", "--log-level", "LOUD"])
    assert result.exit_code == 2
    assert "Invalid value for '--log-level'" in result.output


def test_local_install_prints_a_supervisor_config():
    result = invoke("agent", "local", "install", "-l", "x", "-e", "K=V", "-p", "/p", "-f")
    assert result.exit_code == 0
    assert "command=prefect agent local start -l x -e K=V -p /p -f\n" in result.output


@pytest.mark.parametrize(
    ("kind", "module", "extra", "agent"),
    [
        ("docker", "docker", "docker", "DockerAgent"),
        ("kubernetes", "kubernetes", "kubernetes", "KubernetesAgent"),
        ("ecs", "boto3", "aws", "ECSAgent"),
        ("vertex", "google.cloud.aiplatform", "gcp", "VertexAgent"),
    ],
)
def test_other_agents_explain_what_is_missing(kind, module, extra, agent):
    result = CliRunner().invoke(cli, ["agent", kind, "start", "--max-polls", "1"])
    assert result.exit_code == 1
    try:
        installed = importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        installed = False
    if installed:
        expected = (
            f"Error: {agent} cannot deploy flow runs yet in this Prefect implementation; use "
            "the local agent (`prefect agent local start`) meanwhile.\n"
        )
    else:
        expected = (
            f"Error: {agent} needs the `{module}` package of the `{extra}` extra, which is not "
            f'installed: pip install "prefect[{extra}]"\n'
        )
    assert result.output == expected


def test_local_start_fails_with_the_1x_message_when_the_api_does_not_answer(
    prefect_server, monkeypatch
):
    import requests

    from prefect.client import Client

    real_graphql = Client.graphql

    def graphql(self: Client, query: Any, *args: Any, **kwargs: Any) -> Any:
        if query == "query { hello }":
            raise requests.ConnectionError("refused")
        return real_graphql(self, query, *args, **kwargs)

    monkeypatch.setattr(Client, "graphql", graphql)
    result = CliRunner().invoke(
        cli, ["agent", "local", "start", "--api", prefect_server, "--max-polls", "1"]
    )
    assert result.exit_code == 1
    assert f"Error: Error while contacting API at {prefect_server}\n" in result.output


def test_local_start_runs_a_real_agent_for_max_polls(prefect_server):
    result = CliRunner().invoke(
        cli, ["agent", "local", "start", "--max-polls", "2", "-n", "cli-agent", "-l", "x"]
    )
    assert result.exit_code == 0, result.output
    agents = prefect.Client().graphql({"query": {"agent": {"name", "labels"}}}).data.agent
    import socket

    assert [(a.name, sorted(a.labels)) for a in agents] == [
        ("cli-agent", sorted(["x", socket.gethostname()]))
    ]


def test_bad_agent_address_is_refused_before_the_agent_starts(prefect_server):
    result = CliRunner().invoke(cli, ["agent", "local", "start", "--agent-address", "nowhere"])
    assert result.exit_code == 1
    assert result.output == (
        "Error: Invalid agent address 'nowhere': give it as http://HOST:PORT, e.g. "
        "http://127.0.0.1:8080.\n"
    )
    assert prefect.Client().graphql({"query": {"agent": {"id"}}}).data.agent == []
