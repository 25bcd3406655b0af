from __future__ import annotations

import datetime
from datetime import timedelta
from itertools import islice

import pendulum
import pytest
from dateutil import rrule
from hypothesis import given, settings
from hypothesis import strategies as st

from prefect.schedules import clocks
from prefect.schedules.clocks import ClockEvent

NEW_YORK = "America/New_York"
LONDON = "Europe/London"
BERLIN = "Europe/Berlin"


def times(clock: clocks.Clock, after: datetime.datetime, n: int) -> list[pendulum.DateTime]:
    return [event.start_time for event in islice(clock.events(after=after), n)]


def local_hours(values: list[pendulum.DateTime], tz: str) -> list[int]:
    return [value.in_tz(tz).hour for value in values]


def utc_hours(values: list[pendulum.DateTime]) -> list[int]:
    return [value.in_tz("UTC").hour for value in values]


# --- ClockEvent -------------------------------------------------------------------------------


class TestClockEvent:
    def test_defaults(self):
        when = pendulum.datetime(2020, 1, 1)
        event = ClockEvent(when)
        assert event.start_time == when
        assert event.parameter_defaults == {}
        assert event.labels is None

    def test_equal_to_a_datetime_with_the_same_start_time(self):
        when = pendulum.datetime(2020, 1, 1)
        assert ClockEvent(when, parameter_defaults={"x": 1}) == when
        assert ClockEvent(when) != when.add(seconds=1)

    def test_equality_between_events_includes_parameters_and_labels(self):
        when = pendulum.datetime(2020, 1, 1)
        assert ClockEvent(when, {"x": 1}, ["a"]) == ClockEvent(when, {"x": 1}, ["a"])
        assert ClockEvent(when, {"x": 1}) != ClockEvent(when, {"x": 2})
        assert ClockEvent(when, labels=["a"]) != ClockEvent(when, labels=["b"])
        assert ClockEvent(when) != "2020-01-01"

    def test_equal_instants_in_different_time_zones_are_equal(self):
        utc = pendulum.datetime(2020, 1, 1, 12)
        assert ClockEvent(utc) == ClockEvent(utc.in_tz(NEW_YORK))
        assert hash(ClockEvent(utc)) == hash(ClockEvent(utc.in_tz(NEW_YORK)))

    def test_ordering_by_start_time_against_events_and_datetimes(self):
        early = pendulum.datetime(2020, 1, 1)
        late = early.add(hours=1)
        assert ClockEvent(early) < ClockEvent(late)
        assert ClockEvent(late) > ClockEvent(early)
        assert ClockEvent(early) < late
        assert ClockEvent(late) > early
        assert not ClockEvent(early) < early
        assert sorted([ClockEvent(late), ClockEvent(early)]) == [early, late]


# --- Clock base -------------------------------------------------------------------------------


class TestClock:
    def test_base_clock_has_no_events(self):
        with pytest.raises(NotImplementedError):
            list(clocks.Clock().events())

    def test_dates_become_pendulum_and_naive_ones_are_utc(self):
        clock = clocks.Clock(
            start_date=datetime.datetime(2020, 1, 1), end_date=datetime.datetime(2021, 1, 1)
        )
        assert isinstance(clock.start_date, pendulum.DateTime)
        assert clock.start_date == pendulum.datetime(2020, 1, 1, tz="UTC")
        assert clock.end_date == pendulum.datetime(2021, 1, 1, tz="UTC")

    def test_defaults(self):
        clock = clocks.Clock()
        assert clock.start_date is None and clock.end_date is None
        assert clock.parameter_defaults == {}
        assert clock.labels is None


# --- IntervalClock ----------------------------------------------------------------------------


