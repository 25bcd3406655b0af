from __future__ import annotations

import datetime
from datetime import timedelta

import pendulum
import pytest
from dateutil import rrule

import prefect
from prefect import schedules
from prefect.schedules import adjustments, clocks, filters
from prefect.schedules.clocks import ClockEvent
from prefect.schedules.schedules import Schedule

START = pendulum.datetime(2020, 1, 1)  # a Wednesday


def hourly(**kwargs) -> clocks.IntervalClock:
    return clocks.IntervalClock(timedelta(hours=1), start_date=START, **kwargs)


class TestSchedule:
    def test_package_exports(self):
        assert schedules.Schedule is Schedule
        assert prefect.schedules.clocks is clocks
        assert prefect.schedules.filters is filters
        assert prefect.schedules.adjustments is adjustments
        assert sorted(schedules.__all__) == [
            "CronSchedule",
            "IntervalSchedule",
            "RRuleSchedule",
            "Schedule",
        ]

    def test_defaults(self):
        schedule = Schedule(clocks=[hourly()])
        assert len(schedule.clocks) == 1
        assert schedule.filters == []
        assert schedule.or_filters == []
        assert schedule.not_filters == []
        assert schedule.adjustments == []

    @pytest.mark.parametrize("bad", [None, 5, clocks.IntervalClock(timedelta(hours=1))])
    def test_clocks_must_be_a_list(self, bad):
        with pytest.raises(TypeError, match="list of clocks"):
            Schedule(clocks=bad)

    def test_no_clocks_no_events(self):
        assert Schedule(clocks=[]).next(3) == []

    def test_next_returns_datetimes(self):
        schedule = Schedule(clocks=[hourly()])
        assert schedule.next(3, after=START) == [
            START.add(hours=1),
            START.add(hours=2),
            START.add(hours=3),
        ]
        assert all(isinstance(t, pendulum.DateTime) for t in schedule.next(3))

    def test_next_zero(self):
        assert Schedule(clocks=[hourly()]).next(0) == []

    def test_next_default_after_is_now(self):
        now = pendulum.now("UTC")
        (first,) = Schedule(clocks=[hourly()]).next(1)
        # The clock reads the time after `now`: an hour may turn in between.
        assert now < first <= pendulum.now("UTC").add(hours=1)

    def test_next_returns_events_with_parameters_and_labels(self):
        schedule = Schedule(clocks=[hourly(parameter_defaults={"x": 1}, labels=["dev"])])
        events = schedule.next(2, after=START, return_events=True)
        assert all(isinstance(e, ClockEvent) for e in events)
        assert [e.start_time for e in events] == [START.add(hours=1), START.add(hours=2)]
        assert all(e.parameter_defaults == {"x": 1} and e.labels == ["dev"] for e in events)

    def test_clocks_are_merged_in_order(self):
        schedule = Schedule(
            clocks=[
                clocks.IntervalClock(timedelta(hours=3), start_date=START),
                clocks.IntervalClock(timedelta(hours=2), start_date=START),
            ]
        )
        result = schedule.next(5, after=START)
        assert [t.hour for t in result] == [2, 3, 4, 6, 8]

    def test_equal_events_of_different_clocks_are_deduplicated(self):
        schedule = Schedule(
            clocks=[
                clocks.IntervalClock(timedelta(hours=1), start_date=START),
                clocks.CronClock("0 * * * *"),
                clocks.DatesClock([START.add(hours=1).in_tz("Asia/Tokyo")]),
            ]
        )
        assert schedule.next(3, after=START) == [
            START.add(hours=1),
            START.add(hours=2),
            START.add(hours=3),
        ]

    def test_same_time_with_different_parameters_gives_both_events(self):
        schedule = Schedule(
            clocks=[
                hourly(parameter_defaults={"x": 1}),
                hourly(parameter_defaults={"x": 2}),
                hourly(parameter_defaults={"x": 1}),
            ]
        )
        events = schedule.next(4, after=START, return_events=True)
        assert [(e.start_time.hour, e.parameter_defaults["x"]) for e in events] == [
            (1, 1),
            (1, 2),
            (2, 1),
            (2, 2),
        ]

    def test_same_time_with_different_labels_gives_both_events(self):
        schedule = Schedule(clocks=[hourly(labels=["a"]), hourly(labels=["b"])])
        events = schedule.next(2, after=START, return_events=True)
        assert [e.labels for e in events] == [["a"], ["b"]]

    def test_filters_must_all_pass(self):
        schedule = Schedule(
            clocks=[hourly()],
            filters=[
                filters.between_times(datetime.time(9), datetime.time(17)),
                filters.is_weekend,
            ],
        )
        result = schedule.next(2, after=START)
        assert result == [pendulum.datetime(2020, 1, 4, 9), pendulum.datetime(2020, 1, 4, 10)]

    def test_one_or_filter_must_pass(self):
        schedule = Schedule(
            clocks=[hourly()],
            or_filters=[filters.at_time(datetime.time(3)), filters.at_time(datetime.time(5))],
        )
        assert [t.hour for t in schedule.next(3, after=START)] == [3, 5, 3]

    def test_no_not_filter_may_pass(self):
        schedule = Schedule(
            clocks=[clocks.IntervalClock(timedelta(days=1), start_date=START)],
            not_filters=[filters.is_weekend, filters.on_date(1, 7)],
        )
        assert [t.day for t in schedule.next(5, after=START)] == [2, 3, 6, 8, 9]

    def test_all_kinds_of_filters_together(self):
        schedule = Schedule(
            clocks=[clocks.IntervalClock(timedelta(days=1), start_date=START)],
            filters=[filters.is_weekday],
            or_filters=[filters.is_month_start, filters.is_month_end],
            not_filters=[filters.between_dates(12, 1, 12, 31)],
        )
        result = schedule.next(4, after=START.subtract(days=1))
        assert [(t.month, t.day) for t in result] == [(1, 1), (1, 31), (3, 31), (4, 1)]

    def test_adjustments_apply_in_order_after_filters(self):
        schedule = Schedule(
            clocks=[clocks.IntervalClock(timedelta(days=1), start_date=START)],
            filters=[filters.is_weekend],
            adjustments=[adjustments.add(timedelta(hours=2)), adjustments.next_weekday],
        )
        result = schedule.next(2, after=START)
        # Saturday 4th and Sunday 5th both move to Monday 6th, 02:00.
        assert result == [pendulum.datetime(2020, 1, 6, 2)] * 2

    def test_adjusted_events_keep_parameters(self):
        schedule = Schedule(
            clocks=[hourly(parameter_defaults={"p": 3})],
            adjustments=[adjustments.add(timedelta(minutes=30))],
        )
        (event,) = schedule.next(1, after=START, return_events=True)
        assert event.start_time == START.add(hours=1, minutes=30)
        assert event.parameter_defaults == {"p": 3}

    def test_next_does_not_change_the_clock_events(self):
        clock = hourly()
        schedule = Schedule(clocks=[clock], adjustments=[adjustments.add(timedelta(minutes=1))])
        schedule.next(1, after=START)
        assert schedule.next(1, after=START) == [START.add(hours=1, minutes=1)]

    def test_finite_clocks_run_out(self):
        dates = [START.add(days=1), START.add(days=2)]
        schedule = Schedule(clocks=[clocks.DatesClock(dates)])
        assert schedule.next(5, after=START) == dates

    def test_filters_that_never_pass_stop_after_a_bounded_search(self):
        schedule = Schedule(clocks=[hourly()], filters=[lambda dt: False])
        assert schedule.next(1, after=START) == []

    def test_filter_found_far_ahead_within_the_search_limit(self):
        # Daily events; the next 29 February is up to four years (~1461 events) away.
        schedule = Schedule(
            clocks=[clocks.IntervalClock(timedelta(days=1), start_date=START)],
            filters=[filters.on_date(2, 29)],
        )
        result = schedule.next(2, after=pendulum.datetime(2020, 3, 1))
        assert result == [pendulum.datetime(2024, 2, 29), pendulum.datetime(2028, 2, 29)]

    def test_naive_after_is_utc(self):
        schedule = Schedule(clocks=[hourly()])
        assert schedule.next(1, after=datetime.datetime(2020, 1, 1, 5)) == [START.add(hours=6)]

    def test_start_and_end_dates(self):
        schedule = Schedule(
            clocks=[
                clocks.IntervalClock(timedelta(hours=1), start_date=START.add(days=1)),
                clocks.IntervalClock(
                    timedelta(hours=1), start_date=START, end_date=START.add(days=5)
                ),
                clocks.CronClock("0 * * * *", end_date=START.add(days=3)),
            ]
        )
        assert schedule.start_date == START
        assert schedule.end_date == START.add(days=5)

    def test_start_and_end_dates_are_none_without_any(self):
        schedule = Schedule(clocks=[clocks.CronClock("0 * * * *")])
        assert schedule.start_date is None
        assert schedule.end_date is None

    def test_dst_is_handled_across_clocks(self):
        ny = "America/New_York"
        schedule = Schedule(
            clocks=[
                clocks.CronClock("0 9 * * *", start_date=pendulum.datetime(2018, 1, 1, tz=ny)),
                clocks.IntervalClock(
                    timedelta(days=1), start_date=pendulum.datetime(2018, 1, 1, 12, tz=ny)
                ),
            ]
        )
        result = schedule.next(4, after=pendulum.datetime(2018, 3, 10, tz=ny))
        assert [t.in_tz(ny).hour for t in result] == [9, 12, 9, 12]
        assert [t.in_tz("UTC").hour for t in result] == [14, 17, 13, 16]


