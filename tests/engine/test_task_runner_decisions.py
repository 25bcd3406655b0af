"""Pure decisions of `TaskRunner`: each step called directly, state in -> state (or ENDRUN) out.

No flow and no executor: every test builds a runner around a small task, hands one step a state
(and upstream states or inputs), and looks at the state that comes back or that `ENDRUN`
carries, as Prefect 1.4.1 decides it.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pendulum
import pytest

import prefect
from prefect import triggers
from prefect.core import Edge, Task
from prefect.engine import signals
from prefect.engine.cache_validators import duration_only, never_use
from prefect.engine.result import NoResult, Result
from prefect.engine.runner import ENDRUN
from prefect.engine.state import (
    Cached,
    Cancelled,
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
    Submitted,
    Success,
    TimedOut,
    TriggerFailed,
)
from prefect.engine.task_runner import TaskRunner, TaskRunnerInitializeResult
from prefect.utilities.debug import raise_on_exception
from prefect.utilities.executors import RecursiveCall


class AddOne(Task):
    def run(self, x: int = 0) -> int:  # type: ignore[override]
        return x + 1


class Boom(Task):
    def run(self) -> None:  # type: ignore[override]
        raise ValueError("boom")


def make_runner(task: Task | None = None, **kwargs: Any) -> TaskRunner:
    return TaskRunner(task=task if task is not None else AddOne(name="t"), **kwargs)


def edge(key: str | None = None, mapped: bool = False, name: str = "up") -> Edge:
    """An edge from a fresh upstream task into a throwaway downstream task."""
    return Edge(Task(name=name), Task(name="down"), key=key, mapped=mapped)


def recorder() -> tuple[list[tuple[State, State]], Any]:
    calls: list[tuple[State, State]] = []

    def handler(obj: Any, old: State, new: State) -> None:
        calls.append((old, new))

    return calls, handler


def future(minutes: int = 10) -> Any:
    return pendulum.now("utc") + timedelta(minutes=minutes)


def past(minutes: int = 10) -> Any:
    return pendulum.now("utc") - timedelta(minutes=minutes)


# --- check_task_is_ready ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "state",
    [
        Pending(),
        Scheduled(),
        Retrying(),
        Resume(),
        Paused(),
        Mapped(n_map_states=2),
        Cached(result=1),
    ],
    ids=lambda s: type(s).__name__,
)
def test_check_task_is_ready_lets_pending_mapped_and_cached_states_through(state):
    assert make_runner().check_task_is_ready(state) is state


@pytest.mark.parametrize(
    "state",
    [Running(), Success(result=1), Failed(), TriggerFailed(), Skipped(), Cancelled(), Looped()],
    ids=lambda s: type(s).__name__,
)
def test_check_task_is_ready_ends_the_run_of_running_and_finished_tasks(state):
    with pytest.raises(ENDRUN) as exc:
        make_runner().check_task_is_ready(state)
    assert exc.value.state is state


def test_check_task_is_ready_ends_the_run_of_an_unrecognised_state():
    state = Submitted(state=Pending())
    with pytest.raises(ENDRUN) as exc:
        make_runner().check_task_is_ready(state)
    assert exc.value.state is state


def test_check_task_is_ready_ending_in_the_same_state_calls_no_state_handler():
    calls, handler = recorder()
    with pytest.raises(ENDRUN):
        make_runner(state_handlers=[handler]).check_task_is_ready(Success())
    assert calls == []


# --- check_task_reached_start_time -----------------------------------------------------------


@pytest.mark.parametrize(
    "state",
    [Scheduled(start_time=future()), Retrying(start_time=future()), Paused(start_time=future())],
    ids=lambda s: type(s).__name__,
)
def test_check_task_reached_start_time_ends_a_run_whose_start_time_is_ahead(state):
    with pytest.raises(ENDRUN) as exc:
        make_runner().check_task_reached_start_time(state)
    assert exc.value.state is state


def test_check_task_reached_start_time_ends_a_paused_run_without_start_time():
    state = Paused()
    assert state.start_time is None
    with pytest.raises(ENDRUN) as exc:
        make_runner().check_task_reached_start_time(state)
    assert exc.value.state is state


@pytest.mark.parametrize(
    "state",
    [
        Pending(),
        Scheduled(start_time=past()),
        Scheduled(),
        Retrying(start_time=past()),
        Paused(start_time=past()),
        Resume(),
    ],
    ids=lambda s: f"{type(s).__name__}",
)
def test_check_task_reached_start_time_lets_due_states_through(state):
    assert make_runner().check_task_reached_start_time(state) is state


# --- check_upstream_finished -----------------------------------------------------------------


def test_check_upstream_finished_passes_when_every_upstream_task_finished():
    state = Pending()
    upstream = {edge(): Success(), edge(): Failed(), edge(): Skipped()}
    assert make_runner().check_upstream_finished(state, upstream_states=upstream) is state


def test_check_upstream_finished_passes_without_upstream_tasks():
    state = Pending()
    assert make_runner().check_upstream_finished(state, upstream_states={}) is state


@pytest.mark.parametrize(
    "unfinished", [Pending(), Running(), Scheduled(), Retrying()], ids=lambda s: type(s).__name__
)
def test_check_upstream_finished_ends_the_run_in_its_state_when_an_upstream_is_unfinished(
    unfinished,
):
    state = Pending()
    with pytest.raises(ENDRUN) as exc:
        make_runner().check_upstream_finished(
            state, upstream_states={edge(): Success(), edge(): unfinished}
        )
    assert exc.value.state is state


def test_check_upstream_finished_counts_children_of_a_mapped_upstream_on_a_plain_edge():
    state = Pending()
    mapped = Mapped(map_states=[Success(), Running()])
    with pytest.raises(ENDRUN) as exc:
        make_runner().check_upstream_finished(state, upstream_states={edge(): mapped})
    assert exc.value.state is state


def test_check_upstream_finished_takes_a_mapped_upstream_on_a_mapped_edge_as_finished():
    state = Pending()
    mapped = Mapped(map_states=[Success(), Running()])
    result = make_runner().check_upstream_finished(
        state, upstream_states={edge(mapped=True): mapped}
    )
    assert result is state


def test_check_upstream_finished_passes_when_all_children_of_a_mapped_upstream_finished():
    state = Pending()
    mapped = Mapped(map_states=[Success(), Failed()])
    assert make_runner().check_upstream_finished(state, upstream_states={edge(): mapped}) is state


# --- check_upstream_skipped ------------------------------------------------------------------

SKIP_MESSAGE = (
    "Upstream task was skipped; if this was not the intended behavior, "
    "consider changing `skip_on_upstream_skip=False` for this task."
)


def test_check_upstream_skipped_skips_the_task_when_an_upstream_task_was_skipped():
    with pytest.raises(ENDRUN) as exc:
        make_runner().check_upstream_skipped(
            Pending(), upstream_states={edge(): Success(), edge(): Skipped()}
        )
    assert type(exc.value.state) is Skipped
    assert exc.value.state.message == SKIP_MESSAGE


def test_check_upstream_skipped_calls_state_handlers_with_the_skip():
    calls, handler = recorder()
    state = Pending()
    with pytest.raises(ENDRUN):
        make_runner(state_handlers=[handler]).check_upstream_skipped(
            state, upstream_states={edge(): Skipped()}
        )
    assert len(calls) == 1
    assert calls[0][0] is state
    assert type(calls[0][1]) is Skipped


def test_check_upstream_skipped_keeps_going_when_skip_on_upstream_skip_is_off():
    state = Pending()
    runner = make_runner(AddOne(skip_on_upstream_skip=False))
    assert runner.check_upstream_skipped(state, upstream_states={edge(): Skipped()}) is state


def test_check_upstream_skipped_keeps_going_without_skipped_upstream_tasks():
    state = Pending()
    upstream = {edge(): Success(), edge(): Failed()}
    assert make_runner().check_upstream_skipped(state, upstream_states=upstream) is state


def test_check_upstream_skipped_sees_a_skipped_child_of_a_mapped_upstream_on_a_plain_edge():
    mapped = Mapped(map_states=[Success(), Skipped()])
    with pytest.raises(ENDRUN) as exc:
        make_runner().check_upstream_skipped(Pending(), upstream_states={edge(): mapped})
    assert exc.value.state.is_skipped()


# --- check_task_ready_to_map -----------------------------------------------------------------


def test_check_task_ready_to_map_maps_over_the_shortest_upstream_result():
    upstream = {
        edge("x", mapped=True): Success(result=[1, 2, 3]),
        edge("y", mapped=True): Success(result=[1, 2]),
        edge("z"): Success(result=[1, 2, 3, 4, 5, 6]),
    }
    with pytest.raises(ENDRUN) as exc:
        make_runner().check_task_ready_to_map(Pending(), upstream_states=upstream)
    state = exc.value.state
    assert type(state) is Mapped
    assert state.n_map_states == 2
    assert state.message == "Ready to proceed with mapping."


def test_check_task_ready_to_map_counts_the_children_of_a_mapped_upstream():
    upstream = {
        edge("x", mapped=True): Mapped(n_map_states=4),
        edge("y", mapped=True): Success(result=list(range(5))),
    }
    with pytest.raises(ENDRUN) as exc:
        make_runner().check_task_ready_to_map(Pending(), upstream_states=upstream)
    assert exc.value.state.is_mapped()
    assert exc.value.state.n_map_states == 4


def test_check_task_ready_to_map_over_an_empty_list_maps_zero_children():
    with pytest.raises(ENDRUN) as exc:
        make_runner().check_task_ready_to_map(
            Pending(), upstream_states={edge("x", mapped=True): Success(result=[])}
        )
    assert exc.value.state.is_mapped()
    assert exc.value.state.n_map_states == 0


def test_check_task_ready_to_map_ignores_a_failed_mapped_upstream_when_another_succeeded():
    upstream = {
        edge("x", mapped=True): Failed(),
        edge("y", mapped=True): Success(result=[1, 2, 3]),
    }
    with pytest.raises(ENDRUN) as exc:
        make_runner().check_task_ready_to_map(Pending(), upstream_states=upstream)
    assert exc.value.state.n_map_states == 3


@pytest.mark.parametrize(
    "upstream",
    [
        {"mapped": True, "state": Failed()},
        {"mapped": True, "state": TriggerFailed()},
        {"mapped": False, "state": Success(result=[1, 2])},
    ],
    ids=["failed-mapped", "trigger-failed-mapped", "only-unmapped-edge"],
)
def test_check_task_ready_to_map_fails_when_nothing_can_be_mapped_over(upstream):
    with pytest.raises(ENDRUN) as exc:
        make_runner().check_task_ready_to_map(
            Pending(), upstream_states={edge("x", mapped=upstream["mapped"]): upstream["state"]}
        )
    assert type(exc.value.state) is Failed
    assert exc.value.state.message == "No upstream states can be mapped over."


def test_check_task_ready_to_map_fails_on_an_unmappable_result():
    with pytest.raises(ENDRUN) as exc:
        make_runner().check_task_ready_to_map(
            Pending(), upstream_states={edge("x", mapped=True): Success(result=5)}
        )
    assert type(exc.value.state) is Failed
    assert exc.value.state.message == "At least one upstream state has an unmappable result."


def test_check_task_ready_to_map_maps_over_a_dict_by_its_length():
    with pytest.raises(ENDRUN) as exc:
        make_runner().check_task_ready_to_map(
            Pending(), upstream_states={edge("x", mapped=True): Success(result={"a": 1, "b": 2})}
        )
    assert exc.value.state.n_map_states == 2


def test_check_task_ready_to_map_without_upstream_tasks_maps_zero_children():
    with pytest.raises(ENDRUN) as exc:
        make_runner().check_task_ready_to_map(Pending(), upstream_states={})
    assert exc.value.state.is_mapped()
    assert exc.value.state.n_map_states == 0


def test_check_task_ready_to_map_hands_the_mapped_state_to_state_handlers():
    calls, handler = recorder()
    state = Pending()
    with pytest.raises(ENDRUN) as exc:
        make_runner(state_handlers=[handler]).check_task_ready_to_map(
            state, upstream_states={edge("x", mapped=True): Success(result=[1])}
        )
    assert calls == [(state, exc.value.state)]


def test_check_task_ready_to_map_ends_an_already_mapped_task_in_its_state():
    state = Mapped(map_states=[Success(), Success()])
    with pytest.raises(ENDRUN) as exc:
        make_runner().check_task_ready_to_map(
            state, upstream_states={edge("x", mapped=True): Success(result=[1, 2])}
        )
    assert exc.value.state is state


def test_check_task_ready_to_map_rebuilds_children_slots_and_inputs_of_a_rerun_mapped_parent():
    state = Mapped(n_map_states=2)
    upstream_result = Success(result=[1, 2])
    with pytest.raises(ENDRUN) as exc:
        make_runner().check_task_ready_to_map(
            state, upstream_states={edge("x", mapped=True): upstream_result}
        )
    assert exc.value.state.map_states == [None, None]
    assert exc.value.state.cached_inputs == {"x": upstream_result._result}


# --- check_task_trigger ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("trigger", "upstream", "outcome"),
    [
        (triggers.all_successful, [Success(), Skipped(), Cached()], None),
        (triggers.all_successful, [Success(), Failed()], TriggerFailed),
        (triggers.all_failed, [Failed(), TimedOut()], None),
        (triggers.all_failed, [Failed(), Success()], TriggerFailed),
        (triggers.all_finished, [Failed(), Success(), Skipped()], None),
        (triggers.always_run, [Failed()], None),
        (triggers.any_successful, [Failed(), Success()], None),
        (triggers.any_successful, [Failed(), TriggerFailed()], TriggerFailed),
        (triggers.any_failed, [Success(), Failed()], None),
        (triggers.any_failed, [Success(), Skipped()], TriggerFailed),
        (triggers.some_successful(at_least=2), [Success(), Success(), Failed()], None),
        (triggers.some_successful(at_least=2), [Success(), Failed(), Failed()], TriggerFailed),
        (triggers.some_failed(at_most=1), [Failed(), Success()], None),
        (triggers.some_failed(at_least=2), [Failed(), Success()], TriggerFailed),
        (triggers.not_all_skipped, [Skipped(), Success()], None),
        (triggers.not_all_skipped, [Skipped(), Failed()], TriggerFailed),
        (triggers.not_all_skipped, [Skipped(), Skipped()], Skipped),
    ],
)
def test_check_task_trigger_applies_the_task_trigger(trigger, upstream, outcome):
    """`None`: the trigger passes and the state is kept; else the run ends in that state."""
    state = Pending()
    runner = make_runner(AddOne(trigger=trigger))
    upstream_states = {edge(name=f"up{i}"): s for i, s in enumerate(upstream)}
    if outcome is None:
        assert runner.check_task_trigger(state, upstream_states=upstream_states) is state
    else:
        with pytest.raises(ENDRUN) as exc:
            runner.check_task_trigger(state, upstream_states=upstream_states)
        assert type(exc.value.state) is outcome


def test_check_task_trigger_default_all_successful_failure_says_so():
    with pytest.raises(ENDRUN) as exc:
        make_runner().check_task_trigger(Pending(), upstream_states={edge(): Failed()})
    assert type(exc.value.state) is TriggerFailed
    assert exc.value.state.message == (
        'Trigger was "all_successful" but some of the upstream tasks failed.'
    )


def test_check_task_trigger_passes_without_upstream_tasks():
    state = Pending()
    assert make_runner().check_task_trigger(state, upstream_states={}) is state


def test_check_task_trigger_counts_children_of_a_mapped_upstream_on_a_plain_edge():
    mapped = Mapped(map_states=[Success(), Failed()])
    with pytest.raises(ENDRUN) as exc:
        make_runner().check_task_trigger(Pending(), upstream_states={edge(): mapped})
    assert type(exc.value.state) is TriggerFailed


def test_check_task_trigger_gives_the_trigger_the_upstream_states_by_edge():
    seen: list[Any] = []

    def trigger(upstream_states: Any) -> bool:
        seen.append(upstream_states)
        return True

    first, second = Success(result=1), Failed()
    upstream_states = {edge(): first, edge(): second}
    make_runner(AddOne(trigger=trigger)).check_task_trigger(
        Pending(), upstream_states=upstream_states
    )
    assert seen[0] == upstream_states


def test_check_task_trigger_counts_each_child_of_a_mapped_upstream():
    seen: list[Any] = []

    def trigger(upstream_states: Any) -> bool:
        seen.append(upstream_states)
        return True

    children = [Success(result=1), Failed()]
    reduce_edge = edge()
    make_runner(AddOne(trigger=trigger)).check_task_trigger(
        Pending(), upstream_states={reduce_edge: Mapped(map_states=children)}
    )
    assert sorted(e.map_index for e in seen[0]) == [0, 1]
    assert all(e.key == reduce_edge.key for e in seen[0])
    assert list(seen[0].values()) == children


def test_check_task_trigger_raising_triggerfail_ends_triggerfailed_with_its_message():
    def trigger(upstream_states: Any) -> bool:
        raise signals.TRIGGERFAIL("not today")

    with pytest.raises(ENDRUN) as exc:
        make_runner(AddOne(trigger=trigger)).check_task_trigger(Pending(), upstream_states={})
    assert type(exc.value.state) is TriggerFailed
    assert exc.value.state.message == "not today"


def test_check_task_trigger_returning_false_ends_triggerfailed():
    with pytest.raises(ENDRUN) as exc:
        make_runner(AddOne(trigger=lambda states: False)).check_task_trigger(
            Pending(), upstream_states={edge(): Success()}
        )
    assert type(exc.value.state) is TriggerFailed
    assert exc.value.state.message == "Trigger failed"


def test_check_task_trigger_raising_an_arbitrary_error_ends_triggerfailed_with_the_error():
    error = ZeroDivisionError("bad trigger")

    def trigger(upstream_states: Any) -> bool:
        raise error

    with pytest.raises(ENDRUN) as exc:
        make_runner(AddOne(trigger=trigger)).check_task_trigger(Pending(), upstream_states={})
    state = exc.value.state
    assert type(state) is TriggerFailed
    assert state.result is error
    assert "Unexpected error while checking task trigger" in state.message
    assert "bad trigger" in state.message


def test_check_task_trigger_error_is_raised_under_raise_on_exception():
    def trigger(upstream_states: Any) -> bool:
        raise ZeroDivisionError("bad trigger")

    with raise_on_exception(), pytest.raises(ZeroDivisionError):
        make_runner(AddOne(trigger=trigger)).check_task_trigger(Pending(), upstream_states={})


def test_check_task_trigger_manual_only_pauses_the_task():
    with pytest.raises(ENDRUN) as exc:
        make_runner(AddOne(trigger=triggers.manual_only)).check_task_trigger(
            Pending(), upstream_states={edge(): Success()}
        )
    assert type(exc.value.state) is Paused
    assert exc.value.state.start_time is None


def test_check_task_trigger_manual_only_passes_on_resume():
    state = Pending()
    runner = make_runner(AddOne(trigger=triggers.manual_only))
    with prefect.context(resume=True):
        assert runner.check_task_trigger(state, upstream_states={edge(): Success()}) is state


def test_check_task_trigger_failure_goes_through_state_handlers():
    calls, handler = recorder()
    state = Pending()
    with pytest.raises(ENDRUN) as exc:
        make_runner(state_handlers=[handler]).check_task_trigger(
            state, upstream_states={edge(): Failed()}
        )
    assert calls == [(state, exc.value.state)]


# --- get_task_inputs -------------------------------------------------------------------------


def test_get_task_inputs_takes_the_results_of_keyed_edges():
    x, y = Success(result=1), Success(result="two")
    inputs = make_runner().get_task_inputs(
        Pending(), upstream_states={edge("x"): x, edge("y"): y, edge(): Success(result=3)}
    )
    assert set(inputs) == {"x", "y"}
    assert inputs["x"] is x._result
    assert inputs["y"].value == "two"


def test_get_task_inputs_fills_missing_inputs_from_cached_inputs():
    state = Pending(cached_inputs={"y": Result(2)})
    inputs = make_runner().get_task_inputs(state, upstream_states={edge("x"): Success(result=1)})
    assert {k: r.value for k, r in inputs.items()} == {"x": 1, "y": 2}


def test_get_task_inputs_prefers_cached_inputs_to_an_upstream_without_result():
    state = Retrying(cached_inputs={"x": Result(7)})
    inputs = make_runner().get_task_inputs(state, upstream_states={edge("x"): Success()})
    assert inputs["x"].value == 7


def test_get_task_inputs_prefers_an_upstream_result_to_cached_inputs():
    state = Pending(cached_inputs={"x": Result(7)})
    inputs = make_runner().get_task_inputs(state, upstream_states={edge("x"): Success(result=1)})
    assert inputs["x"].value == 1


def test_get_task_inputs_ignores_cached_inputs_of_a_state_that_is_not_pending():
    state = Cached(result=1, cached_inputs={"y": Result(2)})
    inputs = make_runner().get_task_inputs(state, upstream_states={edge("x"): Success(result=1)})
    assert set(inputs) == {"x"}


def test_get_task_inputs_of_an_upstream_without_result_is_noresult():
    inputs = make_runner().get_task_inputs(Pending(), upstream_states={edge("x"): Success()})
    assert inputs["x"] == NoResult


# --- check_target ----------------------------------------------------------------------------


def _local_result(directory: Any) -> Any:
    from prefect.engine.results import LocalResult

    return LocalResult(dir=str(directory))


@pytest.fixture
def results_dir(tmp_path: Any) -> Any:
    """An empty directory for results (`tmp_path` also holds the test's home directory)."""
    directory = tmp_path / "results"
    directory.mkdir()
    return directory


def test_check_target_with_a_stored_result_is_cached_with_the_stored_value(results_dir):
    result = _local_result(results_dir)
    stored = _local_result(results_dir)
    stored.location = "target.txt"
    stored.write({"answer": 42})
    runner = make_runner(AddOne(result=result, target="target.txt"))
    state = Pending()
    new_state = runner.check_target(state, inputs={})
    assert type(new_state) is Cached
    assert new_state.result == {"answer": 42}
    assert new_state.cached_result_expiration is None
    assert new_state.message == "Result found at task target target.txt"


def test_check_target_without_a_stored_result_leaves_the_state(results_dir):
    runner = make_runner(AddOne(result=_local_result(results_dir), target="missing.txt"))
    state = Pending()
    assert runner.check_target(state, inputs={}) is state
    assert not (results_dir / "missing.txt").exists()


def test_check_target_formats_the_target_with_context_and_inputs(results_dir):
    stored = _local_result(results_dir)
    stored.location = "t-3.txt"
    stored.write("three")
    runner = make_runner(AddOne(result=_local_result(results_dir), target="{task_name}-{x}.txt"))
    with prefect.context(task_name="t"):
        new_state = runner.check_target(Pending(), inputs={"x": Result(3)})
        other = runner.check_target(Pending(), inputs={"x": Result(4)})
    assert type(new_state) is Cached
    assert new_state.result == "three"
    assert new_state.message == "Result found at task target t-3.txt"
    assert type(other) is Pending


def test_check_target_accepts_a_callable_target(results_dir):
    stored = _local_result(results_dir)
    stored.location = "five.txt"
    stored.write(5)

    def target(**kwargs: Any) -> str:
        return f"{kwargs['x']}.txt"

    runner = make_runner(AddOne(result=_local_result(results_dir), target=target))
    new_state = runner.check_target(Pending(), inputs={"x": Result("five")})
    assert type(new_state) is Cached
    assert new_state.result == 5


def test_check_target_formats_with_parameters_from_context(results_dir):
    stored = _local_result(results_dir)
    stored.location = "p-abc.txt"
    stored.write("from-params")
    runner = make_runner(AddOne(result=_local_result(results_dir), target="p-{name}.txt"))
    with prefect.context(parameters={"name": "abc"}):
        new_state = runner.check_target(Pending(), inputs={})
    assert new_state.result == "from-params"
    assert new_state.cached_parameters == {"name": "abc"}


# --- check_task_is_cached --------------------------------------------------------------------


def test_check_task_is_cached_keeps_a_valid_cached_state():
    runner = make_runner(AddOne(cache_for=timedelta(minutes=5)))
    state = Cached(result=1, cached_result_expiration=future())
    assert runner.check_task_is_cached(state, inputs={}) is state


def test_check_task_is_cached_turns_an_expired_cache_into_pending():
    runner = make_runner(AddOne(cache_for=timedelta(minutes=5)))
    new_state = runner.check_task_is_cached(
        Cached(result=1, cached_result_expiration=past()), inputs={}
    )
    assert type(new_state) is Pending
    assert new_state.message == "Cache was invalid; ready to run."


def test_check_task_is_cached_never_uses_a_cache_for_a_task_without_cache_for():
    runner = make_runner()
    assert runner.task.cache_validator is never_use
    new_state = runner.check_task_is_cached(
        Cached(result=1, cached_result_expiration=future()), inputs={}
    )
    assert type(new_state) is Pending


def test_check_task_is_cached_calls_the_validator_with_state_raw_inputs_and_parameters():
    seen: list[Any] = []

    def validator(state: Any, inputs: Any, parameters: Any) -> bool:
        seen.append((state, inputs, parameters))
        return True

    runner = make_runner(AddOne(cache_for=timedelta(minutes=1), cache_validator=validator))
    state = Cached(result=1)
    with prefect.context(parameters={"p": 1}):
        assert runner.check_task_is_cached(state, inputs={"x": Result(3)}) is state
    assert seen == [(state, {"x": 3}, {"p": 1})]


def test_check_task_is_cached_uses_a_valid_cache_from_context_by_task_name():
    runner = make_runner(AddOne(name="t", cache_for=timedelta(minutes=5)))
    candidate = Cached(result=10, cached_result_expiration=future())
    with prefect.context(caches={"t": [candidate]}):
        assert runner.check_task_is_cached(Pending(), inputs={}) is candidate


def test_check_task_is_cached_looks_up_context_caches_by_cache_key():
    runner = make_runner(
        AddOne(name="t", cache_for=timedelta(minutes=5), cache_key="shared"),
    )
    own = Cached(result="by-name", cached_result_expiration=future())
    shared = Cached(result="by-key", cached_result_expiration=future())
    with prefect.context(caches={"t": [own], "shared": [shared]}):
        assert runner.check_task_is_cached(Pending(), inputs={}) is shared


def test_check_task_is_cached_skips_invalid_context_caches():
    runner = make_runner(AddOne(name="t", cache_for=timedelta(minutes=5)))
    expired = Cached(result=1, cached_result_expiration=past())
    valid = Cached(result=2, cached_result_expiration=future())
    state = Pending()
    with prefect.context(caches={"t": [expired]}):
        assert runner.check_task_is_cached(state, inputs={}) is state
    with prefect.context(caches={"t": [expired, valid]}):
        assert runner.check_task_is_cached(state, inputs={}) is valid


def test_check_task_is_cached_ignores_context_caches_for_a_task_without_cache_for():
    runner = make_runner(AddOne(name="t"))
    state = Pending()
    with prefect.context(caches={"t": [Cached(result=1, cached_result_expiration=future())]}):
        assert runner.check_task_is_cached(state, inputs={}) is state


def test_check_task_is_cached_leaves_a_pending_state_without_caches():
    state = Pending()
    runner = make_runner(AddOne(cache_for=timedelta(minutes=5)))
    assert runner.task.cache_validator is duration_only
    assert runner.check_task_is_cached(state, inputs={}) is state


# --- set_task_to_running ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "state", [Pending(), Scheduled(), Retrying(), Resume()], ids=lambda s: type(s).__name__
)
def test_set_task_to_running_moves_a_pending_task_to_running(state):
    calls, handler = recorder()
    new_state = make_runner(state_handlers=[handler]).set_task_to_running(state, inputs={})
    assert type(new_state) is Running
    assert new_state.message == "Starting task run."
    assert calls == [(state, new_state)]


