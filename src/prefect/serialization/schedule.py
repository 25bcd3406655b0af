"""Schemas of schedules: the ``schedule`` key of a serialized flow.

A schedule dumps as ``{"__version__", "clocks": [...], "filters": [...], "or_filters": [...],
"not_filters": [...], "adjustments": [...]}`` (no ``"type"`` key; one is ignored on load, as
the server writes ``{"type": "Schedule", ...}``). Each clock carries its class name as
``"type"``, its start and end dates as ``{"dt": <naive ISO text>, "tz": <zone>}``, its
``parameter_defaults`` and ``labels``; an `IntervalClock`'s ``interval`` is an integer number
of microseconds. Filters and adjustments are the functions of `prefect.schedules.filters`
and `prefect.schedules.adjustments`, dumped as ``{"fn": <qualified name>, "kwargs": {...}}``
with JSON-compatible arguments (datetimes and times as ISO text, intervals as seconds).

A dateutil rule (`RRuleClock`) dumps as ``{"type": "rrule", ...}`` with the arguments of
`dateutil.rrule.rrule` as keys (weekdays as numbers, 0 = Monday, or ``[weekday, n]`` pairs
for "the n-th weekday"), or ``{"type": "rruleset", "rrules", "exrules", "rdates",
"exdates"}``. A rule's naive datetimes keep ``"tz": null``.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from typing import Any

from marshmallow import EXCLUDE, ValidationError, fields, post_load

from prefect.schedules import adjustments, clocks, filters, schedules
from prefect.utilities.serialization import (
    DateTimeTZ,
    JSONCompatible,
    ObjectSchema,
    OneOfSchema,
    StatefulFunctionReference,
)

__all__ = [
    "ClockSchema",
    "CronClockSchema",
    "DatesClockSchema",
    "IntervalClockSchema",
    "RRuleBaseSchema",
    "RRuleClockSchema",
    "RRuleSchema",
    "RRuleSetSchema",
    "ScheduleSchema",
]

# Prefect Cloud refused shorter intervals; 1.x refuses to serialize them.
_MIN_INTERVAL = datetime.timedelta(minutes=1)

_FILTERS: list[Callable[..., Any]] = [
    filters.on_datetime,
    filters.on_date,
    filters.at_time,
    filters.between_datetimes,
    filters.between_dates,
    filters.between_times,
    filters.is_weekday,
    filters.is_weekend,
    filters.is_month_end,
    filters.is_month_start,
    filters.is_day_of_week,
]
_ADJUSTMENTS: list[Callable[..., Any]] = [adjustments.add, adjustments.next_weekday]


def _parameter_defaults() -> fields.Dict:
    return fields.Dict(keys=fields.Str(), values=JSONCompatible(allow_none=True), allow_none=True)


def _labels() -> fields.List:
    return fields.List(fields.Str(), allow_none=True)


class _Microseconds(fields.Field):
    """A `timedelta` as an integer number of microseconds."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if value is None:
            return None
        if value < _MIN_INTERVAL:
            raise ValueError(
                "Interval can not be less than one minute when deploying to Prefect Cloud; "
                f"got {value!r}."
            )
        return value // datetime.timedelta(microseconds=1)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValidationError(f"Not an interval in microseconds: {value!r}")
        return datetime.timedelta(microseconds=value)


