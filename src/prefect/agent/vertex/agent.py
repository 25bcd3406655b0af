"""`VertexAgent`: runs flows as Google Vertex AI custom jobs. The class and `get_client` keep
their 1.4.1 names; the deployment itself is not built yet (constructing the agent checks for
the Vertex AI SDK, starting it refuses)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from prefect.agent._extras import deploy_flow_not_built, require_sdk, start_not_built
from prefect.agent.agent import Agent

__all__ = ["VertexAgent", "get_client"]

_SDK = "google.cloud.aiplatform"


def get_client(region_name: str) -> Any:
    """A Vertex AI job-service client for a region.

    Args:
        region_name: the GCP region (``us-central1``, ...).

    Raises:
        ImportError: the Vertex AI SDK is missing (``pip install "prefect[gcp]"``).
    """
    aiplatform = require_sdk(_SDK, "gcp", "VertexAgent")
    return aiplatform.gapic.JobServiceClient(
        client_options={"api_endpoint": f"{region_name}-aiplatform.googleapis.com"}
    )


class VertexAgent(Agent):
    """An agent that runs each flow run as a Vertex AI custom job.

    Args:
        project: the GCP project (default: that of the credentials).
        region_name: the GCP region (default: ``us-central1``).
        service_account: the service account jobs run as.
        agent_config_id: an agent config to attach to.
        name: the agent's name.
        labels: the agent's labels.
        env_vars: environment variables given to every flow run.
        max_polls: stop after this many polls.
        agent_address: ``http://HOST:PORT`` of a health server to start.
        no_cloud_logs: keep flow-run logs off the backend.

    Raises:
        ImportError: the Vertex AI SDK is missing (``pip install "prefect[gcp]"``).
    """

    def __init__(
        self,
        project: str | None = None,
        region_name: str | None = None,
        service_account: str | None = None,
        agent_config_id: str | None = None,
        name: str | None = None,
        labels: Iterable[str] | None = None,
        env_vars: dict | None = None,
        max_polls: int | None = None,
        agent_address: str | None = None,
        no_cloud_logs: bool | None = None,
    ) -> None:
        require_sdk(_SDK, "gcp", "VertexAgent")
        super().__init__(
            agent_config_id=agent_config_id,
            name=name,
            labels=labels,
            env_vars=env_vars,
            max_polls=max_polls,
            agent_address=agent_address,
            no_cloud_logs=no_cloud_logs,
        )
        self.project = project
        self.region_name = region_name or "us-central1"
        self.service_account = service_account

    start = start_not_built
    deploy_flow = deploy_flow_not_built
