"""Run configs: how an agent should start each run of a flow.

A run config travels with the flow to the backend. The agent that picks up a flow run reads it
to decide the environment, working directory, image, resources, ... of the process, container,
job or task it starts. `UniversalRun` works with any agent; the others match one agent type.
"""

from prefect.run_configs.base import RunConfig, UniversalRun
from prefect.run_configs.docker import DockerRun
from prefect.run_configs.ecs import ECSRun
from prefect.run_configs.kubernetes import KubernetesRun
from prefect.run_configs.local import LocalRun
from prefect.run_configs.vertex import VertexRun

__all__ = [
    "DockerRun",
    "ECSRun",
    "KubernetesRun",
    "LocalRun",
    "RunConfig",
    "UniversalRun",
    "VertexRun",
]