def _json_argument(value: Any) -> Any:
    """A filter or adjustment argument in JSON-compatible form."""
    if isinstance(value, datetime.datetime):
        import pendulum

        return pendulum.instance(value).isoformat()
    if isinstance(value, (datetime.time, datetime.date)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        seconds = value.total_seconds()
        return int(seconds) if seconds == int(seconds) else seconds
    return value


class _ScheduleFunction(StatefulFunctionReference):
    """A filter or adjustment: ``{"fn": <qualified name>, "kwargs": {...}}`` in JSON form."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        result = super()._serialize(value, attr, obj, **kwargs)
        if isinstance(result, dict):
            result["kwargs"] = {
                name: _json_argument(argument) for name, argument in result["kwargs"].items()
            }
        return result


class _RuleDateTime(fields.Field):
    """A rule's datetime: ``{"dt", "tz"}``, with ``"tz": null`` for a naive one."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            return {"dt": value.isoformat(), "tz": None}
        return DateTimeTZ()._serialize(value, attr, obj, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, Mapping) and value.get("tz") is None and "dt" in value:
            try:
                return datetime.datetime.fromisoformat(value["dt"])
            except (TypeError, ValueError) as exc:
                raise ValidationError(f"Not a valid datetime: {value!r} ({exc})") from exc
        return DateTimeTZ()._deserialize(value, attr, data, **kwargs)


class _Weekdays(fields.Field):
    """Rule weekdays: numbers (0 = Monday), or ``[weekday, n]`` for "the n-th weekday"."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if value is None:
            return None
        items = value if isinstance(value, (list, tuple)) else [value]
        out: list[Any] = []
        for item in items:
            number: Any = getattr(item, "weekday", item)
            n: Any = getattr(item, "n", None)
            out.append(int(number) if n is None else [int(number), int(n)])
        return out

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if value is None:
            return None
        from dateutil.rrule import weekday

        try:
            return [
                weekday(*item) if isinstance(item, (list, tuple)) else weekday(item)
                for item in value
            ]
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"Not a list of weekdays: {value!r} ({exc})") from exc


def _int_list() -> fields.List:
    return fields.List(fields.Int(), allow_none=True)


def _original(name: str) -> Any:
    """Read a ``by...`` argument as the rule was built (None where dateutil filled it in)."""

    def read(rule: Any) -> Any:
        value = getattr(rule, "_original_rule", {}).get(name)
        return list(value) if isinstance(value, (tuple, set, frozenset)) else value

    return read


def _original_field(name: str, field: fields.Field) -> fields.Field:
    return fields.Function(_original(name), lambda value: field.deserialize(value), allow_none=True)


class RRuleSchema(ObjectSchema):
    """A `dateutil.rrule.rrule`, by its constructor arguments."""

    class Meta:
        object_class = lambda: _rrule_class("rrule")  # noqa: E731

    freq = fields.Int(attribute="_freq", required=True)
    dtstart = _RuleDateTime(attribute="_dtstart", allow_none=True)
    interval = fields.Int(attribute="_interval", allow_none=True)
    wkst = fields.Int(attribute="_wkst", allow_none=True)
    count = fields.Int(attribute="_count", allow_none=True)
    until = _RuleDateTime(attribute="_until", allow_none=True)
    bysetpos = _original_field("bysetpos", _int_list())
    bymonth = _original_field("bymonth", _int_list())
    bymonthday = _original_field("bymonthday", _int_list())
    byyearday = _original_field("byyearday", _int_list())
    byeaster = _original_field("byeaster", _int_list())
    byweekno = _original_field("byweekno", _int_list())
    byweekday = fields.Function(
        lambda rule: _Weekdays()._serialize(
            getattr(rule, "_original_rule", {}).get("byweekday"), None, rule
        ),
        lambda value: _Weekdays().deserialize(value),
        allow_none=True,
    )
    byhour = _original_field("byhour", _int_list())
    byminute = _original_field("byminute", _int_list())
    bysecond = _original_field("bysecond", _int_list())

    @post_load
    def create_object(self, data: dict, **kwargs: Any) -> Any:
        """Build the rule from its arguments (missing ones take dateutil's defaults)."""
        if not self._create_object:
            return data
        from dateutil import rrule

        # Fields read from private attributes (`_freq`, ...) load under those names.
        arguments = {key.lstrip("_"): value for key, value in data.items() if value is not None}
        try:
            return rrule.rrule(**arguments)
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"Invalid rrule: {exc}") from exc


def _rrule_class(name: str) -> type:
    from dateutil import rrule

    return getattr(rrule, name)  # type: ignore[no-any-return]


class RRuleSetSchema(ObjectSchema):
    """A `dateutil.rrule.rruleset`: its rules, exclusion rules, dates and excluded dates."""

    class Meta:
        object_class = lambda: _rrule_class("rruleset")  # noqa: E731

    rrules = fields.List(fields.Nested(RRuleSchema), attribute="_rrule")
    exrules = fields.List(fields.Nested(RRuleSchema), attribute="_exrule")
    rdates = fields.List(_RuleDateTime(), attribute="_rdate")
    exdates = fields.List(_RuleDateTime(), attribute="_exdate")

    @post_load
    def create_object(self, data: dict, **kwargs: Any) -> Any:
        """Build the rule set and add its parts."""
        if not self._create_object:
            return data
        from dateutil import rrule

        rule_set = rrule.rruleset()
        for rule in data.get("_rrule") or []:
            rule_set.rrule(rule)
        for rule in data.get("_exrule") or []:
            rule_set.exrule(rule)
        for date in data.get("_rdate") or []:
            rule_set.rdate(date)
        for date in data.get("_exdate") or []:
            rule_set.exdate(date)
        return rule_set


class RRuleBaseSchema(OneOfSchema):
    """A rule or a rule set, by its class name (``"rrule"`` or ``"rruleset"``)."""

    class Meta:
        unknown = EXCLUDE

    type_schemas = {"rrule": RRuleSchema, "rruleset": RRuleSetSchema}


class IntervalClockSchema(ObjectSchema):
    """`IntervalClock`: ``interval`` in microseconds (at least one minute), dates, defaults."""

    class Meta:
        object_class = clocks.IntervalClock

    start_date = DateTimeTZ(allow_none=True)
    end_date = DateTimeTZ(allow_none=True)
    interval = _Microseconds(required=True)
    parameter_defaults = _parameter_defaults()
    labels = _labels()


class CronClockSchema(ObjectSchema):
    """`CronClock`: the cron expression, ``day_or``, dates, defaults."""

    class Meta:
        object_class = clocks.CronClock

    start_date = DateTimeTZ(allow_none=True)
    end_date = DateTimeTZ(allow_none=True)
    cron = fields.String(required=True)
    parameter_defaults = _parameter_defaults()
    labels = _labels()
    day_or = fields.Boolean(allow_none=True)


class DatesClockSchema(ObjectSchema):
    """`DatesClock`: the dates, defaults and labels."""

    class Meta:
        object_class = clocks.DatesClock

    dates = fields.List(DateTimeTZ(), required=True)
    parameter_defaults = _parameter_defaults()
    labels = _labels()


class RRuleClockSchema(ObjectSchema):
    """`RRuleClock`: the rule (`RRuleBaseSchema`), dates, defaults."""

    class Meta:
        object_class = clocks.RRuleClock

    rrule_obj = fields.Nested(RRuleBaseSchema, required=True)
    start_date = DateTimeTZ(allow_none=True)
    end_date = DateTimeTZ(allow_none=True)
    parameter_defaults = _parameter_defaults()
    labels = _labels()


class ClockSchema(OneOfSchema):
    """Any clock, by its class name (the ``"type"`` key)."""

    class Meta:
        # Newer writers may add keys: readers ignore what they do not know.
        unknown = EXCLUDE

    type_schemas = {
        "IntervalClock": IntervalClockSchema,
        "CronClock": CronClockSchema,
        "DatesClock": DatesClockSchema,
        "RRuleClock": RRuleClockSchema,
    }

    def _load(self, data: Any, *, partial: Any = None, unknown: Any = None, **kwargs: Any) -> Any:
        if isinstance(data, Mapping):
            clock_type = data.get(self.type_field)
            if clock_type is not None and (
                not isinstance(clock_type, str) or clock_type not in self.type_schemas
            ):
                known = ", ".join(sorted(self.type_schemas))
                raise ValidationError(
                    {self.type_field: [f"Unknown clock type {clock_type!r}; known types: {known}."]}
                )
        return super()._load(data, partial=partial, unknown=unknown, **kwargs)


class ScheduleSchema(ObjectSchema):
    """`Schedule`: its clocks, filters and adjustments."""

    class Meta:
        object_class = schedules.Schedule

    clocks = fields.List(fields.Nested(ClockSchema), required=True)
    filters = fields.List(_ScheduleFunction(_FILTERS, reject_invalid=True), allow_none=True)
    or_filters = fields.List(_ScheduleFunction(_FILTERS, reject_invalid=True), allow_none=True)
    not_filters = fields.List(_ScheduleFunction(_FILTERS, reject_invalid=True), allow_none=True)
    adjustments = fields.List(_ScheduleFunction(_ADJUSTMENTS, reject_invalid=True), allow_none=True)
