"""End-to-end semantics of `Flow.run`: what a Prefect 1.4.1 user sees when running a flow
locally (states, results, retries, caching, mapping, control flow, results and checkpoints), on
every executor of the engine tests' `executor` fixture."""

from __future__ import annotations

import datetime
import importlib.util
import logging
import os
import sys
import time
from pathlib import Path

import pytest

import prefect
from prefect import Flow, Parameter, Task, apply_map, case, resource_manager, task
from prefect.core.parameter import DateTimeParameter
from prefect.engine import signals
from prefect.engine.cache_validators import all_inputs, duration_only
from prefect.engine.results import LocalResult
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
    Skipped,
    Success,
    TimedOut,
    TriggerFailed,
)
from prefect.tasks.control_flow import ifelse, merge, switch
from prefect.triggers import all_failed, always_run, any_failed, manual_only
from prefect.utilities.edges import flatten, unmapped
from prefect.utilities.tasks import pause_task


def _load_engine_fixtures():
    """The executors of `tests/engine/conftest.py`, shared so both suites run on the same ones."""
    name = "_prefect_engine_test_fixtures"
    if name not in sys.modules:
        path = Path(__file__).resolve().parents[1] / "engine" / "conftest.py"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


_ENGINE_FIXTURES = _load_engine_fixtures()


@pytest.fixture(params=sorted(_ENGINE_FIXTURES.EXECUTOR_FACTORIES))
def executor(request):
    """A fresh executor of each kind: `LocalExecutor()` and a recording `Executor` subclass."""
    return _ENGINE_FIXTURES.EXECUTOR_FACTORIES[request.param]()


# Tasks used throughout -------------------------------------------------------------------------


@task
def one():
    return 1


@task
def identity(x):
    return x


@task
def inc(x):
    return x + 1


@task
def add(x, y):
    return x + y


@task
def total(xs):
    return sum(xs)


@task
def listify(x):
    return [x, x * 10]


@task
def fail():
    raise ValueError("boom")


@task
def skip():
    raise signals.SKIP("skipping on purpose")


def transitions(log: list) -> list[tuple[str, str]]:
    return [(type(old).__name__, type(new).__name__) for old, new in log]


# Flow.run itself -------------------------------------------------------------------------------


class TestFlowRun:
    def test_the_result_maps_every_task_to_its_state(self, executor):
        with Flow("f") as flow:
            a = one()
            b = inc(a)
        state = flow.run(executor=executor)
        assert isinstance(state, Success)
        assert state.message == "All reference tasks succeeded."
        assert set(state.result) == {a, b}
        assert state.result[b].result == 2

    def test_context_reaches_tasks(self, executor):
        @task
        def look():
            return prefect.context.get("special")

        with Flow("f") as flow:
            t = look()
        state = flow.run(context={"special": 42}, executor=executor)
        assert state.result[t].result == 42

    def test_the_executor_gets_one_task_run_per_task(self):
        recording = _ENGINE_FIXTURES.RecordingExecutor()
        with Flow("f") as flow:
            inc(one())
        flow.run(executor=recording)
        assert recording.task_run_names() == ["one", "inc"]

    def test_task_states_skip_finished_tasks(self, executor):
        calls = []

        @task
        def counted():
            calls.append(1)
            return 1

        with Flow("f") as flow:
            c = counted()
            i = inc(c)
        state = flow.run(task_states={c: Success(result=10)}, executor=executor)
        assert calls == []
        assert state.result[i].result == 11

    def test_parameters_with_defaults(self, executor):
        with Flow("f") as flow:
            x = Parameter("x", default=2)
            y = inc(x)
        assert flow.run(executor=executor).result[y].result == 3
        assert flow.run(parameters={"x": 10}, executor=executor).result[y].result == 11

    def test_unknown_parameters_are_rejected(self, executor):
        with Flow("f") as flow:
            inc(Parameter("x", default=2))
        with pytest.raises(ValueError) as excinfo:
            flow.run(parameters={"y": 1}, executor=executor)
        assert str(excinfo.value) == "Flow.run received the following unexpected parameters: y"

    def test_missing_required_parameters_are_rejected(self, executor):
        with Flow("f") as flow:
            inc(Parameter("x"))
        with pytest.raises(ValueError) as excinfo:
            flow.run(executor=executor)
        assert str(excinfo.value) == (
            "Flow.run did not receive the following required parameters: x"
        )

    def test_a_paused_run_still_returns_a_state_for_every_task(self, executor):
        @task(trigger=manual_only)
        def gate(x):
            return x

        with Flow("f") as flow:
            g = gate(one())
            later = inc(inc(g))
        state = flow.run(executor=executor)
        assert set(state.result) == set(flow.tasks)
        assert state.result[later].is_pending()

    def test_an_unexpected_runner_error_is_returned_as_a_failed_state(self, executor):
        from prefect.engine.flow_runner import FlowRunner

        class BrokenFlowRunner(FlowRunner):
            def initialize_run(self, *args, **kwargs):
                raise RuntimeError("runner bug")

        with Flow("f") as flow:
            one()
        state = flow.run(runner_cls=BrokenFlowRunner, executor=executor)
        assert isinstance(state, Failed)
        assert state.message == "Unexpected error while running flow: RuntimeError('runner bug')"
        assert isinstance(state.result, RuntimeError)

    def test_datetime_parameters_parse_strings(self, executor):
        with Flow("f") as flow:
            d = DateTimeParameter("d")
            out = identity(d)
        state = flow.run(parameters={"d": "2020-01-02T03:04:05+00:00"}, executor=executor)
        value = state.result[out].result
        assert isinstance(value, datetime.datetime)
        assert (value.year, value.month, value.day, value.hour) == (2020, 1, 2, 3)

    def test_datetime_parameters_pass_none_through(self, executor):
        with Flow("f") as flow:
            d = DateTimeParameter("d", required=False)
            out = identity(d)
        assert flow.run(executor=executor).result[out].result is None