@pytest.mark.parametrize(
    "state", [Running(), Cached(result=1), Success(), Mapped(), Failed()], ids=repr
)
def test_set_task_to_running_ends_the_run_of_a_task_that_is_not_pending(state):
    with pytest.raises(ENDRUN) as exc:
        make_runner().set_task_to_running(state, inputs={})
    assert exc.value.state is state


# --- get_task_run_state ----------------------------------------------------------------------


def test_get_task_run_state_succeeds_with_the_return_value():
    new_state = make_runner().get_task_run_state(Running(), inputs={"x": Result(2)})
    assert type(new_state) is Success
    assert new_state.result == 3
    assert new_state.message == "Task run succeeded."


def test_get_task_run_state_keeps_a_none_return_value():
    class ReturnsNone(Task):
        def run(self) -> None:  # type: ignore[override]
            return None

    new_state = make_runner(ReturnsNone()).get_task_run_state(Running(), inputs={})
    assert type(new_state) is Success
    assert new_state.result is None


def test_get_task_run_state_ends_the_run_of_a_task_that_is_not_running():
    state = Pending()
    with pytest.raises(ENDRUN) as exc:
        make_runner().get_task_run_state(state, inputs={})
    assert exc.value.state is state


def test_get_task_run_state_fails_with_the_raised_exception_as_result():
    new_state = make_runner(Boom()).get_task_run_state(Running(), inputs={})
    assert type(new_state) is Failed
    assert isinstance(new_state.result, ValueError)
    assert str(new_state.result) == "boom"
    assert new_state.message == "Error during execution of task: ValueError('boom')"


