"""`DockerAgent`: runs flows in Docker containers. Its 1.4.1 signature is kept; the deployment
itself is not built yet (constructing it checks for the Docker SDK, starting it refuses)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import List

from prefect.agent._extras import deploy_flow_not_built, require_sdk, start_not_built
from prefect.agent.agent import Agent

__all__ = ["DockerAgent"]


class DockerAgent(Agent):
    """An agent that runs each flow run in a Docker container.

    Args:
        agent_config_id: an agent config to attach to.
        name: the agent's name.
        labels: the agent's labels.
        env_vars: environment variables given to every flow run.
        max_polls: stop after this many polls.
        agent_address: ``http://HOST:PORT`` of a health server to start.
        no_cloud_logs: keep flow-run logs off the backend.
        base_url: the Docker daemon URL (default: from the environment).
        no_pull: never pull images.
        volumes: bind mounts for flow containers (``host:container[:mode]``).
        show_flow_logs: send the containers' output to the agent's terminal.
        networks: Docker networks to attach flow containers to.
        reg_allow_list: registries images may come from.
        docker_client_timeout: timeout, in seconds, of Docker API calls.

    Raises:
        ImportError: the Docker SDK is missing (``pip install "prefect[docker]"``).
    """

    def __init__(
        self,
        agent_config_id: str | None = None,
        name: str | None = None,
        labels: Iterable[str] | None = None,
        env_vars: dict | None = None,
        max_polls: int | None = None,
        agent_address: str | None = None,
        no_cloud_logs: bool | None = None,
        base_url: str | None = None,
        no_pull: bool | None = None,
        volumes: List[str] | None = None,
        show_flow_logs: bool = False,
        networks: List[str] | None = None,
        reg_allow_list: List[str] | None = None,
        docker_client_timeout: int | None = None,
    ) -> None:
        require_sdk("docker", "docker", "DockerAgent")
        super().__init__(
            agent_config_id=agent_config_id,
            name=name,
            labels=labels,
            env_vars=env_vars,
            max_polls=max_polls,
            agent_address=agent_address,
            no_cloud_logs=no_cloud_logs,
        )
        self.base_url = base_url
        self.no_pull = bool(no_pull)
        self.volumes = list(volumes or [])
        self.show_flow_logs = show_flow_logs
        self.networks = list(networks or [])
        self.reg_allow_list = reg_allow_list
        self.docker_client_timeout = docker_client_timeout

    start = start_not_built
    deploy_flow = deploy_flow_not_built
