"""The Docker agent: flow runs as Docker containers (needs the `docker` extra)."""

from prefect.agent.docker.agent import DockerAgent

__all__ = ["DockerAgent"]
