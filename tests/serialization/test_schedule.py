from __future__ import annotations

import datetime
import json
from datetime import timedelta
from typing import Any

import pendulum
import pytest
from dateutil import rrule
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

import prefect
from prefect.schedules import Schedule, adjustments, clocks, filters
from prefect.serialization.schedule import (
    ClockSchema,
    CronClockSchema,
    DatesClockSchema,
    IntervalClockSchema,
    RRuleBaseSchema,
    RRuleClockSchema,
    RRuleSchema,
    RRuleSetSchema,
    ScheduleSchema,
)
from prefect.utilities.serialization import ObjectSchema, OneOfSchema

AFTER = pendulum.datetime(2020, 1, 1)
V = prefect.__version__


def round_trip(schedule: Schedule) -> Schedule:
    """Dump, go through JSON text, load."""
    text = json.dumps(ScheduleSchema().dump(schedule))
    loaded = ScheduleSchema().load(json.loads(text))
    assert isinstance(loaded, Schedule)
    return loaded


def same_clock(a: clocks.Clock, b: clocks.Clock) -> None:
    assert type(a) is type(b)
    assert a.start_date == b.start_date and a.end_date == b.end_date
    if a.start_date is not None:
        assert a.start_date.timezone_name == b.start_date.timezone_name
    assert a.parameter_defaults == b.parameter_defaults
    assert a.labels == b.labels


def test_schema_bases():
    for schema in (
        IntervalClockSchema,
        CronClockSchema,
        DatesClockSchema,
        RRuleSchema,
        RRuleSetSchema,
        RRuleClockSchema,
        ScheduleSchema,
    ):
        assert issubclass(schema, ObjectSchema)
    assert issubclass(ClockSchema, OneOfSchema)
    assert issubclass(RRuleBaseSchema, OneOfSchema)


def test_module_is_bound_on_the_serialization_package():
    import prefect.serialization

    assert prefect.serialization.schedule.ScheduleSchema is ScheduleSchema


# --- golden JSON (server-protocol.md 5.6) ------------------------------------------------------


def test_golden_interval_clock_schedule():
    schedule = Schedule(
        clocks=[
            clocks.IntervalClock(
                timedelta(hours=1),
                start_date=pendulum.datetime(2020, 1, 1, 9, tz="America/New_York"),
                parameter_defaults={"x": 1},
                labels=["dev"],
            )
        ]
    )
    assert ScheduleSchema().dump(schedule) == {
        "__version__": V,
        "clocks": [
            {
                "__version__": V,
                "type": "IntervalClock",
                "interval": 3_600_000_000,
                "start_date": {"dt": "2020-01-01T09:00:00", "tz": "America/New_York"},
                "end_date": None,
                "parameter_defaults": {"x": 1},
                "labels": ["dev"],
            }
        ],
        "filters": [],
        "or_filters": [],
        "not_filters": [],
        "adjustments": [],
    }


def test_golden_cron_clock_schedule():
    schedule = Schedule(
        clocks=[
            clocks.CronClock(
                "0 9 * * 1-5",
                start_date=pendulum.datetime(2021, 6, 1),
                end_date=pendulum.datetime(2022, 6, 1, 12, 30),
            )
        ],
        filters=[filters.is_weekday],
        not_filters=[filters.on_date(12, 25)],
        adjustments=[adjustments.next_weekday],
    )
    assert ScheduleSchema().dump(schedule) == {
        "__version__": V,
        "clocks": [
            {
                "__version__": V,
                "type": "CronClock",
                "cron": "0 9 * * 1-5",
                "day_or": True,
                "start_date": {"dt": "2021-06-01T00:00:00", "tz": "UTC"},
                "end_date": {"dt": "2022-06-01T12:30:00", "tz": "UTC"},
                "parameter_defaults": {},
                "labels": None,
            }
        ],
        "filters": [{"fn": "prefect.schedules.filters.is_weekday", "kwargs": {}}],
        "or_filters": [],
        "not_filters": [
            {"fn": "prefect.schedules.filters.on_date", "kwargs": {"month": 12, "day": 25}}
        ],
        "adjustments": [{"fn": "prefect.schedules.adjustments.next_weekday", "kwargs": {}}],
    }


