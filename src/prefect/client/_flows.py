"""`Client` calls about projects and flow registration (`FlowsMixin`).

`register` follows what `Flow.register` sends in 1.x (`server-protocol.md` section 4.1): the
project lookup, `create_flow_from_compressed_string` (or `create_flow`) with the flow minus its
tasks and edges, `register_tasks` and `register_edges` in batches, `set_schedule_active`, and
the lookups for the printed UI address.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Dict

from prefect.exceptions import ClientError
from prefect.utilities.graphql import GraphQLResult, compress, with_args

if TYPE_CHECKING:
    from prefect.core.flow import Flow

__all__ = ["FlowsMixin"]

# `register` sends tasks and edges in batches of this many.
REGISTER_BATCH_SIZE = 500


class _UnschedulableFlowError(ClientError, ValueError):
    """A scheduled flow whose clocks leave required parameters without values.

    1.x raised `ClientError` here; it is a `ValueError` too for code written against the
    earlier behaviour of this package.
    """


class FlowsMixin:
    """The project and registration half of `Client`."""

    if TYPE_CHECKING:
        tenant_id: str

        def graphql(
            self,
            query: Any,
            raise_on_error: bool = True,
            headers: Dict[str, str] | None = None,
            variables: Mapping[str, Any] | None = None,
            api_key: str | None = None,
            retry_on_api_error: bool = True,
        ) -> GraphQLResult: ...

        def get_cloud_url(self, subdirectory: str, id: str) -> str: ...

    def create_project(self, project_name: str, project_description: str | None = None) -> str:
        """Create a project, or find it when one of that name exists already.

        Args:
            project_name: the project's name.
            project_description: an optional description.

        Returns:
            the project's id.
        """
        try:
            result = self.graphql(
                {
                    "mutation($input: create_project_input!)": {
                        "create_project(input: $input)": {"id"}
                    }
                },
                variables=dict(
                    input=dict(
                        name=project_name,
                        description=project_description,
                        tenant_id=self.tenant_id,
                    )
                ),
            )
        except ClientError as exc:
            if "'Uniqueness violation.'" not in str(exc):
                raise
            found = self._query_project(project_name)
            if not found:
                raise
            return str(found[0].id)
        return str(result.data.create_project.id)

    def _query_project(self, project_name: str) -> Any:
        query = {
            "query": {
                with_args("project", {"where": {"name": {"_eq": project_name}}}): {"id": True}
            }
        }
        return self.graphql(query).data.project

    def delete_project(self, project_name: str) -> bool:
        """Delete a project, with its flows and their runs.

        Args:
            project_name: the project's name.

        Returns:
            whether the backend reports success.

        Raises:
            ValueError: there is no project of that name.
        """
        found = self._query_project(project_name)
        if not found:
            raise ValueError(f"Project {project_name!r} not found.")
        result = self.graphql(
            {
                "mutation($input: delete_project_input!)": {
                    "delete_project(input: $input)": {"success"}
                }
            },
            variables=dict(input=dict(project_id=found[0].id)),
        )
        return bool(result.data.delete_project.success)

    def register(
        self,
        flow: Flow,
        project_name: str | None = None,
        build: bool = True,
        set_schedule_active: bool = True,
        version_group_id: str | None = None,
        compressed: bool = True,
        no_url: bool = False,
        idempotency_key: str | None = None,
    ) -> str:
        """Register a flow: create it in a project, then send its tasks and edges.

        Args:
            flow: the flow.
            project_name: the project to register it in (required).
            build: build the flow's storage while serializing it.
            set_schedule_active: turn the flow's schedule on once registered.
            version_group_id: the version group to register into (default: by name).
            compressed: send the flow gzip+base64 compressed.
            no_url: do not print the flow's UI address.
            idempotency_key: a key that makes registering the same flow again a no-op.

        Returns:
            the new (or, for a repeated idempotency key, existing) flow id.

        Raises:
            TypeError: no project name was given.
            ValueError: the project does not exist.
            ClientError: the flow is scheduled but has required parameters its clocks do not
                supply (also a `ValueError`).
        """
        _check_schedule_supplies_parameters(flow)
        if project_name is None:
            raise TypeError("'project_name' is a required field when registering a flow.")
        project = self._query_project(project_name)
        if not project:
            raise ValueError(
                f"Project {project_name} not found. Run `prefect create project "
                f"'{project_name}'` to create it."
            )

        serialized = dict(flow.serialize(build=build))
        # What the server and the agent will load must load: checked before anything is sent.
        from prefect.serialization.flow import FlowSchema

        try:
            FlowSchema().load(serialized)
        except Exception as exc:
            raise ValueError(
                f"Flow could not be deserialized successfully. Error was: {exc!r}"
            ) from exc
        tasks = list(serialized.pop("tasks", []) or [])
        edges = list(serialized.pop("edges", []) or [])
        inputs: dict[str, Any] = dict(
            project_id=project[0].id,
            serialized_flow=compress(serialized) if compressed else serialized,
            # The schedule is switched on below, once tasks and edges are in.
            set_schedule_active=False,
            version_group_id=version_group_id,
        )
        if idempotency_key is not None:
            inputs["idempotency_key"] = idempotency_key
        mutation = "create_flow_from_compressed_string" if compressed else "create_flow"
        result = self.graphql(
            {f"mutation($input: {mutation}_input!)": {f"{mutation}(input: $input)": {"id"}}},
            variables=dict(input=inputs),
            retry_on_api_error=False,
        )
        flow_id = str(result.data[mutation].id)

        for name, items in (("tasks", tasks), ("edges", edges)):
            # `<=`: a last, possibly empty batch always goes out, as the 1.x client sends it.
            start = 0
            while start <= len(items):
                self.graphql(
                    {
                        f"mutation($input: register_{name}_input!)": {
                            f"register_{name}(input: $input)": {"success"}
                        }
                    },
                    variables=dict(
                        input={
                            "flow_id": flow_id,
                            f"serialized_{name}": items[start : start + REGISTER_BATCH_SIZE],
                        }
                    ),
                )
                start += REGISTER_BATCH_SIZE

        if set_schedule_active:
            self.graphql(
                {
                    "mutation($input: set_schedule_active_input!)": {
                        "set_schedule_active(input: $input)": {"success"}
                    }
                },
                variables=dict(input=dict(flow_id=flow_id)),
            )

        if not no_url:
            found = self.graphql(
                {"query": {with_args("flow_by_pk", {"id": flow_id}): {"flow_group_id": True}}}
            )
            flow_url = self.get_cloud_url("flow", found.data.flow_by_pk.flow_group_id)
            labels = sorted(getattr(flow.run_config, "labels", None) or [])
            print(f"Flow URL: {flow_url}")
            print(f" └── ID: {flow_id}\n └── Project: {project_name}\n └── Labels: {labels}")
        return flow_id


def _check_schedule_supplies_parameters(flow: Flow) -> None:
    schedule = getattr(flow, "schedule", None)
    if schedule is None:
        return
    required = {p.name for p in flow.parameters() if p.required}
    if not required:
        return
    for clock in getattr(schedule, "clocks", []):
        if not required <= set(getattr(clock, "parameter_defaults", None) or {}):
            raise _UnschedulableFlowError(
                "Flows with required parameters can not be scheduled automatically: give "
                f"every clock `parameter_defaults` for {sorted(required)}, or set defaults "
                "on the parameters."
            )
