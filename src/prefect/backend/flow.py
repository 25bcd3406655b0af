"""`FlowView`: a read-only view of a flow registered with the backend.

Every lookup sends one ``flow(where: ...)`` query selecting ``id settings run_config
serialized_flow name archived project { name } core_version storage flow_group { labels }``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, List

from prefect.backend._query import query_rows
from prefect.utilities.graphql import EnumValue, with_args
from prefect.utilities.logging import get_logger

if TYPE_CHECKING:
    import prefect
    from prefect.run_configs import RunConfig

__all__ = ["FlowView"]

logger = get_logger("backend.flow")

_FLOW_SELECTION = {
    "id": True,
    "settings": True,
    "run_config": True,
    "serialized_flow": True,
    "name": True,
    "archived": True,
    "project": {"name"},
    "core_version": True,
    "storage": True,
    "flow_group": {"labels"},
}


@dataclass(frozen=True)
class FlowView:
    """A registered flow: its metadata, storage and run config.

    Args:
        flow_id: the flow's id.
        settings: the flow's settings (``heartbeat_enabled``, ...).
        run_config: the run config it was registered with (may be ``None``).
        serialized_flow: the flow's JSON as registered.
        archived: whether a newer version replaced it.
        project_name: the project holding it.
        core_version: the Prefect version that registered it.
        storage: where its code is stored (may be ``None``).
        name: the flow's name.
        flow_group_labels: labels set on the flow group (override the run config's).
    """

    flow_id: str
    settings: dict
    run_config: RunConfig
    serialized_flow: dict
    archived: bool
    project_name: str
    core_version: str
    storage: prefect.storage.Storage
    name: str
    flow_group_labels: List[str]

    @property
    def flow(self) -> prefect.Flow:
        """The flow rebuilt from its registered JSON (its tasks are placeholders that cannot
        run; load it from `storage` to run it)."""
        from prefect.serialization.flow import FlowSchema

        return FlowSchema().load(self.serialized_flow)  # type: ignore[no-any-return]

    @classmethod
    def _from_flow_data(cls, flow_data: dict, **kwargs: Any) -> FlowView:
        data = dict(flow_data)
        run_config = data.pop("run_config", None)
        storage = data.pop("storage", None)
        if run_config is not None:
            from prefect.serialization.run_config import RunConfigSchema

            run_config = RunConfigSchema().load(run_config)
        if storage is not None:
            from prefect.serialization.storage import StorageSchema

            storage = StorageSchema().load(storage)
        return cls(
            flow_id=data["id"],
            settings=data.get("settings") or {},
            run_config=run_config,  # type: ignore[arg-type]
            serialized_flow=data.get("serialized_flow") or {},
            archived=bool(data.get("archived")),
            project_name=(data.get("project") or {}).get("name"),  # type: ignore[arg-type]
            core_version=data.get("core_version"),  # type: ignore[arg-type]
            storage=storage,  # type: ignore[arg-type]
            name=data["name"],
            flow_group_labels=(data.get("flow_group") or {}).get("labels") or [],
            **kwargs,
        )

    @classmethod
    def from_id(cls, flow_id: str) -> FlowView:
        """Look a flow up by flow id, else by flow group id (the group's newest flow).

        Raises:
            ValueError: the id is neither a flow's nor a flow group's.
        """
        from prefect.exceptions import ClientError

        for lookup in (cls.from_flow_id, cls.from_flow_group_id):
            try:
                return lookup(flow_id)
            except (ValueError, ClientError):
                # ClientError: the server refuses an id that is not a UUID.
                continue
        raise ValueError(f"No flow or flow group has the id {flow_id!r}.")

    @classmethod
    def from_flow_id(cls, flow_id: str) -> FlowView:
        """Look a flow up by its id.

        Raises:
            ValueError: no flow has that id.
        """
        return cls._from_flow_data(cls._query_for_flow(where={"id": {"_eq": flow_id}}))

    @classmethod
    def from_flow_group_id(cls, flow_group_id: str) -> FlowView:
        """The newest flow of a flow group (version group).

        Raises:
            ValueError: the group has no flows.
        """
        flows = cls._query_for_flows(
            where={"flow_group_id": {"_eq": flow_group_id}},
            order_by={"created": EnumValue("desc")},
        )
        return cls._from_flow_data(flows[0])

    @classmethod
    def from_flow_name(
        cls, flow_name: str, project_name: str = "", last_updated: bool = False
    ) -> FlowView:
        """Look an unarchived flow up by name, optionally within a project.

        Args:
            flow_name: the flow's name.
            project_name: the project's name; ``""`` searches every project, ``None``
                only flows without a project.
            last_updated: when several flows match, take the newest instead of failing.

        Raises:
            ValueError: no flow matches, or several do and ``last_updated`` is false.
        """
        where: Dict[str, Any] = {"name": {"_eq": flow_name}, "archived": {"_eq": False}}
        if project_name is None:
            where["project"] = {"name": {"_is_null": True}}
        elif project_name:
            where["project"] = {"name": {"_eq": project_name}}
        flows = cls._query_for_flows(where=where, order_by={"created": EnumValue("desc")})
        if len(flows) > 1 and not last_updated:
            projects = sorted({(flow.get("project") or {}).get("name") or "" for flow in flows})
            raise ValueError(
                f"Found {len(flows)} flows named {flow_name!r} (projects: "
                f"{', '.join(map(repr, projects))}). Pass a `project_name` as well, or "
                "`last_updated=True` to take the most recently registered one."
            )
        return cls._from_flow_data(flows[0])

    @staticmethod
    def _query_for_flow(where: dict, **kwargs: Any) -> dict:
        flows = FlowView._query_for_flows(where=where, **kwargs)
        if len(flows) > 1:
            raise ValueError(f"Found {len(flows)} flows where {where!r}; expected exactly one.")
        return flows[0]

    @staticmethod
    def _query_for_flows(
        where: dict, order_by: dict | None = None, error_on_empty: bool = True
    ) -> list[dict]:
        arguments: dict[str, Any] = {"where": where}
        if order_by is not None:
            arguments["order_by"] = order_by
        rows = query_rows({"query": {with_args("flow", arguments): _FLOW_SELECTION}}, "flow")
        if rows is None:
            raise ValueError(f"The backend gave no flow list for the query where {where!r}.")
        if not rows and error_on_empty:
            raise ValueError(f"No flow found where {where!r}.")
        return rows

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(flow_id={self.flow_id!r}, name={self.name!r}, "
            f"project_name={self.project_name!r}, storage_type="
            f"{type(self.storage).__name__ if self.storage is not None else None})"
        )
