"""`prefect get flows|projects|flow-runs|tasks|logs`: tables of backend objects.

The tables are the 1.x ones (plain `tabulate` output, left aligned, the same headers), because
scripts parse them. Every query sends all of its filters, with ``null`` for the options not
given: the server treats a comparison with ``null`` as no condition (`server-protocol.md` 2.2).
"""

from __future__ import annotations

import json
from typing import Any

import click

from prefect.cli._common import handle_terminal_error

__all__ = ["get"]


def _table(rows: list[list[Any]], headers: list[str]) -> str:
    from tabulate import tabulate

    return str(tabulate(rows, headers=headers, tablefmt="plain", numalign="left", stralign="left"))


def _age(timestamp: str | None) -> str:
    import pendulum

    return str(pendulum.parse(timestamp).diff_for_humans()) if timestamp else ""  # type: ignore[union-attr]


def _client() -> Any:
    from prefect.client import Client

    return Client()


@click.group(hidden=True)
def get() -> None:
    """List backend objects as tables.

    \b
    Objects:
        flows       flows (newest version of each unless --all-versions)
        projects    projects, with how many flows each holds
        flow-runs   flow runs, newest first
        tasks       tasks of registered flows
        logs        the logs of one flow run

    \b
    Example:
        $ prefect get flow-runs --flow etl --limit 5
    """


@get.command(hidden=True)
@click.option("--name", "-n", help="Flow name.", hidden=True)
@click.option("--version", "-v", type=int, help="Flow version.", hidden=True)
@click.option("--project", "-p", help="Project name.", hidden=True)
@click.option("--limit", "-l", default=10, help="Maximum number of rows.", hidden=True)
@click.option("--all-versions", is_flag=True, help="Include every flow version.", hidden=True)
@handle_terminal_error
def flows(
    name: str | None, version: int | None, project: str | None, limit: int, all_versions: bool
) -> None:
    """List flows: name, version, age, id and project."""
    from prefect.utilities.graphql import EnumValue, with_args

    distinct_on = None if all_versions else EnumValue("name")
    query = {
        "query": {
            with_args(
                "flow",
                {
                    "where": {
                        "_and": {
                            "name": {"_eq": name},
                            "version": {"_eq": version},
                            "project": {"name": {"_eq": project}},
                        }
                    },
                    "order_by": {"name": EnumValue("asc"), "version": EnumValue("desc")},
                    "distinct_on": distinct_on,
                    "limit": limit,
                },
            ): {"name": True, "version": True, "created": True, "id": True, "project": {"name"}}
        }
    }
    result = _client().graphql(query)
    rows = [
        [item.name, item.version, _age(item.created), item.id, item.project.name]
        for item in result.data.flow
    ]
    click.echo(_table(rows, ["NAME", "VERSION", "AGE", "ID", "PROJECT NAME"]))


@get.command(hidden=True)
@click.option("--name", "-n", help="Project name.", hidden=True)
@handle_terminal_error
def projects(name: str | None) -> None:
    """List projects: name, number of flows, age and description."""
    from prefect.utilities.graphql import EnumValue, with_args

    query = {
        "query": {
            with_args(
                "project",
                {
                    "where": {"_and": {"name": {"_eq": name}}},
                    "order_by": {"name": EnumValue("asc")},
                },
            ): {
                "name": True,
                "created": True,
                "description": True,
                with_args("flows_aggregate", {"distinct_on": EnumValue("name")}): {
                    "aggregate": {"count"}
                },
            }
        }
    }
    result = _client().graphql(query)
    rows = [
        [
            item.name,
            item.flows_aggregate.aggregate.count,
            _age(item.created),
            item.description,
        ]
        for item in result.data.project
    ]
    click.echo(_table(rows, ["NAME", "FLOW COUNT", "AGE", "DESCRIPTION"]))


