"""`call_state_handlers`: the wrapper around runner steps, both its fast and generic forms."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

import prefect
from prefect.engine import signals
from prefect.engine.runner import ENDRUN, Runner, _plain_parameters, call_state_handlers
from prefect.engine.state import Failed, Pending, Running, Skipped, State, Success


class RecordingRunner(Runner):
    """A runner whose one state handler records every `(old, new)` state change."""

    def __init__(self, replace_with: State | None = None) -> None:
        self.changes: list[tuple[State, State]] = []
        self.replace_with = replace_with
        super().__init__(state_handlers=[self._record])

    def _record(self, runner: Runner, old: State, new: State) -> State | None:
        assert runner is self
        self.changes.append((old, new))
        return self.replace_with


# Plain steps: `(self, state, a, b)` -------------------------------------------------------


def plain_step(self: Runner, state: State, a: int, b: int) -> State:
    """Finish with `a` and `b` as the result."""
    return Success(f"{a}+{b}", result=(a, b))


def test_plain_step_gets_the_fast_wrapper():
    assert _plain_parameters(plain_step) == ["a", "b"]


@pytest.mark.parametrize(
    "call",
    [
        lambda step, runner, s: step(runner, s, 1, 2),
        lambda step, runner, s: step(runner, s, 1, b=2),
        lambda step, runner, s: step(runner, s, a=1, b=2),
        lambda step, runner, s: step(runner, state=s, a=1, b=2),
        lambda step, runner, s: step(runner, s, b=2, a=1),
    ],
    ids=["positional", "mixed", "keywords", "state-by-keyword", "keywords-reordered"],
)
def test_plain_step_can_be_called_positionally_and_by_keyword(call):
    step = call_state_handlers(plain_step)
    runner = RecordingRunner()
    state = Pending()
    new_state = call(step, runner, state)
    assert isinstance(new_state, Success)
    assert new_state.result == (1, 2)
    assert runner.changes == [(state, new_state)]
    assert runner.changes[0][0] is state


def test_wrapped_step_as_method_of_a_runner_class():
    class StepRunner(RecordingRunner):
        step = call_state_handlers(plain_step)

    runner = StepRunner()
    state = Pending()
    assert runner.step(state, 3, b=4).result == (3, 4)
    assert runner.step(state=state, a=5, b=6).result == (5, 6)
    assert len(runner.changes) == 2


def test_wrapper_keeps_the_step_name_docstring_and_signature():
    step = call_state_handlers(plain_step)
    assert step.__name__ == "plain_step"
    assert step.__qualname__ == plain_step.__qualname__
    assert step.__doc__ == "Finish with `a` and `b` as the result."
    assert step.__module__ == plain_step.__module__
    assert step.__wrapped__ is plain_step
    assert inspect.signature(step) == inspect.signature(plain_step)


# Generic steps: defaults, *args/**kwargs, keyword-only ------------------------------------


def step_with_defaults(self: Runner, state: State, a: int, b: int = 10) -> State:
    """Has a default."""
    return Success(result=(a, b))


def step_with_var_args(self: Runner, state: State, *args: Any, **kwargs: Any) -> State:
    return Success(result=(args, kwargs))


def step_with_keyword_only(self: Runner, state: State, a: int, *, b: int, c: int = 7) -> State:
    return Success(result=(a, b, c))


def step_with_positional_only(self: Runner, state: State, /, a: int) -> State:
    return Success(result=a)


@pytest.mark.parametrize(
    "step",
    [step_with_defaults, step_with_var_args, step_with_keyword_only, step_with_positional_only],
)
def test_steps_with_defaults_or_special_parameters_get_the_generic_wrapper(step):
    assert _plain_parameters(step) is None
    wrapped = call_state_handlers(step)
    assert inspect.signature(wrapped) == inspect.signature(step)
    assert wrapped.__name__ == step.__name__


def test_generic_wrapper_honours_defaults():
    step = call_state_handlers(step_with_defaults)
    runner = RecordingRunner()
    assert step(runner, Pending(), 1).result == (1, 10)
    assert step(runner, Pending(), 1, 2).result == (1, 2)
    assert step(runner, state=Pending(), a=1, b=3).result == (1, 3)
    assert step.__doc__ == "Has a default."
    assert len(runner.changes) == 3


def test_generic_wrapper_passes_var_args_and_kwargs():
    step = call_state_handlers(step_with_var_args)
    assert step(RecordingRunner(), Pending(), 1, 2, x=3).result == ((1, 2), {"x": 3})
    assert step(RecordingRunner(), state=Pending()).result == ((), {})


def test_generic_wrapper_passes_keyword_only_arguments_with_defaults():
    step = call_state_handlers(step_with_keyword_only)
    assert step(RecordingRunner(), Pending(), 1, b=2).result == (1, 2, 7)
    assert step(RecordingRunner(), Pending(), a=1, b=2, c=3).result == (1, 2, 3)


def test_generic_wrapper_passes_positional_only_state():
    step = call_state_handlers(step_with_positional_only)
    assert step(RecordingRunner(), Pending(), 5).result == 5
    assert step(RecordingRunner(), Pending(), a=6).result == 6


# State changes ----------------------------------------------------------------------------


def returns_same(self: Runner, state: State, a: Any) -> State:
    return state


def returns_equal_copy(self: Runner, state: State, a: Any) -> State:
    return Pending()


@pytest.mark.parametrize("step", [plain_step, step_with_defaults], ids=["fast", "generic"])
def test_a_new_state_goes_through_handle_state_change(step):
    runner = RecordingRunner()
    state = Pending()
    new_state = call_state_handlers(step)(runner, state, 1, 2)
    assert new_state.result == (1, 2)
    assert len(runner.changes) == 1
    assert runner.changes[0][0] is state
    assert runner.changes[0][1] is new_state


def test_returning_the_same_state_object_calls_no_handler():
    runner = RecordingRunner(replace_with=Failed("handler ran"))
    state = Running()
    assert call_state_handlers(returns_same)(runner, state, None) is state
    assert runner.changes == []


def test_returning_an_equal_but_new_state_calls_the_handlers():
    runner = RecordingRunner()
    state = Pending()
    new_state = call_state_handlers(returns_equal_copy)(runner, state, None)
    assert new_state == state and new_state is not state
    assert len(runner.changes) == 1


@pytest.mark.parametrize("step", [plain_step, step_with_defaults], ids=["fast", "generic"])
def test_a_handler_replacing_the_state_replaces_the_result(step):
    replacement = Skipped("replaced")
    runner = RecordingRunner(replace_with=replacement)
    assert call_state_handlers(step)(runner, Pending(), 1, 2) is replacement


def test_handle_state_change_of_a_subclass_is_used():
    class CustomRunner(Runner):
        def __init__(self) -> None:
            super().__init__()
            self.seen: list[tuple[State, State]] = []

        def handle_state_change(self, old_state: State, new_state: State) -> State:
            self.seen.append((old_state, new_state))
            return Success("custom")

    runner = CustomRunner()
    state = Pending()
    result = call_state_handlers(plain_step)(runner, state, 1, 2)
    assert result.message == "custom"
    assert runner.seen[0][0] is state
    assert runner.seen[0][1].result == (1, 2)


# Exceptions from steps --------------------------------------------------------------------


def ending_step(self: Runner, state: State, end_state: State) -> State:
    raise ENDRUN(end_state)


def ending_step_generic(self: Runner, state: State, end_state: State, *rest: Any) -> State:
    raise ENDRUN(end_state)


@pytest.mark.parametrize("step", [ending_step, ending_step_generic], ids=["fast", "generic"])
def test_endrun_is_raised_again_with_the_handled_state(step):
    runner = RecordingRunner()
    state = Pending()
    end_state = Failed("stop")
    with pytest.raises(ENDRUN) as raised:
        call_state_handlers(step)(runner, state, end_state)
    assert raised.value.state is end_state
    assert runner.changes == [(state, end_state)]


@pytest.mark.parametrize("step", [ending_step, ending_step_generic], ids=["fast", "generic"])
def test_endrun_carries_the_state_a_handler_replaced(step):
    replacement = Skipped("handler says skip")
    runner = RecordingRunner(replace_with=replacement)
    with pytest.raises(ENDRUN) as raised:
        call_state_handlers(step)(runner, Pending(), Failed("stop"))
    assert raised.value.state is replacement


def test_endrun_with_the_same_state_calls_no_handler():
    runner = RecordingRunner()
    state = Pending()
    with pytest.raises(ENDRUN) as raised:
        call_state_handlers(ending_step)(runner, state, state)
    assert raised.value.state is state
    assert runner.changes == []


def signalling_step(self: Runner, state: State, signal: BaseException) -> State:
    raise signal


def signalling_step_generic(self: Runner, state: State, signal: BaseException, **kw: Any) -> State:
    raise signal


STEPS_RAISING = [signalling_step, signalling_step_generic]


@pytest.mark.parametrize("step", STEPS_RAISING, ids=["fast", "generic"])
def test_a_state_signal_becomes_the_new_state(step):
    runner = RecordingRunner()
    state = Running()
    signal = signals.SKIP("x")
    new_state = call_state_handlers(step)(runner, state, signal)
    assert isinstance(new_state, Skipped)
    assert new_state is signal.state
    assert new_state.message == "x"
    assert runner.changes == [(state, new_state)]


@pytest.mark.parametrize("step", STEPS_RAISING, ids=["fast", "generic"])
def test_an_unexpected_error_becomes_failed_naming_the_step(step):
    runner = RecordingRunner()
    state = Running()
    error = ValueError("bad value")
    new_state = call_state_handlers(step)(runner, state, error)
    assert isinstance(new_state, Failed)
    assert new_state.result is error
    assert step.__name__ in new_state.message
    assert "bad value" in new_state.message
    assert runner.changes == [(state, new_state)]


@pytest.mark.parametrize("step", STEPS_RAISING, ids=["fast", "generic"])
@pytest.mark.parametrize("make_error", [lambda: signals.SKIP("x"), lambda: ValueError("v")])
def test_raise_on_exception_propagates_the_very_same_exception(step, make_error):
    runner = RecordingRunner()
    error = make_error()
    with prefect.context(raise_on_exception=True):
        with pytest.raises(type(error)) as raised:
            call_state_handlers(step)(runner, Running(), error)
    assert raised.value is error
    assert runner.changes == []


@pytest.mark.parametrize("step", STEPS_RAISING, ids=["fast", "generic"])
def test_a_base_exception_that_is_not_a_signal_propagates(step):
    error = KeyboardInterrupt()
    with pytest.raises(KeyboardInterrupt) as raised:
        call_state_handlers(step)(RecordingRunner(), Running(), error)
    assert raised.value is error


# Parameter names that the fast wrapper uses itself ----------------------------------------

# Every name the fast wrapper's source uses: a parameter so named takes the generic wrapper.
CLASHING_NAMES = [
    "method",
    "exc",
    "new_state",
    "step_raised",
    "ENDRUN",
    "PrefectStateSignal",
    "Exception",
]


def make_step(name: str) -> Any:
    """`def step(self, state, <name>, other)`: raises `other` if it is an exception, else
    returns a new state whose result is the `<name>` argument."""
    namespace: dict[str, Any] = {"Success": Success}
    source = (
        f"def step(self, state, {name}, other):\n"
        f"    if isinstance(other, BaseException):\n"
        f"        raise other\n"
        f"    return Success(result={name})\n"
    )
    exec(source, namespace)  # noqa: S102
    return namespace["step"]


def check_step_with_parameter_named(name: str) -> None:
    step = call_state_handlers(make_step(name))
    assert inspect.signature(step) == inspect.signature(step.__wrapped__)
    runner = RecordingRunner()
    assert step(runner, Pending(), "value", None).result == "value"
    assert step(runner, Pending(), **{name: "kw", "other": None}).result == "kw"
    error = ValueError("boom")
    failed = step(runner, Pending(), "value", error)
    assert isinstance(failed, Failed)
    assert failed.result is error
    assert isinstance(step(runner, Pending(), "value", signals.SKIP("s")), Skipped)
    end_state = Failed("end")
    with pytest.raises(ENDRUN) as raised:
        step(runner, Pending(), "value", ENDRUN(end_state))
    assert raised.value.state is end_state


@pytest.mark.parametrize("name", CLASHING_NAMES)
def test_step_with_a_parameter_named_like_a_wrapper_internal_works(name):
    assert _plain_parameters(make_step(name)) is None  # these names take the generic wrapper
    check_step_with_parameter_named(name)


def test_step_with_ordinary_parameter_names_takes_the_fast_wrapper():
    assert _plain_parameters(make_step("value")) == ["value", "other"]
    check_step_with_parameter_named("value")
