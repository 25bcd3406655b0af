"""The JSON form of states without marshmallow, for hot paths (state writes, the server).

`state_to_dict` gives exactly what `StateSchema().dump(state)` gives (same keys, same order,
same values) and `dict_to_state` builds the same state as `StateSchema().load(data)`. They
handle the common cases directly: the state classes of `prefect.engine.state` with `NoResult`,
`Result`, `LocalResult`, `PrefectResult` or `ConstantResult` results, plain JSON context, and
timestamps in the form `isoformat()` writes. Anything else (another result type, a value the
schema would convert or reject, an unusual timestamp) is handed to the schema itself, so the
output, and any error, is always the schema's.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Callable
from typing import Any

import prefect
from prefect.engine import state as state_module
from prefect.engine.result.base import NoResult, NoResultType, Result
from prefect.engine.results import ConstantResult, LocalResult, PrefectResult

__all__ = ["dict_to_state", "state_to_dict"]


class _Fallback(Exception):
    """Raised inside the codec when a case is left to the marshmallow schema."""


_SCALARS = (str, int, float, bool, type(None))


def state_to_dict(state: state_module.State) -> dict[str, Any]:
    """The JSON-compatible dict of a state, identical to `StateSchema().dump(state)`.

    Args:
        state: the state to serialize.

    Returns:
        the serialized state.

    Raises:
        marshmallow.ValidationError: where the schema raises it (e.g. a state class it does
            not know, or context that is not JSON-compatible).
    """
    try:
        return _dump_state(state, prefect.__version__)
    except _Fallback:
        from prefect.serialization.state import StateSchema

        return StateSchema().dump(state)  # type: ignore[no-any-return]


def dict_to_state(data: dict[str, Any]) -> state_module.State:
    """Build a state from its JSON form, as `StateSchema().load(data)` does.

    Args:
        data: a serialized state (unknown keys are ignored).

    Returns:
        the state; its result holds the location only (see `State.load_result`).

    Raises:
        marshmallow.ValidationError: where the schema raises it (e.g. an unknown ``type``).
    """
    try:
        return _load_state(data)
    except _Fallback:
        from prefect.serialization.state import StateSchema

        return StateSchema().load(data)  # type: ignore[no-any-return]


# ------------------------------------------------------------------------------- dumping


def _text(value: Any) -> str | None:
    if value is None or type(value) is str:
        return value  # type: ignore[no-any-return]
    raise _Fallback


def _integer(value: Any) -> int | None:
    if value is None or type(value) is int:
        return value  # type: ignore[no-any-return]
    raise _Fallback


def _timestamp(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    raise _Fallback


def _json_value(value: Any) -> Any:
    """A value the schema's `JSONCompatible` passes through unchanged."""
    if type(value) in _SCALARS:
        return value
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        raise _Fallback from None
    return value


