"""`ECSAgent`: runs flows as AWS ECS tasks. The class and `merge_run_task_kwargs` keep their
1.4.1 names; the deployment itself is not built yet (constructing the agent checks for boto3,
starting it refuses)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from prefect.agent._extras import deploy_flow_not_built, require_sdk, start_not_built
from prefect.agent.agent import Agent

__all__ = ["ECSAgent", "merge_run_task_kwargs"]


def merge_run_task_kwargs(opts1: dict, opts2: dict) -> dict:
    """Merge two sets of ``run_task`` keyword arguments; `opts2` wins.

    ``overrides.containerOverrides`` entries are merged by container ``name`` rather than
    replaced, so a per-flow override can change one container's settings.

    Args:
        opts1: the base arguments.
        opts2: the arguments laid over them.

    Returns:
        a new mapping.
    """
    merged: dict[str, Any] = {**opts1, **opts2}
    overrides1 = dict(opts1.get("overrides") or {})
    overrides2 = dict(opts2.get("overrides") or {})
    if overrides1 or overrides2:
        overrides = {**overrides1, **overrides2}
        containers: dict[str, dict] = {}
        unnamed: list[dict] = []
        for item in [
            *(overrides1.get("containerOverrides") or []),
            *(overrides2.get("containerOverrides") or []),
        ]:
            name = item.get("name")
            if name is None:
                unnamed.append(dict(item))
            else:
                containers[name] = {**containers.get(name, {}), **item}
        if containers or unnamed:
            overrides["containerOverrides"] = [*containers.values(), *unnamed]
        merged["overrides"] = overrides
    return merged


class ECSAgent(Agent):
    """An agent that runs each flow run as an AWS ECS task.

    Args:
        agent_config_id: an agent config to attach to.
        name: the agent's name.
        labels: the agent's labels.
        env_vars: environment variables given to every flow run.
        max_polls: stop after this many polls.
        agent_address: ``http://HOST:PORT`` of a health server to start.
        no_cloud_logs: keep flow-run logs off the backend.
        task_definition_path: a task-definition template.
        run_task_kwargs_path: a YAML file of extra ``run_task`` arguments.
        aws_access_key_id: AWS credentials (default: boto3's lookup).
        aws_secret_access_key: AWS credentials.
        aws_session_token: AWS credentials.
        region_name: the AWS region.
        cluster: the ECS cluster (default: the account's default cluster).
        launch_type: ``FARGATE`` (default) or ``EC2``.
        task_role_arn: the default task role.
        execution_role_arn: the default execution role.
        botocore_config: botocore client settings.

    Raises:
        ImportError: boto3 is missing (``pip install "prefect[aws]"``).
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
        task_definition_path: str | None = None,
        run_task_kwargs_path: str | None = None,
        aws_access_key_id: str | None = None,
        aws_secret_access_key: str | None = None,
        aws_session_token: str | None = None,
        region_name: str | None = None,
        cluster: str | None = None,
        launch_type: str | None = None,
        task_role_arn: str | None = None,
        execution_role_arn: str | None = None,
        botocore_config: dict | None = None,
    ) -> None:
        require_sdk("boto3", "aws", "ECSAgent")
        super().__init__(
            agent_config_id=agent_config_id,
            name=name,
            labels=labels,
            env_vars=env_vars,
            max_polls=max_polls,
            agent_address=agent_address,
            no_cloud_logs=no_cloud_logs,
        )
        self.task_definition_path = task_definition_path
        self.run_task_kwargs_path = run_task_kwargs_path
        self.region_name = region_name
        self.cluster = cluster
        self.launch_type = (launch_type or "FARGATE").upper()
        self.task_role_arn = task_role_arn
        self.execution_role_arn = execution_role_arn
        self.botocore_config = botocore_config
        self._credentials = dict(
            aws_access_key_id=aws_access_key_id,
            aws_secret_access_key=aws_secret_access_key,
            aws_session_token=aws_session_token,
        )

    start = start_not_built
    deploy_flow = deploy_flow_not_built
