"""`prefect.engine.runner`: the `Runner` base, `call_state_handlers` and `handle_state_change`."""

from __future__ import annotations

import logging
from typing import Any

import pytest

import prefect
from prefect.engine import signals
from prefect.engine.runner import ENDRUN, Runner, call_state_handlers
from prefect.engine.state import Failed, Paused, Pending, Running, Skipped, State, Success
from prefect.utilities.debug import raise_on_exception


class StepRunner(Runner):
    """A runner with one decorated step that does what the test asks of it."""

    def __init__(self, outcome: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.outcome = outcome
        self.target_calls: list[tuple[State, State]] = []

    def call_runner_target_handlers(self, old_state: State, new_state: State) -> State:
        self.target_calls.append((old_state, new_state))
        return new_state

    @call_state_handlers
    def step(self, state: State) -> State:
        """Return the outcome (a state), raise it (an exception), or return `state`."""
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return self.outcome if self.outcome is not None else state


def recorder(tag: str, calls: list, replace: State | None = None) -> Any:
    def handler(obj: Any, old: State, new: State) -> State | None:
        calls.append((tag, obj, old, new))
        return replace

    return handler


# --- Runner ----------------------------------------------------------------------------------


def test_runner_has_no_state_handlers_by_default():
    assert list(Runner().state_handlers) == []


def test_runner_keeps_its_state_handlers_in_order():
    def first(*args: Any) -> None: ...

    def second(*args: Any) -> None: ...

    assert list(Runner(state_handlers=[first, second]).state_handlers) == [first, second]


def test_runner_rejects_state_handlers_that_are_not_iterable():
    with pytest.raises(TypeError, match="state_handlers should be iterable"):
        Runner(state_handlers=lambda *args: None)  # type: ignore[arg-type]


def test_runner_logger_is_named_for_the_runner_class():
    assert Runner().logger.name == "prefect.Runner"
    assert StepRunner().logger.name == "prefect.StepRunner"
    assert isinstance(Runner().logger, logging.Logger)


def test_runner_initialize_run_starts_from_pending_and_keeps_the_context():
    context = {"a": 1}
    state, new_context = Runner().initialize_run(None, context)
    assert type(state) is Pending
    assert new_context is context


def test_runner_initialize_run_keeps_a_given_state():
    state = Running()
    assert Runner().initialize_run(state, {})[0] is state


def test_runner_call_runner_target_handlers_returns_the_new_state():
    new = Success()
    assert Runner().call_runner_target_handlers(Pending(), new) is new


def test_endrun_of_the_runner_module_is_the_signal():
    assert ENDRUN is signals.ENDRUN
    state = Failed()
    assert ENDRUN(state).state is state


# --- handle_state_change ---------------------------------------------------------------------


def test_handle_state_change_calls_each_runner_handler_with_runner_old_and_new():
    calls: list = []
    runner = Runner(state_handlers=[recorder("a", calls), recorder("b", calls)])
    old, new = Pending(), Running()
    assert runner.handle_state_change(old, new) is new
    assert calls == [("a", runner, old, new), ("b", runner, old, new)]


def test_handle_state_change_calls_target_handlers_before_runner_handlers():
    calls: list = []
    runner = StepRunner(state_handlers=[recorder("runner", calls)])
    old, new = Pending(), Running()
    runner.handle_state_change(old, new)
    assert runner.target_calls == [(old, new)]
    assert calls == [("runner", runner, old, new)]


def test_handle_state_change_lets_a_handler_replace_the_state_for_the_next_handlers():
    calls: list = []
    replacement = Skipped("replaced")
    runner = Runner(
        state_handlers=[recorder("a", calls, replace=replacement), recorder("b", calls)]
    )
    old, new = Pending(), Running()
    assert runner.handle_state_change(old, new) is replacement
    assert calls[1] == ("b", runner, old, replacement)


def test_handle_state_change_keeps_the_state_when_a_handler_returns_none():
    runner = Runner(state_handlers=[lambda runner, old, new: None])
    new = Running()
    assert runner.handle_state_change(Pending(), new) is new


def test_handle_state_change_ends_the_run_failed_when_a_handler_raises():
    error = ValueError("bad handler")

    def handler(runner: Any, old: State, new: State) -> None:
        raise error

    with pytest.raises(ENDRUN) as exc:
        Runner(state_handlers=[handler]).handle_state_change(Pending(), Running())
    state = exc.value.state
    assert type(state) is Failed
    assert state.result is error
    assert (
        state.message == "Exception raised while calling state handlers: ValueError('bad handler')"
    )


def test_handle_state_change_logs_a_failing_handler(caplog):
    def handler(runner: Any, old: State, new: State) -> None:
        raise ValueError("bad handler")

    with caplog.at_level(logging.ERROR, logger="prefect"), pytest.raises(ENDRUN):
        Runner(state_handlers=[handler]).handle_state_change(Pending(), Running())
    assert any(
        "Exception raised while calling state handlers" in r.getMessage() for r in caplog.records
    )


def test_handle_state_change_raises_a_handler_error_under_raise_on_exception():
    def handler(runner: Any, old: State, new: State) -> None:
        raise ValueError("bad handler")

    with raise_on_exception(), pytest.raises(ValueError, match="bad handler"):
        Runner(state_handlers=[handler]).handle_state_change(Pending(), Running())


def test_handle_state_change_lets_pause_and_endrun_through():
    def pauses(runner: Any, old: State, new: State) -> None:
        raise signals.PAUSE("wait")

    ended = Success("ended")

    def ends(runner: Any, old: State, new: State) -> None:
        raise ENDRUN(ended)

    with pytest.raises(signals.PAUSE):
        Runner(state_handlers=[pauses]).handle_state_change(Pending(), Running())
    with pytest.raises(ENDRUN) as exc:
        Runner(state_handlers=[ends]).handle_state_change(Pending(), Running())
    assert exc.value.state is ended


@pytest.mark.parametrize(
    ("signal", "state_type"),
    [(signals.FAIL, Failed), (signals.SKIP, Skipped), (signals.SUCCESS, Success)],
)
def test_handle_state_change_turns_a_state_signal_of_a_handler_into_the_new_state(
    signal, state_type
):
    def handler(runner: Any, old: State, new: State) -> None:
        raise signal("from a handler")

    new_state = Runner(state_handlers=[handler]).handle_state_change(Pending(), Running())
    assert type(new_state) is state_type
    assert new_state.message == "from a handler"


# --- call_state_handlers ---------------------------------------------------------------------


def test_call_state_handlers_keeps_the_method_name_and_doc():
    assert StepRunner.step.__name__ == "step"
    assert "outcome" in (StepRunner.step.__doc__ or "")


def test_call_state_handlers_calls_no_handler_when_the_state_is_unchanged():
    calls: list = []
    runner = StepRunner(state_handlers=[recorder("r", calls)])
    state = Pending()
    assert runner.step(state) is state
    assert calls == []
    assert runner.target_calls == []


def test_call_state_handlers_hands_a_new_state_to_the_handlers():
    calls: list = []
    new = Running()
    runner = StepRunner(outcome=new, state_handlers=[recorder("r", calls)])
    old = Pending()
    assert runner.step(old) is new
    assert runner.target_calls == [(old, new)]
    assert calls == [("r", runner, old, new)]


def test_call_state_handlers_returns_the_state_a_handler_replaced():
    replacement = Failed("replaced")
    runner = StepRunner(outcome=Running(), state_handlers=[lambda runner, old, new: replacement])
    assert runner.step(Pending()) is replacement


def test_call_state_handlers_compares_states_by_identity_not_equality():
    calls: list = []
    old = Pending()
    equal_but_new = Pending()
    assert old == equal_but_new
    runner = StepRunner(outcome=equal_but_new, state_handlers=[recorder("r", calls)])
    runner.step(old)
    assert len(calls) == 1


def test_call_state_handlers_reraises_endrun_after_handling_its_state():
    calls: list = []
    ended = Success("done")
    runner = StepRunner(outcome=ENDRUN(ended), state_handlers=[recorder("r", calls)])
    old = Pending()
    with pytest.raises(ENDRUN) as exc:
        runner.step(old)
    assert exc.value.state is ended
    assert calls == [("r", runner, old, ended)]


def test_call_state_handlers_reraises_endrun_with_the_replaced_state():
    replacement = Failed("replaced")
    runner = StepRunner(
        outcome=ENDRUN(Success()), state_handlers=[lambda runner, old, new: replacement]
    )
    with pytest.raises(ENDRUN) as exc:
        runner.step(Pending())
    assert exc.value.state is replacement


def test_call_state_handlers_reraises_endrun_in_the_same_state_without_handlers():
    calls: list = []
    old = Pending()
    runner = StepRunner(outcome=ENDRUN(old), state_handlers=[recorder("r", calls)])
    with pytest.raises(ENDRUN) as exc:
        runner.step(old)
    assert exc.value.state is old
    assert calls == []


@pytest.mark.parametrize(
    ("signal", "state_type"),
    [(signals.FAIL, Failed), (signals.SKIP, Skipped), (signals.PAUSE, Paused)],
)
def test_call_state_handlers_turns_a_state_signal_into_its_state(signal, state_type):
    calls: list = []
    runner = StepRunner(outcome=signal("signalled"), state_handlers=[recorder("r", calls)])
    old = Pending()
    new_state = runner.step(old)
    assert type(new_state) is state_type
    assert new_state.message == "signalled"
    assert calls == [("r", runner, old, new_state)]


def test_call_state_handlers_logs_a_state_signal(caplog):
    with caplog.at_level(logging.INFO, logger="prefect"):
        StepRunner(outcome=signals.SKIP("not needed")).step(Pending())
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("SKIP signal raised") for m in messages)