def test_golden_dates_clock_schedule():
    schedule = Schedule(
        clocks=[
            clocks.DatesClock(
                [
                    pendulum.datetime(2030, 1, 1, 8, tz="Europe/Berlin"),
                    pendulum.datetime(2030, 2, 1),
                ],
                parameter_defaults={"who": "you"},
                labels=["a", "b"],
            )
        ]
    )
    assert ScheduleSchema().dump(schedule)["clocks"] == [
        {
            "__version__": V,
            "type": "DatesClock",
            "dates": [
                {"dt": "2030-01-01T08:00:00", "tz": "Europe/Berlin"},
                {"dt": "2030-02-01T00:00:00", "tz": "UTC"},
            ],
            "parameter_defaults": {"who": "you"},
            "labels": ["a", "b"],
        }
    ]


def test_golden_rrule_clock_schedule():
    rule = rrule.rrule(
        rrule.MONTHLY, dtstart=datetime.datetime(2020, 1, 31, 6), bymonthday=-1, count=12
    )
    schedule = Schedule(clocks=[clocks.RRuleClock(rule)])
    (clock,) = ScheduleSchema().dump(schedule)["clocks"]
    assert clock == {
        "__version__": V,
        "type": "RRuleClock",
        "rrule_obj": {
            "__version__": V,
            "type": "rrule",
            "freq": rrule.MONTHLY,
            "dtstart": {"dt": "2020-01-31T06:00:00", "tz": None},
            "interval": 1,
            "wkst": 0,
            "count": 12,
            "until": None,
            "bysetpos": None,
            "bymonth": None,
            "bymonthday": [-1],
            "byyearday": None,
            "byeaster": None,
            "byweekno": None,
            "byweekday": None,
            "byhour": None,
            "byminute": None,
            "bysecond": None,
        },
        "start_date": None,
        "end_date": None,
        "parameter_defaults": {},
        "labels": None,
    }


def test_loads_the_server_written_form_with_a_type_key():
    data = {
        "type": "Schedule",
        "clocks": [
            {"type": "CronClock", "cron": "0 * * * *", "parameter_defaults": {"x": 2}},
            {
                "type": "IntervalClock",
                "interval": 7_200_000_000,
                "start_date": {"dt": "2020-01-01T00:00:00", "tz": "UTC"},
            },
        ],
    }
    schedule = ScheduleSchema().load(data)
    assert isinstance(schedule, Schedule)
    cron, interval = schedule.clocks
    assert cron.cron == "0 * * * *" and cron.parameter_defaults == {"x": 2}
    assert interval.interval == timedelta(hours=2)
    assert schedule.filters == [] and schedule.adjustments == []
    assert schedule.next(2, after=AFTER) == [AFTER.add(hours=1), AFTER.add(hours=2)]


def test_loads_output_of_an_older_or_newer_writer():
    data = {
        "__version__": "1.4.1",
        "clocks": [
            {
                "__version__": "1.4.1",
                "type": "IntervalClock",
                "interval": 60_000_000,
                "start_date": None,
                "end_date": None,
                "parameter_defaults": {},
                "labels": None,
                "some_future_field": 1,
            }
        ],
        "filters": [],
        "or_filters": [],
        "not_filters": [],
        "adjustments": [],
    }
    (clock,) = ScheduleSchema().load(data).clocks
    assert clock.interval == timedelta(minutes=1)


# --- round trips ------------------------------------------------------------------------------


