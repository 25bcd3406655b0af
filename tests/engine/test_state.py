from __future__ import annotations

import copy
import datetime
import inspect
import pickle

import pendulum
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import prefect
from prefect.engine import state as state_module
from prefect.engine.result import NoResult, Result
from prefect.engine.state import (
    Cached,
    ClientFailed,
    Failed,
    Finished,
    Looped,
    Mapped,
    Paused,
    Pending,
    Queued,
    Resume,
    Retrying,
    Running,
    Scheduled,
    Skipped,
    State,
    Submitted,
    Success,
    TimedOut,
    TriggerFailed,
    ValidationFailed,
    _MetaState,
)

# --------------------------------------------------------------------------------------
# The reference tables of states.md, written out by hand.

_STATE = ["message", "result", "context", "cached_inputs"]
_PENDING = ["message", "result", "cached_inputs", "context"]
_SCHEDULED = ["message", "result", "start_time", "cached_inputs", "context"]
_META = ["message", "result", "state", "context", "cached_inputs"]

# name -> (parent name, color, __init__ parameter names in order)
HIERARCHY = {
    "State": ("object", "#696969", _STATE),
    "Pending": ("State", "#7ebdff", _PENDING),
    "Scheduled": ("Pending", "#ffab00", _SCHEDULED),
    "Paused": ("Scheduled", "#99a8e8", _SCHEDULED),
    "_MetaState": ("State", "#696969", _META),
    "ClientFailed": ("_MetaState", "#eb0000", _META),
    "Submitted": ("_MetaState", "#ffdf5d", _META),
    "Queued": (
        "_MetaState",
        "#ffea7f",
        ["message", "result", "state", "start_time", "context", "cached_inputs"],
    ),
    "Resume": ("Scheduled", "#f58c0c", _SCHEDULED),
    "Retrying": ("Scheduled", "#f66a0a", [*_SCHEDULED, "run_count"]),
    "Running": ("State", "#3d67ff", _STATE),
    "Cancelling": ("Running", "#E8E8E8", _STATE),
    "Finished": ("State", "#003ccb", _STATE),
    "Looped": (
        "Finished",
        "#003ccb",
        ["message", "result", "loop_count", "context", "cached_inputs"],
    ),
    "Success": ("Finished", "#28a745", _STATE),
    "Cached": (
        "Success",
        "#34d058",
        [
            "message",
            "result",
            "cached_inputs",
            "cached_parameters",
            "cached_result_expiration",
            "context",
            "hashed_inputs",
        ],
    ),
    "Mapped": (
        "Success",
        "#003ccb",
        ["message", "result", "map_states", "context", "cached_inputs", "n_map_states"],
    ),
    "Cancelled": ("Finished", "#bdbdbd", _STATE),
    "Failed": ("Finished", "#eb0000", _PENDING),
    "TimedOut": ("Failed", "#ff4e33", _PENDING),
    "TriggerFailed": ("Failed", "#ff5131", _PENDING),
    "ValidationFailed": ("Failed", "#ff5131", _PENDING),
    "Skipped": ("Success", "#62757f", _STATE),
}

PREDICATES = [
    "pending",
    "queued",
    "retrying",
    "running",
    "cached",
    "finished",
    "looped",
    "scheduled",
    "submitted",
    "skipped",
    "successful",
    "failed",
    "mapped",
    "meta_state",
]

