from __future__ import annotations

import datetime

import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from prefect.schedules import filters

NEW_YORK = "America/New_York"


class TestOnDatetime:
    def test_matches_exactly(self):
        when = pendulum.datetime(2020, 1, 1, 12)
        keep = filters.on_datetime(when)
        assert keep(when)
        assert keep(when.in_tz(NEW_YORK))
        assert not keep(when.add(microseconds=1))

    def test_accepts_iso_text_and_naive_utc(self):
        keep = filters.on_datetime("2020-01-01T12:00:00+00:00")
        assert keep(pendulum.datetime(2020, 1, 1, 12))
        assert filters.on_datetime(datetime.datetime(2020, 1, 1))(pendulum.datetime(2020, 1, 1))

    def test_repeated_wall_time_matches_the_same_instant_only(self):
        first = pendulum.datetime(2018, 11, 4, 5, 30).in_tz(NEW_YORK)  # 01:30 EDT
        second = pendulum.datetime(2018, 11, 4, 6, 30).in_tz(NEW_YORK)  # 01:30 EST
        assert filters.on_datetime(first)(first)
        assert not filters.on_datetime(first)(second)
        assert filters.on_datetime(pendulum.datetime(2018, 11, 4, 6, 30))(second)

    def test_rejects_non_datetimes(self):
        with pytest.raises(TypeError):
            filters.on_datetime(5)


class TestBetweenDatetimes:
    def test_inclusive_bounds(self):
        start, end = pendulum.datetime(2020, 1, 1), pendulum.datetime(2020, 1, 2)
        keep = filters.between_datetimes(start, end)
        assert keep(start) and keep(end) and keep(start.add(hours=5))
        assert not keep(start.subtract(microseconds=1))
        assert not keep(end.add(microseconds=1))

    def test_compares_instants_across_time_zones(self):
        keep = filters.between_datetimes(
            pendulum.datetime(2020, 1, 1, 12), pendulum.datetime(2020, 1, 1, 13)
        )
        assert keep(pendulum.datetime(2020, 1, 1, 7, 30, tz=NEW_YORK))
        assert not keep(pendulum.datetime(2020, 1, 1, 12, 30, tz=NEW_YORK))


class TestOnDate:
    def test_any_year(self):
        keep = filters.on_date(3, 15)
        assert keep(pendulum.datetime(2019, 3, 15, 23))
        assert keep(pendulum.datetime(2030, 3, 15))
        assert not keep(pendulum.datetime(2019, 3, 16))
        assert not keep(pendulum.datetime(2019, 4, 15))

    def test_leap_day(self):
        keep = filters.on_date(2, 29)
        assert keep(pendulum.datetime(2024, 2, 29))
        assert not keep(pendulum.datetime(2023, 2, 28))
        assert not keep(pendulum.datetime(2023, 3, 1))

    def test_uses_the_wall_clock_date(self):
        moment = pendulum.datetime(2020, 3, 16, 2)  # 22:00 on the 15th in New York
        assert filters.on_date(3, 15)(moment.in_tz(NEW_YORK))
        assert not filters.on_date(3, 15)(moment)


class TestBetweenDates:
    def test_inclusive_range(self):
        keep = filters.between_dates(3, 1, 3, 31)
        assert keep(pendulum.datetime(2020, 3, 1))
        assert keep(pendulum.datetime(2020, 3, 31, 23, 59))
        assert not keep(pendulum.datetime(2020, 2, 29))
        assert not keep(pendulum.datetime(2020, 4, 1))

    def test_range_wrapping_the_new_year(self):
        keep = filters.between_dates(12, 15, 1, 15)
        assert keep(pendulum.datetime(2020, 12, 20))
        assert keep(pendulum.datetime(2021, 1, 10))
        assert keep(pendulum.datetime(2021, 1, 15))
        assert not keep(pendulum.datetime(2021, 1, 16))
        assert not keep(pendulum.datetime(2020, 12, 14))

    @given(st.dates(), st.integers(1, 12), st.integers(1, 28))
    def test_single_day_range_is_on_date(self, date, month, day):
        moment = pendulum.datetime(date.year, date.month, date.day)
        assert filters.between_dates(month, day, month, day)(moment) == filters.on_date(month, day)(
            moment
        )


class TestAtTime:
    def test_matches_the_wall_clock_time(self):
        keep = filters.at_time(datetime.time(9, 30))
        assert keep(pendulum.datetime(2020, 1, 1, 9, 30))
        assert keep(pendulum.datetime(2020, 7, 4, 9, 30, tz=NEW_YORK))
        assert not keep(pendulum.datetime(2020, 1, 1, 9, 30, 1))

    def test_accepts_iso_text(self):
        assert filters.at_time("09:30:00")(pendulum.datetime(2020, 1, 1, 9, 30))

    def test_rejects_non_times(self):
        with pytest.raises(TypeError):
            filters.at_time(9)


class TestBetweenTimes:
    def test_inclusive_range(self):
        keep = filters.between_times(datetime.time(9), datetime.time(17))
        assert keep(pendulum.datetime(2020, 1, 1, 9))
        assert keep(pendulum.datetime(2020, 1, 1, 17))
        assert not keep(pendulum.datetime(2020, 1, 1, 17, 0, 1))
        assert not keep(pendulum.datetime(2020, 1, 1, 8, 59))

    def test_range_wrapping_midnight(self):
        keep = filters.between_times(datetime.time(22), datetime.time(2))
        assert keep(pendulum.datetime(2020, 1, 1, 23))
        assert keep(pendulum.datetime(2020, 1, 1, 1))
        assert not keep(pendulum.datetime(2020, 1, 1, 12))

    def test_local_wall_time(self):
        keep = filters.between_times(datetime.time(9), datetime.time(10))
        assert keep(pendulum.datetime(2020, 1, 1, 9, 30, tz=NEW_YORK))
        assert not keep(pendulum.datetime(2020, 1, 1, 9, 30, tz=NEW_YORK).in_tz("UTC"))


class TestDayPredicates:
    @pytest.mark.parametrize(
        ("day", "weekday"),
        [(6, True), (7, True), (10, True), (11, False), (12, False)],  # 2020-01-06 is a Monday
    )
    def test_weekday_and_weekend(self, day, weekday):
        moment = pendulum.datetime(2020, 1, day)
        assert filters.is_weekday(moment) is weekday
        assert filters.is_weekend(moment) is not weekday

    @pytest.mark.parametrize(
        ("date", "expected"),
        [
            ((2020, 1, 31), True),
            ((2020, 2, 28), False),
            ((2020, 2, 29), True),
            ((2021, 2, 28), True),
            ((2020, 4, 30), True),
            ((2020, 12, 31), True),
            ((2020, 12, 1), False),
        ],
    )
    def test_is_month_end(self, date, expected):
        assert filters.is_month_end(pendulum.datetime(*date, 12)) is expected

    def test_is_month_start(self):
        assert filters.is_month_start(pendulum.datetime(2020, 3, 1, 23))
        assert not filters.is_month_start(pendulum.datetime(2020, 3, 2))

    def test_is_day_of_week(self):
        monday = pendulum.datetime(2020, 1, 6)
        assert filters.is_day_of_week(0)(monday)
        assert not filters.is_day_of_week(1)(monday)
        assert filters.is_day_of_week(6)(monday.add(days=6))

    def test_plain_datetimes_work_too(self):
        assert filters.is_weekday(datetime.datetime(2020, 1, 6))
        assert filters.is_month_end(datetime.datetime(2020, 2, 29))