# Triggers --------------------------------------------------------------------------------------


class TestTriggers:
    def test_downstream_of_a_failure_is_trigger_failed_and_the_flow_fails(self, executor):
        with Flow("f") as flow:
            f = fail()
            b = inc(f)
            c = inc(b)
        state = flow.run(executor=executor)
        assert isinstance(state, Failed)
        assert state.message == "Some reference tasks failed."
        assert type(state.result[f]) is Failed
        assert isinstance(state.result[f].result, ValueError)
        assert isinstance(state.result[b], TriggerFailed)
        assert isinstance(state.result[c], TriggerFailed)

    def test_all_failed_runs_downstream_of_failures_and_the_flow_succeeds(self, executor):
        @task(trigger=all_failed)
        def handle():
            return "handled"

        with Flow("f") as flow:
            f = fail()
            h = handle(upstream_tasks=[f])
        state = flow.run(executor=executor)
        assert state.result[h].result == "handled"
        assert state.is_successful()

    def test_all_failed_fails_its_trigger_when_upstream_succeeded(self, executor):
        @task(trigger=all_failed)
        def handle():
            return "handled"

        with Flow("f") as flow:
            h = handle(upstream_tasks=[one()])
        state = flow.run(executor=executor)
        assert isinstance(state.result[h], TriggerFailed)
        assert state.is_failed()

    def test_any_failed_runs_when_one_upstream_failed(self, executor):
        @task(trigger=any_failed)
        def handle():
            return "handled"

        with Flow("f") as flow:
            h = handle(upstream_tasks=[one(), fail()])
        assert flow.run(executor=executor).result[h].result == "handled"

    def test_always_run_runs_after_failures(self, executor):
        @task(trigger=always_run)
        def cleanup():
            return "cleaned"

        with Flow("f") as flow:
            c = cleanup(upstream_tasks=[fail()])
        assert flow.run(executor=executor).result[c].result == "cleaned"

    def test_custom_triggers_get_the_upstream_states_keyed_by_edge(self, executor):
        seen = {}

        def my_trigger(upstream_states):
            seen.update(upstream_states)
            return True

        @task(trigger=my_trigger)
        def downstream(x):
            return x

        with Flow("f") as flow:
            a = one()
            d = downstream(a)
        state = flow.run(executor=executor)
        assert state.result[d].result == 1
        ((edge, upstream_state),) = seen.items()
        assert edge.upstream_task is a and edge.key == "x"
        assert upstream_state.result == 1


# Skips -----------------------------------------------------------------------------------------


class TestSkips:
    def test_skips_propagate_downstream_and_the_flow_succeeds(self, executor):
        with Flow("f") as flow:
            s = skip()
            a = identity(s)
            b = identity(a)
        state = flow.run(executor=executor)
        assert state.is_successful()
        assert isinstance(state.result[s], Skipped)
        assert state.result[s].message == "skipping on purpose"
        assert isinstance(state.result[a], Skipped)
        assert isinstance(state.result[b], Skipped)
        assert state.result[a].message == (
            "Upstream task was skipped; if this was not the intended behavior, consider "
            "changing `skip_on_upstream_skip=False` for this task."
        )

    def test_skip_on_upstream_skip_false_runs_the_task(self, executor):
        @task(skip_on_upstream_skip=False)
        def runs_anyway():
            return "ran"

        with Flow("f") as flow:
            s = skip()
            r = runs_anyway(upstream_tasks=[s])
            after = identity(r)
        state = flow.run(executor=executor)
        assert state.result[r].result == "ran"
        assert state.result[after].result == "ran"


# Retries ---------------------------------------------------------------------------------------


