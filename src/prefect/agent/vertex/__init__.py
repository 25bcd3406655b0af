"""The Vertex agent: flow runs as Google Vertex AI custom jobs (needs the `gcp` extra)."""

from prefect.agent.vertex.agent import VertexAgent

__all__ = ["VertexAgent"]