def _json_mapping(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if type(value) is not dict:
        raise _Fallback
    for key, item in value.items():
        if type(key) is not str:
            raise _Fallback
        if type(item) not in _SCALARS:
            _json_value(item)
    return dict(value)


def _text_mapping(value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    if type(value) is not dict:
        raise _Fallback
    for key, item in value.items():
        if type(key) is not str or type(item) is not str:
            raise _Fallback
    return dict(value)


def _dump_result(result: Any, version: str) -> dict[str, Any]:
    result_type = type(result)
    if result_type is NoResultType:
        return {"__version__": version, "type": "NoResultType"}
    name = _LOCATION_ONLY_RESULTS.get(result_type)
    if name is not None:
        return {"location": _text(result.location), "__version__": version, "type": name}
    if result_type is LocalResult:
        return {
            "dir": _text(result.dir),
            "location": _text(result.location),
            "__version__": version,
            "type": "LocalResult",
        }
    raise _Fallback


_LOCATION_ONLY_RESULTS: dict[type, str] = {
    Result: "Result",
    PrefectResult: "PrefectResult",
    ConstantResult: "ConstantResult",
}


def _dump_cached_inputs(value: Any, version: str) -> dict[str, Any] | None:
    if value is None:
        return None
    if type(value) is not dict:
        raise _Fallback
    dumped: dict[str, Any] = {}
    for key, result in value.items():
        if type(key) is not str:
            raise _Fallback
        dumped[key] = None if result is None else _dump_result(result, version)
    return dumped


def _dump_base(state: Any, version: str, with_result: bool = True) -> dict[str, Any]:
    data = {
        "message": _text(state.message),
        "context": _json_mapping(state.context),
        "cached_inputs": _dump_cached_inputs(state.cached_inputs, version),
    }
    if with_result:
        stored = state._result
        data["_result"] = _dump_result(stored, version) if isinstance(stored, Result) else None
        if data["_result"] is None:
            raise _Fallback
    return data


def _dump_plain(state: Any, version: str) -> dict[str, Any]:
    return _dump_base(state, version)


def _dump_scheduled(state: Any, version: str) -> dict[str, Any]:
    data = _dump_base(state, version)
    data["start_time"] = _timestamp(state.start_time)
    return data


def _dump_retrying(state: Any, version: str) -> dict[str, Any]:
    data = _dump_scheduled(state, version)
    data["run_count"] = _integer(state.run_count)
    return data


def _dump_meta(state: Any, version: str) -> dict[str, Any]:
    data = _dump_base(state, version)
    inner = state.state
    data["state"] = None if inner is None else _dump_state(inner, version)
    return data


def _dump_queued(state: Any, version: str) -> dict[str, Any]:
    data = _dump_meta(state, version)
    data["start_time"] = _timestamp(state.start_time)
    return data


def _dump_looped(state: Any, version: str) -> dict[str, Any]:
    data = _dump_base(state, version)
    data["loop_count"] = _integer(state.loop_count)
    return data


def _dump_cached(state: Any, version: str) -> dict[str, Any]:
    data = _dump_base(state, version)
    data["cached_parameters"] = _json_value(state.cached_parameters)
    data["cached_result_expiration"] = _timestamp(state.cached_result_expiration)
    data["hashed_inputs"] = _text_mapping(state.hashed_inputs)
    return data


def _dump_mapped(state: Any, version: str) -> dict[str, Any]:
    data = _dump_base(state, version, with_result=False)
    data["n_map_states"] = _integer(state.n_map_states)
    return data


_Dumper = Callable[[Any, str], dict[str, Any]]

_DUMPERS: dict[type, _Dumper] = {
    state_module.Pending: _dump_plain,
    state_module.Scheduled: _dump_scheduled,
    state_module.Paused: _dump_scheduled,
    state_module.Resume: _dump_scheduled,
    state_module.Retrying: _dump_retrying,
    state_module.ClientFailed: _dump_meta,
    state_module.Submitted: _dump_meta,
    state_module.Queued: _dump_queued,
    state_module.Running: _dump_plain,
    state_module.Cancelling: _dump_plain,
    state_module.Finished: _dump_plain,
    state_module.Looped: _dump_looped,
    state_module.Success: _dump_plain,
    state_module.Cached: _dump_cached,
    state_module.Mapped: _dump_mapped,
    state_module.Cancelled: _dump_plain,
    state_module.Failed: _dump_plain,
    state_module.TimedOut: _dump_plain,
    state_module.TriggerFailed: _dump_plain,
    state_module.ValidationFailed: _dump_plain,
    state_module.Skipped: _dump_plain,
}


def _dump_state(state: Any, version: str) -> dict[str, Any]:
    state_type = type(state)
    dumper = _DUMPERS.get(state_type)
    if dumper is None:
        raise _Fallback
    try:
        data = dumper(state, version)
    except AttributeError:
        raise _Fallback from None
    data["__version__"] = version
    data["type"] = state_type.__name__
    return data


# ------------------------------------------------------------------------------- loading

# What `datetime.isoformat()` writes for an aware datetime; other forms go to the schema.
_ISO_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{6}))?([+-])(\d{2}):(\d{2})"
)


def _load_timestamp(value: Any) -> datetime.datetime | None:
    if value is None:
        return None
    if type(value) is not str:
        raise _Fallback
    match = _ISO_TIMESTAMP.fullmatch(value)
    if match is None:
        raise _Fallback
    year, month, day, hour, minute, second, micro, sign, tz_hours, tz_minutes = match.groups()
    offset = 60 * int(tz_hours) + int(tz_minutes)
    if sign == "-":
        offset = -offset
    # The same fixed-offset zone (and zone name) as the schema's ISO parser gives.
    zone_name = f"{'-' if offset < 0 else '+'}{abs(offset) // 60:02d}{abs(offset) % 60:02d}"
    zone = datetime.timezone(datetime.timedelta(minutes=offset), zone_name)
    try:
        return datetime.datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second),
            int(micro) if micro else 0,
            tzinfo=zone,
        )
    except ValueError:
        raise _Fallback from None


