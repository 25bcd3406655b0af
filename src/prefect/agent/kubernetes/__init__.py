"""The Kubernetes agent: flow runs as Kubernetes jobs (needs the `kubernetes` extra)."""

from prefect.agent.kubernetes.agent import KubernetesAgent

__all__ = ["KubernetesAgent"]
