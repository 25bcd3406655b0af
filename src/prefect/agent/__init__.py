"""Agents: take scheduled flow runs from the backend and start them.

`prefect.agent.local.LocalAgent` runs them as local processes. The Docker, Kubernetes, ECS and
Vertex agents keep their 1.4.1 names and signatures; each needs its extra and is not built yet.
"""

import prefect.agent.docker
import prefect.agent.ecs
import prefect.agent.kubernetes
import prefect.agent.local
import prefect.agent.vertex
from prefect.agent.agent import Agent

__all__ = ["Agent"]
