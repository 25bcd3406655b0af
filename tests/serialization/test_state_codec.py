"""The fast codec gives exactly the schema's JSON, and builds exactly the schema's states."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from prefect.engine import state as state_module
from prefect.engine.result import NoResult, Result
from prefect.engine.results import ConstantResult, LocalResult, PrefectResult
from prefect.serialization._state_codec import dict_to_state, state_to_dict
from prefect.serialization.state import StateSchema

# ----------------------------------------------------------------------------- strategies

texts = st.text(max_size=12)
json_scalars = st.none() | st.booleans() | st.integers(-(2**40), 2**40) | texts
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=6,
)
json_dicts = st.dictionaries(texts, json_values, max_size=4)

zones = st.sampled_from(
    [
        None,  # naive: states take it as UTC
        datetime.timezone.utc,
        datetime.timezone(datetime.timedelta(hours=5, minutes=30)),
        datetime.timezone(datetime.timedelta(hours=-8)),
    ]
)
datetimes = st.builds(
    lambda moment, zone: moment.replace(tzinfo=zone),
    st.datetimes(min_value=datetime.datetime(1971, 1, 1), max_value=datetime.datetime(2100, 1, 1)),
    zones,
)

results = st.one_of(
    st.just(NoResult),
    st.builds(Result, value=json_values, location=st.none() | texts),
    st.builds(lambda value: PrefectResult().write(value), json_values),
    st.builds(PrefectResult, location=st.none() | texts),
    st.builds(
        lambda directory, location: LocalResult(
            dir=directory, validate_dir=False, location=location
        ),
        texts,
        st.none() | texts,
    ),
    st.builds(ConstantResult, value=json_values),
)
cached_inputs = st.dictionaries(texts, results, max_size=3)
messages = st.none() | st.text(max_size=30)


def common(**extra: Any) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"message": messages, "result": results, "context": json_dicts},
        optional={"cached_inputs": cached_inputs, **extra},
    )


def built(state_class: type, **extra: Any) -> st.SearchStrategy[state_module.State]:
    return common(**extra).map(lambda kwargs: state_class(**kwargs))


plain_classes = [
    state_module.Pending,
    state_module.Running,
    state_module.Cancelling,
    state_module.Finished,
    state_module.Success,
    state_module.Skipped,
    state_module.Cancelled,
    state_module.Failed,
    state_module.TimedOut,
    state_module.TriggerFailed,
    state_module.ValidationFailed,
]
scheduled_classes = [state_module.Scheduled, state_module.Paused, state_module.Resume]

non_meta_states = st.one_of(
    *[built(cls) for cls in plain_classes],
    *[built(cls, start_time=st.none() | datetimes) for cls in scheduled_classes],
    built(
        state_module.Retrying,
        start_time=st.none() | datetimes,
        run_count=st.none() | st.integers(0, 10),
    ),
    built(state_module.Looped, loop_count=st.integers(1, 100)),
    built(
        state_module.Cached,
        cached_parameters=st.none() | json_dicts,
        cached_result_expiration=st.none() | datetimes,
        hashed_inputs=st.none() | st.dictionaries(texts, texts, max_size=3),
    ),
    st.builds(
        lambda n, message: state_module.Mapped(
            message, map_states=[state_module.Success() for _ in range(n)]
        ),
        st.integers(0, 5),
        messages,
    ),
)
all_states = st.one_of(
    non_meta_states,
    built(state_module.Submitted, state=st.none() | non_meta_states),
    built(state_module.ClientFailed, state=st.none() | non_meta_states),
    built(
        state_module.Queued,
        state=st.none() | non_meta_states,
        start_time=st.none() | datetimes,
    ),
)


def same_state(left: state_module.State, right: state_module.State) -> bool:
    """Equal as states, and built the same way down to the time zones and results."""
    return left == right and repr(vars(left)) == repr(vars(right))


# ------------------------------------------------------------------------------ properties


@settings(deadline=None, max_examples=100)
@given(all_states)
def test_codec_dump_is_the_schema_dump_to_the_byte(state: state_module.State):
    expected = StateSchema().dump(state)
    actual = state_to_dict(state)
    assert actual == expected
    assert json.dumps(actual) == json.dumps(expected)  # same key order too


@settings(deadline=None, max_examples=100)
@given(all_states)
def test_codec_load_builds_the_schema_state(state: state_module.State):
    document = json.loads(json.dumps(StateSchema().dump(state)))
    expected = StateSchema().load(document)
    actual = dict_to_state(document)
    assert same_state(actual, expected)
    assert json.dumps(state_to_dict(actual)) == json.dumps(StateSchema().dump(expected))


@settings(deadline=None, max_examples=100)
@given(all_states, st.data())
def test_codec_and_schema_agree_on_altered_documents(state: state_module.State, data: Any):
    """Dropped keys, unknown keys and odd values: same state, or the same kind of error."""
    document = json.loads(json.dumps(StateSchema().dump(state)))
    keys = sorted(document)
    for key in data.draw(st.lists(st.sampled_from(keys), max_size=2, unique=True)):
        del document[key]
    for key in data.draw(st.lists(st.sampled_from(keys), max_size=2, unique=True)):
        document[key] = data.draw(json_values)
    document[data.draw(texts)] = data.draw(json_values)
    try:
        expected = StateSchema().load(dict(document))
    except ValidationError:
        with pytest.raises(ValidationError):
            dict_to_state(dict(document))
        return
    actual = dict_to_state(dict(document))
    if isinstance(expected, (state_module.Scheduled, state_module.Queued)) and (
        document.get("start_time") is None
    ):
        # A missing start time means "now": the two loads ran at different instants.
        actual.start_time = expected.start_time = None  # type: ignore[union-attr]
    assert same_state(actual, expected)


# ------------------------------------------------------------------------------- examples


def test_codec_falls_back_to_the_schema_for_other_result_types():
    class MinioResult(Result):
        pass

    state = state_module.Success(result=MinioResult(location="minio://x"))
    assert state_to_dict(state) == StateSchema().dump(state)
    assert state_to_dict(state)["_result"]["type"].endswith(".MinioResult")


def test_codec_raises_the_schema_error_for_non_json_context():
    with pytest.raises(ValidationError):
        state_to_dict(state_module.Success(context={"x": object()}))


def test_codec_raises_the_schema_error_for_unknown_state_classes():
    class Exploded(state_module.Failed):
        pass

    with pytest.raises(ValidationError):
        state_to_dict(Exploded())
    with pytest.raises(ValidationError):
        dict_to_state({"type": "Exploded"})


def test_codec_converts_non_text_context_keys_like_the_schema():
    state = state_module.Success(context={1: "one"})
    assert state_to_dict(state)["context"] == {"1": "one"}


def test_codec_loads_timestamps_the_schema_way():
    document = {"type": "Scheduled", "start_time": "2022-11-01T12:00:00Z"}
    assert same_state(dict_to_state(document), StateSchema().load(document))
    document = {"type": "Scheduled", "start_time": "2022-11-01T12:00:00.5+01:00"}
    assert same_state(dict_to_state(document), StateSchema().load(document))


def test_codec_loads_the_minimal_server_pending():
    loaded = dict_to_state({"type": "Pending", "message": "Task run created"})
    assert type(loaded) is state_module.Pending
    assert loaded._result is NoResult


def test_codec_loads_local_results_without_touching_the_disk(tmp_path):
    directory = tmp_path / "nowhere"
    loaded = dict_to_state(
        {
            "type": "Success",
            "_result": {"type": "LocalResult", "dir": str(directory), "location": "x"},
        }
    )
    assert isinstance(loaded._result, LocalResult)
    assert loaded._result.dir == str(directory)
    assert not directory.exists()


def test_codec_loads_user_result_types_as_plain_results():
    loaded = dict_to_state(
        {"type": "Success", "_result": {"type": "pkg.MinioResult", "location": "m://k"}}
    )
    assert type(loaded._result) is Result
    assert loaded._result.location == "m://k"
