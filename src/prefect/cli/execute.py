"""`prefect execute`: run work an agent handed out.

`prefect execute flow-run` is what every agent-started flow-run process runs: it reads the
flow run id from ``PREFECT__CONTEXT__FLOW_RUN_ID``, asks the backend for the run's flow
(name, storage, run config), loads the flow from its storage, and runs it with the
configured flow runner (`engine.flow_runner.default_class`, which the agent sets to
`CloudFlowRunner`). If anything goes wrong before or while running, the run is marked
``Failed("Failed to load and execute flow run: ...")``, the error is written to the run's logs,
and the command exits with status 1.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from prefect.client import Client


@click.group(hidden=True)
def execute() -> None:
    """Execute work handed out by an agent."""


def _flow_run_id() -> str | None:
    import prefect

    return prefect.context.get("flow_run_id") or os.environ.get("PREFECT__CONTEXT__FLOW_RUN_ID")


@execute.command(hidden=True)
def flow_run() -> None:
    """Execute the flow run named by `PREFECT__CONTEXT__FLOW_RUN_ID` (used by agents)."""
    import prefect
    from prefect.client import Client
    from prefect.utilities.graphql import with_args

    flow_run_id = _flow_run_id()
    if not flow_run_id:
        click.echo("Not currently executing a flow within a Cloud context.", err=True)
        sys.exit(1)

    client = Client()
    query = {
        "query": {
            with_args("flow_run", {"where": {"id": {"_eq": flow_run_id}}}): {
                "flow": {"name": True, "storage": True, "run_config": True},
                "version": True,
            }
        }
    }
    try:
        flow_runs = client.graphql(query).data.flow_run
    except Exception as exc:
        click.echo(f"Failed to read flow run {flow_run_id}: {exc}", err=True)
        sys.exit(1)
    if not flow_runs:
        click.echo(f"Flow run {flow_run_id} not found", err=True)
        sys.exit(1)

    with prefect.context(flow_run_id=flow_run_id, running_with_backend=True):
        try:
            _load_and_run(flow_runs[0].flow)
        except Exception as exc:
            _report_failure(client, flow_run_id, exc)
            sys.exit(1)


def _load_and_run(flow_data: Any) -> None:
    import prefect
    from prefect.serialization.storage import StorageSchema

    storage_data: Any = getattr(flow_data, "storage", None)
    if hasattr(storage_data, "to_dict"):
        storage_data = storage_data.to_dict()
    if not storage_data:
        raise ValueError("The flow has no storage to load it from; register it with storage.")
    storage = StorageSchema().load(storage_data)
    # The secrets the storage needs (to reach a private repository or bucket) are read before
    # loading, as in 1.x; those already in the context are kept.
    secrets = dict(prefect.context.get("secrets") or {})
    for name in storage.secrets or []:
        if name not in secrets:
            from prefect.client import Secret

            secrets[name] = Secret(name).get()
    with prefect.context(secrets=secrets):
        flow = storage.get_flow(flow_data.name)
        runner_cls = prefect.engine.get_default_flow_runner_class()
        runner_cls(flow=flow).run()


def _report_failure(client: Client, flow_run_id: str, exc: Exception) -> None:
    """Mark the run `Failed` and log why; reporting failures are printed, never raised."""
    from prefect.engine.state import Failed

    message = f"Failed to load and execute flow run: {exc!r}"
    try:
        client.set_flow_run_state(flow_run_id=flow_run_id, state=Failed(message=message))
        client.write_run_logs(
            [
                dict(
                    flow_run_id=flow_run_id,
                    name="execute flow-run",
                    message=message,
                    level="ERROR",
                )
            ]
        )
    except Exception as report_exc:
        click.echo(f"Could not report the failure to the backend: {report_exc!r}", err=True)
    click.echo(message, err=True)