class TestIntervalClock:
    @pytest.mark.parametrize("interval", [timedelta(0), timedelta(seconds=-1), -timedelta(days=1)])
    def test_interval_must_be_positive(self, interval):
        with pytest.raises(ValueError, match="greater than 0"):
            clocks.IntervalClock(interval)

    @pytest.mark.parametrize("interval", [None, 60, "1 hour"])
    def test_interval_must_be_a_timedelta(self, interval):
        with pytest.raises(TypeError, match="timedelta"):
            clocks.IntervalClock(interval)

    def test_attributes(self):
        start = pendulum.datetime(2020, 1, 1)
        clock = clocks.IntervalClock(
            timedelta(hours=1), start, parameter_defaults={"x": 1}, labels=["dev"]
        )
        assert clock.interval == timedelta(hours=1)
        assert clock.start_date == start
        assert clock.parameter_defaults == {"x": 1}
        assert clock.labels == ["dev"]

    def test_events_from_start_date(self):
        start = pendulum.datetime(2018, 1, 1)
        clock = clocks.IntervalClock(timedelta(days=1), start_date=start)
        assert times(clock, start.subtract(days=1), 3) == [
            start,
            start.add(days=1),
            start.add(days=2),
        ]

    def test_events_are_strictly_after_after(self):
        start = pendulum.datetime(2018, 1, 1)
        clock = clocks.IntervalClock(timedelta(days=1), start_date=start)
        assert times(clock, start, 2) == [start.add(days=1), start.add(days=2)]
        after = start.add(days=2, hours=5)
        assert times(clock, after, 2) == [start.add(days=3), start.add(days=4)]

    def test_events_carry_parameter_defaults_and_labels(self):
        clock = clocks.IntervalClock(
            timedelta(hours=1), parameter_defaults={"x": 1}, labels=["dev", "staging"]
        )
        events = list(islice(clock.events(), 3))
        assert all(e.parameter_defaults == {"x": 1} for e in events)
        assert all(e.labels == ["dev", "staging"] for e in events)

    def test_without_start_date_anchors_at_2019_utc(self):
        clock = clocks.IntervalClock(timedelta(hours=7))
        after = pendulum.datetime(2019, 1, 2)
        # 2019-01-01 00:00 + 7h * k: 21:00 on Jan 1, then 04:00 and 11:00 on Jan 2.
        assert times(clock, after, 2) == [
            pendulum.datetime(2019, 1, 2, 4),
            pendulum.datetime(2019, 1, 2, 11),
        ]

    def test_default_after_is_now(self):
        clock = clocks.IntervalClock(timedelta(minutes=1))
        before = pendulum.now("UTC")
        first = next(iter(clock.events())).start_time
        assert before < first <= pendulum.now("UTC").add(minutes=1)
        assert first.second == 0 and first.microsecond == 0

    def test_start_date_in_the_future_is_the_first_event(self):
        start = pendulum.now("UTC").add(days=3).replace(microsecond=0)
        clock = clocks.IntervalClock(timedelta(hours=1), start_date=start)
        assert next(iter(clock.events())).start_time == start

    def test_end_date_is_inclusive(self):
        start = pendulum.datetime(2018, 1, 1)
        clock = clocks.IntervalClock(
            timedelta(days=1), start_date=start, end_date=start.add(days=2)
        )
        assert times(clock, start.subtract(seconds=1), 10) == [
            start,
            start.add(days=1),
            start.add(days=2),
        ]

    def test_end_date_in_the_past_gives_no_events(self):
        clock = clocks.IntervalClock(
            timedelta(hours=1),
            start_date=pendulum.datetime(2018, 1, 1),
            end_date=pendulum.datetime(2018, 1, 2),
        )
        assert list(clock.events()) == []

    def test_events_keep_the_start_date_time_zone(self):
        start = pendulum.datetime(2020, 1, 1, 9, tz=BERLIN)
        clock = clocks.IntervalClock(timedelta(hours=12), start_date=start)
        assert all(t.timezone_name == BERLIN for t in times(clock, start, 3))

    def test_far_future_after_is_fast_and_exact(self):
        start = pendulum.datetime(2000, 1, 1)
        clock = clocks.IntervalClock(timedelta(seconds=61), start_date=start)
        after = pendulum.datetime(2100, 1, 1)
        (first,) = times(clock, after, 1)
        assert after < first <= after.add(seconds=61)
        assert ((first - start).in_seconds()) % 61 == 0

    def test_microsecond_intervals(self):
        start = pendulum.datetime(2020, 1, 1)
        clock = clocks.IntervalClock(timedelta(microseconds=1), start_date=start)
        assert times(clock, start, 2) == [
            start.add(microseconds=1),
            start.add(microseconds=2),
        ]

    # Daylight saving time: daily intervals keep the wall clock, shorter ones absolute time.

    def test_daily_interval_keeps_wall_clock_across_us_spring_change(self):
        start = pendulum.datetime(2018, 3, 9, 9, tz=NEW_YORK)
        clock = clocks.IntervalClock(timedelta(days=1), start_date=start)
        result = times(clock, start.subtract(seconds=1), 4)
        assert local_hours(result, NEW_YORK) == [9, 9, 9, 9]
        assert utc_hours(result) == [14, 14, 13, 13]

    def test_daily_interval_keeps_wall_clock_across_us_autumn_change(self):
        start = pendulum.datetime(2018, 11, 2, 9, tz=NEW_YORK)
        clock = clocks.IntervalClock(timedelta(days=1), start_date=start)
        result = times(clock, start.subtract(seconds=1), 4)
        assert local_hours(result, NEW_YORK) == [9, 9, 9, 9]
        assert utc_hours(result) == [13, 13, 14, 14]

    def test_daily_interval_keeps_wall_clock_across_europe_spring_change(self):
        start = pendulum.datetime(2021, 3, 27, 9, tz=LONDON)
        clock = clocks.IntervalClock(timedelta(days=1), start_date=start)
        result = times(clock, start.subtract(seconds=1), 3)
        assert local_hours(result, LONDON) == [9, 9, 9]
        assert utc_hours(result) == [9, 8, 8]

    def test_daily_interval_keeps_wall_clock_across_europe_autumn_change(self):
        start = pendulum.datetime(2021, 10, 30, 9, tz=BERLIN)
        clock = clocks.IntervalClock(timedelta(days=1), start_date=start)
        result = times(clock, start.subtract(seconds=1), 3)
        assert local_hours(result, BERLIN) == [9, 9, 9]
        assert utc_hours(result) == [7, 8, 8]

    def test_weekly_interval_keeps_wall_clock_across_a_change(self):
        start = pendulum.datetime(2021, 3, 22, 18, tz=BERLIN)
        clock = clocks.IntervalClock(timedelta(weeks=1), start_date=start)
        result = times(clock, start, 2)
        assert [(t.in_tz(BERLIN).day, t.in_tz(BERLIN).hour) for t in result] == [(29, 18), (5, 18)]

    def test_daily_interval_at_a_skipped_wall_time_moves_forward_that_day_only(self):
        start = pendulum.datetime(2018, 3, 10, 2, 30, tz=NEW_YORK)
        clock = clocks.IntervalClock(timedelta(days=1), start_date=start)
        result = [t.in_tz(NEW_YORK) for t in times(clock, start.subtract(seconds=1), 3)]
        assert [(t.day, t.hour, t.minute) for t in result] == [
            (10, 2, 30),
            (11, 3, 30),
            (12, 2, 30),
        ]

    def test_daily_interval_at_a_repeated_wall_time_uses_the_first_occurrence(self):
        start = pendulum.datetime(2018, 11, 3, 1, 30, tz=NEW_YORK)
        clock = clocks.IntervalClock(timedelta(days=1), start_date=start)
        result = times(clock, start, 1)
        # Python never finds a repeated wall time equal to a time in another zone: use UTC.
        assert [t.in_tz("UTC") for t in result] == [pendulum.datetime(2018, 11, 4, 5, 30)]

    def test_hourly_interval_is_absolute_across_us_spring_change(self):
        start = pendulum.datetime(2018, 3, 11, tz=NEW_YORK)
        clock = clocks.IntervalClock(timedelta(hours=1), start_date=start)
        result = times(clock, start, 4)
        assert local_hours(result, NEW_YORK) == [1, 3, 4, 5]
        assert utc_hours(result) == [6, 7, 8, 9]

    def test_hourly_interval_is_absolute_across_us_autumn_change(self):
        start = pendulum.datetime(2018, 11, 4, tz=NEW_YORK)
        clock = clocks.IntervalClock(timedelta(hours=1), start_date=start)
        result = times(clock, start, 4)
        assert local_hours(result, NEW_YORK) == [1, 1, 2, 3]
        assert utc_hours(result) == [5, 6, 7, 8]

    def test_hourly_interval_is_absolute_across_europe_changes(self):
        spring = pendulum.datetime(2021, 3, 28, tz=BERLIN)
        result = times(clocks.IntervalClock(timedelta(hours=1), start_date=spring), spring, 3)
        assert local_hours(result, BERLIN) == [1, 3, 4]
        autumn = pendulum.datetime(2021, 10, 31, 1, tz=BERLIN)
        result = times(clocks.IntervalClock(timedelta(hours=1), start_date=autumn), autumn, 3)
        assert local_hours(result, BERLIN) == [2, 2, 3]

    def test_twelve_hour_interval_is_absolute_not_wall_clock(self):
        start = pendulum.datetime(2018, 3, 10, 12, tz=NEW_YORK)
        clock = clocks.IntervalClock(timedelta(hours=12), start_date=start)
        result = times(clock, start, 3)
        assert local_hours(result, NEW_YORK) == [0, 13, 1]

    # Leap days.

    def test_daily_interval_passes_through_a_leap_day(self):
        start = pendulum.datetime(2020, 2, 27, 12)
        clock = clocks.IntervalClock(timedelta(days=1), start_date=start)
        result = times(clock, start, 3)
        assert [(t.month, t.day) for t in result] == [(2, 28), (2, 29), (3, 1)]

    def test_interval_starting_on_a_leap_day(self):
        start = pendulum.datetime(2024, 2, 29, 6)
        clock = clocks.IntervalClock(timedelta(days=365), start_date=start)
        result = times(clock, start, 2)
        assert [t.date() for t in result] == [
            datetime.date(2025, 2, 28),
            datetime.date(2026, 2, 28),
        ]

    @settings(max_examples=30)
    @given(
        start=st.datetimes(
            min_value=datetime.datetime(2000, 1, 1), max_value=datetime.datetime(2030, 1, 1)
        ),
        seconds=st.integers(min_value=1, max_value=10 * 86400),
        tz=st.sampled_from(["UTC", NEW_YORK, BERLIN, "Australia/Lord_Howe", "Asia/Kolkata"]),
        offset_hours=st.integers(min_value=-1000, max_value=100_000),
    )
    def test_events_after_a_later_moment_are_the_tail_of_earlier_ones(
        self, start, seconds, tz, offset_hours
    ):
        anchor = pendulum.instance(start, tz=tz)
        clock = clocks.IntervalClock(timedelta(seconds=seconds), start_date=anchor)
        after = anchor.add(hours=offset_hours)
        first = times(clock, after, 3)
        assert all(t > after for t in first)
        assert first == sorted(first) and len(set(first)) == 3
        # From just before the first event, the same events come back.
        assert times(clock, first[0].subtract(microseconds=1), 3) == first
        assert times(clock, first[0], 2) == first[1:]