# The "Matrix" table: for each exact class, the predicates that return True.
MATRIX = {
    "State": set(),
    "Pending": {"pending"},
    "Scheduled": {"pending", "scheduled"},
    "Paused": {"pending", "scheduled"},
    "_MetaState": {"meta_state"},
    "ClientFailed": {"meta_state"},
    "Submitted": {"submitted", "meta_state"},
    "Queued": {"queued", "scheduled", "meta_state"},
    "Resume": {"pending", "scheduled"},
    "Retrying": {"pending", "retrying", "scheduled"},
    "Running": {"running"},
    "Cancelling": {"running"},
    "Finished": {"finished"},
    "Looped": {"finished", "looped"},
    "Success": {"finished", "successful"},
    "Cached": {"cached", "finished", "successful"},
    "Mapped": {"finished", "successful", "mapped"},
    "Cancelled": {"finished"},
    "Failed": {"finished", "failed"},
    "TimedOut": {"finished", "failed"},
    "TriggerFailed": {"finished", "failed"},
    "ValidationFailed": {"finished", "failed"},
    "Skipped": {"finished", "skipped", "successful"},
}

ALL_CLASSES = {name: getattr(state_module, name) for name in HIERARCHY}
PUBLIC_NAMES = [name for name in HIERARCHY if not name.startswith("_")]


def test_module_exports_every_public_state():
    assert sorted(state_module.__all__) == sorted(PUBLIC_NAMES)


# --------------------------------------------------------------------------- hierarchy


@pytest.mark.parametrize("name", list(HIERARCHY))
def test_state_class_has_reference_parent_and_color(name):
    parent, color, _ = HIERARCHY[name]
    cls = ALL_CLASSES[name]
    assert [base.__name__ for base in cls.__bases__] == [parent]
    assert cls.color == color


@pytest.mark.parametrize("name", list(HIERARCHY))
def test_state_init_takes_reference_parameters_in_order_all_defaulting_to_none(name):
    _, _, params = HIERARCHY[name]
    signature = inspect.signature(ALL_CLASSES[name].__init__)
    parameters = list(signature.parameters.values())[1:]
    assert [p.name for p in parameters] == params
    assert all(p.default is None for p in parameters)


@pytest.mark.parametrize("name", list(HIERARCHY))
def test_every_state_class_can_be_built_without_arguments(name):
    built = ALL_CLASSES[name]()
    assert built.message is None
    assert built.result is None
    assert built._result is NoResult
    assert built.context == {}
    assert built.cached_inputs == {}


# -------------------------------------------------------------------------- predicates


@pytest.mark.parametrize("name", list(HIERARCHY))
def test_predicates_match_the_reference_matrix(name):
    instance = ALL_CLASSES[name]()
    answers = {p for p in PREDICATES if getattr(instance, f"is_{p}")()}
    assert answers == MATRIX[name]


@settings(max_examples=100)
@given(
    name=st.sampled_from(list(HIERARCHY)),
    predicate=st.sampled_from(PREDICATES),
    message=st.none() | st.text(max_size=10),
    result=st.none() | st.integers() | st.text(max_size=5) | st.lists(st.integers(), max_size=3),
)
def test_predicate_answers_depend_only_on_the_state_class(name, predicate, message, result):
    instance = ALL_CLASSES[name](message=message, result=result)
    assert getattr(instance, f"is_{predicate}")() is (predicate in MATRIX[name])


def test_predicates_follow_user_subclasses():
    class MyFailure(Failed):
        pass

    assert MyFailure().is_failed()
    assert MyFailure().is_finished()
    assert not MyFailure().is_successful()


# ------------------------------------------------------------------- parents / children


def _builtin(classes):
    # Other tests define their own State subclasses, which `children` rightly lists.
    return [cls for cls in classes if cls.__module__ == "prefect.engine.state"]


def test_children_of_state_lists_every_public_subclass_depth_first():
    assert [cls.__name__ for cls in _builtin(State.children())] == [
        "Pending",
        "Scheduled",
        "Paused",
        "Resume",
        "Retrying",
        "ClientFailed",
        "Submitted",
        "Queued",
        "Running",
        "Cancelling",
        "Finished",
        "Looped",
        "Success",
        "Cached",
        "Mapped",
        "Skipped",
        "Cancelled",
        "Failed",
        "TimedOut",
        "TriggerFailed",
        "ValidationFailed",
    ]


