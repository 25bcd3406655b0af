from __future__ import annotations

import datetime
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pendulum
import pytest
from marshmallow import ValidationError

import prefect
from prefect.engine import state as state_module
from prefect.engine.result import NoResult, Result
from prefect.engine.results import ConstantResult, LocalResult, PrefectResult
from prefect.engine.state import (
    Cached,
    Cancelled,
    Failed,
    Looped,
    Mapped,
    Paused,
    Pending,
    Queued,
    Retrying,
    Running,
    Scheduled,
    Skipped,
    State,
    Submitted,
    Success,
    TriggerFailed,
)
from prefect.serialization import state as state_schemas
from prefect.serialization.state import StateSchema, get_safe

FIXTURES = Path(__file__).parent.parent / "fixtures" / "states"

ALL_STATE_NAMES = [
    "Pending",
    "Scheduled",
    "Paused",
    "Resume",
    "Retrying",
    "Submitted",
    "Queued",
    "ClientFailed",
    "Running",
    "Cancelling",
    "Finished",
    "Success",
    "Cached",
    "Mapped",
    "Skipped",
    "Looped",
    "Failed",
    "TimedOut",
    "TriggerFailed",
    "ValidationFailed",
    "Cancelled",
]


def with_our_version(document: Any) -> Any:
    """A 1.4.1 client document as we write it: the same, with our `__version__`."""
    if isinstance(document, dict):
        return {
            key: prefect.__version__ if key == "__version__" else with_our_version(value)
            for key, value in document.items()
        }
    if isinstance(document, list):
        return [with_our_version(item) for item in document]
    return document


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def at(text: str) -> datetime.datetime:
    return pendulum.parse(text)  # type: ignore[return-value]


# The states the 1.4.1 client sends, built in Python; each matches tests/fixtures/states/<name>.
GOLDEN: dict[str, Any] = {
    "success_prefect_result": lambda: Success(
        "Task run succeeded.", result=PrefectResult().write(42)
    ),
    "success_local_result": lambda: Success(
        "Task run succeeded.",
        context={"tags": ["etl"]},
        result=LocalResult(
            dir="/home/user/.prefect/results",
            validate_dir=False,
            location="/home/user/.prefect/results/prefect-result-2022-11-01t12-00-00-000000-00-00",
        ),
    ),
    "failed_exception_result": lambda: Failed(
        "Error during execution of task: ValueError('bad input')",
        result=ValueError("bad input"),
    ),
    "trigger_failed": lambda: TriggerFailed(
        'Trigger was "all_successful" but some of the upstream tasks failed.',
        result=Exception("upstream failed"),
    ),
    "scheduled_flow_run": lambda: Scheduled(
        "Flow run scheduled.", start_time=at("2022-11-01T12:00:00+00:00")
    ),
    "submitted": lambda: Submitted(
        "Submitted for execution",
        state=Scheduled("Flow run scheduled.", start_time=at("2022-11-01T12:00:00+00:00")),
    ),
    "queued": lambda: Queued(
        "Queued by the backend; will retry at the start time.",
        state=Running("Starting task run."),
        start_time=at("2022-11-01T12:00:30.250000+00:00"),
    ),
    "running": lambda: Running("Starting task run."),
    "retrying": lambda: Retrying(
        "Retrying Task (after attempt 1 of 3)",
        context={"task_run_count": 1},
        cached_inputs={"x": PrefectResult().write([1, 2])},
        start_time=at("2022-11-01T12:01:00+00:00"),
        run_count=1,
    ),
    "paused": lambda: Paused("Waiting for approval."),
    "mapped": lambda: Mapped(
        "Ready to proceed with mapping.", map_states=[Success(), Success(), Failed()]
    ),
    "cached": lambda: Cached(
        "Task run succeeded.",
        result=PrefectResult().write({"rows": 10}),
        cached_parameters={"day": "2022-11-01"},
        cached_result_expiration=at("2022-11-02T12:00:00+00:00"),
        hashed_inputs={"x": "5d41402abc4b2a76b9719d911017c592"},
    ),
    "looped": lambda: Looped("Looping: 2", result=PrefectResult().write(2), loop_count=2),
    "skipped": lambda: Skipped(
        "Upstream task was skipped; if this was not the intended behavior, consider "
        "changing `skip_on_upstream_skip=False` for this task."
    ),
    "cancelled": lambda: Cancelled("Flow run is cancelled"),
}


def test_every_golden_fixture_file_has_a_state_and_back():
    names = {path.stem for path in FIXTURES.glob("*.json")}
    assert set(GOLDEN) <= names
    assert names - set(GOLDEN) == {"pending_server_minimal", "success_custom_result"}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_state_serializes_to_what_the_1x_client_sends(name: str):
    assert GOLDEN[name]().serialize() == with_our_version(fixture(name))


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_client_document_loads_to_the_state_and_serializes_back_unchanged(name: str):
    loaded = State.deserialize(fixture(name))
    assert type(loaded) is type(GOLDEN[name]())
    assert loaded.serialize() == with_our_version(fixture(name))


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_json_text_is_what_json_dumps_gives(name: str):
    # The document is JSON as sent over the wire: it must survive a text round trip.
    dumped = GOLDEN[name]().serialize()
    assert json.loads(json.dumps(dumped)) == dumped


