"""`VertexRun`: runs started by a Vertex agent as Google Cloud Vertex AI custom jobs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import List

from prefect.run_configs.base import RunConfig

__all__ = ["VertexRun"]


class VertexRun(RunConfig):
    """Run the flow as a Vertex AI custom job started by a Vertex agent.

    Args:
        env: extra environment variables for the flow-run container.
        labels: labels the agent must have to pick up runs of this flow.
        image: the image for the flow-run container (default: the flow's Docker storage image,
            else the agent's default).
        machine_type: the machine type of the job's first worker pool.
        scheduling: the job's `scheduling` settings (timeout, restarts), as Vertex takes them.
        service_account: the service account the job runs as.
        network: the VPC network to peer the job with.
        worker_pool_specs: full worker pool specifications; the first pool runs the flow (its
            container image and command are filled in by the agent).
    """

    def __init__(
        self,
        *,
        env: dict | None = None,
        labels: Iterable[str] | None = None,
        image: str | None = None,
        machine_type: str = "e2-standard-4",
        scheduling: dict | None = None,
        service_account: str | None = None,
        network: str | None = None,
        worker_pool_specs: List[dict] | None = None,
    ) -> None:
        super().__init__(env=env, labels=labels)
        self.image = image
        self.machine_type = machine_type
        self.scheduling = scheduling
        self.service_account = service_account
        self.network = network
        self.worker_pool_specs = worker_pool_specs