@get.command(hidden=True)
@click.option("--limit", "-l", default=10, help="Maximum number of rows.", hidden=True)
@click.option("--flow", "-f", help="Restrict to runs of this flow.", hidden=True)
@click.option("--project", "-p", help="Project name.", hidden=True)
@click.option("--started", "-s", is_flag=True, help="Only runs that have started.", hidden=True)
@handle_terminal_error
def flow_runs(limit: int, flow: str | None, project: str | None, started: bool) -> None:
    """List flow runs, newest first (with --started: most recently started first)."""
    import pendulum

    from prefect.utilities.graphql import EnumValue, with_args

    flow_filter = {"flow": {"_and": {"name": {"_eq": flow}, "project": {"name": {"_eq": project}}}}}
    if started:
        where: dict[str, Any] = {"_and": {**flow_filter, "start_time": {"_is_null": False}}}
        order = {"start_time": EnumValue("desc")}
    else:
        where = flow_filter
        order = {"created": EnumValue("desc")}
    query = {
        "query": {
            with_args("flow_run", {"where": where, "limit": limit, "order_by": order}): {
                "flow": {"name": True},
                "id": True,
                "created": True,
                "state": True,
                "name": True,
                "start_time": True,
            }
        }
    }
    result = _client().graphql(query)
    rows = []
    for item in result.data.flow_run:
        start_time = (
            pendulum.parse(item.start_time).to_datetime_string()  # type: ignore[union-attr]
            if item.start_time
            else None
        )
        rows.append(
            [item.name, item.flow.name, item.state, _age(item.created), start_time, item.id]
        )
    click.echo(_table(rows, ["NAME", "FLOW NAME", "STATE", "AGE", "START TIME", "ID"]))


@get.command(hidden=True)
@click.option("--name", "-n", help="Task name.", hidden=True)
@click.option("--flow-name", "-fn", help="Flow name.", hidden=True)
@click.option("--flow-version", "-fv", type=int, help="Flow version.", hidden=True)
@click.option("--project", "-p", help="Project name.", hidden=True)
@click.option("--limit", "-l", default=10, help="Maximum number of rows.", hidden=True)
@handle_terminal_error
def tasks(
    name: str | None,
    flow_name: str | None,
    flow_version: int | None,
    project: str | None,
    limit: int,
) -> None:
    """List tasks of registered flows: name, flow, flow version, age, mapped and type."""
    from prefect.utilities.graphql import EnumValue, with_args

    query = {
        "query": {
            with_args(
                "task",
                {
                    "where": {
                        "_and": {
                            "name": {"_eq": name},
                            "flow": {
                                "name": {"_eq": flow_name},
                                "version": {"_eq": flow_version},
                                "project": {"name": {"_eq": project}},
                            },
                        }
                    },
                    "limit": limit,
                    "order_by": {"created": EnumValue("desc")},
                },
            ): {
                "name": True,
                "created": True,
                "flow": {"name": True, "version": True},
                "mapped": True,
                "type": True,
            }
        }
    }
    result = _client().graphql(query)
    rows = [
        [item.name, item.flow.name, item.flow.version, _age(item.created), item.mapped, item.type]
        for item in result.data.task
    ]
    click.echo(_table(rows, ["NAME", "FLOW NAME", "FLOW VERSION", "AGE", "MAPPED", "TYPE"]))


@get.command(hidden=True)
@click.option("--name", "-n", help="Flow run name.", hidden=True)
@click.option("--id", help="Flow run id.", hidden=True)
@click.option("--info", "-i", is_flag=True, help="Show full log record details.", hidden=True)
@handle_terminal_error
def logs(name: str | None, id: str | None, info: bool) -> None:
    """Print the logs of a flow run, oldest first.

    Name the run with --id, or with --name (the most recently started run of
    that name).
    """
    from prefect.utilities.graphql import EnumValue, with_args

    if not name and not id:
        click.secho("Either --name or --id must be provided", fg="red")
        raise SystemExit(1)
    log_fields = (
        {"timestamp": True, "info": True}
        if info
        else {
            "timestamp": True,
            "message": True,
            "level": True,
        }
    )
    query = {
        "query": {
            with_args(
                "flow_run",
                {
                    "where": {"name": {"_eq": name}, "id": {"_eq": id}},
                    "order_by": {"start_time": EnumValue("desc")},
                },
            ): {
                with_args("logs", {"order_by": {"timestamp": EnumValue("asc")}}): log_fields,
                "start_time": True,
            }
        }
    }
    result = _client().graphql(query)
    found = result.data.flow_run
    if not found:
        click.secho(f"{name or id} not found", fg="red")
        raise SystemExit(1)
    run = found[0]
    if info:
        click.echo(json.dumps([dict(log.info or {}) for log in run.logs], indent=4, default=str))
        return
    rows = [[log.timestamp, log.level, log.message] for log in run.logs]
    click.echo(_table(rows, ["TIMESTAMP", "LEVEL", "MESSAGE"]))
