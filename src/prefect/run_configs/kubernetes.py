"""`KubernetesRun`: runs started by a Kubernetes agent as Kubernetes jobs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Union

from prefect.run_configs._templates import is_local_path, load_yaml_mapping, read_local_template
from prefect.run_configs.base import RunConfig

__all__ = ["KubernetesRun"]

_IMAGE_PULL_POLICIES = ("Always", "IfNotPresent", "Never")


class KubernetesRun(RunConfig):
    """Run the flow as a Kubernetes job started by a Kubernetes agent.

    The job comes from a template (the agent's default unless one is given here), patched with
    the image, resources, service account and pull settings below.

    Args:
        job_template_path: a job template file. A local path (no scheme, `file://`, `local://`)
            is read now and stored as `job_template`; a remote one (`s3://`, `gcs://`,
            `http(s)://`, or `agent://` for a file on the agent's machine) is kept as text and
            read by the agent at run time.
        job_template: the job template, as a mapping or YAML text (parsed now).
        image: the image for the flow-run container.
        env: extra environment variables for the flow-run container.
        cpu_limit: CPU limit, in Kubernetes units (`2`, `"500m"`); stored as text.
        cpu_request: CPU request, in Kubernetes units; stored as text.
        memory_limit: memory limit (`"4G"`).
        memory_request: memory request (`"2G"`).
        service_account_name: the pod's service account.
        image_pull_secrets: names of image pull secrets for the pod.
        labels: labels the agent must have to pick up runs of this flow.
        image_pull_policy: one of `Always`, `IfNotPresent`, `Never`.

    Raises:
        ValueError: for both `job_template_path` and `job_template`, a template that is not a
            mapping, or an unknown `image_pull_policy`.
    """

    def __init__(
        self,
        *,
        job_template_path: str | None = None,
        job_template: Union[str, dict, None] = None,
        image: str | None = None,
        env: dict | None = None,
        cpu_limit: Union[float, str, None] = None,
        cpu_request: Union[float, str, None] = None,
        memory_limit: str | None = None,
        memory_request: str | None = None,
        service_account_name: str | None = None,
        image_pull_secrets: Iterable[str] | None = None,
        labels: Iterable[str] | None = None,
        image_pull_policy: str | None = None,
    ) -> None:
        if job_template_path is not None and job_template is not None:
            raise ValueError(
                "Cannot provide both `job_template_path` and `job_template`: pass one of them."
            )
        if job_template_path is not None and is_local_path(job_template_path):
            job_template = read_local_template(job_template_path, "job_template_path")
            job_template_path = None
        elif isinstance(job_template, str):
            job_template = load_yaml_mapping(job_template, "job_template")
        if image_pull_policy is not None and image_pull_policy not in _IMAGE_PULL_POLICIES:
            raise ValueError(
                f"Invalid image_pull_policy {image_pull_policy!r}: must be one of "
                f"{', '.join(_IMAGE_PULL_POLICIES)}."
            )
        if isinstance(image_pull_secrets, str):
            image_pull_secrets = [image_pull_secrets]

        super().__init__(env=env, labels=labels)
        self.job_template_path = job_template_path
        self.job_template = job_template
        self.image = image
        # Kubernetes quantities are text; numbers are accepted for convenience.
        self.cpu_limit = str(cpu_limit) if cpu_limit is not None else None
        self.cpu_request = str(cpu_request) if cpu_request is not None else None
        self.memory_limit = memory_limit
        self.memory_request = memory_request
        self.service_account_name = service_account_name
        self.image_pull_secrets = (
            list(image_pull_secrets) if image_pull_secrets is not None else None
        )
        self.image_pull_policy = image_pull_policy
