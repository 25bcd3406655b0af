"""The local agent: flow runs as processes on the agent's machine."""

from prefect.agent.local.agent import LocalAgent

__all__ = ["LocalAgent"]