class TestRetries:
    def test_a_failing_task_is_retrying_then_succeeds_on_a_local_run(self, executor):
        log = []
        run_counts = []

        @task(
            max_retries=2,
            retry_delay=datetime.timedelta(seconds=0),
            state_handlers=[lambda t, old, new: log.append((old, new))],
        )
        def flaky():
            run_counts.append(prefect.context.task_run_count)
            if len(run_counts) < 2:
                raise ValueError("transient")
            return "ok"

        with Flow("f") as flow:
            f = flaky()
            after = identity(f)
        state = flow.run(executor=executor)
        assert state.is_successful()
        assert state.result[f].result == "ok"
        assert state.result[after].result == "ok"
        assert run_counts == [1, 2]
        assert transitions(log) == [
            ("Pending", "Running"),
            ("Running", "Failed"),
            ("Failed", "Retrying"),
            ("Retrying", "Running"),
            ("Running", "Success"),
        ]
        retrying = log[2][1]
        assert isinstance(retrying, Retrying)
        assert retrying.run_count == 1
        assert retrying.message == "Retrying Task (after attempt 1 of 3)"

    def test_the_flow_goes_from_running_to_success_once_across_retries(self, executor):
        log = []
        attempts = []

        @task(max_retries=1, retry_delay=datetime.timedelta(seconds=0))
        def flaky():
            attempts.append(1)
            if len(attempts) == 1:
                raise ValueError("transient")

        flow = Flow("f", tasks=[flaky], state_handlers=[lambda f, old, new: log.append((old, new))])
        flow.run(executor=executor)
        assert len(attempts) == 2
        assert transitions(log) == [("Pending", "Running"), ("Running", "Success")]

    def test_flow_run_waits_for_the_retry_delay(self, executor):
        attempts = []

        @task(max_retries=1, retry_delay=datetime.timedelta(seconds=0.5))
        def flaky():
            attempts.append(time.monotonic())
            if len(attempts) == 1:
                raise ValueError("transient")
            return "ok"

        with Flow("f") as flow:
            f = flaky()
        state = flow.run(executor=executor)
        assert state.result[f].result == "ok"
        assert attempts[1] - attempts[0] >= 0.45

    def test_a_task_failing_every_attempt_ends_failed_after_max_retries(self, executor):
        attempts = []

        @task(max_retries=2, retry_delay=datetime.timedelta(seconds=0))
        def always_fails():
            attempts.append(1)
            raise ValueError("permanent")

        with Flow("f") as flow:
            f = always_fails()
        state = flow.run(executor=executor)
        assert len(attempts) == 3
        assert type(state.result[f]) is Failed
        assert state.is_failed()

    def test_retry_on_limits_the_exceptions_that_retry(self, executor):
        attempts = []

        @task(max_retries=2, retry_delay=datetime.timedelta(seconds=0), retry_on=TypeError)
        def wrong_error():
            attempts.append(1)
            raise ValueError("not retried")

        with Flow("f") as flow:
            f = wrong_error()
        state = flow.run(executor=executor)
        assert len(attempts) == 1
        assert type(state.result[f]) is Failed

    def test_the_retry_signal_retries(self, executor):
        attempts = []

        @task(max_retries=1, retry_delay=datetime.timedelta(seconds=0))
        def asks_for_retry():
            attempts.append(1)
            if len(attempts) == 1:
                raise signals.RETRY("again please")
            return len(attempts)

        with Flow("f") as flow:
            f = asks_for_retry()
        assert flow.run(executor=executor).result[f].result == 2


# Timeouts --------------------------------------------------------------------------------------


class TestTimeouts:
    def test_a_task_over_its_timeout_is_timed_out_and_the_flow_fails(self, executor):
        @task(timeout=1)
        def slow():
            deadline = time.monotonic() + 30  # short naps: a stop request lands soon
            while time.monotonic() < deadline:
                time.sleep(0.01)
            return "too late"

        with Flow("f") as flow:
            s = slow()
            after = identity(s)
        start = time.monotonic()
        state = flow.run(executor=executor)
        assert time.monotonic() - start < 10  # did not wait for the 30 s task
        assert isinstance(state.result[s], TimedOut)
        assert isinstance(state.result[after], TriggerFailed)
        assert state.is_failed()

    def test_a_task_within_its_timeout_succeeds(self, executor):
        # A generous timeout: the run takes milliseconds, but a loaded machine may pause it.
        @task(timeout=60)
        def quick(x):
            return x * 2

        with Flow("f") as flow:
            q = quick(21)
        assert flow.run(executor=executor).result[q].result == 42


# Caching ---------------------------------------------------------------------------------------


