"""`ECSRun`: runs started by an ECS agent as AWS ECS tasks."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Union

from prefect.run_configs._templates import is_local_path, load_yaml_mapping, read_local_template
from prefect.run_configs.base import RunConfig

__all__ = ["ECSRun"]


class ECSRun(RunConfig):
    """Run the flow as an ECS task started by an ECS agent.

    The task definition is the agent's default unless one is given here, by value, by path,
    or as the ARN of an already registered definition.

    Args:
        task_definition: the task definition, as a mapping (or YAML text, parsed now).
        task_definition_path: a task definition file. A local path (no scheme, `file://`,
            `local://`) is read now and stored as `task_definition`; a remote one (`s3://`,
            `gcs://`, `http(s)://`, `agent://`) is kept as text and read by the agent.
        task_definition_arn: the ARN of a registered task definition to run as is.
        image: the image for the flow-run container (not with `task_definition_arn`).
        env: extra environment variables for the flow-run container.
        cpu: CPU units (`1024`) or vCPUs (`"1 vcpu"`); stored as text.
        memory: memory in MiB (`2048`) or with a unit (`"2 GB"`); stored as text.
        task_role_arn: the IAM role the task's containers assume.
        execution_role_arn: the IAM role ECS uses to start the task (pull images, logs).
        run_task_kwargs: extra arguments for boto3's `ECS.Client.run_task`.
        labels: labels the agent must have to pick up runs of this flow.

    Raises:
        ValueError: for more than one of `task_definition`, `task_definition_path` and
            `task_definition_arn`, for `image` with `task_definition_arn`, or for a template
            that is not a mapping.
    """

    def __init__(
        self,
        *,
        task_definition: Union[dict, str, None] = None,
        task_definition_path: str | None = None,
        task_definition_arn: str | None = None,
        image: str | None = None,
        env: dict | None = None,
        cpu: Union[int, str, None] = None,
        memory: Union[int, str, None] = None,
        task_role_arn: str | None = None,
        execution_role_arn: str | None = None,
        run_task_kwargs: dict | None = None,
        labels: Iterable[str] | None = None,
    ) -> None:
        given = [
            name
            for name, value in (
                ("task_definition", task_definition),
                ("task_definition_path", task_definition_path),
                ("task_definition_arn", task_definition_arn),
            )
            if value is not None
        ]
        if len(given) > 1:
            raise ValueError(
                "Cannot provide more than one of `task_definition`, `task_definition_path`, "
                f"or `task_definition_arn` (got {' and '.join(f'`{name}`' for name in given)})."
            )
        if task_definition_arn is not None and image is not None:
            raise ValueError(
                "Cannot provide both `task_definition_arn` and `image`: an ECS task's image is "
                "part of its registered task definition."
            )
        if task_definition_path is not None and is_local_path(task_definition_path):
            task_definition = read_local_template(task_definition_path, "task_definition_path")
            task_definition_path = None
        elif isinstance(task_definition, str):
            task_definition = load_yaml_mapping(task_definition, "task_definition")

        super().__init__(env=env, labels=labels)
        self.task_definition = task_definition
        self.task_definition_path = task_definition_path
        self.task_definition_arn = task_definition_arn
        self.image = image
        # ECS takes both as text ("1024", "1 vcpu"); numbers are accepted for convenience.
        self.cpu = str(cpu) if cpu is not None else None
        self.memory = str(memory) if memory is not None else None
        self.task_role_arn = task_role_arn
        self.execution_role_arn = execution_role_arn
        self.run_task_kwargs = run_task_kwargs
