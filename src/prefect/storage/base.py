"""`Storage`: where a flow's code is kept between registration and an orchestrated run.

A storage object is filled with `add_flow` (bookkeeping only: the flow's name and where it will
be), made real with `build` (uploads, image builds), sent to the backend as JSON
(`serialize`), and at run time rebuilt from that JSON to `get_flow` by name. `Flow.serialize(
build=True)` and `prefect register` call `add_flow` then `build`.
"""

from __future__ import annotations

import logging
from abc import ABCMeta, abstractmethod
from typing import TYPE_CHECKING, Any

import prefect

if TYPE_CHECKING:
    from prefect.core.flow import Flow
    from prefect.engine.result import Result

__all__ = ["Storage"]


class Storage(metaclass=ABCMeta):
    """Base class of flow storage.

    Args:
        result: the default result type of flows kept here (e.g. `S3Result` for `S3`).
        secrets: names of Prefect secrets the flows' runs need.
        labels: labels an agent must have to run flows kept here.
        add_default_labels: whether to add the storage's default labels (the host name for
            `Local`); default `config.flows.defaults.storage.add_default_labels`.
        stored_as_script: whether the flow is kept as its ``.py`` script rather than a pickle.
    """

    def __init__(
        self,
        result: Result | None = None,
        secrets: list[str] | None = None,
        labels: list[str] | None = None,
        add_default_labels: bool | None = None,
        stored_as_script: bool = False,
    ) -> None:
        self.result = result
        self.secrets = list(secrets or [])
        self.stored_as_script = stored_as_script
        # Flow name -> where the flow is (path, key, module...); what the backend receives.
        self.flows: dict[str, str] = {}
        # Flow name -> the Flow itself, kept from `add_flow` until `build` writes it.
        self._flows: dict[str, Flow] = {}
        self._labels = list(labels or [])
        if add_default_labels is None:
            add_default_labels = bool(prefect.config.flows.defaults.storage.add_default_labels)
        self.add_default_labels = add_default_labels

    def __repr__(self) -> str:
        return f"<Storage: {type(self).__name__}>"

    @property
    def labels(self) -> list[str]:
        """The storage's labels, with its default labels unless they are switched off."""
        if self.add_default_labels:
            return self._labels + [
                label for label in self.default_labels if label not in self._labels
            ]
        return list(self._labels)

    @property
    def default_labels(self) -> list[str]:
        """Labels this kind of storage adds by itself (none for most kinds)."""
        return []

    @property
    def name(self) -> str:
        """A name for the storage: its class name (`Docker` names its image)."""
        return type(self).__name__

    @property
    def logger(self) -> logging.Logger:
        """The logger of this storage class (``prefect.<ClassName>``)."""
        from prefect.utilities.logging import get_logger

        return get_logger(type(self).__name__)

    def get_flow(self, flow_name: str) -> Flow:
        """Load the flow called ``flow_name`` from this storage.

        Raises:
            ValueError: if no flow of that name was added to the storage.
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement get_flow.")

    @abstractmethod
    def add_flow(self, flow: Flow) -> str:
        """Record a flow in this storage; `build` writes it.

        Args:
            flow: the flow.

        Returns:
            where the flow is (or will be) kept.
        """

    def __contains__(self, obj: Any) -> bool:
        """Whether a flow of that name was added (only flow names, as strings, are found)."""
        if not isinstance(obj, str):
            return False
        return obj in self.flows

    def build(self) -> Storage:
        """Write the added flows to the storage location and return the storage.

        The base class writes nothing; it runs `run_basic_healthchecks`.
        """
        self.run_basic_healthchecks()
        return self

    def serialize(self) -> dict:
        """The storage as 1.x JSON (`prefect.serialization.storage.StorageSchema`)."""
        from prefect.serialization.storage import StorageSchema

        return StorageSchema().dump(self)  # type: ignore[no-any-return]

    def run_basic_healthchecks(self) -> None:
        """Check the added flows before they are written.

        Raises:
            ValueError: if a flow without a result has a task that retries or caches while it
                (or a task upstream of it) has no result to read its inputs back from.
        """
        from prefect.storage._healthcheck import result_check

        result_check(self._flows.values(), default_result=self.result)

    def _check_new_flow(self, flow: Flow) -> None:
        """Refuse a second flow of the same name (the backend finds flows by name)."""
        if flow.name in self:
            raise ValueError(
                f'Name conflict: Flow with the name "{flow.name}" is already present in '
                "this storage."
            )
