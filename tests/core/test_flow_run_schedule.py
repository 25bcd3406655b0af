"""`flow.run()` on a schedule: one run per schedule event, with the event's parameter defaults."""

from __future__ import annotations

import time
from datetime import timedelta

import pendulum

import prefect
from prefect import Flow, Parameter, task
from prefect.engine.state import Success
from prefect.schedules import Schedule, clocks


def make_flow(schedule: Schedule | None, calls: list) -> Flow:
    @task
    def record(x):
        calls.append((x, pendulum.now("UTC")))
        return x

    with Flow("scheduled", schedule=schedule) as flow:
        record(Parameter("x", default=0))
    return flow


# Dates of a schedule are in the near future, a second apart: a date that has passed when the
# flow looks for its next event is skipped, so the first one must still be ahead when
# `flow.run()` starts, and the second when the first run has ended, even on a loaded machine
# (a few tenths of a second of margin are not enough there).
FIRST_DATE_IN = 1.0
DATES_APART = 1.0


def two_near_dates(**kwargs) -> tuple[Schedule, list[pendulum.DateTime]]:
    now = pendulum.now("UTC")
    dates = [now.add(seconds=FIRST_DATE_IN), now.add(seconds=FIRST_DATE_IN + DATES_APART)]
    return Schedule(clocks=[clocks.DatesClock(dates, **kwargs)]), dates


def a_daily_schedule_next_due_in_12_hours() -> Schedule:
    start = pendulum.now("UTC").add(hours=12)
    return Schedule(clocks=[clocks.IntervalClock(timedelta(days=1), start_date=start)])


def test_run_on_schedule_false_runs_once_now():
    calls: list = []
    flow = make_flow(a_daily_schedule_next_due_in_12_hours(), calls)
    started = time.monotonic()
    state = flow.run(run_on_schedule=False)
    assert isinstance(state, Success)
    assert [x for x, _ in calls] == [0]
    assert time.monotonic() - started < 60  # did not wait 12 hours for the next event


def test_config_can_turn_off_running_on_schedule():
    calls: list = []
    schedule = a_daily_schedule_next_due_in_12_hours()
    flow = make_flow(schedule, calls)
    prefect.config.flows.run_on_schedule = False
    assert flow.run().is_successful()
    assert len(calls) == 1


def test_dates_clock_runs_once_per_date_then_stops():
    calls: list = []
    schedule, dates = two_near_dates()
    flow = make_flow(schedule, calls)
    state = flow.run()
    assert state.is_successful()
    assert [x for x, _ in calls] == [0, 0]
    # Each run waited for its date.
    for (_, ran_at), date in zip(calls, dates):
        assert ran_at >= date


def test_scheduled_runs_use_the_event_parameter_defaults():
    calls: list = []
    now = pendulum.now("UTC")
    first = now.add(seconds=FIRST_DATE_IN)
    second = first.add(seconds=DATES_APART)
    schedule = Schedule(
        clocks=[
            clocks.DatesClock([first], parameter_defaults={"x": 1}),
            clocks.DatesClock([second], parameter_defaults={"x": 2}),
        ]
    )
    flow = make_flow(schedule, calls)
    flow.run()
    assert [x for x, _ in calls] == [1, 2]


def test_schedule_with_only_past_events_does_not_run():
    calls: list = []
    schedule = Schedule(clocks=[clocks.DatesClock([pendulum.datetime(2000, 1, 1)])])
    flow = make_flow(schedule, calls)
    flow.run()
    assert calls == []


def test_flow_without_schedule_runs_once():
    calls: list = []
    flow = make_flow(None, calls)
    assert flow.run().is_successful()
    assert len(calls) == 1


def test_run_on_an_exhausted_schedule_returns_the_last_run_state():
    calls: list = []
    schedule, _ = two_near_dates()
    flow = make_flow(schedule, calls)
    state = flow.run()
    assert len(calls) == 2
    assert isinstance(state, Success)


def test_each_scheduled_run_sees_its_event_time_as_scheduled_start_time():
    seen: list = []

    @task
    def record_start_time():
        seen.append(prefect.context.scheduled_start_time)

    schedule, dates = two_near_dates()
    with Flow("scheduled", schedule=schedule) as flow:
        record_start_time()
    flow.run()
    assert seen == dates