# --- CronClock --------------------------------------------------------------------------------


class TestCronClock:
    @pytest.mark.parametrize("cron", ["bad", "* * *", "61 * * * *", "0 25 * * *", ""])
    def test_invalid_cron_raises_value_error_naming_it(self, cron):
        with pytest.raises(ValueError, match="Invalid cron string") as info:
            clocks.CronClock(cron)
        assert repr(cron) in str(info.value)

    def test_attributes_and_day_or_default(self):
        clock = clocks.CronClock("0 9 * * *", labels=["a"], parameter_defaults={"y": 2})
        assert clock.cron == "0 9 * * *"
        assert clock.day_or is True
        assert clock.labels == ["a"] and clock.parameter_defaults == {"y": 2}
        assert clocks.CronClock("0 9 * * *", day_or=False).day_or is False

    def test_events(self):
        clock = clocks.CronClock("*/15 * * * *")
        after = pendulum.datetime(2020, 1, 1, 10, 7)
        assert times(clock, after, 3) == [
            pendulum.datetime(2020, 1, 1, 10, 15),
            pendulum.datetime(2020, 1, 1, 10, 30),
            pendulum.datetime(2020, 1, 1, 10, 45),
        ]

    def test_events_are_strictly_after_after(self):
        clock = clocks.CronClock("0 * * * *")
        after = pendulum.datetime(2020, 1, 1, 10)
        assert times(clock, after, 1) == [pendulum.datetime(2020, 1, 1, 11)]

    def test_default_after_is_now(self):
        clock = clocks.CronClock("* * * * *")
        before = pendulum.now("UTC")
        first = next(iter(clock.events())).start_time
        # The time read after the clock did bounds it: a minute may turn since `before`.
        assert before < first <= pendulum.now("UTC").add(minutes=1)

    def test_start_date_is_an_event_when_it_matches(self):
        start = pendulum.datetime(2030, 1, 1, 9)
        clock = clocks.CronClock("0 9 * * *", start_date=start)
        assert times(clock, pendulum.datetime(2020, 1, 1), 2) == [start, start.add(days=1)]

    def test_no_events_before_start_date(self):
        start = pendulum.datetime(2030, 1, 1, 9, 30)
        clock = clocks.CronClock("0 * * * *", start_date=start)
        assert times(clock, pendulum.datetime(2020, 1, 1), 1) == [start.add(minutes=30)]

    def test_end_date_is_inclusive(self):
        clock = clocks.CronClock(
            "0 0 * * *",
            start_date=pendulum.datetime(2020, 1, 1),
            end_date=pendulum.datetime(2020, 1, 3),
        )
        assert times(clock, pendulum.datetime(2019, 1, 1), 10) == [
            pendulum.datetime(2020, 1, 1),
            pendulum.datetime(2020, 1, 2),
            pendulum.datetime(2020, 1, 3),
        ]

    def test_events_carry_parameter_defaults_and_labels(self):
        clock = clocks.CronClock("0 * * * *", parameter_defaults={"x": 1}, labels=["l"])
        events = list(islice(clock.events(), 2))
        assert all(e.parameter_defaults == {"x": 1} and e.labels == ["l"] for e in events)

    def test_day_or(self):
        # The 1st of the month or a Monday (standard cron) vs. a Monday that is the 1st.
        after = pendulum.datetime(2020, 1, 1)
        either = clocks.CronClock("0 0 1 * 1", day_or=True)
        both = clocks.CronClock("0 0 1 * 1", day_or=False)
        assert [t.day for t in times(either, after, 3)] == [6, 13, 20]
        assert times(both, after, 2) == [
            pendulum.datetime(2020, 6, 1),
            pendulum.datetime(2021, 2, 1),
        ]

    def test_cron_is_read_in_the_start_date_time_zone(self):
        start = pendulum.datetime(2020, 1, 1, tz="Asia/Tokyo")
        clock = clocks.CronClock("0 9 * * *", start_date=start)
        (first,) = times(clock, start, 1)
        assert first == pendulum.datetime(2020, 1, 1, 0)  # 09:00 in Tokyo
        assert first.timezone_name == "Asia/Tokyo"

    def test_after_in_another_time_zone(self):
        start = pendulum.datetime(2020, 1, 1, tz=NEW_YORK)
        clock = clocks.CronClock("0 9 * * *", start_date=start)
        after = pendulum.datetime(2020, 6, 1, 12, tz="Asia/Tokyo")  # 23:00 NY on May 31
        assert times(clock, after, 1) == [pendulum.datetime(2020, 6, 1, 9, tz=NEW_YORK)]

    def test_fixed_offset_time_zone(self):
        start = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone(timedelta(hours=5)))
        clock = clocks.CronClock("30 6 * * *", start_date=start)
        (first,) = times(clock, start, 1)
        assert first == pendulum.datetime(2020, 1, 1, 1, 30)

    # Daylight saving time.

    def test_daily_cron_keeps_wall_clock_across_us_spring_change(self):
        start = pendulum.datetime(2018, 3, 9, tz=NEW_YORK)
        clock = clocks.CronClock("0 9 * * *", start_date=start)
        result = times(clock, start, 4)
        assert local_hours(result, NEW_YORK) == [9, 9, 9, 9]
        assert utc_hours(result) == [14, 14, 13, 13]

    def test_daily_cron_keeps_wall_clock_across_us_autumn_change(self):
        start = pendulum.datetime(2018, 11, 2, tz=NEW_YORK)
        clock = clocks.CronClock("0 9 * * *", start_date=start)
        result = times(clock, start, 4)
        assert local_hours(result, NEW_YORK) == [9, 9, 9, 9]
        assert utc_hours(result) == [13, 13, 14, 14]

    def test_daily_cron_keeps_wall_clock_across_europe_changes(self):
        spring = pendulum.datetime(2021, 3, 27, tz=LONDON)
        result = times(clocks.CronClock("0 9 * * *", start_date=spring), spring, 3)
        assert local_hours(result, LONDON) == [9, 9, 9]
        assert utc_hours(result) == [9, 8, 8]
        autumn = pendulum.datetime(2021, 10, 30, tz=BERLIN)
        result = times(clocks.CronClock("0 9 * * *", start_date=autumn), autumn, 3)
        assert local_hours(result, BERLIN) == [9, 9, 9]
        assert utc_hours(result) == [7, 8, 8]

    def test_hourly_cron_skips_the_missing_hour_in_spring(self):
        start = pendulum.datetime(2018, 3, 11, tz=NEW_YORK)
        clock = clocks.CronClock("0 * * * *", start_date=start)
        result = times(clock, start, 4)
        assert local_hours(result, NEW_YORK) == [1, 3, 4, 5]
        assert utc_hours(result) == [6, 7, 8, 9]

    def test_hourly_cron_fires_the_repeated_hour_once_in_autumn(self):
        start = pendulum.datetime(2018, 11, 3, 23, tz=NEW_YORK)
        clock = clocks.CronClock("0 * * * *", start_date=start)
        result = times(clock, start, 4)
        assert local_hours(result, NEW_YORK) == [0, 1, 2, 3]
        # Two hours pass between the (first) 1am run and the 2am run.
        assert utc_hours(result) == [4, 5, 7, 8]

    def test_hourly_cron_across_europe_changes(self):
        spring = pendulum.datetime(2021, 3, 28, tz=BERLIN)
        result = times(clocks.CronClock("0 * * * *", start_date=spring), spring, 3)
        assert local_hours(result, BERLIN) == [1, 3, 4]
        autumn = pendulum.datetime(2021, 10, 31, 1, tz=BERLIN)
        result = times(clocks.CronClock("0 * * * *", start_date=autumn), autumn, 3)
        assert local_hours(result, BERLIN) == [2, 3, 4]
        assert utc_hours(result) == [0, 2, 3]

    def test_daily_cron_at_a_skipped_time_fires_once_shifted(self):
        start = pendulum.datetime(2018, 3, 10, tz=NEW_YORK)
        clock = clocks.CronClock("30 2 * * *", start_date=start)
        result = [t.in_tz(NEW_YORK) for t in times(clock, start, 3)]
        assert [(t.day, t.hour, t.minute) for t in result] == [
            (10, 2, 30),
            (11, 3, 30),
            (12, 2, 30),
        ]

    def test_shifted_event_is_found_from_an_after_inside_the_shift(self):
        start = pendulum.datetime(2018, 3, 1, tz=NEW_YORK)
        clock = clocks.CronClock("30 2 * * *", start_date=start)
        after = pendulum.datetime(2018, 3, 11, 3, 10, tz=NEW_YORK)
        assert times(clock, after, 1) == [pendulum.datetime(2018, 3, 11, 3, 30, tz=NEW_YORK)]

    def test_cron_every_30_minutes_through_the_spring_gap_has_no_duplicates(self):
        start = pendulum.datetime(2018, 3, 11, 1, tz=NEW_YORK)
        clock = clocks.CronClock("0,30 * * * *", start_date=start)
        result = [t.in_tz(NEW_YORK) for t in times(clock, start, 4)]
        assert [(t.hour, t.minute) for t in result] == [(1, 30), (3, 0), (3, 30), (4, 0)]

    def test_daily_cron_at_a_repeated_time_fires_once(self):
        start = pendulum.datetime(2018, 11, 3, tz=NEW_YORK)
        clock = clocks.CronClock("30 1 * * *", start_date=start)
        result = times(clock, start, 3)
        assert utc_hours(result) == [5, 5, 6]
        assert [t.in_tz(NEW_YORK).day for t in result] == [3, 4, 5]

    # Leap days.

    def test_leap_day_cron(self):
        clock = clocks.CronClock("0 0 29 2 *")
        assert times(clock, pendulum.datetime(2021, 1, 1), 3) == [
            pendulum.datetime(2024, 2, 29),
            pendulum.datetime(2028, 2, 29),
            pendulum.datetime(2032, 2, 29),
        ]

    def test_month_end_cron_through_february_of_a_leap_year(self):
        clock = clocks.CronClock("0 12 28-31 2 *")
        result = times(clock, pendulum.datetime(2024, 2, 27), 3)
        assert [(t.year, t.month, t.day) for t in result] == [
            (2024, 2, 28),
            (2024, 2, 29),
            (2025, 2, 28),
        ]

    @settings(max_examples=30)
    @given(
        after=st.datetimes(
            min_value=datetime.datetime(2000, 1, 1), max_value=datetime.datetime(2040, 1, 1)
        ),
        tz=st.sampled_from(["UTC", NEW_YORK, BERLIN, "Australia/Lord_Howe"]),
        cron=st.sampled_from(["0 * * * *", "30 2 * * *", "*/20 1-3 * * *", "0 9 * * 1-5"]),
    )
    def test_cron_events_are_increasing_and_after_after(self, after, tz, cron):
        clock = clocks.CronClock(cron, start_date=pendulum.datetime(1999, 1, 1, tz=tz))
        moment = pendulum.instance(after, tz=tz)
        result = times(clock, moment, 4)
        assert all(t > moment for t in result)
        assert all(a < b for a, b in zip(result, result[1:]))
        assert times(clock, result[0], 3) == result[1:]


