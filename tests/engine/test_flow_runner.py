"""Tests for `prefect.engine.flow_runner.FlowRunner`: each step of a flow run and `run` itself,
on every executor of the `executor` fixture (1.4.1 semantics)."""

from __future__ import annotations

import datetime
import logging

import pendulum
import pytest

import prefect
from prefect import Flow, Parameter, Task, task
from prefect.engine import signals
from prefect.engine.flow_runner import FlowRunner, FlowRunnerInitializeResult
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
    TriggerFailed,
)
from prefect.engine.task_runner import TaskRunner
from prefect.tasks.core.constants import Constant
from prefect.triggers import all_failed, manual_only
from prefect.utilities.edges import unmapped


class Counter:
    """Counts calls per key: what each test checks to see which task bodies ran."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}

    def hit(self, key: str) -> None:
        self.calls[key] = self.calls.get(key, 0) + 1

    def __getitem__(self, key: str) -> int:
        return self.calls.get(key, 0)


@pytest.fixture
def counter() -> Counter:
    return Counter()


def transitions(log: list) -> list[tuple[str, str]]:
    return [(type(old).__name__, type(new).__name__) for old, new in log]


def two_task_flow(counter: Counter) -> tuple[Flow, Task, Task]:
    """`a() -> 1`, `b(a) -> a + 1`, counting calls."""

    @task
    def a():
        counter.hit("a")
        return 1

    @task
    def b(x):
        counter.hit("b")
        return x + 1

    with Flow("two") as flow:
        ta = a()
        tb = b(ta)
    return flow, ta, tb


@task
def fail():
    raise ValueError("boom")


@task
def identity(x):
    return x


@task
def inc(x):
    return x + 1


@task
def total(xs):
    return sum(xs)


# return_tasks ---------------------------------------------------------------------------------


class TestReturnTasks:
    def test_states_of_return_tasks_are_the_result_of_the_flow_state(self, executor, counter):
        flow, a, b = two_task_flow(counter)
        state = FlowRunner(flow).run(return_tasks=[a, b], executor=executor)
        assert state.is_successful()
        assert set(state.result) == {a, b}
        assert state.result[a] == Success(result=1)
        assert state.result[b].result == 2

    def test_without_return_tasks_the_result_is_an_empty_dict(self, executor, counter):
        flow, a, b = two_task_flow(counter)
        state = FlowRunner(flow).run(executor=executor)
        assert state.is_successful()
        assert state.result == {}
        assert counter["b"] == 1

    def test_only_the_requested_tasks_are_returned(self, executor, counter):
        flow, a, b = two_task_flow(counter)
        state = FlowRunner(flow).run(return_tasks=[a], executor=executor)
        assert list(state.result) == [a]

    def test_return_tasks_not_in_the_flow_fail_the_run_before_any_task(self, executor, counter):
        flow, a, b = two_task_flow(counter)
        state = FlowRunner(flow).run(return_tasks=[a, Task(name="foreign")], executor=executor)
        assert state.is_failed()
        assert "Some tasks in return_tasks were not found" in state.message
        assert isinstance(state.result, ValueError)
        assert counter["a"] == 0

    def test_a_returned_mapped_task_has_its_children_states_and_results(self, executor):
        with Flow("map") as flow:
            m = inc.map([1, 2, 3])
        state = FlowRunner(flow).run(return_tasks=[m], executor=executor)
        mapped_state = state.result[m]
        assert isinstance(mapped_state, Mapped)
        assert [type(s) for s in mapped_state.map_states] == [Success] * 3
        assert [s.result for s in mapped_state.map_states] == [2, 3, 4]
        assert mapped_state.result == [2, 3, 4]


# task_states ----------------------------------------------------------------------------------


class TestTaskStates:
    def test_finished_tasks_are_not_run_again_and_feed_their_result_downstream(
        self, executor, counter
    ):
        flow, a, b = two_task_flow(counter)
        state = FlowRunner(flow).run(
            task_states={a: Success(result=41)}, return_tasks=[a, b], executor=executor
        )
        assert counter["a"] == 0
        assert counter["b"] == 1
        assert state.result[b].result == 42
        assert state.result[a].result == 41

    def test_a_given_failed_state_is_kept_and_fails_downstream_triggers(self, executor, counter):
        flow, a, b = two_task_flow(counter)
        given = Failed("earlier failure")
        state = FlowRunner(flow).run(task_states={a: given}, return_tasks=[a, b], executor=executor)
        assert counter.calls == {}
        assert state.result[a] is given
        assert isinstance(state.result[b], TriggerFailed)
        assert state.is_failed()

    def test_a_given_pending_state_runs_the_task(self, executor, counter):
        flow, a, b = two_task_flow(counter)
        state = FlowRunner(flow).run(
            task_states={a: Pending()}, return_tasks=[a], executor=executor
        )
        assert counter["a"] == 1
        assert state.result[a].is_successful()

    def test_a_manual_only_task_pauses_and_the_flow_stays_running(self, executor, counter):
        @task(trigger=manual_only)
        def approve(x):
            counter.hit("approve")
            return x * 10

        flow, a, b = two_task_flow(counter)
        approved = approve(b, flow=flow)
        after = identity(approved, flow=flow)
        state = FlowRunner(flow).run(return_tasks=flow.tasks, executor=executor)
        assert isinstance(state, Running)
        assert isinstance(state.result[approved], Paused)
        assert state.result[after].is_pending()
        assert counter["approve"] == 0

    def test_resume_state_resumes_a_paused_task(self, executor, counter):
        @task(trigger=manual_only)
        def approve(x):
            counter.hit("approve")
            return x * 10

        flow, a, b = two_task_flow(counter)
        approved = approve(b, flow=flow)
        after = identity(approved, flow=flow)
        first = FlowRunner(flow).run(return_tasks=flow.tasks, executor=executor)
        task_states = dict(first.result)
        task_states[approved] = Resume("approved by a human")
        second = FlowRunner(flow).run(
            task_states=task_states, return_tasks=flow.tasks, executor=executor
        )
        assert second.is_successful()
        assert counter["approve"] == 1
        assert counter["a"] == 1 and counter["b"] == 1  # finished upstream not re-run
        assert second.result[approved].result == 20
        assert second.result[after].result == 20

    def test_a_valid_cached_state_is_reused(self, executor, counter):
        from prefect.engine.cache_validators import duration_only

        @task(cache_for=datetime.timedelta(hours=1), cache_validator=duration_only)
        def expensive():
            counter.hit("expensive")
            return "fresh"

        with Flow("cache") as flow:
            e = expensive()
        cached = Cached(result="cached", cached_result_expiration=pendulum.now("utc").add(hours=1))
        state = FlowRunner(flow).run(task_states={e: cached}, return_tasks=[e], executor=executor)
        assert counter["expensive"] == 0
        assert state.result[e].result == "cached"

    def test_an_expired_cached_state_is_run_again(self, executor, counter):
        from prefect.engine.cache_validators import duration_only

        @task(cache_for=datetime.timedelta(hours=1), cache_validator=duration_only)
        def expensive():
            counter.hit("expensive")
            return "fresh"

        with Flow("cache") as flow:
            e = expensive()
        expired = Cached(
            result="cached", cached_result_expiration=pendulum.now("utc").add(hours=-1)
        )
        state = FlowRunner(flow).run(task_states={e: expired}, return_tasks=[e], executor=executor)
        assert counter["expensive"] == 1
        assert state.result[e].result == "fresh"


# parameters -----------------------------------------------------------------------------------


class TestParameters:
    def test_parameters_reach_parameter_tasks_and_the_context(self, executor):
        seen = {}

        @task
        def look(x):
            seen["parameters"] = dict(prefect.context.parameters)
            return x

        with Flow("params") as flow:
            x = Parameter("x")
            y = look(x)
        state = FlowRunner(flow).run(parameters={"x": 5}, return_tasks=[x, y], executor=executor)
        assert state.result[x].result == 5
        assert state.result[y].result == 5
        assert seen["parameters"] == {"x": 5}

    def test_a_missing_required_parameter_fails_its_task_and_the_flow(self, executor):
        with Flow("params") as flow:
            x = Parameter("x")
            y = identity(x)
        state = FlowRunner(flow).run(return_tasks=[x, y], executor=executor)
        assert state.is_failed()
        assert state.result[x].is_failed()
        assert isinstance(state.result[y], TriggerFailed)

    def test_a_parameter_default_is_used_when_not_given(self, executor):
        flow = Flow("params")
        x = flow.add_task(Parameter("x", default=3))
        state = FlowRunner(flow).run(return_tasks=[x], executor=executor)
        assert state.result[x].result == 3

    def test_flow_run_rejects_unknown_parameters_with_the_1x_message(self, executor):
        flow = Flow("params", tasks=[Parameter("x", default=1)])
        with pytest.raises(ValueError) as excinfo:
            flow.run(parameters={"y": 1, "z": 2}, executor=executor)
        assert str(excinfo.value) == ("Flow.run received the following unexpected parameters: y, z")

    def test_flow_run_rejects_missing_required_parameters_with_the_1x_message(self, executor):
        flow = Flow(
            "params", tasks=[Parameter("x"), Parameter("w"), Parameter("opt", default=None)]
        )
        with pytest.raises(ValueError) as excinfo:
            flow.run(executor=executor)
        assert str(excinfo.value) == (
            "Flow.run did not receive the following required parameters: w, x"
        )


# context and task_contexts -----------------------------------------------------------------------


class TestContext:
    def test_context_reaches_every_task(self, executor):
        seen = []

        @task
        def look():
            seen.append(prefect.context.get("special"))

        with Flow("ctx") as flow:
            look()
            look()
        FlowRunner(flow).run(context={"special": "value"}, executor=executor)
        assert seen == ["value", "value"]

    def test_task_contexts_reach_only_their_task(self, executor):
        seen = {}

        @task
        def look(name):
            seen[name] = prefect.context.get("special")

        with Flow("ctx") as flow:
            one = look("one")
            look("two")
        FlowRunner(flow).run(task_contexts={one: {"special": 1}}, executor=executor)
        assert seen == {"one": 1, "two": None}

    def test_run_context_does_not_leak_into_the_callers_context(self, executor):
        with Flow("ctx") as flow:
            identity(1)
        FlowRunner(flow).run(context={"special": "value"}, executor=executor)
        assert "special" not in prefect.context
        assert "flow_name" not in prefect.context

    def test_tasks_see_run_keys_and_their_own_name_and_slug(self, executor):
        seen = {}

        @task(name="looker")
        def look():
            keys = ["flow_name", "today", "task_name", "task_slug", "scheduled_start_time"]
            seen.update({k: prefect.context.get(k) for k in keys})

        with Flow("ctx-flow") as flow:
            t = look()
        before = pendulum.now("utc").strftime("%Y-%m-%d")
        FlowRunner(flow).run(executor=executor)
        after = pendulum.now("utc").strftime("%Y-%m-%d")
        assert seen["flow_name"] == "ctx-flow"
        assert seen["task_name"] == "looker"
        assert seen["task_slug"] == flow.slugs[t]
        assert seen["today"] in {before, after}  # the run may cross midnight
        assert seen["scheduled_start_time"] is not None


# the executor ---------------------------------------------------------------------------------


class TestExecutor:
    def test_one_submission_per_task_run(self, recording_executor, counter):
        flow, a, b = two_task_flow(counter)
        state = FlowRunner(flow).run(executor=recording_executor)
        assert state.is_successful()
        assert sorted(recording_executor.task_run_names()) == ["a", "b"]
        assert recording_executor.starts == 1

    def test_a_plain_flow_submits_nothing_but_task_runs(self, recording_executor, counter):
        flow, a, b = two_task_flow(counter)
        FlowRunner(flow).run(executor=recording_executor)
        assert recording_executor.submissions == recording_executor.task_runs()

    def test_task_contexts_reach_every_mapped_child(self, executor):
        seen = []

        @task
        def look(x):
            seen.append((prefect.context.get("map_index"), prefect.context.get("special")))

        with Flow("map") as flow:
            m = look.map([1, 2])
        FlowRunner(flow).run(task_contexts={m: {"special": "yes"}}, executor=executor)
        assert sorted(seen) == [(0, "yes"), (1, "yes")]

    def test_submissions_follow_the_topological_order(self, recording_executor, counter):
        flow, a, b = two_task_flow(counter)
        FlowRunner(flow).run(executor=recording_executor)
        assert recording_executor.task_run_names() == ["a", "b"]

    def test_mapped_tasks_submit_the_parent_then_each_child(self, recording_executor):
        with Flow("map") as flow:
            m = inc.map([1, 2, 3])
            total(m)
        state = FlowRunner(flow).run(executor=recording_executor)
        assert state.is_successful()
        assert recording_executor.task_run_names() == [
            "inc(parent)",
            "inc[0]",
            "inc[1]",
            "inc[2]",
            "total",
        ]

    def test_maps_of_maps_submit_a_parent_and_children_for_each_level(self, recording_executor):
        with Flow("map2") as flow:
            first = inc.map([1, 2])
            inc.map(first)
        FlowRunner(flow).run(executor=recording_executor)
        names = recording_executor.task_run_names()
        assert names.count("inc(parent)") == 2
        assert sorted(n for n in names if "[" in n) == ["inc[0]", "inc[0]", "inc[1]", "inc[1]"]
        assert len(names) == 6

    def test_constant_tasks_are_never_submitted(self, recording_executor):
        with Flow("constants") as flow:
            m = inc.map([1, 2])  # the mapped-over list is a Constant task
            c = Constant(10)
            s = identity(c)
        assert any(isinstance(t, Constant) for t in flow.tasks)
        state = FlowRunner(flow).run(return_tasks=[m, c, s], executor=recording_executor)
        submitted = {s.kwargs["task"] for s in recording_executor.task_runs()}
        assert not any(isinstance(t, Constant) for t in submitted)
        assert state.result[c].result == 10
        assert state.result[s].result == 10
        assert state.result[m].result == [2, 3]

    def test_constant_inputs_are_not_tasks_and_are_not_submitted(self, recording_executor):
        @task
        def add(x, y):
            return x + y

        with Flow("constants") as flow:
            r = add(1, 2)
        state = FlowRunner(flow).run(return_tasks=[r], executor=recording_executor)
        assert recording_executor.task_run_names() == ["add"]
        assert state.result[r].result == 3

    def test_a_mapped_task_over_an_empty_list_submits_only_its_parent(self, recording_executor):
        with Flow("empty") as flow:
            m = inc.map([])
            t = total(m)
        state = FlowRunner(flow).run(return_tasks=[m, t], executor=recording_executor)
        assert recording_executor.task_run_names() == ["inc(parent)", "total"]
        assert state.result[m].map_states == []
        assert state.result[t].result == 0

    def test_the_flows_executor_is_used_when_none_is_given(self, recording_executor, counter):
        flow, a, b = two_task_flow(counter)
        flow.executor = recording_executor
        FlowRunner(flow).run()
        assert sorted(recording_executor.task_run_names()) == ["a", "b"]

    def test_the_given_executor_wins_over_the_flows(self, recording_executor, counter):
        from prefect.executors import LocalExecutor

        flow, a, b = two_task_flow(counter)
        flow.executor = LocalExecutor()
        FlowRunner(flow).run(executor=recording_executor)
        assert len(recording_executor.task_runs()) == 2

    def test_the_executor_is_waited_on(self, recording_executor, counter):
        flow, a, b = two_task_flow(counter)
        FlowRunner(flow).run(executor=recording_executor)
        assert recording_executor.waits

    def test_submissions_run_tasks_with_the_runner_task_runner_class(self, recording_executor):
        class MyTaskRunner(TaskRunner):
            pass

        with Flow("cls") as flow:
            identity(1)
        FlowRunner(flow, task_runner_cls=MyTaskRunner).run(executor=recording_executor)
        (submission,) = recording_executor.task_runs()
        assert submission.kwargs["task_runner_cls"] is MyTaskRunner


# state handlers -------------------------------------------------------------------------------


class TestStateHandlers:
    def test_flow_state_handlers_see_pending_running_and_the_final_state(self, executor, counter):
        log = []

        def handler(flow, old, new):
            log.append((old, new))

        flow, a, b = two_task_flow(counter)
        flow.state_handlers = [handler]
        FlowRunner(flow).run(executor=executor)
        assert transitions(log) == [("Pending", "Running"), ("Running", "Success")]

    def test_flow_state_handlers_get_the_flow(self, executor, counter):
        seen = []
        flow, a, b = two_task_flow(counter)
        flow.state_handlers = [lambda f, old, new: seen.append(f)]
        FlowRunner(flow).run(executor=executor)
        assert seen and all(f is flow for f in seen)

    def test_a_flow_state_handler_may_replace_the_state(self, executor, counter):
        def to_failed(flow, old, new):
            if new.is_successful():
                return Failed("overruled")
            return None

        flow, a, b = two_task_flow(counter)
        flow.state_handlers = [to_failed]
        state = FlowRunner(flow).run(executor=executor)
        assert isinstance(state, Failed)
        assert state.message == "overruled"

    def test_runner_state_handlers_get_the_runner_after_the_flows_handlers(self, executor, counter):
        order = []
        flow, a, b = two_task_flow(counter)
        flow.state_handlers = [lambda f, old, new: order.append(("flow", type(new).__name__))]
        runner_seen = []

        def runner_handler(runner, old, new):
            runner_seen.append(runner)
            order.append(("runner", type(new).__name__))

        runner = FlowRunner(flow, state_handlers=[runner_handler])
        runner.run(executor=executor)
        assert order == [
            ("flow", "Running"),
            ("runner", "Running"),
            ("flow", "Success"),
            ("runner", "Success"),
        ]
        assert all(r is runner for r in runner_seen)

    def test_a_runner_state_handler_may_replace_the_state(self, executor, counter):
        flow, a, b = two_task_flow(counter)

        def handler(runner, old, new):
            return Skipped("skipped by handler") if new.is_successful() else new

        state = FlowRunner(flow, state_handlers=[handler]).run(executor=executor)
        assert isinstance(state, Skipped)

    def test_runner_state_handlers_must_be_iterable(self, counter):
        flow, a, b = two_task_flow(counter)
        with pytest.raises(TypeError):
            FlowRunner(flow, state_handlers=lambda *a: None)  # type: ignore[arg-type]

    def test_a_failing_flow_state_handler_fails_the_flow(self, executor, counter):
        def broken(flow, old, new):
            raise RuntimeError("handler bug")

        flow, a, b = two_task_flow(counter)
        flow.state_handlers = [broken]
        state = FlowRunner(flow).run(executor=executor)
        assert state.is_failed()
        assert "Exception raised while calling state handlers" in state.message
        assert isinstance(state.result, RuntimeError)
        assert counter["a"] == 0

    def test_task_runner_state_handlers_see_every_task_transition(self, executor, counter):
        log = []

        def handler(task_runner, old, new):
            log.append((task_runner.task.name, type(old).__name__, type(new).__name__))
            assert isinstance(task_runner, TaskRunner)

        flow, a, b = two_task_flow(counter)
        FlowRunner(flow).run(task_runner_state_handlers=[handler], executor=executor)
        assert log == [
            ("a", "Pending", "Running"),
            ("a", "Running", "Success"),
            ("b", "Pending", "Running"),
            ("b", "Running", "Success"),
        ]

    def test_a_task_runner_state_handler_may_replace_a_task_state(self, executor, counter):
        def handler(task_runner, old, new):
            if task_runner.task.name == "a" and new.is_successful():
                return Failed("rejected")
            return new

        flow, a, b = two_task_flow(counter)
        state = FlowRunner(flow).run(
            task_runner_state_handlers=[handler], return_tasks=[a, b], executor=executor
        )
        assert state.result[a].message == "rejected"
        assert isinstance(state.result[b], TriggerFailed)
        assert state.is_failed()

    def test_task_state_handlers_run_for_each_mapped_child(self, executor):
        log = []

        def handler(t, old, new):
            log.append((prefect.context.get("map_index"), type(new).__name__))

        @task(state_handlers=[handler])
        def double(x):
            return 2 * x

        with Flow("map") as flow:
            double.map([1, 2])
        FlowRunner(flow).run(executor=executor)
        assert (None, "Mapped") in log
        assert (0, "Success") in log and (1, "Success") in log


# initialize_run -------------------------------------------------------------------------------


class TestInitializeRun:
    def init(self, flow, **kwargs):
        args = dict(state=None, task_states={}, context={}, task_contexts={}, parameters={})
        args.update(kwargs)
        return FlowRunner(flow).initialize_run(**args)

    def test_returns_a_named_tuple_with_pending_state_by_default(self, counter):
        flow, a, b = two_task_flow(counter)
        result = self.init(flow)
        assert isinstance(result, FlowRunnerInitializeResult)
        assert isinstance(result.state, Pending)
        assert result.task_states == {}

    def test_a_given_state_is_kept(self, counter):
        flow, a, b = two_task_flow(counter)
        running = Running()
        assert self.init(flow, state=running).state is running

    def test_context_gets_the_flow_name_and_scheduled_start_time(self, counter):
        flow, a, b = two_task_flow(counter)
        before = pendulum.now("utc")
        context = self.init(flow).context
        assert context["flow_name"] == "two"
        assert before <= context["scheduled_start_time"] <= pendulum.now("utc")

    def test_a_given_scheduled_start_time_is_kept(self, counter):
        flow, a, b = two_task_flow(counter)
        when = pendulum.datetime(2020, 1, 2, tz="utc")
        context = self.init(flow, context={"scheduled_start_time": when}).context
        assert context["scheduled_start_time"] == when

    def test_context_gets_the_date_keys(self, counter):
        flow, a, b = two_task_flow(counter)
        context = self.init(flow).context
        date = context["date"]
        assert isinstance(date, datetime.datetime)
        assert context["today"] == date.strftime("%Y-%m-%d")
        assert context["yesterday"] == date.add(days=-1).strftime("%Y-%m-%d")
        assert context["tomorrow"] == date.add(days=1).strftime("%Y-%m-%d")
        assert context["today_nodash"] == date.strftime("%Y%m%d")
        assert context["yesterday_nodash"] == date.add(days=-1).strftime("%Y%m%d")
        assert context["tomorrow_nodash"] == date.add(days=1).strftime("%Y%m%d")

    def test_given_date_keys_are_not_overwritten(self, counter):
        flow, a, b = two_task_flow(counter)
        context = self.init(flow, context={"today": "someday", "yesterday_nodash": "x"}).context
        assert context["today"] == "someday"
        assert context["yesterday_nodash"] == "x"
        assert context["tomorrow"] != "someday"

    def test_the_flow_name_overrides_a_given_one(self, counter):
        flow, a, b = two_task_flow(counter)
        assert self.init(flow, context={"flow_name": "other"}).context["flow_name"] == "two"

    def test_parameters_update_the_context_parameters_one_by_one(self, counter):
        flow, a, b = two_task_flow(counter)
        context = self.init(
            flow, context={"parameters": {"x": 1, "y": 2}}, parameters={"y": 3, "z": 4}
        ).context
        assert context["parameters"] == {"x": 1, "y": 3, "z": 4}

    def test_every_task_context_gets_the_task_name_and_slug(self, counter):
        flow, a, b = two_task_flow(counter)
        task_contexts = self.init(flow, task_contexts={a: {"extra": True}}).task_contexts
        assert task_contexts[a] == {"extra": True, "task_name": "a", "task_slug": flow.slugs[a]}
        assert task_contexts[b] == {"task_name": "b", "task_slug": flow.slugs[b]}


# check_flow_is_pending_or_running / check_flow_reached_start_time / set_flow_to_running ---


class TestFlowRunSteps:
    @pytest.mark.parametrize("state", [Pending(), Scheduled(), Running(), Retrying()])
    def test_pending_and_running_flows_may_go_on(self, state, counter):
        flow, a, b = two_task_flow(counter)
        assert FlowRunner(flow).check_flow_is_pending_or_running(state) is state

    @pytest.mark.parametrize(
        "state", [Success(), Failed(), Skipped(), Cancelled(), Looped(), Mapped()]
    )
    def test_finished_flows_end_the_run_in_their_state(self, state, counter):
        flow, a, b = two_task_flow(counter)
        with pytest.raises(ENDRUN) as excinfo:
            FlowRunner(flow).check_flow_is_pending_or_running(state)
        assert excinfo.value.state is state

    @pytest.mark.parametrize("state", [State(), Submitted()])
    def test_flows_neither_pending_nor_running_end_the_run(self, state, counter):
        flow, a, b = two_task_flow(counter)
        with pytest.raises(ENDRUN) as excinfo:
            FlowRunner(flow).check_flow_is_pending_or_running(state)
        assert excinfo.value.state is state

    def test_running_a_finished_flow_returns_its_state_without_running_tasks(
        self, executor, counter
    ):
        flow, a, b = two_task_flow(counter)
        done = Success("done before")
        assert FlowRunner(flow).run(state=done, executor=executor) is done
        assert counter.calls == {}

    def test_a_flow_scheduled_for_later_ends_the_run(self, counter):
        flow, a, b = two_task_flow(counter)
        later = Scheduled(start_time=pendulum.now("utc").add(hours=1))
        with pytest.raises(ENDRUN) as excinfo:
            FlowRunner(flow).check_flow_reached_start_time(later)
        assert excinfo.value.state is later

    @pytest.mark.parametrize(
        "state",
        [Pending(), Scheduled(start_time=pendulum.now("utc").add(seconds=-1)), Running()],
    )
    def test_flows_whose_start_time_has_come_go_on(self, state, counter):
        flow, a, b = two_task_flow(counter)
        assert FlowRunner(flow).check_flow_reached_start_time(state) is state

    def test_running_a_flow_scheduled_for_later_returns_the_scheduled_state(
        self, executor, counter
    ):
        flow, a, b = two_task_flow(counter)
        later = Scheduled(start_time=pendulum.now("utc").add(hours=1))
        assert FlowRunner(flow).run(state=later, executor=executor) is later
        assert counter.calls == {}

    def test_running_a_flow_scheduled_in_the_past_runs_it(self, executor, counter):
        flow, a, b = two_task_flow(counter)
        past = Scheduled(start_time=pendulum.now("utc").add(seconds=-5))
        state = FlowRunner(flow).run(state=past, executor=executor)
        assert state.is_successful()
        assert counter["b"] == 1

    def test_set_flow_to_running_moves_pending_to_running(self, counter):
        flow, a, b = two_task_flow(counter)
        state = FlowRunner(flow).set_flow_to_running(Pending())
        assert isinstance(state, Running)
        assert state.message == "Running flow."

    def test_set_flow_to_running_keeps_a_running_state(self, counter):
        flow, a, b = two_task_flow(counter)
        running = Running("already")
        assert FlowRunner(flow).set_flow_to_running(running) is running

    @pytest.mark.parametrize("state", [Success(), Failed(), State()])
    def test_set_flow_to_running_ends_the_run_of_other_states(self, state, counter):
        flow, a, b = two_task_flow(counter)
        with pytest.raises(ENDRUN) as excinfo:
            FlowRunner(flow).set_flow_to_running(state)
        assert excinfo.value.state is state

    def test_steps_pass_state_changes_through_the_handlers(self, counter):
        log = []
        flow, a, b = two_task_flow(counter)
        flow.state_handlers = [lambda f, old, new: log.append((old, new))]
        FlowRunner(flow).set_flow_to_running(Pending())
        assert transitions(log) == [("Pending", "Running")]

    def test_get_flow_run_state_ends_the_run_unless_running(self, executor, counter):
        flow, a, b = two_task_flow(counter)
        pending = Pending()
        with pytest.raises(ENDRUN) as excinfo:
            FlowRunner(flow).get_flow_run_state(
                pending,
                task_states={},
                task_contexts={},
                return_tasks=set(),
                task_runner_state_handlers=[],
                executor=executor,
            )
        assert excinfo.value.state is pending
        assert counter.calls == {}


# determine_final_state and reference tasks ----------------------------------------------------


class TestDetermineFinalState:
    def final(self, flow, key_states, terminal_states, return_states=None):
        return FlowRunner(flow).determine_final_state(
            state=Running(),
            key_states=set(key_states),
            return_states=return_states or {},
            terminal_states=set(terminal_states),
        )

    def test_unfinished_terminal_tasks_keep_the_flow_running(self, counter):
        flow, a, b = two_task_flow(counter)
        returned = {a: Success(), b: Pending()}
        state = self.final(flow, [Failed()], [Pending()], returned)
        assert isinstance(state, Running)
        assert state.result == returned

    def test_a_failed_reference_task_fails_the_flow(self, counter):
        flow, a, b = two_task_flow(counter)
        state = self.final(flow, [Success(), Failed()], [Success()], {a: Success()})
        assert isinstance(state, Failed)
        assert state.message == "Some reference tasks failed."
        assert state.result == {a: Success()}

    def test_successful_reference_tasks_make_the_flow_successful(self, counter):
        flow, a, b = two_task_flow(counter)
        state = self.final(flow, [Success(), Skipped(), Cached(), Mapped()], [Success()])
        assert type(state) is Success
        assert state.message == "All reference tasks succeeded."

    def test_finished_reference_tasks_neither_failed_nor_successful_give_success(self, counter):
        flow, a, b = two_task_flow(counter)
        state = self.final(flow, [Success(), Cancelled()], [Cancelled()])
        assert type(state) is Success
        assert state.message == "No reference tasks failed."

    def test_a_paused_terminal_task_keeps_the_flow_running(self, executor, counter):
        flow, a, b = two_task_flow(counter)

        @task(trigger=manual_only)
        def gate(x):
            return x

        gate(b, flow=flow)
        state = FlowRunner(flow).run(executor=executor)
        assert isinstance(state, Running)

    def test_a_retrying_task_keeps_the_flow_running_in_a_single_runner_pass(self, executor):
        calls = []

        @task(max_retries=1, retry_delay=datetime.timedelta(minutes=5))
        def flaky():
            calls.append(1)
            raise ValueError("first try fails")

        with Flow("retry") as flow:
            f = flaky()
            after = identity(f)
        state = FlowRunner(flow).run(return_tasks=[f, after], executor=executor)
        assert isinstance(state, Running)
        assert isinstance(state.result[f], Retrying)
        assert state.result[after].is_pending()
        assert len(calls) == 1

    def test_the_final_state_of_a_flow_run_with_a_failure_is_failed(self, executor):
        with Flow("fails") as flow:
            bad = fail()
            identity(bad)
        state = FlowRunner(flow).run(executor=executor)
        assert isinstance(state, Failed)
        assert state.message == "Some reference tasks failed."

    def test_reference_tasks_decide_the_outcome_over_terminal_tasks(self, executor):
        with Flow("ref") as flow:
            good = identity(1)
            fail()
        flow.set_reference_tasks([good])
        state = FlowRunner(flow).run(executor=executor)
        assert state.is_successful()
        assert state.message == "All reference tasks succeeded."

    def test_a_failed_reference_task_fails_the_flow_even_if_terminal_tasks_succeed(self, executor):
        @task(trigger=all_failed)
        def recover(x):
            return "recovered"

        with Flow("ref") as flow:
            bad = fail()
            r = recover(bad)
        state = FlowRunner(flow).run(return_tasks=[r], executor=executor)
        assert state.is_successful()  # terminal task `recover` succeeded
        flow.set_reference_tasks([bad])
        state = FlowRunner(flow).run(return_tasks=[r], executor=executor)
        assert state.is_failed()
        assert state.result[r].result == "recovered"

    def test_terminal_state_handler_may_replace_the_final_state(self, executor, counter):
        seen = {}

        def terminal(flow, state, reference_task_states):
            seen.update(flow=flow, state=state, refs=reference_task_states)
            return Failed("replaced")

        flow, a, b = two_task_flow(counter)
        flow.terminal_state_handler = terminal
        state = FlowRunner(flow).run(executor=executor)
        assert isinstance(state, Failed) and state.message == "replaced"
        assert seen["flow"] is flow
        assert isinstance(seen["state"], Success)
        assert [s.result for s in seen["refs"]] == [2]

    def test_a_terminal_state_handler_returning_none_keeps_the_state(self, executor, counter):
        flow, a, b = two_task_flow(counter)
        flow.terminal_state_handler = lambda flow, state, refs: None
        state = FlowRunner(flow).run(executor=executor)
        assert type(state) is Success
        assert state.message == "All reference tasks succeeded."

    def test_the_replaced_final_state_goes_through_flow_state_handlers(self, executor, counter):
        log = []
        flow, a, b = two_task_flow(counter)
        flow.terminal_state_handler = lambda flow, state, refs: Failed("replaced")
        flow.state_handlers = [lambda f, old, new: log.append((old, new))]
        FlowRunner(flow).run(executor=executor)
        assert transitions(log)[-1] == ("Running", "Failed")


# unexpected errors ----------------------------------------------------------------------------


class BrokenFlowRunner(FlowRunner):
    def initialize_run(self, *args, **kwargs):
        raise ValueError("runner bug")


class TestUnexpectedErrors:
    def test_an_unexpected_error_in_the_runner_fails_the_flow(self, executor, counter):
        flow, a, b = two_task_flow(counter)
        state = BrokenFlowRunner(flow).run(executor=executor)
        assert isinstance(state, Failed)
        assert state.message == "Unexpected error while running flow: ValueError('runner bug')"
        assert isinstance(state.result, ValueError)
        assert counter.calls == {}

    def test_the_failure_goes_through_the_state_handlers(self, executor, counter):
        log = []
        flow, a, b = two_task_flow(counter)
        flow.state_handlers = [lambda f, old, new: log.append((old, new))]
        BrokenFlowRunner(flow).run(executor=executor)
        assert transitions(log) == [("Pending", "Failed")]

    def test_raise_on_exception_re_raises_the_error(self, executor, counter):
        flow, a, b = two_task_flow(counter)
        with prefect.context(raise_on_exception=True):
            with pytest.raises(ValueError, match="runner bug"):
                BrokenFlowRunner(flow).run(executor=executor)

    def test_a_task_error_does_not_stop_the_flow_run(self, executor):
        with Flow("errors") as flow:
            bad = fail()
            good = identity(1)
            after = identity(bad)
        state = FlowRunner(flow).run(return_tasks=[bad, good, after], executor=executor)
        assert isinstance(state, Failed)
        assert type(state.result[bad]) is Failed
        assert state.result[bad].message == "Error during execution of task: ValueError('boom')"
        assert isinstance(state.result[bad].result, ValueError)
        assert state.result[good].result == 1
        assert state.result[after].message == (
            'Trigger was "all_successful" but some of the upstream tasks failed.'
        )

    def test_raise_on_exception_re_raises_task_errors(self, executor):
        with Flow("errors") as flow:
            fail()
        with prefect.context(raise_on_exception=True):
            with pytest.raises(ValueError, match="boom"):
                FlowRunner(flow).run(executor=executor)

    def test_a_task_raising_endrun_ends_in_the_given_state(self, executor):
        @task
        def ender():
            raise ENDRUN(Skipped("ended early"))

        with Flow("endrun") as flow:
            e = ender()
        state = FlowRunner(flow).run(return_tasks=[e], executor=executor)
        assert isinstance(state.result[e], Skipped)
        assert state.result[e].message == "ended early"

    def test_signals_raised_by_tasks_become_their_states(self, executor):
        @task
        def skip():
            raise signals.SKIP("not today")

        with Flow("signals") as flow:
            s = skip()
        state = FlowRunner(flow).run(return_tasks=[s], executor=executor)
        assert isinstance(state.result[s], Skipped)
        assert state.result[s].message == "not today"
        assert state.is_successful()


def test_mapped_children_and_unmapped_inputs_through_the_runner(executor):
    @task
    def add(x, y):
        return x + y

    with Flow("map") as flow:
        m = add.map([1, 2, 3], unmapped(10))
        t = total(m)
    state = FlowRunner(flow).run(return_tasks=[m, t], executor=executor)
    assert state.result[m].result == [11, 12, 13]
    assert state.result[t].result == 36


class TestLogs:
    def messages(self, caplog):
        return [r.getMessage() for r in caplog.records if r.name == "prefect.FlowRunner"]

    def test_a_successful_run_logs_the_1x_lines(self, executor, counter, caplog):
        flow, a, b = two_task_flow(counter)
        with caplog.at_level(logging.INFO, logger="prefect"):
            FlowRunner(flow).run(executor=executor)
        messages = self.messages(caplog)
        assert messages[0] == "Beginning Flow run for 'two'"
        assert messages[-1] == "Flow run SUCCESS: all reference tasks succeeded"

    def test_a_failed_run_logs_the_1x_line(self, executor, caplog):
        with Flow("fails") as flow:
            fail()
        with caplog.at_level(logging.INFO, logger="prefect"):
            FlowRunner(flow).run(executor=executor)
        assert self.messages(caplog)[-1] == "Flow run FAILED: some reference tasks failed."

    def test_an_unfinished_run_logs_the_1x_line(self, executor, caplog):
        @task(trigger=manual_only)
        def gate():
            return 1

        flow = Flow("paused", tasks=[gate])
        with caplog.at_level(logging.INFO, logger="prefect"):
            FlowRunner(flow).run(executor=executor)
        assert self.messages(caplog)[-1] == "Flow run RUNNING: terminal tasks are incomplete."