class TestHelpers:
    def test_interval_schedule(self):
        schedule = schedules.IntervalSchedule(
            start_date=START, interval=timedelta(hours=1), end_date=START.add(hours=2)
        )
        assert isinstance(schedule, Schedule)
        (clock,) = schedule.clocks
        assert isinstance(clock, clocks.IntervalClock)
        assert clock.interval == timedelta(hours=1)
        assert schedule.start_date == START and schedule.end_date == START.add(hours=2)
        assert schedule.next(5, after=START) == [START.add(hours=1), START.add(hours=2)]

    def test_interval_schedule_needs_an_interval(self):
        with pytest.raises(TypeError):
            schedules.IntervalSchedule(start_date=START)
        with pytest.raises(ValueError):
            schedules.IntervalSchedule(interval=timedelta(0))

    def test_cron_schedule(self):
        schedule = schedules.CronSchedule("0 0 1 * 1", start_date=START, day_or=False)
        (clock,) = schedule.clocks
        assert isinstance(clock, clocks.CronClock)
        assert clock.day_or is False
        assert schedule.next(1, after=START) == [pendulum.datetime(2020, 6, 1)]

    def test_cron_schedule_invalid(self):
        with pytest.raises(ValueError, match="Invalid cron string"):
            schedules.CronSchedule("not a cron")

    def test_rrule_schedule(self):
        rule = rrule.rrule(rrule.MONTHLY, dtstart=datetime.datetime(2020, 1, 31), bymonthday=-1)
        schedule = schedules.RRuleSchedule(rule, end_date=pendulum.datetime(2020, 4, 30))
        (clock,) = schedule.clocks
        assert isinstance(clock, clocks.RRuleClock) and clock.rrule_obj is rule
        result = schedule.next(10, after=pendulum.datetime(2020, 1, 1))
        assert [(t.month, t.day) for t in result] == [(1, 31), (2, 29), (3, 31), (4, 30)]