# --- DatesClock -------------------------------------------------------------------------------


class TestDatesClock:
    def test_events_are_the_dates_after_after_in_order(self):
        d1, d2, d3 = (pendulum.datetime(2030, 1, day) for day in (1, 2, 3))
        clock = clocks.DatesClock([d3, d1, d2])
        assert times(clock, pendulum.datetime(2030, 1, 1), 10) == [d2, d3]
        assert times(clock, pendulum.datetime(2020, 1, 1), 10) == [d1, d2, d3]

    def test_start_and_end_dates_are_the_extremes(self):
        d1, d2 = pendulum.datetime(2030, 1, 1), pendulum.datetime(2031, 1, 1)
        clock = clocks.DatesClock([d2, d1])
        assert clock.start_date == d1 and clock.end_date == d2

    def test_past_dates_give_no_events_by_default(self):
        assert list(clocks.DatesClock([pendulum.datetime(2000, 1, 1)]).events()) == []

    def test_duplicates_fire_once(self):
        d = pendulum.datetime(2030, 1, 1)
        clock = clocks.DatesClock([d, d.in_tz(NEW_YORK)])
        assert times(clock, pendulum.datetime(2020, 1, 1), 5) == [d]

    def test_naive_dates_are_utc(self):
        clock = clocks.DatesClock([datetime.datetime(2030, 1, 1)])
        assert clock.dates == [pendulum.datetime(2030, 1, 1, tz="UTC")]

    def test_parameter_defaults_and_labels(self):
        clock = clocks.DatesClock(
            [pendulum.datetime(2030, 1, 1)], parameter_defaults={"p": 1}, labels=["x"]
        )
        (event,) = clock.events(after=pendulum.datetime(2020, 1, 1))
        assert event.parameter_defaults == {"p": 1} and event.labels == ["x"]

    def test_empty_dates_raise(self):
        with pytest.raises(ValueError, match="at least one date"):
            clocks.DatesClock([])