def test_minimal_server_pending_document_loads():
    loaded = State.deserialize(fixture("pending_server_minimal"))
    assert type(loaded) is Pending
    assert loaded.message == "Task run created"
    assert loaded._result is NoResult
    assert loaded.context == {}
    assert loaded.cached_inputs == {}


def test_minimal_pending_reserializes_as_the_full_document():
    loaded = State.deserialize(fixture("pending_server_minimal"))
    assert loaded.serialize() == {
        "message": "Task run created",
        "context": {},
        "cached_inputs": {},
        "_result": {"__version__": prefect.__version__, "type": "NoResultType"},
        "__version__": prefect.__version__,
        "type": "Pending",
    }


def test_custom_result_class_loads_as_a_plain_result_keeping_its_location():
    loaded = State.deserialize(fixture("success_custom_result"))
    assert type(loaded._result) is Result
    assert loaded._result.location == "minio://bucket/key.pkl"
    assert loaded.result is None


# ------------------------------------------------------------------------ dump details


def test_dump_has_type_and_version_on_the_state_and_its_result():
    dumped = Success("ok").serialize()
    assert dumped["type"] == "Success"
    assert dumped["__version__"] == prefect.__version__
    assert dumped["_result"] == {"__version__": prefect.__version__, "type": "NoResultType"}


def test_result_value_is_never_serialized():
    secret_value = {"password": "hunter2"}
    dumped = Success(result=secret_value).serialize()
    assert "hunter2" not in json.dumps(dumped)
    assert dumped["_result"]["type"] == "Result"
    assert dumped["_result"]["location"] is None


def test_mapped_state_sends_the_number_of_children_and_no_result():
    dumped = Mapped(map_states=[Success(), Success()], result=[1, 2]).serialize()
    assert dumped["n_map_states"] == 2
    assert "_result" not in dumped
    assert "map_states" not in dumped


def test_meta_state_with_no_wrapped_state_dumps_null():
    assert Submitted("waiting").serialize()["state"] is None


def test_meta_state_nests_the_wrapped_state_document():
    dumped = Submitted(state=Retrying(run_count=2)).serialize()
    assert dumped["state"]["type"] == "Retrying"
    assert dumped["state"]["run_count"] == 2
    assert dumped["state"]["__version__"] == prefect.__version__


def test_start_time_is_iso_text_with_offset():
    start = pendulum.datetime(2023, 5, 1, 8, 30, 15, 123456, tz="Europe/Paris")
    assert Scheduled(start_time=start).serialize()["start_time"] == (
        "2023-05-01T08:30:15.123456+02:00"
    )


def test_naive_start_time_is_taken_as_utc():
    state = Scheduled(start_time=datetime.datetime(2023, 5, 1, 8, 0))
    assert state.serialize()["start_time"] == "2023-05-01T08:00:00+00:00"


def test_cached_inputs_serialize_each_result():
    state = Pending(
        cached_inputs={
            "a": PrefectResult().write(1),
            "b": LocalResult(dir="/r", validate_dir=False, location="/r/b"),
            "c": ConstantResult(value=object()),
        }
    )
    version = prefect.__version__
    assert state.serialize()["cached_inputs"] == {
        "a": {"location": "1", "__version__": version, "type": "PrefectResult"},
        "b": {"dir": "/r", "location": "/r/b", "__version__": version, "type": "LocalResult"},
        "c": {"location": None, "__version__": version, "type": "ConstantResult"},
    }


def test_context_that_is_not_json_fails_to_serialize():
    with pytest.raises(ValidationError):
        Success(context={"obj": object()}).serialize()


def test_every_state_class_serializes_with_its_own_type_name():
    for name in ALL_STATE_NAMES:
        state = getattr(state_module, name)()
        assert state.serialize()["type"] == name


def test_state_schema_knows_exactly_the_1x_state_names():
    assert sorted(StateSchema.type_schemas) == sorted(ALL_STATE_NAMES)


def test_base_state_and_user_subclasses_are_refused():
    class MyState(Success):
        pass

    with pytest.raises(ValidationError, match="MyState"):
        MyState().serialize()
    with pytest.raises(ValidationError):
        State().serialize()


