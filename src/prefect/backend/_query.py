"""Helpers the backend views share: running a table query and reading its rows as plain data."""

from __future__ import annotations

from typing import Any


def plain(value: Any) -> Any:
    """``value`` with any `box.Box` (what `Client.graphql` answers) turned into plain dicts."""
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    to_list = getattr(value, "to_list", None)
    if callable(to_list):
        return to_list()
    return value


def query_rows(query: dict, table: str) -> list[dict] | None:
    """Send ``query`` with a new `prefect.Client` and return the rows of ``table``.

    Returns:
        the rows as plain dicts, or ``None`` when the answer has no such field.
    """
    import prefect

    result = plain(prefect.Client().graphql(query))
    rows = ((result or {}).get("data") or {}).get(table)
    if rows is None:
        return None
    return [plain(row) for row in rows]


def parse_datetime(value: Any) -> Any:
    """A `pendulum.DateTime` from an ISO string (``None`` stays ``None``)."""
    if value is None:
        return None
    import pendulum

    if isinstance(value, str):
        return pendulum.parse(value)
    return pendulum.instance(value)