def _load_result(data: Any) -> Result:
    if type(data) is not dict:
        raise _Fallback
    result_type = data.get("type")
    if result_type == "NoResultType":
        return NoResult
    kwargs: dict[str, Any] = {}
    if "location" in data:
        kwargs["location"] = _text(data["location"])
    if result_type == "PrefectResult":
        return PrefectResult(**kwargs)
    if result_type == "LocalResult":
        if "dir" in data:
            directory = data["dir"]
            if type(directory) is not str:
                raise _Fallback
            kwargs["dir"] = directory
        return LocalResult(validate_dir=False, **kwargs)
    if result_type == "ConstantResult":
        return ConstantResult(**kwargs)
    if type(result_type) is str and result_type not in _SCHEMA_ONLY_RESULTS:
        # "Result", "CustomResult" and user classes' qualified names: a plain Result.
        return Result(**kwargs)
    raise _Fallback


_SCHEMA_ONLY_RESULTS = frozenset({"S3Result", "GCSResult", "AzureResult", "SecretResult"})


def _load_json_mapping(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    return _json_mapping(value)


def _load_cached_inputs(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if type(value) is not dict:
        raise _Fallback
    loaded: dict[str, Any] = {}
    for key, item in value.items():
        if type(key) is not str:
            raise _Fallback
        loaded[key] = _load_result_required(item)
    return loaded


def _load_meta_state(value: Any) -> state_module.State | None:
    return None if value is None else _load_state(value)


def _load_required_integer(value: Any) -> int:
    if type(value) is not int:
        raise _Fallback
    return value  # type: ignore[no-any-return]


def _load_json_value(value: Any) -> Any:
    return _json_value(value)


def _load_result_required(value: Any) -> Result:
    if value is None:
        raise _Fallback
    return _load_result(value)


# Per field: the JSON key, the constructor argument, and the loader.
_Field = tuple[str, str, Callable[[Any], Any]]

_BASE_FIELDS: tuple[_Field, ...] = (
    ("message", "message", _text),
    ("context", "context", _load_json_mapping),
    ("cached_inputs", "cached_inputs", _load_cached_inputs),
    ("_result", "result", _load_result_required),
)
_START_TIME: _Field = ("start_time", "start_time", _load_timestamp)
_SCHEDULED_FIELDS = (*_BASE_FIELDS, _START_TIME)
_META_FIELDS = (*_BASE_FIELDS, ("state", "state", _load_meta_state))

_FIELDS: dict[str, tuple[type[state_module.State], tuple[_Field, ...]]] = {
    "Pending": (state_module.Pending, _BASE_FIELDS),
    "Scheduled": (state_module.Scheduled, _SCHEDULED_FIELDS),
    "Paused": (state_module.Paused, _SCHEDULED_FIELDS),
    "Resume": (state_module.Resume, _SCHEDULED_FIELDS),
    "Retrying": (
        state_module.Retrying,
        (*_SCHEDULED_FIELDS, ("run_count", "run_count", _integer)),
    ),
    "ClientFailed": (state_module.ClientFailed, _META_FIELDS),
    "Submitted": (state_module.Submitted, _META_FIELDS),
    "Queued": (state_module.Queued, (*_META_FIELDS, _START_TIME)),
    "Running": (state_module.Running, _BASE_FIELDS),
    "Cancelling": (state_module.Cancelling, _BASE_FIELDS),
    "Finished": (state_module.Finished, _BASE_FIELDS),
    "Looped": (
        state_module.Looped,
        (*_BASE_FIELDS, ("loop_count", "loop_count", _load_required_integer)),
    ),
    "Success": (state_module.Success, _BASE_FIELDS),
    "Cached": (
        state_module.Cached,
        (
            *_BASE_FIELDS,
            ("cached_parameters", "cached_parameters", _load_json_value),
            ("cached_result_expiration", "cached_result_expiration", _load_timestamp),
            ("hashed_inputs", "hashed_inputs", _text_mapping),
        ),
    ),
    "Mapped": (
        state_module.Mapped,
        (*_BASE_FIELDS[:3], ("n_map_states", "n_map_states", _load_required_integer)),
    ),
    "Cancelled": (state_module.Cancelled, _BASE_FIELDS),
    "Failed": (state_module.Failed, _BASE_FIELDS),
    "TimedOut": (state_module.TimedOut, _BASE_FIELDS),
    "TriggerFailed": (state_module.TriggerFailed, _BASE_FIELDS),
    "ValidationFailed": (state_module.ValidationFailed, _BASE_FIELDS),
    "Skipped": (state_module.Skipped, _BASE_FIELDS),
}


def _load_state(data: Any) -> state_module.State:
    if type(data) is not dict:
        raise _Fallback
    state_type = data.get("type")
    entry = _FIELDS.get(state_type) if type(state_type) is str else None
    if entry is None:
        raise _Fallback
    state_class, fields = entry
    kwargs: dict[str, Any] = {}
    for key, argument, load in fields:
        if key in data:
            kwargs[argument] = load(data[key])
    return state_class(**kwargs)
