from __future__ import annotations

import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prefect.utilities.datetimes import _now_utc, retry_delay


def test_first_retry_waits_the_base_delay():
    assert retry_delay(1) == datetime.timedelta(seconds=1)
    assert retry_delay(1, base_delay=datetime.timedelta(minutes=2)) == datetime.timedelta(minutes=2)


def test_each_retry_waits_multiplier_times_longer():
    delays = [retry_delay(n, base_delay=3, multiplier=2) for n in range(1, 5)]
    assert delays == [datetime.timedelta(seconds=s) for s in (3, 6, 12, 24)]


def test_multiplier_one_gives_a_constant_delay():
    assert {retry_delay(n, base_delay=5, multiplier=1) for n in range(1, 10)} == {
        datetime.timedelta(seconds=5)
    }


def test_max_delay_caps_the_growth():
    assert retry_delay(10, base_delay=1, max_delay=60) == datetime.timedelta(seconds=60)
    assert retry_delay(10, max_delay=datetime.timedelta(seconds=30)) == datetime.timedelta(
        seconds=30
    )


def test_enormous_attempts_saturate_instead_of_overflowing():
    assert retry_delay(10**6) == datetime.timedelta.max


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"attempt": 0}, "attempt counts retries from 1"),
        ({"attempt": 1, "base_delay": -1}, "cannot be negative"),
        ({"attempt": 1, "max_delay": -1}, "cannot be negative"),
        ({"attempt": 1, "multiplier": 0.5}, "multiplier must be at least 1"),
    ],
)
def test_invalid_arguments_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        retry_delay(**kwargs)


@settings(deadline=None, max_examples=100)
@given(
    attempt=st.integers(min_value=1, max_value=200),
    base=st.floats(min_value=0, max_value=1e4),
    multiplier=st.floats(min_value=1, max_value=10),
    cap=st.none() | st.floats(min_value=0, max_value=1e6),
)
def test_delays_never_shrink_and_respect_the_cap(attempt, base, multiplier, cap):
    current = retry_delay(attempt, base, multiplier, cap)
    following = retry_delay(attempt + 1, base, multiplier, cap)
    assert following >= current >= datetime.timedelta(0)
    if cap is not None:
        assert current <= datetime.timedelta(seconds=cap)


def test_now_utc_is_an_aware_pendulum_datetime_in_utc():
    import pendulum

    before = datetime.datetime.now(datetime.timezone.utc)
    now = _now_utc()
    after = datetime.datetime.now(datetime.timezone.utc)
    assert isinstance(now, pendulum.DateTime)
    assert now.timezone_name == "UTC"
    assert before <= now <= after