def test_call_state_handlers_raises_a_state_signal_under_raise_on_exception():
    with raise_on_exception(), pytest.raises(signals.FAIL):
        StepRunner(outcome=signals.FAIL("nope")).step(Pending())


def test_call_state_handlers_ends_the_run_failed_when_a_handler_raises():
    def handler(runner: Any, old: State, new: State) -> None:
        raise RuntimeError("handler broke")

    runner = StepRunner(outcome=Running(), state_handlers=[handler])
    with pytest.raises(ENDRUN) as exc:
        runner.step(Pending())
    assert type(exc.value.state) is Failed
    assert exc.value.state.message.startswith("Exception raised while calling state handlers: ")
    assert isinstance(exc.value.state.result, RuntimeError)


def test_call_state_handlers_reads_raise_on_exception_at_call_time():
    runner = StepRunner(outcome=signals.FAIL("nope"))
    assert type(runner.step(Pending())) is Failed
    with prefect.context(raise_on_exception=True), pytest.raises(signals.FAIL):
        runner.step(Pending())


def test_log_info_emits_an_info_record_through_the_logger_handlers():
    import logging

    from prefect.engine.runner import log_info

    records = []

    class Collect(logging.Handler):
        def emit(self, record):
            records.append(record)

    logger = logging.getLogger("prefect.test-log-info")
    handler = Collect()
    logger.addHandler(handler)
    try:
        log_info(logger, "Task '%s': Starting task run...", "x")
        logger.setLevel(logging.WARNING)
        log_info(logger, "not emitted")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)
    assert [r.getMessage() for r in records] == ["Task 'x': Starting task run..."]
    assert records[0].levelno == logging.INFO and records[0].name == "prefect.test-log-info"