class TestCaching:
    def test_a_cached_result_is_reused_by_the_next_flow_run(self, executor):
        calls = []

        @task(cache_for=datetime.timedelta(hours=1))
        def expensive():
            calls.append(1)
            return "value"

        with Flow("f") as flow:
            e = expensive()
            after = identity(e)
        first = flow.run(executor=executor)
        second = flow.run(executor=executor)
        assert len(calls) == 1
        assert isinstance(first.result[e], Cached)
        assert isinstance(second.result[e], Cached)
        assert second.result[e].result == "value"
        assert second.result[after].result == "value"

    def test_all_inputs_validator_reruns_for_different_inputs(self, executor):
        calls = []

        @task(cache_for=datetime.timedelta(hours=1), cache_validator=all_inputs)
        def expensive(x):
            calls.append(x)
            return x * 2

        with Flow("f") as flow:
            x = Parameter("x")
            e = expensive(x)
        assert flow.run(parameters={"x": 1}, executor=executor).result[e].result == 2
        assert flow.run(parameters={"x": 1}, executor=executor).result[e].result == 2
        assert flow.run(parameters={"x": 2}, executor=executor).result[e].result == 4
        assert calls == [1, 2]

    def test_an_expired_cache_is_not_used(self, executor):
        calls = []

        @task(cache_for=datetime.timedelta(milliseconds=1), cache_validator=duration_only)
        def expensive():
            calls.append(1)
            return len(calls)

        with Flow("f") as flow:
            e = expensive()
        flow.run(executor=executor)
        time.sleep(0.01)
        assert flow.run(executor=executor).result[e].result == 2

    def test_cached_states_in_the_context_caches_are_used(self, executor):
        import pendulum

        calls = []

        @task(cache_for=datetime.timedelta(hours=1), cache_validator=duration_only)
        def expensive():
            calls.append(1)
            return "fresh"

        flow = Flow("f", tasks=[expensive])
        cached = Cached(
            result="from the cache", cached_result_expiration=pendulum.now("utc").add(hours=1)
        )
        with prefect.context(caches={"expensive": [cached]}):
            state = flow.run(executor=executor)
        assert calls == []
        assert state.result[expensive].result == "from the cache"

    def test_tasks_sharing_a_cache_key_share_the_cache(self, executor):
        calls = []

        def body():
            calls.append(1)
            return "shared"

        first = task(body, name="first", cache_for=datetime.timedelta(hours=1), cache_key="k")
        second = task(body, name="second", cache_for=datetime.timedelta(hours=1), cache_key="k")
        flow_one = Flow("one", tasks=[first])
        flow_two = Flow("two", tasks=[second])
        flow_one.run(executor=executor)
        state = flow_two.run(executor=executor)
        assert len(calls) == 1
        assert state.result[second].result == "shared"


# Targets, results and checkpointing --------------------------------------------------------------


@pytest.fixture
def results_dir(tmp_path: Path) -> Path:
    """An empty directory for `LocalResult`s (`tmp_path` also holds the test's home)."""
    path = tmp_path / "results"
    path.mkdir()
    return path


