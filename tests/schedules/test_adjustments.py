from __future__ import annotations

import datetime
from datetime import timedelta

import pendulum
import pytest

from prefect.schedules import adjustments

NEW_YORK = "America/New_York"


class TestAdd:
    @pytest.mark.parametrize(
        "interval", [timedelta(hours=1), timedelta(days=2, minutes=3), timedelta(seconds=-30)]
    )
    def test_adds_the_interval(self, interval):
        moment = pendulum.datetime(2020, 1, 1)
        assert adjustments.add(interval)(moment) == moment + interval

    def test_result_is_pendulum_even_for_plain_datetimes(self):
        result = adjustments.add(timedelta(hours=1))(datetime.datetime(2020, 1, 1))
        assert isinstance(result, pendulum.DateTime)
        assert result == pendulum.datetime(2020, 1, 1, 1)

    def test_whole_days_keep_the_wall_clock_across_dst(self):
        moment = pendulum.datetime(2018, 3, 10, 9, tz=NEW_YORK)
        result = adjustments.add(timedelta(days=1))(moment)
        assert result.in_tz(NEW_YORK).hour == 9
        assert (result - moment).in_hours() == 23

    def test_hours_are_absolute_across_dst(self):
        moment = pendulum.datetime(2018, 3, 11, 1, tz=NEW_YORK)
        result = adjustments.add(timedelta(hours=1))(moment)
        assert result.in_tz(NEW_YORK).hour == 3

    def test_accepts_seconds(self):
        assert adjustments.add(90)(pendulum.datetime(2020, 1, 1)) == pendulum.datetime(
            2020, 1, 1, 0, 1, 30
        )

    def test_rejects_other_values(self):
        with pytest.raises(TypeError):
            adjustments.add("1 hour")


class TestNextWeekday:
    @pytest.mark.parametrize(
        ("day", "expected_day"),
        [(3, 3), (4, 6), (5, 6), (6, 6), (7, 7)],  # 2020-01-04 is a Saturday
    )
    def test_moves_weekends_to_monday(self, day, expected_day):
        moment = pendulum.datetime(2020, 1, day, 14, 30)
        result = adjustments.next_weekday(moment)
        assert result == pendulum.datetime(2020, 1, expected_day, 14, 30)

    def test_keeps_the_wall_clock_time_and_zone(self):
        saturday = pendulum.datetime(2018, 11, 3, 9, tz=NEW_YORK)  # DST ends on the Sunday
        result = adjustments.next_weekday(saturday)
        assert result.timezone_name == NEW_YORK
        assert (result.day, result.hour) == (5, 9)