def test_get_task_run_state_logs_the_task_error(caplog):
    with caplog.at_level(logging.ERROR, logger="prefect"):
        make_runner(Boom(name="boom")).get_task_run_state(Running(), inputs={})
    records = [r for r in caplog.records if "Exception encountered during task execution" in r.msg]
    assert len(records) == 1
    assert records[0].exc_info is not None


def test_get_task_run_state_raises_the_task_error_under_raise_on_exception():
    with raise_on_exception(), pytest.raises(ValueError, match="boom"):
        make_runner(Boom()).get_task_run_state(Running(), inputs={})


def test_get_task_run_state_success_signal_gives_success_with_its_message_and_result():
    class Succeeds(Task):
        def run(self) -> None:  # type: ignore[override]
            raise signals.SUCCESS("done early", result=5)

    new_state = make_runner(Succeeds()).get_task_run_state(Running(), inputs={})
    assert type(new_state) is Success
    assert new_state.message == "done early"
    assert new_state.result == 5


def test_get_task_run_state_loop_signal_gives_looped_with_count_and_result():
    class Loops(Task):
        def run(self) -> None:  # type: ignore[override]
            raise signals.LOOP(result={"n": 1})

    new_state = make_runner(Loops()).get_task_run_state(Running(), inputs={})
    assert type(new_state) is Looped
    assert new_state.loop_count == 1
    assert new_state.result == {"n": 1}
    assert new_state.message == "Task is looping (1)"


