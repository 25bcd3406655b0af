"""`prefect agent`: start agents (`prefect agent local start`, ...) or print their install files.

Only click is imported here; the agent classes load when a command runs, so `prefect --help`
stays fast. The Docker, Kubernetes, ECS and Vertex commands take their 1.4.1 options and say
what is missing: their extra, or (with it installed) the agent itself, which is not built yet.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

__all__ = ["agent"]

_LOG_LEVELS = click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False)


def _auth_options(func: Callable) -> Callable:
    """``--key``, ``--tenant-id``; shared by `start` and `install` commands."""
    func = click.option(
        "--tenant-id",
        help="Tenant to act in (default: the API key's default tenant).",
    )(func)
    func = click.option(
        "--key",
        "-k",
        help="API key to authenticate with (default: the locally stored one).",
    )(func)
    return func


def _start_options(func: Callable) -> Callable:
    """The options every `prefect agent <kind> start` takes, in the 1.4.1 order."""
    options = [
        click.option(
            "--api", "-a", help="Backend API URL (default: the `cloud.api` config value)."
        ),
        click.option("--agent-config-id", help="Id of a backend agent config to attach to."),
        click.option("--name", "-n", help="Agent name (default: `cloud.agent.name`)."),
        click.option("--label", "-l", multiple=True, help="Agent label; repeat for several."),
        click.option(
            "--env",
            "-e",
            multiple=True,
            help="KEY=VALUE environment variable for every flow run; repeatable.",
        ),
        click.option("--max-polls", type=int, help="Stop after this many polls (default: never)."),
        click.option(
            "--agent-address",
            type=str,
            help="Address (http://HOST:PORT) of the agent's health-check server (default: none).",
        ),
        click.option(
            "--no-cloud-logs",
            is_flag=True,
            default=None,
            help="Do not send flow-run logs to the backend.",
        ),
        click.option("--log-level", type=_LOG_LEVELS, default=None, help="The agent's log level."),
    ]
    for option in reversed(options):
        func = option(func)
    return _auth_options(func)


def _parse_env(items: tuple[str, ...]) -> dict[str, str]:
    env: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise click.BadParameter(
                f"{item!r} is not of the form KEY=VALUE.", param_hint="'--env' / '-e'"
            )
        env[name] = value
    return env


def _start_agent(
    agent_path: str,
    *,
    key: str | None,
    tenant_id: str | None,
    api: str | None,
    label: tuple[str, ...],
    env: tuple[str, ...],
    log_level: str | None,
    **kwargs: Any,
) -> None:
    """Build the agent `agent_path` names under the options' config, and run it."""
    import importlib

    from prefect.utilities.configuration import set_temporary_config

    env_vars = _parse_env(env)
    temporary: dict[str, Any] = {}
    if log_level:
        temporary["cloud.agent.level"] = log_level.upper()
    if api:
        temporary["cloud.api"] = api
    if key:
        temporary["cloud.api_key"] = key
    if tenant_id:
        temporary["cloud.tenant_id"] = tenant_id
    module_name, _, class_name = agent_path.rpartition(".")
    with set_temporary_config(temporary):
        try:
            agent_cls = getattr(importlib.import_module(module_name), class_name)
            instance = agent_cls(labels=sorted(set(label)), env_vars=env_vars, **kwargs)
        except (ImportError, ValueError) as exc:
            raise click.ClickException(str(exc)) from exc
        try:
            instance.start()
        except (NotImplementedError, RuntimeError) as exc:
            raise click.ClickException(str(exc)) from exc


@click.group()
def agent() -> None:
    """Start agents, which run the flow runs the backend schedules.

    \b
    Agents:
        local       Run flows as processes on this machine
        docker      Run flows in Docker containers
        kubernetes  Run flows as Kubernetes jobs
        ecs         Run flows as AWS ECS tasks
        vertex      Run flows on Google Vertex AI

    \b
    Examples:
        $ prefect agent local start --label dev
        $ prefect agent local install --label dev > supervisord.conf
    """


# --- local -----------------------------------------------------------------------------------


@agent.group()
def local() -> None:
    """Run flows as processes on this machine."""


@local.command(name="start")
@_start_options
@click.option(
    "--import-path",
    "-p",
    "import_paths",
    multiple=True,
    help="Directory added to the flow runs' PYTHONPATH; repeatable.",
)
@click.option("--show-flow-logs", "-f", is_flag=True, help="Show flow-run output in this terminal.")
@click.option(
    "--hostname-label/--no-hostname-label",
    default=True,
    help="Add this machine's hostname to the agent's labels (default: on).",
)
def local_start(
    import_paths: tuple[str, ...], show_flow_logs: bool, hostname_label: bool, **options: Any
) -> None:
    """Start a local agent (runs until interrupted)."""
    _start_agent(
        "prefect.agent.local.LocalAgent",
        import_paths=list(import_paths),
        show_flow_logs=show_flow_logs,
        hostname_label=hostname_label,
        **options,
    )


@local.command(name="install")
@_auth_options
@click.option("--label", "-l", multiple=True, help="Agent label; repeat for several.")
@click.option(
    "--env",
    "-e",
    multiple=True,
    help="KEY=VALUE environment variable for every flow run; repeatable.",
)
@click.option("--agent-config-id", help="Id of a backend agent config to attach to.")
@click.option(
    "--import-path",
    "-p",
    "import_paths",
    multiple=True,
    help="Directory added to the flow runs' PYTHONPATH; repeatable.",
)
@click.option(
    "--show-flow-logs", "-f", is_flag=True, help="Show flow-run output in the agent's log."
)
def local_install(
    key: str | None,
    tenant_id: str | None,
    label: tuple[str, ...],
    env: tuple[str, ...],
    agent_config_id: str | None,
    import_paths: tuple[str, ...],
    show_flow_logs: bool,
) -> None:
    """Print a supervisord configuration that keeps a local agent running."""
    from prefect.agent.local import LocalAgent

    click.echo(
        LocalAgent.generate_supervisor_conf(
            labels=sorted(set(label)),
            env_vars=_parse_env(env),
            import_paths=list(import_paths),
            show_flow_logs=show_flow_logs,
            key=key,
            tenant_id=tenant_id,
            agent_config_id=agent_config_id,
        )
    )