# --- RRuleClock -------------------------------------------------------------------------------


class TestRRuleClock:
    def test_rejects_non_rules(self):
        with pytest.raises(TypeError, match="Invalid rrule object"):
            clocks.RRuleClock("FREQ=DAILY")

    def test_naive_rule_events_in_utc(self):
        rule = rrule.rrule(rrule.DAILY, dtstart=datetime.datetime(2020, 1, 1, 9))
        clock = clocks.RRuleClock(rule)
        assert times(clock, pendulum.datetime(2020, 1, 1, 9), 2) == [
            pendulum.datetime(2020, 1, 2, 9),
            pendulum.datetime(2020, 1, 3, 9),
        ]

    def test_naive_rule_is_read_in_the_start_date_time_zone_across_dst(self):
        rule = rrule.rrule(rrule.DAILY, dtstart=datetime.datetime(2018, 3, 1, 9))
        start = pendulum.datetime(2018, 3, 1, tz=NEW_YORK)
        clock = clocks.RRuleClock(rule, start_date=start)
        result = times(clock, pendulum.datetime(2018, 3, 10, tz=NEW_YORK), 3)
        assert local_hours(result, NEW_YORK) == [9, 9, 9]
        assert utc_hours(result) == [14, 13, 13]

    def test_aware_rule(self):
        rule = rrule.rrule(rrule.WEEKLY, dtstart=pendulum.datetime(2021, 10, 25, 9, tz=BERLIN))
        result = times(clocks.RRuleClock(rule), pendulum.datetime(2021, 10, 25, 9, tz=BERLIN), 2)
        assert local_hours(result, BERLIN) == [9, 9]
        assert result[0] == pendulum.datetime(2021, 11, 1, 8)

    def test_start_and_end_dates_bound_the_rule(self):
        rule = rrule.rrule(rrule.DAILY, dtstart=datetime.datetime(2020, 1, 1))
        clock = clocks.RRuleClock(
            rule,
            start_date=pendulum.datetime(2020, 1, 3),
            end_date=pendulum.datetime(2020, 1, 5),
        )
        assert [t.day for t in times(clock, pendulum.datetime(2019, 1, 1), 10)] == [3, 4, 5]

    def test_finite_rule_runs_out(self):
        rule = rrule.rrule(rrule.DAILY, dtstart=datetime.datetime(2020, 1, 1), count=3)
        assert len(times(clocks.RRuleClock(rule), pendulum.datetime(2019, 1, 1), 10)) == 3

    def test_rule_set(self):
        rule_set = rrule.rruleset()
        rule_set.rrule(rrule.rrule(rrule.DAILY, dtstart=datetime.datetime(2020, 1, 1), count=5))
        rule_set.exdate(datetime.datetime(2020, 1, 2))
        rule_set.rdate(datetime.datetime(2020, 1, 2, 12))
        result = times(clocks.RRuleClock(rule_set), pendulum.datetime(2019, 1, 1), 10)
        assert [(t.day, t.hour) for t in result] == [(1, 0), (2, 12), (3, 0), (4, 0), (5, 0)]

    def test_leap_day_yearly_rule(self):
        rule = rrule.rrule(
            rrule.YEARLY, dtstart=datetime.datetime(2020, 2, 29), bymonth=2, bymonthday=29
        )
        result = times(clocks.RRuleClock(rule), pendulum.datetime(2020, 3, 1), 2)
        assert result == [pendulum.datetime(2024, 2, 29), pendulum.datetime(2028, 2, 29)]