def test_get_task_run_state_loop_signal_keeps_its_message_and_loop_count_from_context():
    class Loops(Task):
        def run(self) -> None:  # type: ignore[override]
            raise signals.LOOP("iteration", result=3)

    with prefect.context(task_loop_count=4):
        new_state = make_runner(Loops()).get_task_run_state(Running(), inputs={})
    assert new_state.loop_count == 4
    assert new_state.message == "iteration"


@pytest.mark.parametrize(
    ("signal", "state_type"),
    [
        (signals.FAIL, Failed),
        (signals.TRIGGERFAIL, TriggerFailed),
        (signals.SKIP, Skipped),
        (signals.RETRY, Retrying),
        (signals.PAUSE, Paused),
    ],
)
def test_get_task_run_state_turns_a_state_signal_into_its_state(signal, state_type):
    class Signals(Task):
        def run(self) -> None:  # type: ignore[override]
            raise signal("from the task")

    calls, handler = recorder()
    running = Running()
    new_state = make_runner(Signals(), state_handlers=[handler]).get_task_run_state(
        running, inputs={}
    )
    assert type(new_state) is state_type
    assert new_state.message == "from the task"
    assert isinstance(new_state.result, signal)
    assert calls == [(running, new_state)]


def test_get_task_run_state_lets_a_state_signal_raise_under_raise_on_exception():
    class Fails(Task):
        def run(self) -> None:  # type: ignore[override]
            raise signals.FAIL("nope")

    with raise_on_exception(), pytest.raises(signals.FAIL):
        make_runner(Fails()).get_task_run_state(Running(), inputs={})