class TestResults:
    def test_a_target_stores_the_result_and_the_next_run_reuses_it(self, executor, results_dir):
        calls = []

        @task(
            target="{task_name}-{x}.txt", checkpoint=True, result=LocalResult(dir=str(results_dir))
        )
        def produce(x):
            calls.append(x)
            return x * 3

        with Flow("f") as flow:
            p = produce(2)
            after = inc(p)
        with prefect.context(checkpointing=True):
            first = flow.run(executor=executor)
            second = flow.run(executor=executor)
        assert calls == [2]
        assert (results_dir / "produce-2.txt").exists()
        assert first.result[p].result == 6
        assert isinstance(second.result[p], Cached)
        assert second.result[p].result == 6
        assert second.result[after].result == 7

    def test_a_target_is_per_input(self, executor, results_dir):
        calls = []

        @task(
            target="{task_name}-{x}.txt", checkpoint=True, result=LocalResult(dir=str(results_dir))
        )
        def produce(x):
            calls.append(x)
            return x

        with Flow("f") as flow:
            x = Parameter("x")
            produce(x)
        with prefect.context(checkpointing=True):
            flow.run(parameters={"x": 1}, executor=executor)
            flow.run(parameters={"x": 2}, executor=executor)
            flow.run(parameters={"x": 1}, executor=executor)
        assert calls == [1, 2]

    def test_a_callable_target_gets_the_context_and_inputs(self, executor, results_dir):
        calls = []

        def location(**kwargs):
            return f"{kwargs['flow_name']}/{kwargs['task_name']}-{kwargs['x']}.bin"

        @task(target=location, checkpoint=True, result=LocalResult(dir=str(results_dir)))
        def produce(x):
            calls.append(x)
            return x

        with Flow("callable-target") as flow:
            p = produce(7)
        with prefect.context(checkpointing=True):
            flow.run(executor=executor)
            state = flow.run(executor=executor)
        assert calls == [7]
        assert (results_dir / "callable-target" / "produce-7.bin").exists()
        assert isinstance(state.result[p], Cached)
        assert state.result[p].result == 7

    def test_without_checkpointing_a_target_is_not_written(self, executor, results_dir):
        calls = []

        @task(target="out.txt", checkpoint=True, result=LocalResult(dir=str(results_dir)))
        def produce():
            calls.append(1)
            return 1

        flow = Flow("f", tasks=[produce])
        with prefect.context(checkpointing=False):
            flow.run(executor=executor)
            flow.run(executor=executor)
        assert calls == [1, 1]
        assert not (results_dir / "out.txt").exists()

    def test_the_flow_result_is_used_by_tasks_without_one(self, executor, results_dir):
        with Flow("f", result=LocalResult(dir=str(results_dir))) as flow:
            t = one()
        with prefect.context(checkpointing=True):
            state = flow.run(executor=executor)
        stored = state.result[t]._result
        assert isinstance(stored, LocalResult)
        assert stored.location is not None
        assert os.path.exists(os.path.join(str(results_dir), stored.location))
        assert stored.read(stored.location).value == 1

    def test_a_task_result_wins_over_the_flow_result(self, executor, results_dir):
        flow_dir, task_dir = results_dir / "flow", results_dir / "task"
        flow_dir.mkdir()
        task_dir.mkdir()

        @task(result=LocalResult(dir=str(task_dir)))
        def own():
            return "mine"

        with Flow("f", result=LocalResult(dir=str(flow_dir))) as flow:
            own()
        with prefect.context(checkpointing=True):
            flow.run(executor=executor)
        assert os.listdir(task_dir)
        assert not os.listdir(flow_dir)

    def test_checkpointing_from_config(self, executor, results_dir):
        with Flow("f", result=LocalResult(dir=str(results_dir))) as flow:
            one()
        prefect.config.flows.checkpointing = True
        flow.run(executor=executor)
        assert os.listdir(results_dir)

    def test_no_checkpoint_without_checkpointing(self, executor, results_dir):
        with Flow("f", result=LocalResult(dir=str(results_dir))) as flow:
            t = one()
        prefect.config.flows.checkpointing = False
        state = flow.run(executor=executor)
        assert state.result[t].result == 1
        assert not os.listdir(results_dir)

    def test_checkpoint_false_tasks_are_not_written(self, executor, results_dir):
        @task(checkpoint=False)
        def private():
            return "secret"

        with Flow("f", result=LocalResult(dir=str(results_dir))) as flow:
            private()
        with prefect.context(checkpointing=True):
            flow.run(executor=executor)
        assert not os.listdir(results_dir)


# LOOP and PAUSE --------------------------------------------------------------------------------


class TestLoopAndPause:
    def test_loop_reruns_the_task_with_its_loop_count_and_result(self, executor):
        log = []

        @task(state_handlers=[lambda t, old, new: log.append(new)])
        def accumulate():
            count = prefect.context.get("task_loop_count", 1)
            so_far = prefect.context.get("task_loop_result", 0)
            if count < 5:
                raise signals.LOOP(result=so_far + count)
            return so_far + count

        with Flow("f") as flow:
            a = accumulate()
            after = inc(a)
        state = flow.run(executor=executor)
        assert state.result[a].result == 15
        assert state.result[after].result == 16
        looped = [s for s in log if isinstance(s, Looped)]
        assert [s.loop_count for s in looped] == [1, 2, 3, 4]

    def test_manual_only_pauses_the_task_and_the_flow_stays_running(self, executor):
        @task(trigger=manual_only)
        def approve(x):
            return x

        with Flow("f") as flow:
            a = approve(one())
            after = inc(a)
        state = flow.run(executor=executor)
        assert isinstance(state, Running)
        assert isinstance(state.result[a], Paused)
        assert isinstance(state.result[after], Pending)

    def test_a_paused_task_is_resumed_by_a_resume_state(self, executor):
        @task(trigger=manual_only)
        def approve(x):
            return x

        with Flow("f") as flow:
            a = approve(one())
            after = inc(a)
        paused = flow.run(executor=executor)
        task_states = dict(paused.result)
        task_states[a] = Resume()
        state = flow.run(task_states=task_states, executor=executor)
        assert state.is_successful()
        assert state.result[after].result == 2

    def test_pause_task_pauses_until_resumed(self, executor):
        calls = []

        @task
        def pausing():
            calls.append(1)
            pause_task()
            return "resumed"

        with Flow("f") as flow:
            p = pausing()
        state = flow.run(executor=executor)
        assert isinstance(state, Running)
        assert isinstance(state.result[p], Paused)
        state = flow.run(task_states={p: Resume()}, executor=executor)
        assert state.result[p].result == "resumed"
        assert len(calls) == 2


# Mapping ---------------------------------------------------------------------------------------


