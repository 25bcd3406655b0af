"""Adjustments: functions that move a schedule's event times after filtering.

A `Schedule` applies its ``adjustments`` in order to every event that passed its filters.
`next_weekday` is an adjustment itself; `add` makes one.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pendulum

from prefect.schedules import filters

__all__ = ["add", "next_weekday"]


def _as_timedelta(value: datetime.timedelta | float) -> datetime.timedelta:
    """A timedelta from a timedelta or a number of seconds (its JSON form)."""
    if isinstance(value, datetime.timedelta):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.timedelta(seconds=value)
    raise TypeError(f"Expected a timedelta, got {type(value).__name__}: {value!r}")


def add(interval: datetime.timedelta) -> Callable[[datetime.datetime], datetime.datetime]:
    """Move every event by ``interval``.

    Whole days move on the calendar (the wall-clock time stays across daylight-saving
    changes); the rest of the interval moves in absolute time.

    Args:
        interval: how far to move events (negative to move them earlier); a number is taken
            as seconds

    Returns:
        the adjustment
    """
    interval = _as_timedelta(interval)

    def _adjustment_fn(dt: datetime.datetime) -> datetime.datetime:
        return pendulum.instance(dt).add(
            days=interval.days, seconds=interval.seconds, microseconds=interval.microseconds
        )

    return _adjustment_fn


def next_weekday(dt: datetime.datetime) -> datetime.datetime:
    """Move an event on a weekend to the same time on the next Monday; weekdays stay.

    Args:
        dt: the event time

    Returns:
        the adjusted time
    """
    moment = pendulum.instance(dt)
    while not filters.is_weekday(moment):
        moment = moment.add(days=1)
    return moment