def test_get_task_run_state_does_not_write_results_without_checkpointing(results_dir):
    runner = make_runner(AddOne(result=_local_result(results_dir)))
    with prefect.context(checkpointing=False):
        new_state = runner.get_task_run_state(Running(), inputs={"x": Result(1)})
    assert new_state.result == 2
    assert new_state._result.location is None
    assert list(results_dir.iterdir()) == []


def test_get_task_run_state_writes_the_result_when_checkpointing(results_dir):
    runner = make_runner(AddOne(result=_local_result(results_dir)))
    with prefect.context(checkpointing=True):
        new_state = runner.get_task_run_state(Running(), inputs={"x": Result(1)})
    location = new_state._result.location
    assert location is not None
    assert list(results_dir.iterdir()) != []
    assert _local_result(results_dir).read(location).value == 2


def test_get_task_run_state_formats_the_result_location_with_inputs(results_dir):
    from prefect.engine.results import LocalResult

    runner = make_runner(AddOne(result=LocalResult(dir=str(results_dir), location="out-{x}.bin")))
    with prefect.context(checkpointing=True):
        runner.get_task_run_state(Running(), inputs={"x": Result(41)})
    assert LocalResult(dir=str(results_dir)).read("out-41.bin").value == 42


def test_get_task_run_state_does_not_write_a_result_for_a_task_with_checkpoint_off(results_dir):
    runner = make_runner(AddOne(result=_local_result(results_dir), checkpoint=False))
    with prefect.context(checkpointing=True):
        new_state = runner.get_task_run_state(Running(), inputs={})
    assert new_state.result == 1
    assert list(results_dir.iterdir()) == []


