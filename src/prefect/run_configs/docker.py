"""`DockerRun`: runs started by a Docker agent as containers."""

from __future__ import annotations

from collections.abc import Iterable

from prefect.run_configs.base import RunConfig

__all__ = ["DockerRun"]


class DockerRun(RunConfig):
    """Run the flow in a Docker container started by a Docker agent.

    Args:
        image: the image to run (default: the flow's Docker storage image, else the agent's
            default image).
        env: extra environment variables for the container.
        labels: labels the agent must have to pick up runs of this flow.
        ports: container ports to expose.
        host_config: extra `host_config` options for the Docker API's container creation.
    """

    def __init__(
        self,
        *,
        image: str | None = None,
        env: dict | None = None,
        labels: Iterable[str] | None = None,
        ports: Iterable[int] | None = None,
        host_config: dict | None = None,
    ) -> None:
        super().__init__(env=env, labels=labels)
        self.image = image
        self.host_config = host_config
        # A list, so that a run config equals its serialized-and-loaded copy.
        self.ports = list(ports) if ports is not None else None
