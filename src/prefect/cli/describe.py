"""`prefect describe flows|tasks|flow-runs`: one object's metadata as JSON or YAML."""

from __future__ import annotations

import json
from typing import Any

import click

from prefect.cli._common import handle_terminal_error

__all__ = ["describe"]

_OUTPUT = click.Choice(["json", "yaml"])


def _client() -> Any:
    from prefect.client import Client

    return Client()


def _emit(item: Any, output: str) -> None:
    data = item.to_dict() if hasattr(item, "to_dict") else dict(item)
    if output == "yaml":
        import yaml

        click.echo(yaml.safe_dump(data, sort_keys=False).rstrip("\n"))
    else:
        click.echo(json.dumps(data, default=str))


def _flow_query(name: str, version: int | None, project: str | None, fields: dict) -> dict:
    from prefect.utilities.graphql import EnumValue, with_args

    where = {
        "_and": {
            "name": {"_eq": name},
            "version": {"_eq": version},
            "project": {"name": {"_eq": project}},
        }
    }
    return {
        "query": {
            with_args(
                "flow",
                {
                    "where": where,
                    "order_by": {"name": EnumValue("asc"), "version": EnumValue("desc")},
                    "distinct_on": EnumValue("name"),
                },
            ): fields
        }
    }


@click.group(hidden=True)
def describe() -> None:
    """Print the metadata of one backend object as JSON (or YAML with -o yaml).

    \b
    Objects:
        flows       a flow (newest version unless --version)
        tasks       the tasks of a flow, one object per line
        flow-runs   a flow run

    \b
    Example:
        $ prefect describe flows --name etl --version 2
    """


@describe.command(hidden=True)
@click.option("--name", "-n", required=True, help="Flow name.", hidden=True)
@click.option("--version", "-v", type=int, help="Flow version.", hidden=True)
@click.option("--project", "-p", help="Project name.", hidden=True)
@click.option("--output", "-o", type=_OUTPUT, hidden=True, default="json", help="Output format.")
@handle_terminal_error
def flows(name: str, version: int | None, project: str | None, output: str) -> None:
    """Print a flow's metadata: version, project, parameters, storage, ..."""
    fields = {
        "name": True,
        "version": True,
        "project": {"name": True},
        "created": True,
        "description": True,
        "parameters": True,
        "archived": True,
        "storage": True,
        "environment": True,
    }
    result = _client().graphql(_flow_query(name, version, project, fields))
    if not result.data.flow:
        click.secho(f"{name} not found", fg="red")
        raise SystemExit(1)
    _emit(result.data.flow[0], output)


@describe.command(hidden=True)
@click.option("--name", "-n", required=True, help="Flow name.", hidden=True)
@click.option("--version", "-v", type=int, help="Flow version.", hidden=True)
@click.option("--project", "-p", help="Project name.", hidden=True)
@click.option("--output", "-o", type=_OUTPUT, hidden=True, default="json", help="Output format.")
@handle_terminal_error
def tasks(name: str, version: int | None, project: str | None, output: str) -> None:
    """Print the metadata of each task of a flow, one object per line."""
    fields = {
        "tasks": {
            "name": True,
            "created": True,
            "slug": True,
            "description": True,
            "type": True,
            "max_retries": True,
            "retry_delay": True,
            "mapped": True,
        }
    }
    result = _client().graphql(_flow_query(name, version, project, fields))
    if not result.data.flow:
        click.secho(f"{name} not found", fg="red")
        raise SystemExit(1)
    task_data = result.data.flow[0].tasks
    if not task_data:
        click.secho(f"No tasks found for flow {name}", fg="red")
        raise SystemExit(1)
    for item in task_data:
        _emit(item, output)


@describe.command(hidden=True)
@click.option("--name", "-n", required=True, help="Flow run name.", hidden=True)
@click.option("--flow-name", "-fn", help="Flow name.", hidden=True)
@click.option("--output", "-o", type=_OUTPUT, hidden=True, default="json", help="Output format.")
@handle_terminal_error
def flow_runs(name: str, flow_name: str | None, output: str) -> None:
    """Print a flow run's metadata: flow, parameters, times and current state."""
    from prefect.utilities.graphql import with_args

    query = {
        "query": {
            with_args(
                "flow_run",
                {"where": {"_and": {"name": {"_eq": name}, "flow": {"name": {"_eq": flow_name}}}}},
            ): {
                "name": True,
                "flow": {"name": True},
                "created": True,
                "parameters": True,
                "auto_scheduled": True,
                "scheduled_start_time": True,
                "start_time": True,
                "end_time": True,
                "serialized_state": True,
            }
        }
    }
    result = _client().graphql(query)
    if not result.data.flow_run:
        click.secho(f"{name} not found", fg="red")
        raise SystemExit(1)
    _emit(result.data.flow_run[0], output)