def test_get_task_run_state_does_not_write_a_none_result(results_dir):
    class ReturnsNone(Task):
        def run(self) -> None:  # type: ignore[override]
            return None

    runner = make_runner(ReturnsNone(result=_local_result(results_dir)))
    with prefect.context(checkpointing=True):
        runner.get_task_run_state(Running(), inputs={})
    assert list(results_dir.iterdir()) == []


# --- cache_result ----------------------------------------------------------------------------


def test_cache_result_caches_a_success_for_cache_for():
    runner = make_runner(AddOne(cache_for=timedelta(minutes=10)))
    inputs = {"x": Result(1)}
    before = pendulum.now("utc")
    with prefect.context(parameters={"p": 2}):
        new_state = runner.cache_result(Success(result=2, message="ran"), inputs=inputs)
    after = pendulum.now("utc")
    assert type(new_state) is Cached
    assert new_state.result == 2
    assert new_state.message == "ran"
    assert new_state.cached_inputs == inputs
    assert new_state.cached_parameters == {"p": 2}
    expiration = new_state.cached_result_expiration
    assert before + timedelta(minutes=10) <= expiration <= after + timedelta(minutes=10)


def test_cache_result_keeps_the_state_of_a_task_without_cache_for_and_records_inputs():
    state = Success(result=2)
    inputs = {"x": Result(1)}
    assert make_runner().cache_result(state, inputs=inputs) is state
    assert state.cached_inputs == inputs