class TestMapping:
    def test_map_and_reduce(self, executor):
        with Flow("f") as flow:
            m = inc.map([1, 2, 3])
            t = total(m)
        state = flow.run(executor=executor)
        assert isinstance(state.result[m], Mapped)
        assert state.result[m].result == [2, 3, 4]
        assert [s.result for s in state.result[m].map_states] == [2, 3, 4]
        assert all(type(s) is Success for s in state.result[m].map_states)
        assert state.result[t].result == 9

    def test_unmapped_inputs_go_to_every_child(self, executor):
        with Flow("f") as flow:
            m = add.map([1, 2, 3], unmapped(10))
        assert flow.run(executor=executor).result[m].result == [11, 12, 13]

    def test_map_over_several_lists_zips_them_to_the_shortest(self, executor):
        with Flow("f") as flow:
            m = add.map([1, 2, 3], [10, 20])
        assert flow.run(executor=executor).result[m].result == [11, 22]

    def test_map_of_a_map(self, executor):
        with Flow("f") as flow:
            first = inc.map([1, 2, 3])
            second = inc.map(first)
            t = total(second)
        state = flow.run(executor=executor)
        assert state.result[second].result == [3, 4, 5]
        assert len(state.result[second].map_states) == 3
        assert state.result[t].result == 12

    def test_map_over_a_parameter(self, executor):
        with Flow("f") as flow:
            xs = Parameter("xs", default=[1, 2])
            m = inc.map(xs)
        assert flow.run(executor=executor).result[m].result == [2, 3]
        assert flow.run(parameters={"xs": [5]}, executor=executor).result[m].result == [6]

    def test_map_over_an_empty_list_is_mapped_with_no_children(self, executor):
        with Flow("f") as flow:
            m = inc.map([])
            t = total(m)
        state = flow.run(executor=executor)
        assert state.is_successful()
        assert isinstance(state.result[m], Mapped)
        assert state.result[m].map_states == []
        assert state.result[m].result == []
        assert state.result[t].result == 0

    def test_map_of_a_map_over_an_empty_list(self, executor):
        with Flow("f") as flow:
            second = inc.map(inc.map([]))
            t = total(second)
        state = flow.run(executor=executor)
        assert state.result[second].map_states == []
        assert state.result[t].result == 0

    def test_map_index_is_in_the_context_of_each_child(self, executor):
        @task
        def index(x):
            return (prefect.context.map_index, x)

        with Flow("f") as flow:
            m = index.map(["a", "b", "c"])
        state = flow.run(executor=executor)
        assert state.result[m].result == [(0, "a"), (1, "b"), (2, "c")]

    def test_flatten_a_list_of_lists(self, executor):
        with Flow("f") as flow:
            m = inc.map(flatten([[1], [2, 3], []]))
        assert flow.run(executor=executor).result[m].result == [2, 3, 4]

    def test_flatten_a_mapped_tasks_results(self, executor):
        with Flow("f") as flow:
            lists = listify.map([1, 2])
            m = inc.map(flatten(lists))
            t = identity(flatten(lists))
        state = flow.run(executor=executor)
        assert state.result[lists].result == [[1, 10], [2, 20]]
        assert state.result[m].result == [2, 11, 3, 21]
        assert state.result[t].result == [1, 10, 2, 20]

    def test_a_failed_child_fails_only_its_branch_and_the_reduce(self, executor):
        @task
        def invert(x):
            return 1 / x

        with Flow("f") as flow:
            inv = invert.map([1, 0, 2])
            plus = inc.map(inv)
            t = total(plus)
        state = flow.run(executor=executor)
        assert state.is_failed()
        children = state.result[inv].map_states
        assert [type(s) for s in children] == [Success, Failed, Success]
        assert isinstance(children[1].result, ZeroDivisionError)
        plus_children = state.result[plus].map_states
        assert [type(s) for s in plus_children] == [Success, TriggerFailed, Success]
        assert isinstance(state.result[t], TriggerFailed)

    def test_mapped_children_retry_on_their_own(self, executor):
        attempts = []

        @task(max_retries=1, retry_delay=datetime.timedelta(seconds=0))
        def flaky(x):
            attempts.append(x)
            if x == 2 and attempts.count(2) == 1:
                raise ValueError("transient")
            return x

        with Flow("f") as flow:
            m = flaky.map([1, 2, 3])
        state = flow.run(executor=executor)
        assert state.is_successful()
        assert state.result[m].result == [1, 2, 3]
        assert sorted(attempts) == [1, 2, 2, 3]

    def test_mapping_over_a_non_sequence_fails(self, executor):
        with Flow("f") as flow:
            m = inc.map(one())
        state = flow.run(executor=executor)
        assert type(state.result[m]) is Failed
        assert state.result[m].message == "At least one upstream state has an unmappable result."
        assert state.is_failed()

    def test_skipped_children_skip_their_downstream_children(self, executor):
        @task
        def skip_odd(x):
            if x % 2:
                raise signals.SKIP("odd")
            return x

        with Flow("f") as flow:
            evens = skip_odd.map([1, 2, 3])
            m = inc.map(evens)
        state = flow.run(executor=executor)
        assert [type(s) for s in state.result[m].map_states] == [Skipped, Success, Skipped]
        assert state.result[m].map_states[1].result == 3


