"""The graph model users build: tasks, parameters, edges and flows."""

from prefect.core.edge import Edge
from prefect.core.flow import Flow
from prefect.core.parameter import Parameter
from prefect.core.task import Task

__all__ = ["Edge", "Flow", "Parameter", "Task"]
