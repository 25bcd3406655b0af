"""Clocks: the sources of a schedule's events.

A clock answers one question: "when are your next events after this moment?" Its `events`
method is a generator of `ClockEvent`s in increasing time order, each strictly after the
`after` argument (now, by default), never before the clock's `start_date` and never after
its `end_date` (both inclusive bounds). Every event can carry parameter values
(`parameter_defaults`) and agent `labels` for the flow run it starts.

Time zones and daylight saving time:

- `IntervalClock` events are in the time zone of `start_date`. Intervals of a day or more
  are added on the calendar (an interval of one day from 09:00 gives 09:00 every day, even
  across a daylight-saving change); shorter intervals are added in absolute time (an hourly
  clock fires every 60 elapsed minutes).
- `CronClock` matches the cron expression against the wall clock of `start_date`'s time zone
  (UTC without a start date). When clocks go back, a wall time that happens twice fires the
  first time only; when clocks go forward, a wall time that does not exist fires at the
  same moment shifted by the gap (02:30 becomes 03:30), once.
- `RRuleClock` follows the rule's own time zone; a rule without one is read in `start_date`'s
  time zone.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, Union

import pendulum
from pendulum import DateTime

if TYPE_CHECKING:
    from dateutil import rrule

__all__ = ["Clock", "ClockEvent", "CronClock", "DatesClock", "IntervalClock", "RRuleClock"]

# An interval clock's anchor when it has no start date (as in Prefect 1.x).
_DEFAULT_ANCHOR = pendulum.datetime(2019, 1, 1, tz="UTC")
_ONE_DAY = datetime.timedelta(days=1)
_ONE_MICROSECOND = datetime.timedelta(microseconds=1)


def _to_pendulum(value: datetime.datetime) -> DateTime:
    """A pendulum `DateTime` for any datetime (a naive one is taken as UTC)."""
    if isinstance(value, DateTime):
        return value
    if not isinstance(value, datetime.datetime):
        raise TypeError(f"Expected a datetime, got {type(value).__name__}: {value!r}")
    return pendulum.instance(value)


def _from_utc(utc: datetime.datetime, tz: Any) -> DateTime:
    """The pendulum `DateTime` in ``tz`` of an aware datetime (built directly: fast)."""
    local = utc.astimezone(tz)
    return DateTime(
        local.year,
        local.month,
        local.day,
        local.hour,
        local.minute,
        local.second,
        local.microsecond,
        tzinfo=tz,
        fold=local.fold,
    )


def _utc_of_wall(naive: datetime.datetime, tz: Any) -> datetime.datetime:
    """The UTC moment a wall-clock time denotes in ``tz`` (see `_localize`)."""
    plain = datetime.datetime(
        naive.year,
        naive.month,
        naive.day,
        naive.hour,
        naive.minute,
        naive.second,
        naive.microsecond,
        tzinfo=tz,
        fold=0,
    )
    return plain.astimezone(datetime.timezone.utc)


def _localize(naive: datetime.datetime, tz: Any) -> DateTime:
    """The moment a wall-clock time denotes in ``tz``.

    A wall time that happens twice (clocks going back) is its first occurrence; one that does
    not exist (clocks going forward) is shifted forward by the gap, so 02:30 on a spring
    change in New York is 03:30 daylight time.
    """
    return _from_utc(_utc_of_wall(naive, tz), tz)


def _instant(moment: datetime.datetime) -> datetime.datetime:
    """``moment`` as a naive UTC datetime, for comparisons (naive input is taken as UTC).

    Python compares two datetimes of the same time zone by wall time, ignoring `fold`, so
    01:30 EDT equals 01:30 EST in America/New_York; across zones a repeated wall time is
    never equal to anything. Comparing UTC instants avoids both traps.
    """
    offset = moment.utcoffset()
    plain = _naive(moment)
    return plain - offset if offset else plain


def _naive(moment: datetime.datetime) -> datetime.datetime:
    """The wall-clock time of an aware datetime, as a plain naive datetime."""
    return datetime.datetime(
        moment.year,
        moment.month,
        moment.day,
        moment.hour,
        moment.minute,
        moment.second,
        moment.microsecond,
    )


class ClockEvent:
    """One event of a clock: a start time and what the flow run started then should use.

    Events order by start time. An event equals a datetime with the same start time, and
    another event when start time, parameter defaults and labels all match.

    Args:
        start_time: when the event happens
        parameter_defaults: parameter values for the flow run started by this event
        labels: labels for that flow run (they pick the agent that runs it)
    """

    def __init__(
        self,
        start_time: datetime.datetime,
        parameter_defaults: dict | None = None,
        labels: list[str] | None = None,
    ) -> None:
        self.start_time = start_time
        self.parameter_defaults = parameter_defaults or dict()
        self.labels = labels

    def __repr__(self) -> str:
        return f"<ClockEvent: {self.start_time}>"

    def __eq__(self, other: Any) -> bool:
        if isinstance(other, datetime.datetime):
            return _instant(self.start_time) == _instant(other)
        if isinstance(other, ClockEvent):
            return bool(
                _instant(self.start_time) == _instant(other.start_time)
                and self.parameter_defaults == other.parameter_defaults
                and self.labels == other.labels
            )
        return False

    def __hash__(self) -> int:
        return hash(_instant(self.start_time))

    def __gt__(self, other: Union[datetime.datetime, ClockEvent]) -> bool:
        if isinstance(other, ClockEvent):
            other = other.start_time
        return _instant(self.start_time) > _instant(other)

    def __lt__(self, other: Union[datetime.datetime, ClockEvent]) -> bool:
        if isinstance(other, ClockEvent):
            other = other.start_time
        return _instant(self.start_time) < _instant(other)


class Clock:
    """The base class of clocks.

    Args:
        start_date: the first moment the clock may fire (inclusive)
        end_date: the last moment the clock may fire (inclusive)
        parameter_defaults: parameter values attached to every event
        labels: flow run labels attached to every event
    """

    def __init__(
        self,
        start_date: datetime.datetime | None = None,
        end_date: datetime.datetime | None = None,
        parameter_defaults: dict | None = None,
        labels: list[str] | None = None,
    ) -> None:
        self.start_date: DateTime | None = (
            _to_pendulum(start_date) if start_date is not None else None
        )
        self.end_date: DateTime | None = _to_pendulum(end_date) if end_date is not None else None
        self.parameter_defaults = parameter_defaults or dict()
        self.labels = labels

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: start_date={self.start_date}, end_date={self.end_date}>"

    def events(self, after: datetime.datetime | None = None) -> Iterable[ClockEvent]:
        """The clock's events strictly after ``after`` (default: now), in time order.

        Args:
            after: the moment to look past

        Returns:
            a (possibly endless) iterator of `ClockEvent`s
        """
        raise NotImplementedError("Clocks must implement `events`.")

    def _event(self, start_time: DateTime) -> ClockEvent:
        return ClockEvent(
            start_time=start_time,
            parameter_defaults=self.parameter_defaults,
            labels=self.labels,
        )

    def _after(self, after: datetime.datetime | None) -> DateTime:
        """``after`` as a pendulum time, now when missing, and not before the start date.

        The result is one microsecond before ``start_date`` when ``after`` is earlier, so the
        start date itself can be an event.
        """
        moment = pendulum.now("UTC") if after is None else _to_pendulum(after)
        if self.start_date is not None and _instant(moment) < _instant(self.start_date):
            moment = self.start_date.in_tz("UTC") - _ONE_MICROSECOND
        return moment

    def _is_past_end(self, moment: datetime.datetime) -> bool:
        return self.end_date is not None and _instant(moment) > _instant(self.end_date)


class IntervalClock(Clock):
    """Fires at fixed intervals from a start date.

    Events are ``start_date + k * interval`` for k = 0, 1, 2, ... Without a start date the
    anchor is 2019-01-01 00:00 UTC, so an hourly clock fires on the hour. Intervals of a day
    or more are added on the calendar of ``start_date``'s time zone (the wall-clock time
    stays put across daylight-saving changes; a wall time that happens twice is its first
    occurrence, one that does not exist moves forward by the gap); shorter ones in absolute
    time.

    Args:
        interval: the time between events; a positive `timedelta`
        start_date: the first event (and the anchor of the others)
        end_date: no events after this moment
        parameter_defaults: parameter values attached to every event
        labels: flow run labels attached to every event

    Raises:
        TypeError: if ``interval`` is not a `timedelta`
        ValueError: if ``interval`` is not positive
    """

    def __init__(
        self,
        interval: datetime.timedelta,
        start_date: datetime.datetime | None = None,
        end_date: datetime.datetime | None = None,
        parameter_defaults: dict | None = None,
        labels: list[str] | None = None,
    ) -> None:
        if not isinstance(interval, datetime.timedelta):
            raise TypeError(
                f"Interval must be a timedelta, got {type(interval).__name__}: {interval!r}."
            )
        if interval <= datetime.timedelta(0):
            raise ValueError(f"Interval must be greater than 0, got {interval!r}.")
        self.interval = interval
        super().__init__(
            start_date=start_date,
            end_date=end_date,
            parameter_defaults=parameter_defaults,
            labels=labels,
        )

    def _nth(self, anchor: DateTime, anchor_utc: datetime.datetime, tz: Any, k: int) -> DateTime:
        """The k-th event from ``anchor`` (stdlib arithmetic: pendulum's is slow)."""
        if k == 0:
            return anchor
        rest = self.interval * k
        utc = anchor_utc
        if self.interval >= _ONE_DAY:
            # Whole days on the calendar (the wall-clock time stays), the rest in absolute time.
            days = datetime.timedelta(days=self.interval.days * k)
            utc = _utc_of_wall(_naive(anchor) + days, tz)
            rest -= days
        return _from_utc(utc + rest, tz)

    def events(self, after: datetime.datetime | None = None) -> Iterator[ClockEvent]:
        """The clock's events strictly after ``after`` (default: now), in time order.

        Args:
            after: the moment to look past

        Returns:
            an iterator of `ClockEvent`s, endless unless the clock has an end date
        """
        anchor = self.start_date if self.start_date is not None else _DEFAULT_ANCHOR
        tz = anchor.tzinfo
        anchor_utc = _instant(anchor).replace(tzinfo=datetime.timezone.utc)
        floor = _instant(self._after(after))
        # Jump close to `after` (integer arithmetic, so no rounding), then step. Calendar
        # days drift from absolute ones by at most the time zone's offset change, hence the
        # margin of two intervals.
        step = self.interval // _ONE_MICROSECOND
        elapsed = (floor - _instant(anchor)) // _ONE_MICROSECOND
        k = max(0, elapsed // step - 2)
        while True:
            next_date = self._nth(anchor, anchor_utc, tz, k)
            k += 1
            if _instant(next_date) <= floor:
                continue
            if self._is_past_end(next_date):
                return
            yield self._event(next_date)


class CronClock(Clock):
    """Fires whenever a cron expression matches the wall clock.

    The expression is read in the time zone of ``start_date`` (UTC without one), so
    ``"0 9 * * *"`` with a start date in America/New_York fires at 09:00 New York time all
    year. A wall time repeated when clocks go back fires once (the first time); a wall time
    skipped when clocks go forward fires once, shifted by the gap.

    Args:
        cron: a cron expression, e.g. ``"0 9 * * 1-5"`` (anything croniter accepts)
        start_date: no events before this moment; its time zone is the clock's
        end_date: no events after this moment
        parameter_defaults: parameter values attached to every event
        labels: flow run labels attached to every event
        day_or: how a day-of-month and a day-of-week field combine: `True` (the default,
            as in standard cron) fires on either, `False` only on days matching both

    Raises:
        ValueError: if ``cron`` is not a valid cron expression
    """

    def __init__(
        self,
        cron: str,
        start_date: datetime.datetime | None = None,
        end_date: datetime.datetime | None = None,
        parameter_defaults: dict | None = None,
        labels: list[str] | None = None,
        day_or: bool | None = None,
    ) -> None:
        from croniter import croniter

        if not isinstance(cron, str) or not croniter.is_valid(cron):
            raise ValueError(f"Invalid cron string: {cron!r}")
        self.cron = cron
        self.day_or = True if day_or is None else day_or
        super().__init__(
            start_date=start_date,
            end_date=end_date,
            parameter_defaults=parameter_defaults,
            labels=labels,
        )

    def events(self, after: datetime.datetime | None = None) -> Iterator[ClockEvent]:
        """The clock's events strictly after ``after`` (default: now), in time order.

        Args:
            after: the moment to look past

        Returns:
            an iterator of `ClockEvent`s, endless unless the clock has an end date
        """
        from croniter import croniter

        tz = self.start_date.tzinfo if self.start_date is not None else pendulum.UTC
        moment = self._after(after).in_tz(tz)  # type: ignore[arg-type]
        # Cron matches wall times. A wall time just before `after`'s can still denote a
        # later moment when it falls in a gap (it is shifted forward), so start that far back
        # on the wall clock; what is not after `after` is dropped below.
        shift = abs(moment.utcoffset() - moment.subtract(days=1).utcoffset())  # type: ignore[operator]
        start = _naive(moment) - shift - datetime.timedelta(seconds=1)
        iterator = croniter(self.cron, start, day_or=self.day_or)
        last = _instant(moment)
        while True:
            wall = iterator.get_next(datetime.datetime)
            next_date = _localize(wall, tz)
            # Dropped: times not after `after`, and the duplicates a gap's shift creates.
            if _instant(next_date) <= last:
                continue
            if self._is_past_end(next_date):
                return
            last = _instant(next_date)
            yield self._event(next_date)


class DatesClock(Clock):
    """Fires on a fixed list of dates.

    Its `start_date` and `end_date` are the earliest and the latest of them.

    Args:
        dates: the moments to fire at (naive ones are taken as UTC)
        parameter_defaults: parameter values attached to every event
        labels: flow run labels attached to every event

    Raises:
        ValueError: if ``dates`` is empty
    """

    def __init__(
        self,
        dates: list[datetime.datetime],
        parameter_defaults: dict | None = None,
        labels: list[str] | None = None,
    ) -> None:
        moments = [_to_pendulum(d) for d in dates]
        if not moments:
            raise ValueError("DatesClock needs at least one date.")
        self.dates = moments
        super().__init__(
            start_date=min(moments),
            end_date=max(moments),
            parameter_defaults=parameter_defaults,
            labels=labels,
        )

    def events(self, after: datetime.datetime | None = None) -> Iterator[ClockEvent]:
        """The clock's dates strictly after ``after`` (default: now), in time order.

        Args:
            after: the moment to look past

        Returns:
            an iterator of `ClockEvent`s
        """
        floor = _instant(pendulum.now("UTC") if after is None else _to_pendulum(after))
        for date in sorted(self.dates, key=_instant):
            if _instant(date) <= floor:
                continue
            floor = _instant(date)
            yield self._event(date)


def _rule_is_naive(rule: Any) -> bool:
    """Whether a dateutil rule (or rule set) works in naive datetimes."""
    dtstart = getattr(rule, "_dtstart", None)
    if dtstart is not None:
        return bool(dtstart.tzinfo is None)
    for sub_rule in list(getattr(rule, "_rrule", [])) + list(getattr(rule, "_exrule", [])):
        return _rule_is_naive(sub_rule)
    for date in list(getattr(rule, "_rdate", [])) + list(getattr(rule, "_exdate", [])):
        return bool(date.tzinfo is None)
    return True


class RRuleClock(Clock):
    """Fires on the occurrences of a `dateutil.rrule` rule or rule set.

    A rule with naive datetimes is read in the time zone of ``start_date`` (UTC without one).

    Args:
        rrule_obj: a `dateutil.rrule.rrule` or `rruleset`
        start_date: no events before this moment
        end_date: no events after this moment
        parameter_defaults: parameter values attached to every event
        labels: flow run labels attached to every event

    Raises:
        TypeError: if ``rrule_obj`` is not a dateutil rule
    """

    def __init__(
        self,
        rrule_obj: rrule.rrulebase,
        start_date: datetime.datetime | None = None,
        end_date: datetime.datetime | None = None,
        parameter_defaults: dict | None = None,
        labels: list[str] | None = None,
    ) -> None:
        from dateutil import rrule

        if not isinstance(rrule_obj, rrule.rrulebase):
            raise TypeError(f"Invalid rrule object: {rrule_obj!r}")
        self.rrule_obj = rrule_obj
        super().__init__(
            start_date=start_date,
            end_date=end_date,
            parameter_defaults=parameter_defaults,
            labels=labels,
        )

    def events(self, after: datetime.datetime | None = None) -> Iterator[ClockEvent]:
        """The rule's occurrences strictly after ``after`` (default: now), in time order.

        Args:
            after: the moment to look past

        Returns:
            an iterator of `ClockEvent`s
        """
        tz = self.start_date.tzinfo if self.start_date is not None else pendulum.UTC
        moment = self._after(after)
        naive = _rule_is_naive(self.rrule_obj)
        if naive:
            local = moment.in_tz(tz)  # type: ignore[arg-type]
            shift = abs(local.utcoffset() - local.subtract(days=1).utcoffset())  # type: ignore[operator]
            occurrences = self.rrule_obj.xafter(_naive(local) - shift, inc=True)
        else:
            occurrences = self.rrule_obj.xafter(moment, inc=False)
        last = _instant(moment)
        for occurrence in occurrences:
            next_date = _localize(occurrence, tz) if naive else _to_pendulum(occurrence)
            if _instant(next_date) <= last:
                continue
            if self._is_past_end(next_date):
                return
            last = _instant(next_date)
            yield self._event(next_date)
