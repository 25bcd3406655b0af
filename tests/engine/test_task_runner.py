"""`TaskRunner.run`: a whole task run, from the state it starts in to its final state.

Each test runs one task through the 1.4.1 pipeline (no flow, no executor) and checks the final
state, what the task saw in `prefect.context`, what the state handlers saw, and the logs.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

import pendulum
import pytest

import prefect
from prefect import triggers
from prefect.core import Edge, Task
from prefect.engine import signals
from prefect.engine.result import Result
from prefect.engine.runner import ENDRUN
from prefect.engine.state import (
    Cached,
    Failed,
    Looped,
    Mapped,
    Paused,
    Pending,
    Resume,
    Retrying,
    Running,
    Scheduled,
    Skipped,
    State,
    Success,
    TimedOut,
    TriggerFailed,
)
from prefect.engine.task_runner import TaskRunner
from prefect.utilities.debug import raise_on_exception
from prefect.utilities.tasks import pause_task


class AddOne(Task):
    def run(self, x: int = 0) -> int:  # type: ignore[override]
        return x + 1


class Boom(Task):
    def run(self) -> None:  # type: ignore[override]
        raise ValueError("boom")


class Raises(Task):
    """Raises the exception (or signal) it was built with."""

    def __init__(self, error: BaseException, **kwargs: Any) -> None:
        self.error = error
        super().__init__(**kwargs)

    def run(self) -> None:  # type: ignore[override]
        raise self.error


class Counter(Task):
    """Counts its runs; fails (with `ValueError`) while `fail_times` runs are left."""

    def __init__(self, fail_times: int = 0, **kwargs: Any) -> None:
        self.calls = 0
        self.fail_times = fail_times
        super().__init__(**kwargs)

    def run(self) -> int:  # type: ignore[override]
        self.calls += 1
        if self.calls <= self.fail_times:
            raise ValueError(f"failure {self.calls}")
        return self.calls


class Sleeps(Task):
    def run(self) -> str:  # type: ignore[override]
        # Far longer than any timeout given to it, in short naps so a stop request lands soon.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            time.sleep(0.01)
        return "woke up"


class ContextSpy(Task):
    """Records what `prefect.context` holds while it runs."""

    KEYS = (
        "task_name",
        "task_full_name",
        "task_run_count",
        "map_index",
        "logger",
        "parameters",
        "task_tags",
        "checkpointing",
        "resume",
    )

    def __init__(self, **kwargs: Any) -> None:
        self.seen: list[dict[str, Any]] = []
        super().__init__(**kwargs)

    def run(self) -> str:  # type: ignore[override]
        self.seen.append({key: prefect.context.get(key) for key in self.KEYS})
        return "spied"


def edge(key: str | None = None, mapped: bool = False, name: str = "up") -> Edge:
    return Edge(Task(name=name), Task(name="down"), key=key, mapped=mapped)


def record(tag: str, calls: list) -> Any:
    def handler(obj: Any, old: State, new: State) -> None:
        calls.append((tag, obj, type(old), type(new)))

    return handler


def messages(caplog: Any) -> list[str]:
    return [r.getMessage() for r in caplog.records]


@pytest.fixture
def results_dir(tmp_path: Any) -> Any:
    """An empty directory for results (`tmp_path` also holds the test's home directory)."""
    directory = tmp_path / "results"
    directory.mkdir()
    return directory


# --- the happy path --------------------------------------------------------------------------


def test_run_without_a_state_starts_pending_and_succeeds_with_the_result():
    state = TaskRunner(AddOne()).run()
    assert type(state) is Success
    assert state.result == 1
    assert state.message == "Task run succeeded."


def test_run_passes_keyed_upstream_results_as_arguments():
    state = TaskRunner(AddOne()).run(upstream_states={edge("x"): Success(result=41)})
    assert state.result == 42


def test_run_takes_missing_arguments_from_cached_inputs_of_the_state():
    state = TaskRunner(AddOne()).run(state=Pending(cached_inputs={"x": Result(9)}))
    assert state.result == 10


def test_run_records_the_inputs_on_the_final_state():
    state = TaskRunner(AddOne()).run(upstream_states={edge("x"): Success(result=1)})
    assert {k: r.value for k, r in state.cached_inputs.items()} == {"x": 1}


def test_run_of_a_task_returning_none_succeeds_with_none():
    class Nothing(Task):
        def run(self) -> None:  # type: ignore[override]
            return None

    state = TaskRunner(Nothing()).run()
    assert type(state) is Success
    assert state.result is None


def test_run_does_not_leak_the_task_context():
    TaskRunner(AddOne(name="leaky")).run()
    assert "task_name" not in prefect.context
    assert "task_full_name" not in prefect.context


# --- states that end the run early -----------------------------------------------------------


@pytest.mark.parametrize(
    "state",
    [Running(), Success(result=5), Failed(), Skipped(), TriggerFailed()],
    ids=lambda s: type(s).__name__,
)
def test_run_returns_a_running_or_finished_state_without_running_the_task(state):
    task = Counter()
    assert TaskRunner(task).run(state=state) is state
    assert task.calls == 0


@pytest.mark.parametrize(
    "state",
    [
        Scheduled(start_time=pendulum.now("utc").add(hours=1)),
        Retrying(start_time=pendulum.now("utc").add(hours=1)),
        Paused(),
    ],
    ids=lambda s: type(s).__name__,
)
def test_run_returns_a_state_that_is_not_due_without_running_the_task(state):
    task = Counter()
    assert TaskRunner(task).run(state=state) is state
    assert task.calls == 0


def test_run_runs_a_scheduled_task_whose_start_time_has_come():
    task = Counter()
    state = TaskRunner(task).run(state=Scheduled(start_time=pendulum.now("utc").add(hours=-1)))
    assert type(state) is Success
    assert task.calls == 1


def test_run_stays_pending_while_an_upstream_task_is_unfinished():
    task = Counter()
    pending = Pending()
    state = TaskRunner(task).run(state=pending, upstream_states={edge(): Running()})
    assert state is pending
    assert task.calls == 0


def test_run_stays_pending_while_a_child_of_a_mapped_upstream_is_unfinished():
    task = Counter()
    pending = Pending()
    mapped = Mapped(map_states=[Success(), Running()])
    assert TaskRunner(task).run(state=pending, upstream_states={edge(): mapped}) is pending
    assert task.calls == 0


def test_run_skips_a_task_whose_upstream_task_was_skipped():
    task = Counter()
    state = TaskRunner(task).run(upstream_states={edge(): Skipped()})
    assert type(state) is Skipped
    assert "skip_on_upstream_skip=False" in state.message
    assert task.calls == 0


def test_run_runs_a_task_after_a_skip_when_skip_on_upstream_skip_is_off():
    task = Counter(skip_on_upstream_skip=False)
    state = TaskRunner(task).run(upstream_states={edge(): Skipped()})
    assert type(state) is Success
    assert task.calls == 1


def test_run_ends_triggerfailed_when_the_trigger_fails():
    task = Counter()
    state = TaskRunner(task).run(upstream_states={edge(): Success(), edge(): Failed()})
    assert type(state) is TriggerFailed
    assert task.calls == 0


def test_run_of_an_all_failed_task_runs_after_failures():
    task = Counter(trigger=triggers.all_failed)
    state = TaskRunner(task).run(upstream_states={edge(): Failed()})
    assert type(state) is Success


def test_run_ends_triggerfailed_with_the_error_of_a_broken_trigger():
    error = KeyError("trigger bug")

    def broken(upstream_states: Any) -> bool:
        raise error

    task = Counter(trigger=broken)
    state = TaskRunner(task).run(upstream_states={edge(): Success()})
    assert type(state) is TriggerFailed
    assert state.result is error
    assert task.calls == 0


def test_run_of_a_mapped_state_outside_mapping_returns_it_without_running_the_task():
    task = Counter()
    mapped = Mapped(map_states=[Success(), Success()])
    assert TaskRunner(task).run(state=mapped) is mapped
    assert task.calls == 0


def test_run_as_mapped_parent_decides_the_number_of_children_without_running_the_task():
    task = Counter()
    state = TaskRunner(task).run(
        upstream_states={edge("x", mapped=True): Success(result=[1, 2, 3])},
        is_mapped_parent=True,
    )
    assert type(state) is Mapped
    assert state.n_map_states == 3
    assert task.calls == 0


def test_run_as_mapped_parent_fails_when_nothing_can_be_mapped_over():
    state = TaskRunner(Counter()).run(
        upstream_states={edge("x", mapped=True): Failed()}, is_mapped_parent=True
    )
    assert type(state) is Failed
    assert state.message == "No upstream states can be mapped over."


# --- task errors and signals -----------------------------------------------------------------


def test_run_fails_with_the_task_exception_as_result():
    state = TaskRunner(Boom()).run()
    assert type(state) is Failed
    assert isinstance(state.result, ValueError)
    assert state.message == "Error during execution of task: ValueError('boom')"


def test_run_raises_the_task_exception_under_raise_on_exception():
    with raise_on_exception(), pytest.raises(ValueError, match="boom"):
        TaskRunner(Boom()).run()


@pytest.mark.parametrize(
    ("signal", "state_type"),
    [
        (signals.FAIL, Failed),
        (signals.SKIP, Skipped),
        (signals.RETRY, Retrying),
        (signals.SUCCESS, Success),
        (signals.VALIDATIONFAIL, Failed),
    ],
)
def test_run_ends_in_the_state_of_a_signal_raised_by_the_task(signal, state_type):
    state = TaskRunner(Raises(signal("said the task"))).run()
    assert isinstance(state, state_type)
    assert type(state).__name__ == signal("x").state.__class__.__name__
    assert state.message == "said the task"


def test_run_retry_signal_gives_retrying_for_this_attempt():
    state = TaskRunner(Raises(signals.RETRY("again"))).run()
    assert type(state) is Retrying
    assert state.run_count == 1


def test_run_fail_signal_of_a_task_with_retries_is_retried():
    task = Raises(signals.FAIL("bad"), max_retries=1, retry_delay=timedelta(0))
    state = TaskRunner(task).run()
    assert type(state) is Retrying


def test_run_ends_in_the_state_of_an_endrun_raised_by_the_task():
    ended = Skipped("ended by the task")
    calls: list = []
    state = TaskRunner(Raises(ENDRUN(ended)), state_handlers=[record("r", calls)]).run()
    assert state is ended
    assert calls[-1][2:] == (Running, Skipped)


def test_run_skipped_by_a_signal_is_not_cached():
    task = Raises(signals.SKIP("skip me"), cache_for=timedelta(minutes=1))
    assert type(TaskRunner(task).run()) is Skipped


def test_run_of_a_task_that_times_out_ends_timedout():
    start = time.monotonic()
    state = TaskRunner(Sleeps(timeout=1)).run()
    assert type(state) is TimedOut
    assert state.message == "Task timed out during execution."
    assert time.monotonic() - start < 10  # did not wait for the 30 s task


def test_run_of_a_task_that_times_out_is_retried_with_retries():
    task = Sleeps(timeout=1, max_retries=1, retry_delay=timedelta(0))
    state = TaskRunner(task).run()
    assert type(state) is Retrying


def test_run_of_a_task_within_its_timeout_succeeds():
    # A generous timeout: the run takes milliseconds, but a loaded machine may pause it.
    state = TaskRunner(AddOne(timeout=60)).run(upstream_states={edge("x"): Success(result=1)})
    assert type(state) is Success
    assert state.result == 2


# --- retries ---------------------------------------------------------------------------------


def test_run_of_a_failing_task_with_retries_ends_retrying_after_the_delay():
    before = pendulum.now("utc")
    task = Counter(fail_times=5, max_retries=2, retry_delay=timedelta(minutes=2))
    state = TaskRunner(task).run(upstream_states={})
    assert type(state) is Retrying
    assert state.run_count == 1
    assert state.message == "Retrying Task (after attempt 1 of 3)"
    assert state.start_time >= before + timedelta(minutes=2)


def test_run_from_retrying_counts_the_attempt_and_succeeds():
    spy = ContextSpy(max_retries=2, retry_delay=timedelta(0))
    TaskRunner(spy).run(state=Retrying(run_count=1, start_time=pendulum.now("utc")))
    assert spy.seen[0]["task_run_count"] == 2


def test_run_retries_until_success():
    task = Counter(fail_times=1, max_retries=2, retry_delay=timedelta(0))
    runner = TaskRunner(task)
    first = runner.run()
    assert type(first) is Retrying
    second = TaskRunner(task).run(state=first)
    assert type(second) is Success
    assert second.result == 2


def test_run_fails_when_retries_run_out():
    task = Counter(fail_times=5, max_retries=1, retry_delay=timedelta(0))
    first = TaskRunner(task).run()
    assert type(first) is Retrying
    second = TaskRunner(task).run(state=first)
    assert type(second) is Failed
    assert str(second.result) == "failure 2"
    assert task.calls == 2


def test_run_retries_with_the_inputs_of_the_failed_attempt():
    class FailsOnce(Task):
        def run(self, x: int) -> int:  # type: ignore[override]
            if prefect.context.get("task_run_count") == 1:
                raise ValueError("first try")
            return x * 10

    task = FailsOnce(max_retries=1, retry_delay=timedelta(0))
    first = TaskRunner(task).run(upstream_states={edge("x"): Success(result=4)})
    assert type(first) is Retrying
    # the flow runner hands the upstream states back; without a result they come from the cache
    second = TaskRunner(task).run(state=first, upstream_states={edge("x"): Success()})
    assert second.result == 40


def test_run_retries_only_on_listed_exceptions():
    task = Counter(fail_times=5, max_retries=2, retry_delay=timedelta(0), retry_on=KeyError)
    state = TaskRunner(task).run()
    assert type(state) is Failed


def test_run_retries_on_a_listed_exception():
    task = Counter(fail_times=5, max_retries=2, retry_delay=timedelta(0), retry_on=[ValueError])
    assert type(TaskRunner(task).run()) is Retrying


# --- caching and targets ---------------------------------------------------------------------


def test_run_of_a_task_with_cache_for_ends_cached_with_an_expiration():
    before = pendulum.now("utc")
    state = TaskRunner(AddOne(cache_for=timedelta(hours=1))).run()
    assert type(state) is Cached
    assert state.result == 1
    assert state.cached_result_expiration >= before + timedelta(hours=1)
    assert state.cached_result_expiration <= pendulum.now("utc") + timedelta(hours=1)


def test_run_reuses_a_valid_cached_state_without_running_the_task():
    task = Counter(cache_for=timedelta(hours=1))
    cached = Cached(result=99, cached_result_expiration=pendulum.now("utc").add(hours=1))
    state = TaskRunner(task).run(state=cached)
    assert state is cached
    assert task.calls == 0


def test_run_reruns_a_task_whose_cache_expired():
    task = Counter(cache_for=timedelta(hours=1))
    expired = Cached(result=99, cached_result_expiration=pendulum.now("utc").add(hours=-1))
    state = TaskRunner(task).run(state=expired)
    assert type(state) is Cached
    assert state.result == 1
    assert task.calls == 1


def test_run_reuses_a_cache_from_the_context():
    task = Counter(name="cached-task", cache_for=timedelta(hours=1))
    cached = Cached(result=7, cached_result_expiration=pendulum.now("utc").add(hours=1))
    with prefect.context(caches={"cached-task": [cached]}):
        state = TaskRunner(task).run()
    assert state is cached
    assert task.calls == 0


def test_run_of_a_task_with_a_stored_target_reuses_it_without_running(results_dir):
    from prefect.engine.results import LocalResult

    stored = LocalResult(dir=str(results_dir), location="answer.txt")
    stored.write("stored value")
    task = Counter(result=LocalResult(dir=str(results_dir)), target="answer.txt")
    state = TaskRunner(task).run()
    assert type(state) is Cached
    assert state.result == "stored value"
    assert task.calls == 0


def test_run_of_a_task_with_a_missing_target_runs_and_writes_it(results_dir):
    from prefect.engine.results import LocalResult

    task = Counter(result=LocalResult(dir=str(results_dir)), target="{task_name}.out")
    with prefect.context(checkpointing=True):
        state = TaskRunner(task).run()
    assert type(state) is Success
    assert task.calls == 1
    assert LocalResult(dir=str(results_dir)).read("Counter.out").value == 1
    again = TaskRunner(task).run()
    assert type(again) is Cached
    assert again.result == 1
    assert task.calls == 1


# --- checkpointing ---------------------------------------------------------------------------


def test_run_with_checkpointing_writes_the_result(results_dir):
    from prefect.engine.results import LocalResult

    task = AddOne(result=LocalResult(dir=str(results_dir)))
    state = TaskRunner(task).run(context={"checkpointing": True})
    files = list(results_dir.iterdir())
    assert len(files) == 1
    assert state._result.location == str(files[0])
    assert LocalResult(dir=str(results_dir)).read(str(files[0])).value == 1


def test_run_with_checkpointing_from_the_config_writes_the_result(results_dir):
    from prefect.engine.results import LocalResult

    prefect.config.flows.checkpointing = True
    TaskRunner(AddOne(result=LocalResult(dir=str(results_dir)))).run()
    assert len(list(results_dir.iterdir())) == 1


def test_run_of_a_task_with_checkpoint_off_writes_nothing(results_dir):
    from prefect.engine.results import LocalResult

    task = AddOne(result=LocalResult(dir=str(results_dir)), checkpoint=False)
    state = TaskRunner(task).run(context={"checkpointing": True})
    assert state.result == 1
    assert list(results_dir.iterdir()) == []


def test_run_without_checkpointing_writes_nothing(results_dir):
    from prefect.engine.results import LocalResult

    TaskRunner(AddOne(result=LocalResult(dir=str(results_dir)))).run(
        context={"checkpointing": False}
    )
    assert list(results_dir.iterdir()) == []


def test_run_checkpoints_with_the_flow_result_when_the_task_has_none(results_dir):
    from prefect.engine.results import LocalResult

    runner = TaskRunner(AddOne(), flow_result=LocalResult(dir=str(results_dir)))
    runner.run(context={"checkpointing": True})
    assert len(list(results_dir.iterdir())) == 1


def test_run_with_checkpointing_keeps_the_value_of_a_result_that_cannot_be_written():
    state = TaskRunner(AddOne()).run(context={"checkpointing": True})
    assert type(state) is Success
    assert state.result == 1
    assert state._result.location is None


def test_run_with_checkpointing_and_a_prefect_result_stores_the_value_as_json():
    from prefect.engine.results import PrefectResult

    state = TaskRunner(AddOne(result=PrefectResult())).run(
        upstream_states={edge("x"): Success(result=1)}, context={"checkpointing": True}
    )
    assert state.result == 2
    assert state._result.location == "2"


# --- looping ---------------------------------------------------------------------------------


class Fib(Task):
    """Loops with `LOOP` until `n` reaches `stop`, recording the loop context it sees."""

    def __init__(self, stop: int = 3, **kwargs: Any) -> None:
        self.stop = stop
        self.counts: list[Any] = []
        self.results: list[Any] = []
        super().__init__(**kwargs)

    def run(self) -> int:  # type: ignore[override]
        self.counts.append(prefect.context.get("task_loop_count"))
        payload = prefect.context.get("task_loop_result", {"n": 1})
        self.results.append(payload)
        if payload["n"] < self.stop:
            raise signals.LOOP(result={"n": payload["n"] + 1})
        return payload["n"]


def test_run_loops_until_the_task_returns_with_loop_count_and_result_in_context():
    task = Fib(stop=3)
    state = TaskRunner(task).run()
    assert type(state) is Success
    assert state.result == 3
    assert task.counts == [None, 2, 3]
    assert task.results == [{"n": 1}, {"n": 2}, {"n": 3}]


def test_run_loops_many_times_without_growing_the_stack():
    class Loops(Task):
        def run(self) -> int:  # type: ignore[override]
            count = prefect.context.get("task_loop_count") or 1
            if count < 2000:
                raise signals.LOOP(result=count)
            return count

    state = TaskRunner(Loops()).run()
    assert type(state) is Success
    assert state.result == 2000


def test_run_passes_every_loop_through_the_state_handlers():
    calls: list = []
    TaskRunner(Fib(stop=2), state_handlers=[record("r", calls)]).run()
    transitions = [c[2:] for c in calls]
    assert transitions == [
        (Pending, Running),
        (Running, Looped),
        (Pending, Running),
        (Running, Success),
    ]


def test_run_logs_start_and_finish_once_for_a_looping_task(caplog):
    with caplog.at_level(logging.INFO, logger="prefect"):
        TaskRunner(Fib(stop=4, name="fib")).run()
    assert messages(caplog).count("Task 'fib': Starting task run...") == 1
    assert (
        messages(caplog).count("Task 'fib': Finished task run for task with final state: 'Success'")
        == 1
    )


def test_run_of_a_looping_task_resumes_its_loop_after_a_retry():
    class LoopsThenFails(Task):
        def __init__(self, **kwargs: Any) -> None:
            self.counts: list[Any] = []
            super().__init__(**kwargs)

        def run(self) -> int:  # type: ignore[override]
            count = prefect.context.get("task_loop_count")
            self.counts.append((prefect.context.get("task_run_count"), count))
            if (count or 1) < 3:
                raise signals.LOOP(result=(count or 1) * 10)
            if prefect.context.get("task_run_count") == 1:
                raise ValueError("fails on the third loop of the first attempt")
            return prefect.context.get("task_loop_result")

    task = LoopsThenFails(max_retries=1, retry_delay=timedelta(0))
    first = TaskRunner(task).run()
    assert type(first) is Retrying
    second = TaskRunner(task).run(state=first)
    assert type(second) is Success
    assert second.result == 20
    assert task.counts == [(1, None), (1, 2), (1, 3), (2, 3)]


# --- pausing ---------------------------------------------------------------------------------


class Pauses(Task):
    def __init__(self, **kwargs: Any) -> None:
        self.finished = 0
        super().__init__(**kwargs)

    def run(self) -> str:  # type: ignore[override]
        pause_task("waiting for approval")
        self.finished += 1
        return "approved"


def test_run_of_a_task_calling_pause_task_ends_paused():
    task = Pauses()
    state = TaskRunner(task).run()
    assert type(state) is Paused
    assert state.message == "waiting for approval"
    assert state.start_time is None
    assert task.finished == 0


def test_run_from_resume_runs_a_paused_task_to_the_end():
    task = Pauses()
    paused = TaskRunner(task).run()
    assert TaskRunner(task).run(state=paused) is paused
    state = TaskRunner(task).run(state=Resume())
    assert type(state) is Success
    assert state.result == "approved"
    assert task.finished == 1


def test_run_of_a_paused_task_whose_pause_elapsed_resumes():
    task = Pauses()
    state = TaskRunner(task).run(state=Paused(start_time=pendulum.now("utc").add(seconds=-1)))
    assert type(state) is Success


def test_run_of_a_manual_only_task_pauses_until_resumed():
    task = Counter(trigger=triggers.manual_only)
    upstream = {edge(): Success()}
    paused = TaskRunner(task).run(upstream_states=upstream)
    assert type(paused) is Paused
    assert task.calls == 0
    state = TaskRunner(task).run(state=Resume(), upstream_states=upstream)
    assert type(state) is Success
    assert task.calls == 1


# --- state handlers --------------------------------------------------------------------------


def test_run_calls_task_handlers_then_runner_handlers_for_every_change():
    calls: list = []
    task = AddOne(state_handlers=[record("task", calls)])
    runner = TaskRunner(task, state_handlers=[record("runner", calls)])
    runner.run()
    assert calls == [
        ("task", task, Pending, Running),
        ("runner", runner, Pending, Running),
        ("task", task, Running, Success),
        ("runner", runner, Running, Success),
    ]


def test_run_calls_handlers_for_a_failure():
    calls: list = []
    TaskRunner(Boom(state_handlers=[record("task", calls)])).run()
    assert [c[2:] for c in calls] == [(Pending, Running), (Running, Failed)]


def test_run_ends_in_the_state_a_handler_returns():
    def fail_on_success(task: Task, old: State, new: State) -> State | None:
        if new.is_successful():
            return Failed("the handler said no")
        return None

    calls: list = []
    runner = TaskRunner(
        AddOne(state_handlers=[fail_on_success]), state_handlers=[record("r", calls)]
    )
    state = runner.run()
    assert type(state) is Failed
    assert state.message == "the handler said no"
    assert calls[-1][2:] == (Running, Failed)


def test_run_ends_failed_when_a_state_handler_raises():
    error = RuntimeError("handler bug")

    def broken(task: Task, old: State, new: State) -> None:
        if new.is_successful():
            raise error

    task = Counter(state_handlers=[broken])
    state = TaskRunner(task).run()
    assert type(state) is Failed
    assert (
        state.message
        == "Exception raised while calling state handlers: RuntimeError('handler bug')"
    )
    assert state.result is error
    assert task.calls == 1


def test_run_stops_before_the_task_when_a_handler_fails_on_running():
    def broken(runner: Any, old: State, new: State) -> None:
        raise RuntimeError("handler bug")

    task = Counter()
    state = TaskRunner(task, state_handlers=[broken]).run()
    assert type(state) is Failed
    assert task.calls == 0


def test_run_calls_on_failure_with_the_task_and_failed_state():
    seen: list = []
    task = Boom(on_failure=lambda task, state: seen.append((task, state)))
    state = TaskRunner(task).run()
    assert seen == [(task, state)]


def test_run_does_not_call_on_failure_for_a_success():
    seen: list = []
    TaskRunner(AddOne(on_failure=lambda task, state: seen.append(state))).run()
    assert seen == []


def test_run_calls_on_failure_for_a_trigger_failure():
    seen: list = []
    task = Counter(on_failure=lambda task, state: seen.append(state))
    TaskRunner(task).run(upstream_states={edge(): Failed()})
    assert len(seen) == 1
    assert type(seen[0]) is TriggerFailed


# --- logs ------------------------------------------------------------------------------------


def test_run_logs_the_start_and_the_final_state_at_info(caplog):
    with caplog.at_level(logging.INFO, logger="prefect"):
        TaskRunner(AddOne(name="x")).run()
    records = [r for r in caplog.records if r.name == "prefect.TaskRunner"]
    assert [(r.levelno, r.getMessage()) for r in records if r.levelno >= logging.INFO] == [
        (logging.INFO, "Task 'x': Starting task run..."),
        (logging.INFO, "Task 'x': Finished task run for task with final state: 'Success'"),
    ]


def test_run_logs_the_final_state_name_of_a_failure(caplog):
    with caplog.at_level(logging.INFO, logger="prefect"):
        TaskRunner(Boom(name="x")).run()
    assert "Task 'x': Finished task run for task with final state: 'Failed'" in messages(caplog)


def test_run_logs_a_mapped_child_with_its_index(caplog):
    with caplog.at_level(logging.INFO, logger="prefect"):
        TaskRunner(AddOne(name="x")).run(context={"map_index": 3})
    assert "Task 'x[3]': Starting task run..." in messages(caplog)
    assert "Task 'x[3]': Finished task run for task with final state: 'Success'" in messages(caplog)


def test_run_logs_the_early_final_state_of_a_task_that_does_not_run(caplog):
    with caplog.at_level(logging.INFO, logger="prefect"):
        TaskRunner(AddOne(name="x")).run(upstream_states={edge(): Failed()})
    assert "Task 'x': Finished task run for task with final state: 'TriggerFailed'" in messages(
        caplog
    )


def test_run_sends_printed_text_of_a_log_stdout_task_to_the_logs(caplog, capsys):
    class Prints(Task):
        def run(self) -> int:  # type: ignore[override]
            print("hello from the task")
            return 1

    with caplog.at_level(logging.INFO, logger="prefect"):
        state = TaskRunner(Prints(log_stdout=True)).run()
    assert state.result == 1
    records = [r for r in caplog.records if "hello from the task" in r.getMessage()]
    assert len(records) == 1
    assert records[0].name.startswith("prefect")
    assert records[0].levelno == logging.INFO


def test_run_leaves_printed_text_of_other_tasks_on_stdout(caplog, capsys):
    class Prints(Task):
        def run(self) -> None:  # type: ignore[override]
            print("plain print")

    with caplog.at_level(logging.INFO, logger="prefect"):
        TaskRunner(Prints()).run()
    assert not any("plain print" in m for m in messages(caplog))
    assert "plain print" in capsys.readouterr().out


# --- prefect.context during task.run ---------------------------------------------------------


def test_run_gives_the_task_its_names_run_count_and_logger_in_context():
    spy = ContextSpy(name="spy", tags=["t1"])
    TaskRunner(spy).run()
    seen = spy.seen[0]
    assert seen["task_name"] == "spy"
    assert seen["task_full_name"] == "spy"
    assert seen["task_run_count"] == 1
    assert seen["map_index"] is None
    assert seen["logger"] is spy.logger
    assert seen["task_tags"] == {"t1"}
    assert seen["resume"] is None


def test_run_gives_a_mapped_child_its_index_and_full_name_in_context():
    spy = ContextSpy(name="spy")
    TaskRunner(spy).run(context={"map_index": 3})
    assert spy.seen[0]["map_index"] == 3
    assert spy.seen[0]["task_full_name"] == "spy[3]"
    assert spy.seen[0]["task_name"] == "spy"


def test_run_passes_parameters_of_the_context_through_to_the_task():
    spy = ContextSpy()
    TaskRunner(spy).run(context={"parameters": {"p": 1}})
    assert spy.seen[0]["parameters"] == {"p": 1}
    with prefect.context(parameters={"q": 2}):
        TaskRunner(spy).run()
    assert spy.seen[1]["parameters"] == {"q": 2}


def test_run_gives_a_resumed_task_resume_in_context():
    spy = ContextSpy()
    TaskRunner(spy).run(state=Resume())
    assert spy.seen[0]["resume"] is True


def test_run_takes_the_context_of_the_caller_by_default():
    class ReadsContext(Task):
        def run(self) -> Any:  # type: ignore[override]
            return prefect.context.get("custom_key")

    with prefect.context(custom_key="from the caller"):
        state = TaskRunner(ReadsContext()).run()
    assert state.result == "from the caller"
