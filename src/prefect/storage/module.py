"""`Module` storage: the flow is an object in an importable Python module."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from prefect.storage.base import Storage
from prefect.utilities.storage import extract_flow_from_module

if TYPE_CHECKING:
    from prefect.core.flow import Flow

__all__ = ["Module"]


class Module(Storage):
    """Load flows by importing a module installed where the flow runs.

    Args:
        module: ``"package.module"`` (the flow is found among its globals by name) or
            ``"package.module:attribute"``.
        **kwargs: passed to `Storage` (``secrets``, ``labels``, ``add_default_labels``).
    """

    def __init__(self, module: str, **kwargs: Any) -> None:
        self.module = module
        kwargs.pop("stored_as_script", None)
        super().__init__(stored_as_script=True, **kwargs)

    def get_flow(self, flow_name: str) -> Flow:
        """Import the module and return the flow called ``flow_name``.

        Raises:
            ValueError: if the module does not define that flow.
        """
        return extract_flow_from_module(self.module, flow_name)

    def add_flow(self, flow: Flow) -> str:
        """Record the flow (nothing is written) and return the module path.

        Raises:
            ValueError: if a flow of the same name is already here.
        """
        self._check_new_flow(flow)
        self.flows[flow.name] = self.module
        self._flows[flow.name] = flow
        return self.module