def test_interval_clock_round_trip():
    clock = clocks.IntervalClock(
        timedelta(days=1, minutes=5),
        start_date=pendulum.datetime(2018, 3, 1, 9, tz="America/New_York"),
        end_date=pendulum.datetime(2019, 1, 1),
        parameter_defaults={"a": [1, 2], "b": None},
        labels=["x"],
    )
    (loaded,) = round_trip(Schedule([clock])).clocks
    same_clock(clock, loaded)
    assert loaded.interval == clock.interval
    assert list(loaded.events(after=AFTER.subtract(years=3))) == list(
        clock.events(after=AFTER.subtract(years=3))
    )


def test_cron_clock_round_trip():
    clock = clocks.CronClock(
        "0 0 1 * 1",
        start_date=pendulum.datetime(2020, 1, 1, tz="Europe/London"),
        parameter_defaults={"p": "q"},
        labels=["l1", "l2"],
        day_or=False,
    )
    (loaded,) = round_trip(Schedule([clock])).clocks
    same_clock(clock, loaded)
    assert loaded.cron == clock.cron and loaded.day_or is False
    assert Schedule([loaded]).next(3, after=AFTER) == Schedule([clock]).next(3, after=AFTER)


def test_dates_clock_round_trip():
    dates = [pendulum.datetime(2030, 1, 1, tz="Asia/Kolkata"), pendulum.datetime(2031, 5, 5)]
    clock = clocks.DatesClock(dates, parameter_defaults={"n": 3})
    (loaded,) = round_trip(Schedule([clock])).clocks
    same_clock(clock, loaded)
    assert loaded.dates == dates
    assert [d.timezone_name for d in loaded.dates] == ["Asia/Kolkata", "UTC"]


@pytest.mark.parametrize(
    "rule",
    [
        rrule.rrule(rrule.DAILY, dtstart=datetime.datetime(2020, 1, 1, 9, 30)),
        rrule.rrule(
            rrule.WEEKLY,
            dtstart=pendulum.datetime(2020, 1, 1, 9, tz="Europe/Paris"),
            byweekday=(rrule.MO, rrule.WE),
            until=pendulum.datetime(2021, 1, 1),
        ),
        rrule.rrule(
            rrule.MONTHLY,
            dtstart=datetime.datetime(2020, 1, 1),
            byweekday=(rrule.FR(-1), rrule.MO(1)),
            byhour=(8, 20),
            byminute=15,
            interval=2,
        ),
        rrule.rrule(rrule.YEARLY, dtstart=datetime.datetime(2020, 2, 29), bymonth=2, bymonthday=29),
        rrule.rrule(rrule.HOURLY, dtstart=datetime.datetime(2020, 1, 1), bysetpos=1, byhour=(1, 5)),
        rrule.rrule(rrule.YEARLY, dtstart=datetime.datetime(2020, 1, 1), byeaster=0),
        rrule.rrule(rrule.YEARLY, dtstart=datetime.datetime(2020, 1, 1), byweekno=(1, 20)),
        rrule.rrule(rrule.YEARLY, dtstart=datetime.datetime(2020, 1, 1), byyearday=(100, 200)),
    ],
    ids=["daily", "weekly-aware", "monthly-nth", "leap", "setpos", "easter", "weekno", "yearday"],
)
def test_rrule_clock_round_trip(rule):
    clock = clocks.RRuleClock(
        rule, start_date=pendulum.datetime(2020, 1, 1, tz="America/Chicago"), labels=["r"]
    )
    (loaded,) = round_trip(Schedule([clock])).clocks
    same_clock(clock, loaded)
    assert isinstance(loaded.rrule_obj, rrule.rrule)
    assert str(loaded.rrule_obj) == str(rule)
    assert Schedule([loaded]).next(8, after=AFTER) == Schedule([clock]).next(8, after=AFTER)


