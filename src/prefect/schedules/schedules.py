"""`Schedule`: when a flow runs, from clocks, filters and adjustments.

A schedule merges the events of its clocks in time order, drops exact duplicates (same time,
same parameter defaults, same labels: two clocks firing at once with different parameters
give two runs), keeps the events its filters accept, then moves each kept event through its
adjustments.

`IntervalSchedule`, `CronSchedule` and `RRuleSchedule` are the 1.x shortcuts for a schedule
with a single clock.
"""

from __future__ import annotations

import datetime
import heapq
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

import pendulum

from prefect.schedules import clocks as clocks_module

if TYPE_CHECKING:
    from dateutil import rrule

__all__ = ["CronSchedule", "IntervalSchedule", "RRuleSchedule", "Schedule"]

# How many clock events one `next` call examines at most: filters that (almost) never pass
# must not loop forever. The value is Prefect 1.x's.
_MAX_EVENTS_EXAMINED = 10_000

Filter = Callable[[datetime.datetime], bool]
Adjustment = Callable[[datetime.datetime], datetime.datetime]


class Schedule:
    """When a flow runs: the events of its clocks, filtered, then adjusted.

    Args:
        clocks: the clocks whose events are merged
        filters: an event is kept only if every one of these returns true
        or_filters: if given, an event is kept only if at least one of these returns true
        not_filters: an event is dropped if any of these returns true
        adjustments: applied in order to each kept event's time

    Raises:
        TypeError: if ``clocks`` is not a collection of clocks
    """

    def __init__(
        self,
        clocks: list[clocks_module.Clock],
        filters: list[Filter] | None = None,
        or_filters: list[Filter] | None = None,
        not_filters: list[Filter] | None = None,
        adjustments: list[Adjustment] | None = None,
    ) -> None:
        if isinstance(clocks, clocks_module.Clock) or not isinstance(clocks, Iterable):
            raise TypeError(
                f"clocks should be a list of clocks, got {type(clocks).__name__}: {clocks!r}"
            )
        self.clocks = list(clocks)
        self.filters = list(filters or [])
        self.or_filters = list(or_filters or [])
        self.not_filters = list(not_filters or [])
        self.adjustments = list(adjustments or [])

    def __repr__(self) -> str:
        return f"<Schedule: {len(self.clocks)} clock(s)>"

    @property
    def start_date(self) -> datetime.datetime | None:
        """The earliest start date of the clocks (`None` when none has one)."""
        dates = [c.start_date for c in self.clocks if c.start_date is not None]
        return min(dates) if dates else None

    @property
    def end_date(self) -> datetime.datetime | None:
        """The latest end date of the clocks (`None` when none has one)."""
        dates = [c.end_date for c in self.clocks if c.end_date is not None]
        return max(dates) if dates else None

    def next(
        self, n: int, after: datetime.datetime | None = None, return_events: bool = False
    ) -> list[Any]:
        """The next ``n`` times (or events) of the schedule strictly after ``after``.

        Args:
            n: how many to return; fewer come back when the clocks run out (or when
                10,000 events in a row fail the filters)
            after: the moment to look past; default now
            return_events: return `ClockEvent`s (with parameter defaults and labels)
                instead of datetimes

        Returns:
            a list of pendulum `DateTime`s, or of `ClockEvent`s
        """
        if after is None:
            after = pendulum.now("UTC")
        results: list[Any] = []
        if n <= 0:
            return results
        for examined, event in enumerate(self._clock_events(after), start=1):
            if self._passes_filters(event.start_time):
                start_time = event.start_time
                for adjustment in self.adjustments:
                    start_time = adjustment(start_time)
                if return_events:
                    results.append(
                        clocks_module.ClockEvent(
                            start_time=start_time,
                            parameter_defaults=event.parameter_defaults,
                            labels=event.labels,
                        )
                    )
                else:
                    results.append(start_time)
                if len(results) >= n:
                    break
            if examined >= _MAX_EVENTS_EXAMINED:
                break
        return results

    def _clock_events(self, after: datetime.datetime) -> Iterator[clocks_module.ClockEvent]:
        """The clocks' events merged in time order, each distinct event once."""
        # Merged on UTC instants: ties keep the clocks' order.
        merged = heapq.merge(
            *(clock.events(after=after) for clock in self.clocks),
            key=lambda event: clocks_module._instant(event.start_time),
        )
        current_time: datetime.datetime | None = None
        seen_at_current_time: list[clocks_module.ClockEvent] = []
        for event in merged:
            instant = clocks_module._instant(event.start_time)
            if instant != current_time:
                current_time = instant
                seen_at_current_time = []
            if any(event == seen for seen in seen_at_current_time):
                continue
            seen_at_current_time.append(event)
            yield event

    def _passes_filters(self, dt: datetime.datetime) -> bool:
        if not all(fn(dt) for fn in self.filters):
            return False
        if self.or_filters and not any(fn(dt) for fn in self.or_filters):
            return False
        return not any(fn(dt) for fn in self.not_filters)


def IntervalSchedule(
    start_date: datetime.datetime | None = None,
    interval: datetime.timedelta | None = None,
    end_date: datetime.datetime | None = None,
) -> Schedule:
    """A schedule with one `IntervalClock`.

    Args:
        start_date: the first run (and the anchor of the others)
        interval: the time between runs; a positive `timedelta`
        end_date: no runs after this moment

    Returns:
        the schedule

    Raises:
        TypeError: if ``interval`` is not a `timedelta`
        ValueError: if ``interval`` is not positive
    """
    return Schedule(
        clocks=[
            clocks_module.IntervalClock(
                interval=interval,  # type: ignore[arg-type]
                start_date=start_date,
                end_date=end_date,
            )
        ]
    )


def CronSchedule(
    cron: str,
    start_date: datetime.datetime | None = None,
    end_date: datetime.datetime | None = None,
    day_or: bool | None = None,
) -> Schedule:
    """A schedule with one `CronClock`.

    Args:
        cron: a cron expression, read in ``start_date``'s time zone (UTC without one)
        start_date: no runs before this moment
        end_date: no runs after this moment
        day_or: whether day-of-month and day-of-week fields combine with "or" (default)

    Returns:
        the schedule

    Raises:
        ValueError: if ``cron`` is not a valid cron expression
    """
    return Schedule(
        clocks=[
            clocks_module.CronClock(
                cron=cron, start_date=start_date, end_date=end_date, day_or=day_or
            )
        ]
    )


def RRuleSchedule(
    rrule_obj: rrule.rrulebase,
    start_date: datetime.datetime | None = None,
    end_date: datetime.datetime | None = None,
) -> Schedule:
    """A schedule with one `RRuleClock`.

    Args:
        rrule_obj: a `dateutil.rrule.rrule` or `rruleset`
        start_date: no runs before this moment
        end_date: no runs after this moment

    Returns:
        the schedule
    """
    return Schedule(
        clocks=[
            clocks_module.RRuleClock(rrule_obj=rrule_obj, start_date=start_date, end_date=end_date)
        ]
    )
