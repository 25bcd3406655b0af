from __future__ import annotations

import pickle

import pendulum
import pytest

from prefect.engine import signals, state
from prefect.engine.result import Result
from prefect.engine.signals import (
    ENDRUN,
    FAIL,
    LOOP,
    PAUSE,
    RETRY,
    SKIP,
    SUCCESS,
    TRIGGERFAIL,
    VALIDATIONFAIL,
    PrefectStateSignal,
    signal_from_state,
)
from prefect.exceptions import PrefectSignal

# From the reference table: signal -> (parent, state class produced).
SIGNALS = {
    PrefectStateSignal: (PrefectSignal, state.State),
    FAIL: (PrefectStateSignal, state.Failed),
    LOOP: (PrefectStateSignal, state.Looped),
    TRIGGERFAIL: (FAIL, state.TriggerFailed),
    VALIDATIONFAIL: (FAIL, state.ValidationFailed),
    SUCCESS: (PrefectStateSignal, state.Success),
    RETRY: (PrefectStateSignal, state.Retrying),
    SKIP: (PrefectStateSignal, state.Skipped),
    PAUSE: (PrefectStateSignal, state.Paused),
}
STATE_SIGNALS = [cls for cls in SIGNALS if cls is not PrefectStateSignal]
NOT_LOOP = [cls for cls in SIGNALS if cls is not LOOP]


def test_module_exports_the_reference_names():
    assert sorted(signals.__all__) == sorted(
        ["ENDRUN", "signal_from_state", *(cls.__name__ for cls in SIGNALS)]
    )


@pytest.mark.parametrize("cls", list(SIGNALS), ids=lambda c: c.__name__)
def test_signal_has_reference_parent(cls):
    assert cls.__bases__ == (SIGNALS[cls][0],)


def test_endrun_is_a_prefect_signal():
    assert ENDRUN.__bases__ == (PrefectSignal,)


@pytest.mark.parametrize("cls", list(SIGNALS), ids=lambda c: c.__name__)
def test_signal_builds_its_state_with_the_message(cls):
    signal = cls("the reason")
    assert type(signal.state) is SIGNALS[cls][1]
    assert signal.state.message == "the reason"
    assert str(signal) == "the reason"


@pytest.mark.parametrize("cls", NOT_LOOP, ids=lambda c: c.__name__)
def test_state_result_defaults_to_the_signal_itself(cls):
    signal = cls("why")
    assert signal.state.result is signal


def test_loop_result_defaults_to_the_repr_of_the_signal():
    signal = LOOP("next round")
    assert signal.state.result == repr(signal)
    assert isinstance(signal.state.result, str)


@pytest.mark.parametrize("cls", list(SIGNALS), ids=lambda c: c.__name__)
def test_given_result_is_used_for_the_state(cls):
    assert cls("why", result={"loop": 3}).state.result == {"loop": 3}
    assert cls("why", {"positional": True}).state.result == {"positional": True}


def test_extra_keyword_arguments_go_to_the_state():
    when = pendulum.datetime(2030, 1, 1, tz="UTC")
    retry = RETRY("again", start_time=when, run_count=2)
    assert retry.state.start_time == when
    assert retry.state.run_count == 2
    assert LOOP("again", result=5, loop_count=3).state.loop_count == 3
    assert PAUSE("wait").state.start_time is None
    assert FAIL("x", result=Result(value=1, location="loc")).state._result.location == "loc"


def test_signal_without_a_message_builds_a_state_without_one():
    assert SUCCESS().state.message is None
    assert repr(SKIP().state) == "<Skipped>"


@pytest.mark.parametrize("cls", [*SIGNALS, ENDRUN], ids=lambda c: c.__name__)
def test_signals_are_not_caught_by_except_exception(cls):
    signal = ENDRUN(state.Success()) if cls is ENDRUN else cls("stop")
    with pytest.raises(cls):
        try:
            raise signal
        except Exception:
            pytest.fail("a signal was caught by `except Exception`")


def test_endrun_carries_the_given_state():
    final = state.Cancelled("user cancelled")
    signal = ENDRUN(final)
    assert signal.state is final
    assert str(signal) == "user cancelled"


@pytest.mark.parametrize("cls", list(SIGNALS), ids=lambda c: c.__name__)
def test_state_signals_survive_a_pickle_round_trip(cls):
    signal = cls("crossing processes")
    restored = pickle.loads(pickle.dumps(signal))
    assert type(restored) is cls
    assert restored.args == signal.args
    assert type(restored.state) is type(signal.state)
    assert restored.state.message == "crossing processes"
    if cls is LOOP:
        assert restored.state == signal.state
    else:
        # The state's result is the signal: the cycle is rebuilt around the new object.
        assert restored.state.result is restored


def test_signal_with_state_kwargs_survives_a_pickle_round_trip():
    when = pendulum.datetime(2030, 1, 1, tz="UTC")
    restored = pickle.loads(pickle.dumps(RETRY("later", start_time=when, run_count=4)))
    assert restored.state.start_time == when
    assert restored.state.run_count == 4


def test_endrun_survives_a_pickle_round_trip():
    restored = pickle.loads(pickle.dumps(ENDRUN(state.Failed("boom", result=3))))
    assert type(restored) is ENDRUN
    assert restored.state == state.Failed("boom", result=3)
    assert restored.state.message == "boom"


def test_endrun_whose_state_holds_the_signal_survives_a_pickle_round_trip():
    failed = state.Failed("boom")
    signal = ENDRUN(failed)
    failed.result = signal
    restored = pickle.loads(pickle.dumps(signal))
    assert restored.state.result is restored


@pytest.mark.parametrize("cls", STATE_SIGNALS, ids=lambda c: c.__name__)
def test_signal_from_state_finds_the_signal_producing_that_state(cls):
    assert signal_from_state(cls("x").state) is cls


@pytest.mark.parametrize(
    "unmatched", [state.Running(), state.TimedOut(), state.Cached(), state.State()]
)
def test_signal_from_state_rejects_states_no_signal_produces(unmatched):
    with pytest.raises(ValueError, match=type(unmatched).__name__):
        signal_from_state(unmatched)
