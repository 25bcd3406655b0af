"""The ECS agent: flow runs as AWS ECS tasks (needs the `aws` extra)."""

from prefect.agent.ecs.agent import ECSAgent

__all__ = ["ECSAgent"]