class TestApplyMap:
    def test_apply_map_with_a_case_inside(self, executor):
        @task
        def is_even(x):
            return x % 2 == 0

        @task
        def double(x):
            return 2 * x

        @task
        def negate(x):
            return -x

        def branch(x):
            cond = is_even(x)
            with case(cond, True):
                even = double(x)
            with case(cond, False):
                odd = negate(x)
            return merge(even, odd)

        with Flow("f") as flow:
            result = apply_map(branch, [1, 2, 3])
        state = flow.run(executor=executor)
        assert state.is_successful()
        assert state.result[result].result == [-1, 4, -3]

    def test_apply_map_with_unmapped_arguments(self, executor):
        def combine(x, y):
            return inc(add(x, y))

        with Flow("f") as flow:
            result = apply_map(combine, [1, 2], y=unmapped(100))
        assert flow.run(executor=executor).result[result].result == [102, 103]


# Control flow ----------------------------------------------------------------------------------


class TestControlFlow:
    def test_case_runs_the_matching_branch_and_skips_the_other(self, executor):
        @task
        def choose():
            return "a"

        with Flow("f") as flow:
            cond = choose()
            with case(cond, "a"):
                a = identity("branch a")
                a_after = identity(a)
            with case(cond, "b"):
                b = identity("branch b")
                b_after = identity(b)
            m = merge(a_after, b_after)
        state = flow.run(executor=executor)
        assert state.is_successful()
        assert state.result[a].result == "branch a"
        assert isinstance(state.result[b], Skipped)
        assert isinstance(state.result[b_after], Skipped)
        assert state.result[m].result == "branch a"

    def test_merge_of_all_skipped_branches_is_skipped(self, executor):
        @task
        def choose():
            return "z"

        with Flow("f") as flow:
            cond = choose()
            with case(cond, "a"):
                a = identity("a")
            with case(cond, "b"):
                b = identity("b")
            m = merge(a, b)
        state = flow.run(executor=executor)
        assert isinstance(state.result[m], Skipped)
        assert state.is_successful()

    @pytest.mark.parametrize("condition, expected", [(True, "yes"), (False, "no")])
    def test_ifelse_runs_one_task_and_skips_the_other(self, executor, condition, expected):
        with Flow("f") as flow:
            cond = identity(condition)
            yes = identity("yes")
            no = identity("no")
            ifelse(cond, yes, no)
            m = merge(yes, no)
        state = flow.run(executor=executor)
        skipped = no if condition else yes
        assert isinstance(state.result[skipped], Skipped)
        assert state.result[m].result == expected

    def test_switch_runs_the_matching_case(self, executor):
        with Flow("f") as flow:
            cond = identity("b")
            a, b, c = identity("A"), identity("B"), identity("C")
            switch(cond, {"a": a, "b": b, "c": c})
            m = merge(a, b, c)
        state = flow.run(executor=executor)
        assert [type(state.result[t]) for t in (a, b, c)] == [Skipped, Success, Skipped]
        assert state.result[m].result == "B"


# Resource manager ------------------------------------------------------------------------------


def make_resource(events: list):
    @resource_manager
    class Connection:
        def __init__(self, name):
            self.name = name

        def setup(self):
            events.append(("setup", self.name))
            return f"conn-{self.name}"

        def cleanup(self, resource):
            events.append(("cleanup", resource))

    return Connection


class TestResourceManager:
    def test_setup_and_cleanup_are_called_around_the_block(self, executor):
        events = []
        Connection = make_resource(events)

        @task
        def use(conn):
            events.append(("use", conn))
            return conn.upper()

        with Flow("f") as flow:
            with Connection("db") as conn:
                u = use(conn)
        state = flow.run(executor=executor)
        assert state.is_successful()
        assert events == [("setup", "db"), ("use", "conn-db"), ("cleanup", "conn-db")]
        assert state.result[u].result == "CONN-DB"

    def test_cleanup_runs_even_when_a_task_in_the_block_fails(self, executor):
        events = []
        Connection = make_resource(events)

        @task
        def broken(conn):
            raise RuntimeError(conn)

        with Flow("f") as flow:
            with Connection("db") as conn:
                broken(conn)
        state = flow.run(executor=executor)
        assert events == [("setup", "db"), ("cleanup", "conn-db")]
        cleanup_states = [s for t, s in state.result.items() if t.name.endswith(".cleanup")]
        assert [type(s) for s in cleanup_states] == [Success]

    def test_a_failed_task_in_the_block_fails_the_flow(self, executor):
        events = []
        Connection = make_resource(events)

        @task
        def broken(conn):
            raise RuntimeError(conn)

        with Flow("f") as flow:
            with Connection("db") as conn:
                b = broken(conn)
        state = flow.run(executor=executor)
        assert state.is_failed()
        assert type(state.result[b]) is Failed


