from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import prefect
from prefect import triggers
from prefect.engine import signals
from prefect.engine import state as state_module

# Outcome sets written from the predicate matrix of states.md, by class name, so the
# oracles below do not lean on the `is_*` methods under test.
ALL_NAMES = [
    "State",
    "Pending",
    "Scheduled",
    "Paused",
    "ClientFailed",
    "Submitted",
    "Queued",
    "Resume",
    "Retrying",
    "Running",
    "Cancelling",
    "Finished",
    "Looped",
    "Success",
    "Cached",
    "Mapped",
    "Cancelled",
    "Failed",
    "TimedOut",
    "TriggerFailed",
    "ValidationFailed",
    "Skipped",
]
FINISHED = {
    "Finished",
    "Looped",
    "Success",
    "Cached",
    "Mapped",
    "Cancelled",
    "Failed",
    "TimedOut",
    "TriggerFailed",
    "ValidationFailed",
    "Skipped",
}
SUCCESSFUL = {"Success", "Cached", "Mapped", "Skipped"}
FAILED = {"Failed", "TimedOut", "TriggerFailed", "ValidationFailed"}

PASS = "pass"


def outcome(trigger, upstream) -> str:
    """What a trigger does with `upstream`: "pass", or the name of the signal it raises."""
    try:
        returned = trigger(upstream)
    except signals.PrefectStateSignal as signal:
        return type(signal).__name__
    assert returned is True
    return PASS


def upstream_of(names: list[str]) -> dict:
    # Keys stand in for edges: triggers only look at the values.
    return {f"edge-{index}": getattr(state_module, name)() for index, name in enumerate(names)}


state_names = st.lists(st.sampled_from(ALL_NAMES), max_size=8)


def fail_unless(condition: bool) -> str:
    return PASS if condition else "TRIGGERFAIL"


SIMPLE_ORACLES = {
    "all_finished": lambda names: fail_unless(all(n in FINISHED for n in names)),
    "all_successful": lambda names: fail_unless(all(n in SUCCESSFUL for n in names)),
    "all_failed": lambda names: fail_unless(all(n in FAILED for n in names)),
    "any_successful": lambda names: fail_unless(not names or any(n in SUCCESSFUL for n in names)),
    "any_failed": lambda names: fail_unless(not names or any(n in FAILED for n in names)),
    "not_all_skipped": lambda names: (
        "SKIP"
        if names and all(n == "Skipped" for n in names)
        else fail_unless(all(n in SUCCESSFUL for n in names))
    ),
}


@settings(max_examples=150)
@given(trigger_name=st.sampled_from(sorted(SIMPLE_ORACLES)), names=state_names)
def test_trigger_outcome_matches_oracle(trigger_name, names):
    trigger = getattr(triggers, trigger_name)
    assert outcome(trigger, upstream_of(names)) == SIMPLE_ORACLES[trigger_name](names)


# A limit is absent, a count, or a fraction (in whole percent, as users write them).
limits = (
    st.none() | st.integers(min_value=0, max_value=9) | st.integers(1, 99).map(lambda p: p / 100)
)


def within_limits(count: int, total: int, at_least, at_most) -> bool:
    def exact(limit):
        if isinstance(limit, float):
            return Fraction(str(limit)) * total
        return Fraction(limit)

    low = 0 if at_least is None else exact(at_least)
    high = total if at_most is None else exact(at_most)
    return low <= count <= high


@settings(max_examples=200)
@given(
    kind=st.sampled_from(["some_failed", "some_successful"]),
    names=state_names,
    at_least=limits,
    at_most=limits,
)
def test_counting_trigger_outcome_matches_oracle(kind, names, at_least, at_most):
    trigger = getattr(triggers, kind)(at_least=at_least, at_most=at_most)
    matching = FAILED if kind == "some_failed" else SUCCESSFUL
    count = sum(1 for n in names if n in matching)
    expected = fail_unless(within_limits(count, len(names), at_least, at_most))
    assert outcome(trigger, upstream_of(names)) == expected


def test_always_run_is_all_finished():
    assert triggers.always_run is triggers.all_finished


def test_module_exports_the_reference_names():
    assert sorted(triggers.__all__) == sorted(
        [
            "all_finished",
            "always_run",
            "manual_only",
            "all_successful",
            "all_failed",
            "any_successful",
            "any_failed",
            "some_failed",
            "some_successful",
            "not_all_skipped",
        ]
    )


def test_all_successful_failure_names_the_trigger_in_the_state_message():
    with pytest.raises(signals.TRIGGERFAIL) as info:
        triggers.all_successful(upstream_of(["Success", "Failed"]))
    assert type(info.value.state) is state_module.TriggerFailed
    assert '"all_successful"' in info.value.state.message


def test_some_failed_failure_message_gives_count_and_bounds():
    with pytest.raises(signals.TRIGGERFAIL, match="3 of the 4 upstream tasks failed.*0 and 2"):
        triggers.some_failed(at_most=0.5)(upstream_of(["Failed"] * 3 + ["Success"]))


def test_fractional_bounds_are_not_thrown_off_by_float_rounding():
    # 0.55 * 20 is 11.000000000000002 in floating point; 11 of 20 is exactly 55%.
    names = ["Failed"] * 11 + ["Success"] * 9
    assert triggers.some_failed(at_least=0.55)(upstream_of(names)) is True
    assert triggers.some_successful(at_most=0.45)(upstream_of(names)) is True


def test_counting_triggers_are_built_per_call_and_named_for_their_factory():
    at_least_one = triggers.some_failed(at_least=1)
    assert at_least_one is not triggers.some_failed(at_least=1)
    assert at_least_one.__qualname__ == "some_failed.<locals>._some_failed"
    assert triggers.some_successful().__qualname__ == ("some_successful.<locals>._some_successful")


def test_not_all_skipped_skips_when_every_upstream_was_skipped():
    with pytest.raises(signals.SKIP) as info:
        triggers.not_all_skipped(upstream_of(["Skipped", "Skipped"]))
    assert type(info.value.state) is state_module.Skipped


def test_manual_only_pauses_the_task():
    for upstream in ({}, upstream_of(["Success"])):
        with pytest.raises(signals.PAUSE) as info:
            triggers.manual_only(upstream)
        assert type(info.value.state) is state_module.Paused
        assert info.value.state.message == 'Trigger function is "manual_only"'


def test_manual_only_passes_when_the_run_was_resumed():
    with prefect.context(resume=True):
        assert triggers.manual_only(upstream_of(["Success"])) is True


@pytest.mark.parametrize(
    "upstream",
    [
        [state_module.Success(), state_module.Failed()],
        {state_module.Success(), state_module.Failed()},
    ],
    ids=["list", "set"],
)
def test_triggers_accept_a_plain_collection_of_states(upstream):
    assert triggers.any_failed(upstream) is True
    with pytest.raises(signals.TRIGGERFAIL):
        triggers.all_successful(upstream)
