"""`prefect heartbeat`: keep telling the backend a flow run is alive.

`prefect heartbeat flow-run -i ID` is the child process a `CloudFlowRunner` starts with
``cloud.heartbeat_mode = "process"``: it sends ``update_flow_run_heartbeat`` at once and then
every ``cloud.heartbeat_interval`` seconds, until it is killed (or ``-n`` heartbeats are sent).
"""

from __future__ import annotations

import click


@click.group(hidden=True)
def heartbeat() -> None:
    """Send heartbeats of runs to the backend."""


@heartbeat.command(hidden=True)
@click.option("--id", "-i", "id", required=True, hidden=True, help="The flow run id.")
@click.option(
    "--num", "-n", "num", type=int, hidden=True, help="How many heartbeats (default: forever)."
)
def flow_run(id: str, num: int | None) -> None:
    """Send heartbeats for the flow run ID every `cloud.heartbeat_interval` seconds."""
    from prefect.utilities.executors import send_heartbeat

    send_heartbeat(id, num=num)