def test_children_skips_private_classes_but_keeps_their_subclasses():
    children = State.children()
    assert _MetaState not in children
    assert Submitted in children


def test_children_returns_classes_and_appends_self_when_asked():
    assert _builtin(Failed.children()) == [TimedOut, TriggerFailed, ValidationFailed]
    assert _builtin(Failed.children(include_self=True)) == [
        TimedOut,
        TriggerFailed,
        ValidationFailed,
        Failed,
    ]
    assert _builtin(Skipped.children()) == []
    assert Skipped.children(include_self=True, names_only=True)[-1] == "Skipped"


def test_children_include_user_subclasses():
    class Deferred(Skipped):
        pass

    assert Deferred in Skipped.children()
    assert Deferred in State.children()


def test_parents_are_nearest_first_without_private_classes_or_object():
    assert Retrying.parents() == [Scheduled, Pending, State]
    assert Queued.parents(names_only=True) == ["State"]
    assert State.parents() == []
    assert TimedOut.parents(include_self=True) == [Failed, Finished, State, TimedOut]
    assert Cached.parents(include_self=True, names_only=True) == [
        "Success",
        "Finished",
        "State",
        "Cached",
    ]


@pytest.mark.parametrize("name", PUBLIC_NAMES)
def test_parents_match_reference_ancestors(name):
    expected = []
    parent = HIERARCHY[name][0]
    while parent != "object":
        if not parent.startswith("_"):
            expected.append(parent)
        parent = HIERARCHY[parent][0]
    assert ALL_CLASSES[name].parents(names_only=True) == expected


# ------------------------------------------------------------------------------ result


def test_omitted_result_is_no_result():
    state = Success()
    assert state._result is NoResult
    assert state.result is None


def test_plain_result_value_is_wrapped_in_a_result():
    state = Success(result=[1, 2])
    assert isinstance(state._result, Result)
    assert state._result.value == [1, 2]
    assert state.result == [1, 2]


def test_result_instance_is_stored_as_is():
    result = Result(value=5, location="somewhere")
    state = Success(result=result)
    assert state._result is result
    assert state.result == 5


def test_assigning_result_wraps_values_and_keeps_result_instances():
    state = Pending()
    state.result = "value"
    assert state._result == Result(value="value")
    result = Result(value=1)
    state.result = result
    assert state._result is result
    state.result = None
    assert type(state._result) is Result
    assert state.result is None


def test_result_reads_a_raw_stored_object_that_is_not_a_result():
    state = Success()
    state._result = "raw"  # e.g. set by an old deserializer
    assert state.result == "raw"


# ----------------------------------------------------------------------------- context


def test_context_and_cached_inputs_are_fresh_dicts_per_state():
    first, second = State(), State()
    first.context["key"] = 1
    first.cached_inputs["x"] = Result(1)
    assert second.context == {}
    assert second.cached_inputs == {}


def test_task_tags_from_prefect_context_are_copied_into_state_context():
    with prefect.context(task_tags={"etl"}):
        state = Running()
    assert state.context == {"tags": ["etl"]}


def test_explicit_tags_in_state_context_win_over_task_tags():
    with prefect.context(task_tags={"etl"}):
        state = Running(context={"tags": ["mine"]})
    assert state.context["tags"] == ["mine"]


def test_no_tags_key_without_task_tags_in_prefect_context():
    assert "tags" not in Running().context


# -------------------------------------------------------------------- equality and hash


def test_equality_needs_the_exact_same_type():
    assert Success() == Success()
    assert Success() != Skipped()
    assert Skipped() != Success()
    assert Success() != "Success"


def test_equality_ignores_message_and_context():
    assert Failed(message="a", context={"x": 1}) == Failed(message="b")


def test_equality_compares_results():
    assert Success(result=1) == Success(result=Result(1, location="elsewhere"))
    assert Success(result=1) != Success(result=2)
    assert Success(result=Success(result=1)) == Success(result=Success(result=1))
    assert Success(result=Success(result=1)) != Success(result=Success(result=2))