@pytest.mark.parametrize("state", [Skipped(), Failed(), Looped(loop_count=1), Retrying()], ids=repr)
def test_cache_result_does_not_cache_unsuccessful_or_skipped_states(state):
    runner = make_runner(AddOne(cache_for=timedelta(minutes=10)))
    assert runner.cache_result(state, inputs={}) is state


# --- check_for_retry -------------------------------------------------------------------------


def retrying_task(**kwargs: Any) -> Task:
    kwargs.setdefault("max_retries", 2)
    kwargs.setdefault("retry_delay", timedelta(minutes=1))
    return AddOne(name="r", **kwargs)


def test_check_for_retry_retries_a_failure_after_the_retry_delay():
    inputs = {"x": Result(1)}
    before = pendulum.now("utc")
    with prefect.context(task_run_count=1):
        new_state = make_runner(retrying_task()).check_for_retry(Failed(), inputs=inputs)
    after = pendulum.now("utc")
    assert type(new_state) is Retrying
    assert new_state.run_count == 1
    assert new_state.message == "Retrying Task (after attempt 1 of 3)"
    assert new_state.cached_inputs == inputs
    assert before + timedelta(minutes=1) <= new_state.start_time <= after + timedelta(minutes=1)


def test_check_for_retry_counts_the_attempt_from_context():
    with prefect.context(task_run_count=2):
        new_state = make_runner(retrying_task()).check_for_retry(Failed(), inputs={})
    assert type(new_state) is Retrying
    assert new_state.run_count == 2
    assert new_state.message == "Retrying Task (after attempt 2 of 3)"


def test_check_for_retry_without_a_run_count_takes_the_first_attempt():
    prefect.context.pop("task_run_count", None)
    new_state = make_runner(retrying_task()).check_for_retry(Failed(), inputs={})
    assert new_state.run_count == 1


def test_check_for_retry_gives_up_after_max_retries():
    state = Failed("still failing")
    with prefect.context(task_run_count=3):
        assert make_runner(retrying_task()).check_for_retry(state, inputs={}) is state


def test_check_for_retry_does_not_retry_a_task_without_retries():
    state = Failed()
    with prefect.context(task_run_count=1):
        assert make_runner().check_for_retry(state, inputs={}) is state


@pytest.mark.parametrize(
    "state", [Success(result=1), Skipped(), Pending(), Looped(loop_count=1)], ids=repr
)
def test_check_for_retry_leaves_states_that_are_not_failed(state):
    with prefect.context(task_run_count=1):
        assert make_runner(retrying_task()).check_for_retry(state, inputs={}) is state


@pytest.mark.parametrize("state_type", [TimedOut, TriggerFailed])
def test_check_for_retry_retries_failed_subclasses(state_type):
    with prefect.context(task_run_count=1):
        new_state = make_runner(retrying_task()).check_for_retry(state_type(), inputs={})
    assert type(new_state) is Retrying


def test_check_for_retry_with_retry_on_retries_a_matching_exception():
    runner = make_runner(retrying_task(retry_on=[ValueError]))
    with prefect.context(task_run_count=1):
        new_state = runner.check_for_retry(Failed(result=ValueError("x")), inputs={})
    assert type(new_state) is Retrying


def test_check_for_retry_with_retry_on_retries_a_subclass_of_a_listed_exception():
    runner = make_runner(retrying_task(retry_on=LookupError))
    with prefect.context(task_run_count=1):
        new_state = runner.check_for_retry(Failed(result=KeyError("k")), inputs={})
    assert type(new_state) is Retrying