def test_rruleset_round_trip():
    rule_set = rrule.rruleset()
    rule_set.rrule(rrule.rrule(rrule.DAILY, dtstart=datetime.datetime(2020, 1, 1, 9)))
    rule_set.exrule(
        rrule.rrule(rrule.WEEKLY, dtstart=datetime.datetime(2020, 1, 4, 9), byweekday=rrule.SA)
    )
    rule_set.rdate(datetime.datetime(2020, 1, 2, 17))
    rule_set.exdate(datetime.datetime(2020, 1, 3, 9))
    clock = clocks.RRuleClock(rule_set)
    dumped = ScheduleSchema().dump(Schedule([clock]))
    assert dumped["clocks"][0]["rrule_obj"]["type"] == "rruleset"
    (loaded,) = round_trip(Schedule([clock])).clocks
    assert isinstance(loaded.rrule_obj, rrule.rruleset)
    expected = Schedule([clock]).next(6, after=AFTER)
    assert Schedule([loaded]).next(6, after=AFTER) == expected
    assert [(t.day, t.hour) for t in expected] == [(1, 9), (2, 9), (2, 17), (5, 9), (6, 9), (7, 9)]


def test_schedule_with_every_filter_and_adjustment_round_trip():
    schedule = Schedule(
        clocks=[
            clocks.IntervalClock(timedelta(minutes=30), start_date=AFTER),
            clocks.CronClock("15 * * * *", parameter_defaults={"c": 1}),
        ],
        filters=[
            filters.between_datetimes(AFTER, AFTER.add(years=1)),
            filters.between_times(datetime.time(8), datetime.time(18, 30)),
            filters.between_dates(1, 1, 11, 30),
            filters.is_weekday,
        ],
        or_filters=[
            filters.is_day_of_week(0),
            filters.is_day_of_week(2),
            filters.on_date(1, 3),
            filters.is_month_start,
            filters.is_month_end,
        ],
        not_filters=[
            filters.on_datetime(AFTER.add(hours=8)),
            filters.at_time(datetime.time(9)),
            filters.is_weekend,
        ],
        adjustments=[adjustments.add(timedelta(minutes=1, seconds=0.5)), adjustments.next_weekday],
    )
    dumped = ScheduleSchema().dump(schedule)
    json.dumps(dumped)  # JSON-compatible throughout
    assert dumped["filters"][0] == {
        "fn": "prefect.schedules.filters.between_datetimes",
        "kwargs": {"start": "2020-01-01T00:00:00+00:00", "end": "2021-01-01T00:00:00+00:00"},
    }
    assert dumped["filters"][1]["kwargs"] == {"start": "08:00:00", "end": "18:30:00"}
    assert dumped["adjustments"][0] == {
        "fn": "prefect.schedules.adjustments.add",
        "kwargs": {"interval": 60.5},
    }
    loaded = round_trip(schedule)
    assert [len(x) for x in (loaded.filters, loaded.or_filters, loaded.not_filters)] == [4, 5, 3]
    assert loaded.next(20, after=AFTER, return_events=True) == schedule.next(
        20, after=AFTER, return_events=True
    )
    assert ScheduleSchema().dump(loaded) == dumped


@settings(max_examples=30)
@given(
    seconds=st.integers(min_value=60, max_value=10**9),
    microseconds=st.integers(min_value=0, max_value=999_999),
    start=st.none()
    | st.datetimes(
        min_value=datetime.datetime(1990, 1, 1), max_value=datetime.datetime(2100, 1, 1)
    ),
    tz=st.sampled_from(["UTC", "America/New_York", "Europe/Berlin", "Asia/Kathmandu"]),
    parameter_defaults=st.dictionaries(
        st.text(max_size=5), st.none() | st.integers() | st.text(max_size=5), max_size=3
    ),
    labels=st.none() | st.lists(st.text(max_size=5), max_size=3),
)
def test_interval_clock_round_trip_property(
    seconds, microseconds, start, tz, parameter_defaults, labels
):
    clock = clocks.IntervalClock(
        timedelta(seconds=seconds, microseconds=microseconds),
        start_date=None if start is None else pendulum.instance(start, tz=tz),
        parameter_defaults=parameter_defaults,
        labels=labels,
    )
    (loaded,) = round_trip(Schedule([clock])).clocks
    same_clock(clock, loaded)
    assert loaded.interval == clock.interval


