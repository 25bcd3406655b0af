"""`Local` storage: flows pickled to files (or scripts) on the machine that registers them."""

from __future__ import annotations

import os
import socket
from typing import TYPE_CHECKING, Any

import prefect
from prefect.storage.base import Storage
from prefect.utilities.storage import (
    extract_flow_from_file,
    extract_flow_from_module,
    flow_from_bytes_pickle,
    flow_to_bytes_pickle,
)

if TYPE_CHECKING:
    from prefect.core.flow import Flow

__all__ = ["Local"]


class Local(Storage):
    """Keep flows on the local file system.

    A pickled flow goes to ``<directory>/<slugified flow name>/<slugified timestamp>``, so each
    registration writes a new file. A script (``stored_as_script=True``) stays where it is:
    ``path`` names it, as a file path or as an importable module (``"pkg.flows"`` or
    ``"pkg.flows:flow"``). Flows can only be run by an agent on the same machine, so the host
    name is a default label.

    Args:
        directory: where pickled flows are written; default ``<config.home_dir>/flows``.
        validate: make the directory (and resolve it to an absolute path) now.
        path: the flow's file or module when ``stored_as_script``; otherwise the file to
            write the pickle to instead of a generated one.
        stored_as_script: whether the flow is kept as its script.
        **kwargs: passed to `Storage` (``secrets``, ``labels``, ``add_default_labels``).
    """

    def __init__(
        self,
        directory: str | None = None,
        validate: bool = True,
        path: str | None = None,
        stored_as_script: bool = False,
        **kwargs: Any,
    ) -> None:
        from prefect.engine.results import LocalResult

        if directory is None:
            directory = os.path.join(prefect.config.home_dir, "flows")
        if validate:
            directory = os.path.abspath(os.path.expanduser(directory))
            os.makedirs(directory, exist_ok=True)
        self.directory = directory
        self.path = path
        result = LocalResult(directory, validate_dir=validate)
        super().__init__(result=result, stored_as_script=stored_as_script, **kwargs)

    @property
    def default_labels(self) -> list[str]:
        """The host name: a local flow runs where its files are."""
        return [socket.gethostname()]

    def get_flow(self, flow_name: str) -> Flow:
        """Load a flow from its pickle file, script file or module.

        Args:
            flow_name: the name of a flow added to this storage.

        Raises:
            ValueError: if the flow is not in this storage.
        """
        if flow_name not in self.flows:
            raise ValueError(f"Flow {flow_name!r} is not contained in this Storage")
        location = self.flows[flow_name]
        if os.path.isfile(location):
            if self.stored_as_script:
                return extract_flow_from_file(file_path=location, flow_name=flow_name)
            with open(location, "rb") as f:
                return flow_from_bytes_pickle(f.read())
        # Not a file: a module path (`pkg.module` or `pkg.module:attribute`).
        return extract_flow_from_module(module_str=location, flow_name=flow_name)

    def add_flow(self, flow: Flow) -> str:
        """Pickle the flow to a file now (or record its script) and return the location.

        Raises:
            ValueError: if a flow of the same name is already here, or ``stored_as_script``
                is set without a ``path``.
        """
        self._check_new_flow(flow)
        if self.stored_as_script:
            if not self.path:
                raise ValueError(
                    "A `path` must be provided to show where the flow `.py` file is stored."
                )
            location = self.path
        else:
            if self.path:
                location = self.path
            else:
                from prefect.storage._util import default_flow_key

                location = os.path.join(self.directory, *default_flow_key(flow).split("/"))
            parent = os.path.dirname(location)
            if parent:
                os.makedirs(parent, exist_ok=True)
            with open(location, "wb") as f:
                f.write(flow_to_bytes_pickle(flow))
        self.flows[flow.name] = location
        self._flows[flow.name] = flow
        return location