# Callbacks and logs ----------------------------------------------------------------------------


class TestCallbacksAndLogs:
    def test_task_on_failure_is_called_with_the_task_and_its_failed_state(self, executor):
        calls = []

        def on_failure(t, state):
            calls.append((t, state))

        @task(on_failure=on_failure)
        def bad():
            raise ValueError("nope")

        @task(on_failure=on_failure)
        def good():
            return 1

        with Flow("f") as flow:
            b = bad()
            good()
        flow.run(executor=executor)
        assert len(calls) == 1
        assert calls[0][0] is b
        assert type(calls[0][1]) is Failed

    def test_flow_on_failure_is_called_when_the_flow_fails(self, executor):
        calls = []
        with Flow("f", on_failure=lambda flow, state: calls.append((flow, state))) as flow:
            fail()
        flow.run(executor=executor)
        assert len(calls) == 1
        assert calls[0][0] is flow
        assert calls[0][1].is_failed()

    def test_flow_on_failure_is_not_called_on_success(self, executor):
        calls = []
        with Flow("f", on_failure=lambda flow, state: calls.append(state)) as flow:
            one()
        flow.run(executor=executor)
        assert calls == []

    def test_log_stdout_sends_prints_to_the_logs(self, executor, caplog, capsys):
        @task(log_stdout=True)
        def chatty():
            print("hello from the task")
            return 1

        with Flow("f") as flow:
            chatty()
        capsys.readouterr()
        with caplog.at_level(logging.INFO, logger="prefect"):
            flow.run(executor=executor)
        assert "hello from the task" in [r.getMessage() for r in caplog.records]
        assert "hello from the task" not in capsys.readouterr().out

    def test_without_log_stdout_prints_go_to_stdout(self, executor, caplog, capsys):
        @task
        def chatty():
            print("plain print")

        with Flow("f") as flow:
            chatty()
        with caplog.at_level(logging.INFO, logger="prefect"):
            flow.run(executor=executor)
        assert "plain print" in capsys.readouterr().out
        assert "plain print" not in [r.getMessage() for r in caplog.records]

    def test_task_runs_log_the_1x_lines(self, executor, caplog):
        with Flow("f") as flow:
            one()
        with caplog.at_level(logging.INFO, logger="prefect"):
            flow.run(executor=executor)
        messages = [r.getMessage() for r in caplog.records]
        assert "Task 'one': Starting task run..." in messages
        assert "Task 'one': Finished task run for task with final state: 'Success'" in messages


# Building blocks: constants, collections, operators, nout ----------------------------------------


class TestBuildingBlocks:
    def test_constants_as_inputs(self, executor):
        with Flow("f") as flow:
            r = add(1, 2)
        assert flow.run(executor=executor).result[r].result == 3

    def test_collections_of_tasks_as_inputs(self, executor):
        with Flow("f") as flow:
            a, b = one(), inc(one())
            as_list = identity([a, b, 5])
            as_dict = identity({"a": a, "b": b})
            as_tuple = identity((a, b))
        state = flow.run(executor=executor)
        assert state.result[as_list].result == [1, 2, 5]
        assert state.result[as_dict].result == {"a": 1, "b": 2}
        assert state.result[as_tuple].result == (1, 2)

    def test_operators_on_tasks(self, executor):
        with Flow("f") as flow:
            a = one()
            expr = (a + 1) * 2
            compare = a > 0
        state = flow.run(executor=executor)
        assert state.result[expr].result == 4
        assert state.result[compare].result is True

    def test_getitem_on_task_results(self, executor):
        @task
        def data():
            return {"key": [10, 20]}

        with Flow("f") as flow:
            item = data()["key"][1]
        assert flow.run(executor=executor).result[item].result == 20

    def test_nout_unpacks_results(self, executor):
        @task(nout=2)
        def pair():
            return 1, 2

        with Flow("f") as flow:
            first, second = pair()
            s = add(first, second)
        state = flow.run(executor=executor)
        assert state.result[first].result == 1
        assert state.result[second].result == 2
        assert state.result[s].result == 3

    def test_task_subclasses_run(self, executor):
        class Multiply(Task):
            def __init__(self, factor, **kwargs):
                self.factor = factor
                super().__init__(**kwargs)

            def run(self, x):
                return x * self.factor

        with Flow("f") as flow:
            r = Multiply(3)(one())
        assert flow.run(executor=executor).result[r].result == 3


def test_flow_run_takes_parameter_values_as_keyword_arguments():
    from prefect import Parameter

    @prefect.task
    def double(x):
        return 2 * x

    with Flow("kw") as flow:
        n = Parameter("n")
        doubled = double(n)

    state = flow.run(n=4)
    assert state.is_successful()
    assert state.result[doubled].result == 8
    with pytest.raises(ValueError, match="unexpected parameters: m"):
        flow.run(parameters={"n": 1, "m": 2})