# --- docker ----------------------------------------------------------------------------------


@agent.group()
def docker() -> None:
    """Run flows in Docker containers (needs the `docker` extra)."""


@docker.command(name="start")
@_start_options
@click.option("--base-url", "-b", help="Docker daemon URL (default: from the environment).")
@click.option("--no-pull", is_flag=True, help="Never pull images.")
@click.option("--show-flow-logs", "-f", is_flag=True, help="Show flow-run output in this terminal.")
@click.option(
    "--volume",
    "volumes",
    multiple=True,
    help="Bind mount for flow containers (host:container[:mode]); repeatable.",
)
@click.option(
    "--network",
    "networks",
    multiple=True,
    help="Docker network to attach flow containers to; repeatable.",
)
@click.option(
    "--docker-client-timeout",
    type=int,
    default=None,
    help="Timeout, in seconds, of Docker API calls.",
)
def docker_start(volumes: tuple[str, ...], networks: tuple[str, ...], **options: Any) -> None:
    """Start a Docker agent."""
    _start_agent(
        "prefect.agent.docker.DockerAgent",
        volumes=list(volumes),
        networks=list(networks),
        **options,
    )


# --- kubernetes ------------------------------------------------------------------------------


@agent.group()
def kubernetes() -> None:
    """Run flows as Kubernetes jobs (needs the `kubernetes` extra)."""


@kubernetes.command(name="start")
@_start_options
@click.option("--namespace", help="Kubernetes namespace of the jobs.")
@click.option("--job-template", "job_template_path", help="Path of a custom job template.")
@click.option("--service-account-name", help="Service account of the jobs.")
@click.option("--image-pull-secrets", help="Image pull secrets of the jobs, comma-separated.")
@click.option(
    "--disable-job-deletion",
    "delete_finished_jobs",
    is_flag=True,
    default=True,
    help="Keep finished jobs instead of deleting them.",
)
def kubernetes_start(image_pull_secrets: str | None, **options: Any) -> None:
    """Start a Kubernetes agent."""
    secrets = [s.strip() for s in image_pull_secrets.split(",")] if image_pull_secrets else None
    _start_agent("prefect.agent.kubernetes.KubernetesAgent", image_pull_secrets=secrets, **options)


@kubernetes.command(name="install")
@_auth_options
@click.option("--label", "-l", multiple=True, help="Agent label; repeat for several.")
@click.option(
    "--env",
    "-e",
    multiple=True,
    help="KEY=VALUE environment variable for every flow run; repeatable.",
)
@click.option("--agent-config-id", help="Id of a backend agent config to attach to.")
@click.option("--api", "-a", help="Backend API URL (default: the `cloud.api` config value).")
@click.option("--namespace", "-n", help="Kubernetes namespace of the agent.")
@click.option(
    "--image-pull-secrets", "-i", help="Image pull secrets of the agent, comma-separated."
)
@click.option("--rbac", is_flag=True, help="Include RBAC resources in the manifest.")
@click.option("--latest", is_flag=True, help="Use the latest agent image.")
@click.option("--mem-request", help="Memory request of the agent pod.")
@click.option("--mem-limit", help="Memory limit of the agent pod.")
@click.option("--cpu-request", help="CPU request of the agent pod.")
@click.option("--cpu-limit", help="CPU limit of the agent pod.")
@click.option("--image-pull-policy", help="imagePullPolicy of the agent pod.")
@click.option("--service-account-name", help="Service account of the jobs.")
@click.option("--backend", "-b", help="Backend the agent talks to (server or cloud).")
def kubernetes_install(**options: Any) -> None:
    """Print a Kubernetes manifest that deploys an agent."""
    from prefect.agent._extras import not_built

    raise click.ClickException(str(not_built("KubernetesAgent")))


# --- ecs -------------------------------------------------------------------------------------


@agent.group()
def ecs() -> None:
    """Run flows as AWS ECS tasks (needs the `aws` extra)."""


@ecs.command(name="start")
@_start_options
@click.option("--cluster", help="ECS cluster (default: the account's default cluster).")
@click.option(
    "--launch-type",
    type=click.Choice(["FARGATE", "EC2"], case_sensitive=False),
    help="ECS launch type (default: FARGATE).",
)
@click.option("--task-role-arn", help="Default task role ARN.")
@click.option("--execution-role-arn", help="Default execution role ARN.")
@click.option("--task-definition", "task_definition_path", help="Path of a task definition.")
@click.option(
    "--run-task-kwargs",
    "run_task_kwargs_path",
    help="Path of a YAML file of extra `run_task` arguments.",
)
def ecs_start(**options: Any) -> None:
    """Start an ECS agent."""
    _start_agent("prefect.agent.ecs.ECSAgent", **options)


# --- vertex ----------------------------------------------------------------------------------


@agent.group()
def vertex() -> None:
    """Run flows on Google Vertex AI (needs the `gcp` extra)."""


@vertex.command(name="start")
@_start_options
@click.option("--project", help="GCP project of the flow runs.")
@click.option("--region-name", help="GCP region of the flow runs.")
@click.option("--service-account", help="Service account the flow runs act as.")
def vertex_start(**options: Any) -> None:
    """Start a Vertex agent."""
    _start_agent("prefect.agent.vertex.VertexAgent", **options)