def test_equality_compares_other_public_attributes():
    assert Retrying(run_count=1) != Retrying(run_count=2)
    assert Pending(cached_inputs={"x": Result(1)}) != Pending()
    when = pendulum.datetime(2020, 1, 1)
    assert Scheduled(start_time=when) == Scheduled(start_time=when)
    assert Scheduled(start_time=when) != Scheduled(start_time=when.add(seconds=1))


def test_equality_compares_wrapped_state_and_map_count():
    assert Submitted(state=Pending()) == Submitted(state=Pending())
    assert Submitted(state=Pending()) != Submitted(state=Running())
    assert Mapped(n_map_states=3) != Mapped(n_map_states=4)


def test_states_hash_by_identity_even_when_equal():
    first, second = Success(result=[1]), Success(result=[1])
    assert first == second
    assert len({first, second}) == 2
    assert hash(first) == hash(first)


# -------------------------------------------------------------------------------- repr


def test_repr_shows_the_class_and_message():
    assert repr(Failed("it broke")) == '<Failed: "it broke">'
    assert repr(Success()) == "<Success>"
    assert repr(Success(message="")) == "<Success>"


# ---------------------------------------------------------------- constructor defaults


@pytest.mark.parametrize("cls", [Scheduled, Resume, Retrying, Queued])
def test_start_time_defaults_to_now_in_utc_as_pendulum(cls):
    before = pendulum.now("UTC")
    state = cls()
    after = pendulum.now("UTC")
    assert isinstance(state.start_time, pendulum.DateTime)
    assert state.start_time.utcoffset() == datetime.timedelta(0)
    assert before <= state.start_time <= after


@pytest.mark.parametrize("cls", [Scheduled, Paused, Queued])
def test_given_start_time_is_stored_as_pendulum(cls):
    given = datetime.datetime(2030, 5, 17, 12, 30, tzinfo=datetime.timezone.utc)
    state = cls(start_time=given)
    assert isinstance(state.start_time, pendulum.DateTime)
    assert state.start_time == given


def test_paused_without_start_time_waits_for_a_resume():
    assert Paused().start_time is None


def test_scheduled_copies_task_run_count_into_its_context():
    with prefect.context(task_run_count=3):
        state = Scheduled()
    assert state.context["task_run_count"] == 3
    assert "task_run_count" not in Scheduled().context


def test_retrying_run_count_comes_from_context_else_one():
    assert Retrying().run_count == 1
    with prefect.context(task_run_count=4):
        assert Retrying().run_count == 4
        assert Retrying(run_count=9).run_count == 9


def test_looped_loop_count_comes_from_context_else_one():
    assert Looped().loop_count == 1
    with prefect.context(task_loop_count=7):
        assert Looped().loop_count == 7
        assert Looped(loop_count=2).loop_count == 2