def test_schema_bases_follow_the_reference():
    # api.md: LoopedSchema and TimedOutSchema keep their 1.x bases.
    assert state_schemas.LoopedSchema.__bases__ == (state_schemas.BaseStateSchema,)
    assert state_schemas.TimedOutSchema.__bases__ == (state_schemas.FinishedSchema,)
    assert state_schemas.PausedSchema.__bases__ == (state_schemas.ScheduledSchema,)
    assert state_schemas.QueuedSchema.__bases__ == (state_schemas.MetaStateSchema,)


def test_get_safe_returns_the_stored_result_not_the_value():
    result = PrefectResult(value=3, location="3")
    assert get_safe(Success(result=result), {}) is result
    assert get_safe(Success(), {}) is NoResult


# ------------------------------------------------------------------------ load details


def test_loaded_state_keeps_the_result_location_without_a_value():
    loaded = State.deserialize(Success(result=PrefectResult().write([1, 2])).serialize())
    assert isinstance(loaded._result, PrefectResult)
    assert loaded._result.location == "[1, 2]"
    assert loaded.result is None
    assert loaded.load_result().result == [1, 2]


def test_loaded_local_result_does_not_touch_the_file_system(tmp_path: Path):
    missing = tmp_path / "not-created"
    document = Success(
        result=LocalResult(dir=str(missing), validate_dir=False, location="x")
    ).serialize()
    loaded = State.deserialize(document)
    assert loaded._result.dir == str(missing)
    assert not missing.exists()


def test_loading_ignores_unknown_keys_at_every_level():
    document = Success(result=PrefectResult().write(1)).serialize()
    document["added_in_a_later_version"] = True
    document["_result"]["also_new"] = [1]
    loaded = State.deserialize(document)
    assert type(loaded) is Success
    assert loaded._result.location == "1"


def test_loading_without_version_keys_works():
    loaded = State.deserialize(
        {
            "type": "Retrying",
            "run_count": 3,
            "start_time": "2022-01-01T00:00:00+00:00",
            "_result": {"type": "NoResultType"},
        }
    )
    assert isinstance(loaded, Retrying)
    assert loaded.run_count == 3
    assert loaded.start_time == pendulum.datetime(2022, 1, 1)


def test_loaded_start_time_is_a_pendulum_datetime_at_the_same_instant():
    loaded = State.deserialize(fixture("queued"))
    assert isinstance(loaded.start_time, pendulum.DateTime)
    assert loaded.start_time == pendulum.datetime(2022, 11, 1, 12, 0, 30, 250000)


def test_loaded_meta_state_wraps_the_loaded_inner_state():
    loaded = State.deserialize(fixture("submitted"))
    assert isinstance(loaded, Submitted)
    assert isinstance(loaded.state, Scheduled)
    assert loaded.state.message == "Flow run scheduled."


def test_loaded_mapped_state_knows_its_number_of_children():
    loaded = State.deserialize(fixture("mapped"))
    assert isinstance(loaded, Mapped)
    assert loaded.n_map_states == 3
    assert loaded._result is NoResult


def test_loaded_paused_state_has_no_start_time():
    assert State.deserialize(fixture("paused")).start_time is None


def test_loaded_context_may_hold_nulls():
    loaded = State.deserialize({"type": "Success", "context": {"param": None}})
    assert loaded.context == {"param": None}


def test_unknown_state_type_is_a_validation_error():
    with pytest.raises(ValidationError):
        State.deserialize({"type": "Exploded"})


def test_missing_state_type_is_a_validation_error():
    with pytest.raises(ValidationError):
        State.deserialize({"message": "no type"})


def test_null_result_is_a_validation_error():
    with pytest.raises(ValidationError):
        State.deserialize({"type": "Success", "_result": None})


def test_load_without_creating_objects_returns_the_fields():
    data = StateSchema().load(fixture("retrying"), create_object=False)
    assert isinstance(data, dict)
    assert data["run_count"] == 1
    assert data["message"] == "Retrying Task (after attempt 1 of 3)"


@pytest.mark.parametrize("name", ALL_STATE_NAMES)
def test_every_state_round_trips_through_json(name: str):
    state_class = getattr(state_module, name)
    state = state_class(message=f"a {name}", context={"k": [1, "two"]})
    document = json.loads(json.dumps(state.serialize()))
    loaded = State.deserialize(document)
    assert type(loaded) is state_class
    assert loaded.message == f"a {name}"
    assert loaded.context == {"k": [1, "two"]}
    assert loaded.serialize() == state.serialize()


def test_importing_prefect_and_the_serialization_package_does_not_import_marshmallow():
    code = (
        "import sys, prefect, prefect.serialization, prefect.serialization._state_codec\n"
        "import prefect.engine.results\n"
        "print('marshmallow' in sys.modules)\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert completed.stdout.strip() == "False"


def test_serialization_package_binds_state_and_result_on_access():
    import prefect.serialization

    assert prefect.serialization.state is state_schemas
    assert prefect.serialization.result.StateResultSchema is not None
    with pytest.raises(AttributeError):
        prefect.serialization.nonexistent  # noqa: B018
