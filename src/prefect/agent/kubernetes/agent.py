"""`KubernetesAgent`: runs flows as Kubernetes jobs. Its 1.4.1 signature is kept; the deployment
itself is not built yet (constructing it checks for the Kubernetes SDK, starting it refuses)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import List

from prefect.agent._extras import deploy_flow_not_built, require_sdk, start_not_built
from prefect.agent.agent import Agent

__all__ = ["DEFAULT_JOB_TEMPLATE_PATH", "KubernetesAgent"]

DEFAULT_JOB_TEMPLATE_PATH = os.path.join(os.path.dirname(__file__), "job_template.yaml")


class KubernetesAgent(Agent):
    """An agent that runs each flow run as a Kubernetes job.

    Args:
        agent_config_id: an agent config to attach to.
        namespace: the namespace jobs are created in (default: ``NAMESPACE`` or ``default``).
        service_account_name: the service account of created jobs.
        image_pull_secrets: image pull secrets of created jobs.
        job_template_path: a custom job template (default: `DEFAULT_JOB_TEMPLATE_PATH`).
        name: the agent's name.
        labels: the agent's labels.
        env_vars: environment variables given to every flow run.
        max_polls: stop after this many polls.
        agent_address: ``http://HOST:PORT`` of a health server to start.
        no_cloud_logs: keep flow-run logs off the backend.
        volume_mounts: volume mounts of the flow container.
        volumes: volumes of the job's pod.
        delete_finished_jobs: delete jobs once their flow run finished.

    Raises:
        ImportError: the Kubernetes SDK is missing (``pip install "prefect[kubernetes]"``).
    """

    def __init__(
        self,
        agent_config_id: str | None = None,
        namespace: str | None = None,
        service_account_name: str | None = None,
        image_pull_secrets: Iterable[str] | None = None,
        job_template_path: str | None = None,
        name: str | None = None,
        labels: Iterable[str] | None = None,
        env_vars: dict | None = None,
        max_polls: int | None = None,
        agent_address: str | None = None,
        no_cloud_logs: bool | None = None,
        volume_mounts: List[dict] | None = None,
        volumes: List[dict] | None = None,
        delete_finished_jobs: bool = True,
    ) -> None:
        require_sdk("kubernetes", "kubernetes", "KubernetesAgent")
        super().__init__(
            agent_config_id=agent_config_id,
            name=name,
            labels=labels,
            env_vars=env_vars,
            max_polls=max_polls,
            agent_address=agent_address,
            no_cloud_logs=no_cloud_logs,
        )
        self.namespace = namespace or os.getenv("NAMESPACE", "default")
        self.service_account_name = service_account_name
        self.image_pull_secrets = list(image_pull_secrets or [])
        self.job_template_path = job_template_path or DEFAULT_JOB_TEMPLATE_PATH
        self.volume_mounts = list(volume_mounts or [])
        self.volumes = list(volumes or [])
        self.delete_finished_jobs = delete_finished_jobs

    start = start_not_built
    deploy_flow = deploy_flow_not_built
