"""Schedules: when flows run.

A `Schedule` combines clocks (`prefect.schedules.clocks`: intervals, cron expressions, fixed
dates, dateutil rules), filters (`prefect.schedules.filters`) and adjustments
(`prefect.schedules.adjustments`). `IntervalSchedule`, `CronSchedule` and `RRuleSchedule`
build a schedule with one clock.
"""

import prefect.schedules.adjustments
import prefect.schedules.clocks
import prefect.schedules.filters
import prefect.schedules.schedules
from prefect.schedules.schedules import CronSchedule, IntervalSchedule, RRuleSchedule, Schedule

__all__ = ["CronSchedule", "IntervalSchedule", "RRuleSchedule", "Schedule"]