def test_cached_expiration_is_converted_to_pendulum():
    expiration = datetime.datetime(2031, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    state = Cached(cached_result_expiration=expiration, hashed_inputs={"x": "abc"})
    assert isinstance(state.cached_result_expiration, pendulum.DateTime)
    assert state.cached_result_expiration == expiration
    assert state.hashed_inputs == {"x": "abc"}
    empty = Cached()
    assert (empty.cached_result_expiration, empty.cached_parameters, empty.hashed_inputs) == (
        None,
        None,
        None,
    )


def test_mapped_counts_its_children_unless_given_a_count():
    children = [Success(), Failed()]
    assert Mapped(map_states=children).n_map_states == 2
    assert Mapped().map_states == []
    assert Mapped().n_map_states == 0
    assert Mapped(n_map_states=5).n_map_states == 5
    mapped = Mapped(map_states=children)
    mapped.n_map_states = 10
    assert mapped.n_map_states == 10


@pytest.mark.parametrize("meta", [Submitted, Queued, ClientFailed])
def test_meta_states_unwrap_nested_meta_states(meta):
    inner = Scheduled()
    state = meta(state=Queued(state=Submitted(state=inner)))
    assert state.state is inner
    state.state = ClientFailed(state=Running())
    assert type(state.state) is Running
    assert meta().state is None


def test_deeply_nested_meta_states_unwrap_to_the_first_non_meta_state():
    state = Pending()
    for index in range(300):
        state = Queued(state=state) if index % 2 else Submitted(state=state)
    assert state.state.is_pending()
    assert not state.state.is_meta_state()


# ----------------------------------------------------------------------- loading results


class DictResult(Result):
    """A result stored in a dict, for tests."""

    def __init__(self, store: dict, **kwargs):
        super().__init__(**kwargs)
        self.store = store

    def read(self, location):
        return self.from_value(self.store[location])


def test_load_result_reads_a_result_known_only_by_location():
    store = {"loc": 42}
    state = Success(result=DictResult(store, location="loc"))
    assert state.load_result() is state
    assert state.result == 42


def test_load_result_uses_the_given_reader():
    state = Success(result=Result(location="loc"))
    state.load_result(DictResult({"loc": "from reader"}))
    assert state.result == "from reader"


def test_load_result_keeps_a_result_that_has_a_value():
    state = Success(result=DictResult({"loc": "stored"}, value="kept", location="loc"))
    state.load_result()
    assert state.result == "kept"


def test_load_result_leaves_no_result_alone():
    state = Success()
    state.load_result(DictResult({}))
    assert state._result is NoResult


def test_mapped_load_result_loads_each_child_and_collects_their_results():
    store = {"a": 1, "b": 2}
    children = [
        Success(result=DictResult(store, location="a")),
        Success(result=DictResult(store, location="b")),
    ]
    mapped = Mapped(map_states=children)
    assert mapped.load_result() is mapped
    assert [child.result for child in children] == [1, 2]
    assert mapped.result == [1, 2]


def test_load_cached_results_reads_inputs_known_only_by_location():
    store = {"x-loc": "x", "y-loc": "y"}
    state = Pending(
        cached_inputs={
            "x": DictResult(store, location="x-loc"),
            "y": Result(location="y-loc"),
            "z": Result(value="z"),
        }
    )
    assert state.load_cached_results({"y": DictResult(store), "x": None}) is state
    assert {name: r.value for name, r in state.cached_inputs.items()} == {
        "x": "x",
        "y": "y",
        "z": "z",
    }


def test_load_cached_results_without_inputs_is_a_no_op():
    state = Pending()
    assert state.load_cached_results() is state
    assert state.cached_inputs == {}


# ----------------------------------------------------------------- pickling and copying


@settings(max_examples=100)
@given(
    name=st.sampled_from(list(HIERARCHY)),
    message=st.none() | st.text(max_size=10),
    result=st.none() | st.integers() | st.text(max_size=5) | st.lists(st.integers(), max_size=3),
)
def test_states_survive_a_pickle_round_trip(name, message, result):
    original = ALL_CLASSES[name](message=message, result=result)
    restored = pickle.loads(pickle.dumps(original))
    assert restored == original
    assert restored.message == original.message
    if original._result is NoResult:
        assert restored._result is NoResult


def test_deep_copy_of_a_state_keeps_no_result_identity():
    copied = copy.deepcopy(Failed("x"))
    assert copied._result is NoResult
    assert copied == Failed("x")


# ------------------------------------------------------------------------ serialization


def test_serialize_and_deserialize_give_what_the_state_schema_gives():
    from prefect.serialization.state import StateSchema

    for state in (Failed("x"), Success(result=1), Retrying(run_count=2), Mapped(n_map_states=3)):
        assert state.serialize() == StateSchema().dump(state)
        blob = state.serialize()
        assert State.deserialize(blob) == StateSchema().load(blob)
