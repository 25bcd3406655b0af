"""Filters: predicates on a datetime that decide whether a clock's event becomes a run.

A `Schedule` keeps an event when all of its ``filters`` pass, at least one of its
``or_filters`` passes (if it has any) and none of its ``not_filters`` pass. Some filters are
plain predicates (`is_weekday`); the others are factories that return one
(``between_times(time(9), time(17))``). Dates and times are compared on the event's own wall
clock (its time zone).

Factories also accept the JSON forms their arguments take in a serialized schedule (ISO
text for datetimes and times), so a schedule loaded from JSON filters the same way.
"""

from __future__ import annotations

import calendar
import datetime
from collections.abc import Callable

from prefect.schedules.clocks import _instant

__all__ = [
    "at_time",
    "between_dates",
    "between_datetimes",
    "between_times",
    "is_day_of_week",
    "is_month_end",
    "is_month_start",
    "is_weekday",
    "is_weekend",
    "on_date",
    "on_datetime",
]


def _as_datetime(value: datetime.datetime | str) -> datetime.datetime:
    """A datetime from a datetime or its ISO text (naive ones are taken as UTC)."""
    import pendulum

    if isinstance(value, str):
        parsed = pendulum.parse(value)
        if not isinstance(parsed, datetime.datetime):
            raise ValueError(f"Expected a datetime, got {value!r}")
        return parsed
    if not isinstance(value, datetime.datetime):
        raise TypeError(f"Expected a datetime, got {type(value).__name__}: {value!r}")
    return pendulum.instance(value)


def _as_time(value: datetime.time | str) -> datetime.time:
    """A time from a time or its ISO text (``"09:30:00"``)."""
    if isinstance(value, str):
        return datetime.time.fromisoformat(value)
    if not isinstance(value, datetime.time):
        raise TypeError(f"Expected a time, got {type(value).__name__}: {value!r}")
    return value


def _wall_time(dt: datetime.datetime) -> datetime.time:
    """The wall-clock time of ``dt``, without a time zone."""
    return dt.time()


def on_datetime(dt: datetime.datetime) -> Callable[[datetime.datetime], bool]:
    """Keep only events at exactly ``dt``.

    Args:
        dt: the moment to match (naive is taken as UTC)

    Returns:
        the filter
    """
    dt = _as_datetime(dt)

    def _filter_fn(value: datetime.datetime) -> bool:
        return _instant(value) == _instant(dt)

    return _filter_fn


def between_datetimes(
    start: datetime.datetime, end: datetime.datetime
) -> Callable[[datetime.datetime], bool]:
    """Keep events from ``start`` to ``end``, both included.

    Args:
        start: the first moment kept
        end: the last moment kept

    Returns:
        the filter
    """
    start = _as_datetime(start)
    end = _as_datetime(end)

    def _filter_fn(value: datetime.datetime) -> bool:
        return _instant(start) <= _instant(value) <= _instant(end)

    return _filter_fn


def on_date(month: int, day: int) -> Callable[[datetime.datetime], bool]:
    """Keep events on a given day of the year, whatever the year.

    Args:
        month: the month (1-12)
        day: the day of the month (1-31)

    Returns:
        the filter
    """

    def _filter_fn(value: datetime.datetime) -> bool:
        return value.month == month and value.day == day

    return _filter_fn


def between_dates(
    start_month: int, start_day: int, end_month: int, end_day: int
) -> Callable[[datetime.datetime], bool]:
    """Keep events between two days of the year, both included, whatever the year.

    When the end comes before the start in the calendar (``between_dates(12, 1, 1, 31)``),
    the range wraps around the new year.

    Args:
        start_month: the month of the first day kept
        start_day: the day of the month of the first day kept
        end_month: the month of the last day kept
        end_day: the day of the month of the last day kept

    Returns:
        the filter
    """

    def _filter_fn(value: datetime.datetime) -> bool:
        current = (value.month, value.day)
        first = (start_month, start_day)
        last = (end_month, end_day)
        if first <= last:
            return first <= current <= last
        return current >= first or current <= last

    return _filter_fn


def at_time(t: datetime.time) -> Callable[[datetime.datetime], bool]:
    """Keep events whose wall-clock time is exactly ``t``.

    Args:
        t: the time of day (its time zone, if any, is ignored)

    Returns:
        the filter
    """
    t = _as_time(t)

    def _filter_fn(value: datetime.datetime) -> bool:
        return _wall_time(value) == t.replace(tzinfo=None)

    return _filter_fn


def between_times(start: datetime.time, end: datetime.time) -> Callable[[datetime.datetime], bool]:
    """Keep events whose wall-clock time is from ``start`` to ``end``, both included.

    When ``end`` is earlier than ``start`` (``between_times(time(22), time(6))``) the range
    wraps around midnight.

    Args:
        start: the first time of day kept
        end: the last time of day kept

    Returns:
        the filter
    """
    start = _as_time(start)
    end = _as_time(end)

    def _filter_fn(value: datetime.datetime) -> bool:
        current = _wall_time(value)
        first = start.replace(tzinfo=None)
        last = end.replace(tzinfo=None)
        if first <= last:
            return first <= current <= last
        return current >= first or current <= last

    return _filter_fn


def is_weekday(dt: datetime.datetime) -> bool:
    """Whether ``dt`` falls on Monday to Friday."""
    return dt.weekday() < 5


def is_weekend(dt: datetime.datetime) -> bool:
    """Whether ``dt`` falls on Saturday or Sunday."""
    return dt.weekday() > 4


def is_month_end(dt: datetime.datetime) -> bool:
    """Whether ``dt`` falls on the last day of its month (29 February in leap years)."""
    return dt.day == calendar.monthrange(dt.year, dt.month)[1]


def is_month_start(dt: datetime.datetime) -> bool:
    """Whether ``dt`` falls on the first day of its month."""
    return dt.day == 1


def is_day_of_week(day_of_week: int) -> Callable[[datetime.datetime], bool]:
    """Keep events on one day of the week.

    Args:
        day_of_week: 0 for Monday through 6 for Sunday (as `datetime.weekday`)

    Returns:
        the filter
    """

    def _filter_fn(value: datetime.datetime) -> bool:
        return value.weekday() == day_of_week

    return _filter_fn