@settings(max_examples=30)
@given(
    minute=st.sampled_from(["0", "*/5", "15,45", "*"]),
    hour=st.sampled_from(["*", "9", "1-3", "*/6"]),
    dom=st.sampled_from(["*", "1", "29", "L"]),
    dow=st.sampled_from(["*", "1-5", "0", "sat"]),
    day_or=st.booleans(),
    tz=st.sampled_from(["UTC", "America/New_York", "Australia/Sydney"]),
)
def test_cron_clock_round_trip_property(minute, hour, dom, dow, day_or, tz):
    cron = f"{minute} {hour} {dom} * {dow}"
    clock = clocks.CronClock(cron, start_date=pendulum.datetime(2020, 1, 1, tz=tz), day_or=day_or)
    (loaded,) = round_trip(Schedule([clock])).clocks
    same_clock(clock, loaded)
    assert (loaded.cron, loaded.day_or) == (cron, day_or)
    assert Schedule([loaded]).next(3, after=AFTER) == Schedule([clock]).next(3, after=AFTER)


def test_load_without_creating_objects():
    data = ScheduleSchema().dump(Schedule([clocks.CronClock("0 * * * *")]))
    plain = ScheduleSchema().load(data, create_object=False)
    assert isinstance(plain, dict)
    assert isinstance(plain["clocks"][0], clocks.CronClock)


def test_clock_schema_alone():
    clock = clocks.CronClock("0 * * * *")
    data = ClockSchema().dump(clock)
    assert data["type"] == "CronClock"
    assert isinstance(ClockSchema().load(data), clocks.CronClock)


# --- errors -----------------------------------------------------------------------------------


def test_unknown_clock_type_names_it():
    data = {"clocks": [{"type": "SundialClock", "shadow": 3}]}
    with pytest.raises(ValidationError, match="SundialClock"):
        ScheduleSchema().load(data)
    with pytest.raises(ValidationError, match="Unknown clock type 'SundialClock'"):
        ClockSchema().load({"type": "SundialClock"})


def test_missing_clock_type():
    with pytest.raises(ValidationError, match="Missing data"):
        ClockSchema().load({"cron": "0 * * * *"})


def test_invalid_cron_in_json_raises():
    with pytest.raises(ValueError, match="Invalid cron string"):
        ClockSchema().load({"type": "CronClock", "cron": "nope"})


def test_interval_in_json_must_be_a_number():
    with pytest.raises(ValidationError, match="microseconds"):
        ClockSchema().load({"type": "IntervalClock", "interval": "1h"})


def test_interval_shorter_than_a_minute_cannot_be_serialized():
    clock = clocks.IntervalClock(timedelta(seconds=59))
    with pytest.raises(ValueError, match="less than one minute"):
        ScheduleSchema().dump(Schedule([clock]))
    ScheduleSchema().dump(Schedule([clocks.IntervalClock(timedelta(seconds=60))]))


def test_custom_filter_functions_are_rejected():
    def my_filter(dt: Any) -> bool:
        return True

    with pytest.raises(ValidationError, match="Invalid function reference"):
        ScheduleSchema().dump(Schedule([clocks.CronClock("0 * * * *")], filters=[my_filter]))


def test_unknown_filter_name_in_json_is_rejected():
    data = {"clocks": [], "filters": [{"fn": "os.system", "kwargs": {"command": "true"}}]}
    with pytest.raises(ValidationError, match="Invalid function reference"):
        ScheduleSchema().load(data)


def test_adjustment_is_not_a_filter():
    data = {"clocks": [], "filters": [{"fn": "prefect.schedules.adjustments.next_weekday"}]}
    with pytest.raises(ValidationError):
        ScheduleSchema().load(data)


def test_bad_date_in_json():
    with pytest.raises(ValidationError, match="Not a valid datetime"):
        ClockSchema().load(
            {"type": "CronClock", "cron": "0 * * * *", "start_date": {"dt": "yesterday"}}
        )