def test_check_for_retry_with_retry_on_does_not_retry_other_exceptions():
    runner = make_runner(retrying_task(retry_on={ValueError, KeyError}))
    state = Failed(result=TypeError("x"))
    with prefect.context(task_run_count=1):
        assert runner.check_for_retry(state, inputs={}) is state


def test_check_for_retry_goes_through_state_handlers():
    calls, handler = recorder()
    state = Failed()
    with prefect.context(task_run_count=1):
        new_state = make_runner(retrying_task(), state_handlers=[handler]).check_for_retry(
            state, inputs={}
        )
    assert calls == [(state, new_state)]


def test_check_for_retry_of_a_looping_task_keeps_the_loop_count_and_result():
    with prefect.context(task_run_count=1, task_loop_count=3, task_loop_result={"n": 2}):
        new_state = make_runner(retrying_task()).check_for_retry(Failed(), inputs={})
    assert type(new_state) is Retrying
    runner = make_runner(retrying_task())
    _, context = runner.initialize_run(new_state, {})
    assert context["task_loop_count"] == 3
    assert context["task_loop_result"] == {"n": 2}
    assert context["task_run_count"] == 2


# --- check_task_is_looping -------------------------------------------------------------------


def test_check_task_is_looping_leaves_states_that_are_not_looped():
    state = Success(result=1)
    assert make_runner().check_task_is_looping(state, inputs={}, context={}) is state


def test_check_task_is_looping_starts_the_next_loop_with_count_and_result():
    context: dict[str, Any] = {}
    with pytest.raises(RecursiveCall) as exc:
        make_runner().check_task_is_looping(
            Looped(loop_count=2, result="partial"), inputs={}, upstream_states={}, context=context
        )
    assert context["task_loop_count"] == 3
    assert context["task_loop_result"] == "partial"
    next_states = [a for a in exc.value.args if isinstance(a, State)]
    assert len(next_states) == 1
    assert type(next_states[0]) is Pending


# --- initialize_run --------------------------------------------------------------------------


def test_initialize_run_starts_from_pending_without_a_state():
    result = make_runner().initialize_run(None, {})
    assert isinstance(result, TaskRunnerInitializeResult)
    assert type(result.state) is Pending


def test_initialize_run_fills_the_task_context():
    task = AddOne(name="named", tags=["a", "b"])
    state, context = make_runner(task).initialize_run(Pending(), {})
    assert context["task_name"] == "named"
    assert context["task_tags"] == {"a", "b"}
    assert context["task_run_count"] == 1
    assert context["checkpointing"] is prefect.config.flows.checkpointing
    assert context["logger"] is task.logger
    assert "resume" not in context


def test_initialize_run_counts_the_next_attempt_after_retrying():
    _, context = make_runner().initialize_run(Retrying(run_count=2), {})
    assert context["task_run_count"] == 3


def test_initialize_run_takes_the_run_count_from_the_state_context():
    _, context = make_runner().initialize_run(Pending(context={"task_run_count": 5}), {})
    assert context["task_run_count"] == 5


@pytest.mark.parametrize(
    ("state", "resumes"),
    [
        (Resume(), True),
        (Paused(start_time=past()), True),
        (Paused(), False),
        (Paused(start_time=future()), False),
        (Scheduled(start_time=past()), False),
    ],
    ids=["resume", "paused-elapsed", "paused", "paused-ahead", "scheduled"],
)
def test_initialize_run_resumes_from_resume_or_an_elapsed_pause(state, resumes):
    _, context = make_runner().initialize_run(state, {})
    assert context.get("resume", False) is resumes


def test_initialize_run_keeps_a_checkpointing_setting_of_the_context():
    _, context = make_runner().initialize_run(Pending(), {"checkpointing": True})
    assert context["checkpointing"] is True


def test_initialize_run_uses_the_target_as_result_location(results_dir):
    runner = make_runner(AddOne(result=_local_result(results_dir), target="{task_name}.txt"))
    runner.initialize_run(Pending(), {})
    assert runner.result.location == "{task_name}.txt"


def test_initialize_run_restores_a_loop_from_the_state():
    state = Retrying(run_count=1, context={"_loop_count": "4"}, result=Result({"n": 3}))
    _, context = make_runner().initialize_run(state, {})
    assert context["task_loop_count"] == 4
    assert context["task_loop_result"] == {"n": 3}
    assert context["task_run_count"] == 2


# --- construction ----------------------------------------------------------------------------


def test_task_runner_takes_the_task_result_before_the_flow_result(results_dir):
    from prefect.engine.results import LocalResult, PrefectResult

    own = LocalResult(dir=str(results_dir))
    runner = TaskRunner(AddOne(result=own), flow_result=PrefectResult())
    assert runner.result is own
    fallback = TaskRunner(AddOne(), flow_result=PrefectResult())
    assert isinstance(fallback.result, PrefectResult)
    assert isinstance(fallback.flow_result, PrefectResult)
    plain = TaskRunner(AddOne())
    assert type(plain.result) is Result
    assert plain.flow_result is None


def test_task_runner_logger_is_named_for_the_class():
    assert make_runner().logger.name == "prefect.TaskRunner"


def test_task_runner_call_runner_target_handlers_calls_task_handlers_in_order():
    seen: list[Any] = []

    def first(task: Task, old: State, new: State) -> State:
        seen.append(("first", task, old, new))
        return Skipped("replaced")

    def second(task: Task, old: State, new: State) -> None:
        seen.append(("second", task, old, new))

    task = AddOne(state_handlers=[first, second])
    old, new = Pending(), Running()
    final = make_runner(task).call_runner_target_handlers(old, new)
    assert type(final) is Skipped
    assert seen[0] == ("first", task, old, new)
    assert seen[1][:3] == ("second", task, old)
    assert seen[1][3] is final
