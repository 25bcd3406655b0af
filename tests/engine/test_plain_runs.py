"""`TaskRunner`'s fast path for plain fresh runs (`_runs_plainly` / `_run_plainly`) behaves
exactly as the full pipeline.

Each equivalence test runs one scenario twice, once as it is (plain runs take the fast path) and
once with the fast paths turned off (`_runs_plainly` forced to `False`, and with it the mapped
children's shared plain runs of `prefect.engine._plain_map`, which `_task_runs_plainly`
gates), and compares what a user can see: the final states (type, message, result, cached
inputs, context, run count, start time), the log records of the `prefect` loggers, what the
tasks saw in `prefect.context`, the files written, and `prefect.context` after the run. Spies
on the fast paths check which runs took them, so a scenario that never takes one cannot pass
for the wrong reason.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import prefect
from prefect import Flow, Parameter, task, triggers
from prefect.core import Edge, Task
from prefect.engine import signals
from prefect.engine.flow_runner import FlowRunner
from prefect.engine.result import Result
from prefect.engine.results import LocalResult
from prefect.engine.runner import Runner
from prefect.engine.state import Failed, Mapped, Pending, Skipped, State, Success
from prefect.engine.task_runner import TaskRunner
from prefect.tasks.core.constants import Constant

try:  # the mapped children's shared plain runs (LocalExecutor)
    from prefect.engine._plain_map import PlainChildren
except ImportError:  # pragma: no cover - not every version has it
    PlainChildren = None  # type: ignore[assignment,misc]

# Context values that differ between two runs of the same flow (times of day).
VOLATILE_KEYS = frozenset(
    (
        "date",
        "scheduled_start_time",
        "today",
        "today_nodash",
        "tomorrow",
        "tomorrow_nodash",
        "yesterday",
        "yesterday_nodash",
    )
)


def describe(value: Any, root: str) -> Any:
    """A comparable picture of `value`: states field by field, exceptions by type and text,
    paths under the run's directory as `<dir>`, objects without equality by type."""
    if isinstance(value, State):
        return describe_state(value, root)
    if isinstance(value, BaseException):
        return ("exception", type(value).__name__, str(value))
    if isinstance(value, Result):
        return (type(value).__name__, describe(value.value, root), describe(value.location, root))
    if isinstance(value, Task):
        return ("task", value.name, value.slug)
    if isinstance(value, logging.Logger):
        return ("logger", value.name, value is logging.getLogger(value.name))
    if isinstance(value, str):
        return value.replace(root, "<dir>")
    if isinstance(value, dict):
        return {repr(describe(k, root)): describe(v, root) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [describe(v, root) for v in value])
    if isinstance(value, (set, frozenset)):
        return ("set", sorted(repr(describe(v, root)) for v in value))
    if value is None or isinstance(value, (bool, int, float, timedelta)):
        return value
    if isinstance(value, datetime):
        return "datetime"
    return ("object", type(value).__qualname__)


def describe_state(state: State, root: str) -> dict[str, Any]:
    picture = {
        "type": type(state).__name__,
        "message": describe(state.message, root),
        "result": describe(state.result, root),
        "result_type": type(state._result).__name__,  # type: ignore[attr-defined]
        "location": describe(getattr(state._result, "location", None), root),  # type: ignore[attr-defined]
        "cached_inputs": describe(state.cached_inputs, root),
        "context": describe(state.context, root),
        "has_start_time": getattr(state, "start_time", None) is not None,
        "run_count": getattr(state, "run_count", None),
        "loop_count": getattr(state, "loop_count", None),
    }
    if isinstance(state, Mapped):
        picture["map_states"] = describe(list(state.map_states), root)
    return picture


@dataclass
class Run:
    """One run of a scenario: its own directory, and what its tasks saw."""

    dir: Path
    seen: list[dict[str, Any]] = field(default_factory=list)

    def snapshot(self) -> None:
        """Record `prefect.context` as the running task sees it."""
        context = dict(prefect.context)
        picture: dict[str, Any] = {"keys": sorted(context)}
        for key, value in context.items():
            if key == "config":
                picture[key] = value is prefect.config
            elif key not in VOLATILE_KEYS:
                picture[key] = describe(value, str(self.dir))
        self.seen.append(picture)


class ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[tuple[Any, ...]] = []

    def emit(self, record: logging.LogRecord) -> None:
        error = record.exc_info[1] if record.exc_info else None
        self.lines.append(
            (
                record.name,
                record.levelname,
                record.getMessage(),
                record.funcName,
                None if error is None else (type(error).__name__, str(error)),
            )
        )


@dataclass
class Observation:
    outcome: Any
    logs: list[tuple[Any, ...]]
    seen: list[dict[str, Any]]
    files: list[str]
    context_changes: list[str]
    plain_runs: list[str]

    @property
    def state(self) -> dict[str, Any]:
        kind, picture = self.outcome
        assert kind == "returned", self.outcome
        return picture  # type: ignore[no-any-return]

    def task_state(self, name: str) -> dict[str, Any]:
        """The picture of one task's state in a flow run's final state."""
        results = self.state["result"]
        (key,) = [k for k in results if f"'{name}'" in k]
        return results[key]  # type: ignore[no-any-return]


Scenario = Callable[[Run], Any]


def _never(self: Any, *args: Any, **kwargs: Any) -> bool:
    return False


def disable_fast_paths(patch: pytest.MonkeyPatch) -> None:
    """Send every task run, mapped children included, through the full pipeline."""
    patch.setattr(TaskRunner, "_runs_plainly", _never)
    if hasattr(TaskRunner, "_task_runs_plainly"):
        patch.setattr(TaskRunner, "_task_runs_plainly", _never)


def spy_on_fast_paths(patch: pytest.MonkeyPatch, runs: list[str]) -> None:
    """Append to `runs` the full name of each task run that takes a fast path."""
    run_plainly = TaskRunner._run_plainly

    def spy(self: TaskRunner, upstream_states: Any, context: Any) -> State:
        index = context.get("map_index") if context else None
        runs.append(self.task.name if index is None else f"{self.task.name}[{index}]")
        return run_plainly(self, upstream_states, context)

    patch.setattr(TaskRunner, "_run_plainly", spy)
    if PlainChildren is not None:
        from prefect.engine import _plain_map

        run_plain = _plain_map.run_plain

        def child_spy(
            runner: Any, upstream: Any, trigger_input: Any, name: str, *rest: Any
        ) -> State:
            runs.append(name)
            return run_plain(runner, upstream, trigger_input, name, *rest)

        patch.setattr(_plain_map, "run_plain", child_spy)


def observe(scenario: Scenario, tmp_path: Path, *, plain: bool) -> Observation:
    run = Run(tmp_path / ("plain" if plain else "full"))
    run.dir.mkdir()
    root = str(run.dir)
    plain_runs: list[str] = []
    handler = ListHandler()
    prefect_logger = logging.getLogger("prefect")
    before = dict(prefect.context)
    with pytest.MonkeyPatch.context() as patch:
        spy_on_fast_paths(patch, plain_runs)
        if not plain:
            disable_fast_paths(patch)
        prefect_logger.addHandler(handler)
        try:
            outcome = ("returned", describe(scenario(run), root))
        except Exception as exc:
            outcome = ("raised", describe(exc, root))
        finally:
            prefect_logger.removeHandler(handler)
    after = dict(prefect.context)
    changes = sorted(
        key for key in before.keys() | after.keys() if before.get(key, run) != after.get(key, run)
    )
    files = sorted(str(p.relative_to(run.dir)) for p in run.dir.rglob("*") if p.is_file())
    logs = [tuple(describe(part, root) for part in line) for line in handler.lines]
    return Observation(outcome, logs, run.seen, files, changes, plain_runs)


def check_equivalent(
    scenario: Scenario, tmp_path: Path, plain_runs: list[str] | None
) -> Observation:
    """Run `scenario` on the fast path and on the full path; assert both look the same and
    that the fast path ran exactly `plain_runs` (unchecked when `None`). Returns the fast
    run's observation for scenario-specific checks."""
    # Both runs start from the same `prefect.context` (`flow.run` leaves `caches` in it).
    baseline = dict(prefect.context)
    fast = observe(scenario, tmp_path, plain=True)
    prefect.context.clear()
    prefect.context.update(baseline)
    full = observe(scenario, tmp_path, plain=False)
    assert full.plain_runs == []
    if plain_runs is not None:
        assert fast.plain_runs == plain_runs
    assert fast.outcome == full.outcome
    assert fast.logs == full.logs
    assert fast.seen == full.seen
    assert fast.files == full.files
    assert fast.context_changes == full.context_changes
    return fast


def edge(upstream: Task, downstream: Task, key: str | None, mapped: bool = False) -> Edge:
    return Edge(upstream, downstream, key=key, mapped=mapped)


def recording_task(run: Run, body: Callable[..., Any] | None = None, **kwargs: Any) -> Task:
    """A task `x` (or named otherwise) that snapshots its context, then returns `body(...)`
    (by default, its input `x`)."""

    def x(x: Any = None) -> Any:
        run.snapshot()
        return x if body is None else body(x)

    return task(**kwargs)(x)


def fail(message: str) -> Callable[[Any], Any]:
    def body(x: Any) -> Any:
        raise ValueError(message)

    return body


def raising(error: BaseException) -> Callable[[Any], Any]:
    def body(x: Any) -> Any:
        raise error

    return body


class BadRepr(Exception):
    """An exception whose `repr` itself fails."""

    def __repr__(self) -> str:
        raise RuntimeError("no repr")


class BadFlows(dict):
    """A `config.flows` that cannot be asked whether it sets `checkpointing`."""

    def __contains__(self, key: object) -> bool:
        raise RuntimeError("config unreadable")


def looping(x: Any) -> Any:
    count = prefect.context.get("task_loop_count", 1)
    result = prefect.context.get("task_loop_result", 0)
    if count < 3:
        raise signals.LOOP(result=result + 10)
    return result


def run_direct(
    run: Run,
    upstream: Mapping[str, State] | None = None,
    context: dict[str, Any] | None = None,
    mapped: bool = False,
    **task_kwargs: Any,
) -> Callable[..., State]:
    """A scenario step: `TaskRunner(recording_task).run(...)` with upstream `Success`es."""

    def go(body: Callable[[Any], Any] | None = None) -> State:
        t = recording_task(run, body, **task_kwargs)
        upstream_states = {
            edge(Task(name=f"up-{key}"), t, key, mapped=mapped): state
            for key, state in (upstream or {}).items()
        }
        return TaskRunner(t).run(upstream_states=upstream_states, context=context)

    return go


# ------------------------------------------------------------------ TaskRunner.run directly

X5 = {"x": Success(result=5)}
FLOW_CONTEXT = {"flow_name": "f", "parameters": {"p": 1}, "custom": "value", "task_slug": "x-1"}


def direct_signal(make_signal: Callable[[], BaseException]) -> Scenario:
    """A scenario whose task raises a new signal from `make_signal` (signals carry states,
    which a run changes: each run gets its own)."""
    return lambda run: run_direct(run, X5)(raising(make_signal()))


def outer_context_scenario(run: Run) -> State:
    with prefect.context(custom="outer"):
        return run_direct(run)()


DIRECT: dict[str, tuple[Scenario, list[str], Callable[[Observation], Any]]] = {
    "success": (
        lambda run: run_direct(run, X5, FLOW_CONTEXT, tags=["red", "blue"])(lambda x: x * 2),
        ["x"],
        lambda o: (o.state["type"], o.state["result"]) == ("Success", 10),
    ),
    "no_context_reads_prefect_context": (
        outer_context_scenario,
        ["x"],
        lambda o: o.seen[0]["custom"] == "outer",
    ),
    "failure": (
        lambda run: run_direct(run, X5)(fail("boom")),
        ["x"],
        lambda o: (
            o.state["message"] == "Error during execution of task: ValueError('boom')"
            and o.state["result"] == ("exception", "ValueError", "boom")
        ),
    ),
    "failure_with_unprintable_exception": (
        lambda run: run_direct(run)(raising(BadRepr("odd"))),
        ["x"],
        lambda o: o.state["type"] == "Failed",
    ),
    "retrying": (
        lambda run: run_direct(run, X5, max_retries=1, retry_delay=timedelta(minutes=1))(
            fail("again")
        ),
        ["x"],
        lambda o: (
            (o.state["type"], o.state["run_count"], o.state["has_start_time"])
            == ("Retrying", 1, True)
            and "'x'" in str(o.state["cached_inputs"])
        ),
    ),
    "retry_on_other_exceptions_only": (
        lambda run: run_direct(
            run, X5, max_retries=1, retry_delay=timedelta(0), retry_on=[KeyError]
        )(fail("not retried")),
        ["x"],
        lambda o: o.state["type"] == "Failed",
    ),
    "signal_success": (
        direct_signal(lambda: signals.SUCCESS("fine", result=7)),
        ["x"],
        lambda o: (o.state["type"], o.state["result"]) == ("Success", 7),
    ),
    "signal_fail": (
        direct_signal(lambda: signals.FAIL("nope")),
        ["x"],
        lambda o: o.state["type"] == "Failed",
    ),
    "signal_skip": (
        direct_signal(lambda: signals.SKIP("skip me")),
        ["x"],
        lambda o: o.state["type"] == "Skipped",
    ),
    "signal_retry": (
        direct_signal(lambda: signals.RETRY("later")),
        ["x"],
        lambda o: o.state["type"] == "Retrying",
    ),
    "signal_pause": (
        direct_signal(lambda: signals.PAUSE("wait")),
        ["x"],
        lambda o: o.state["type"] == "Paused",
    ),
    "signal_endrun": (
        direct_signal(lambda: signals.ENDRUN(Success("ended"))),
        ["x"],
        lambda o: o.state["message"] == "ended",
    ),
    "signal_loop": (
        lambda run: run_direct(run, context=FLOW_CONTEXT)(looping),
        ["x"],
        lambda o: (
            (o.state["result"], [s.get("task_loop_count") for s in o.seen]) == (20, [None, 2, 3])
        ),
    ),
    "loop_then_retry": (
        lambda run: run_direct(run, max_retries=1, retry_delay=timedelta(minutes=1))(
            lambda x: looping(x) if prefect.context.get("task_loop_count", 1) < 2 else 1 / 0
        ),
        ["x"],
        lambda o: o.state["type"] == "Retrying" and "_loop_count" in str(o.state["context"]),
    ),
    "trigger_all_successful_with_failed_upstream": (
        lambda run: run_direct(run, {"x": Failed("up failed")})(),
        ["x"],
        lambda o: o.state["type"] == "TriggerFailed" and o.seen == [],
    ),
    "trigger_returning_false": (
        lambda run: run_direct(run, X5, trigger=lambda states: False)(),
        ["x"],
        lambda o: o.state["type"] == "TriggerFailed",
    ),
    "trigger_raising": (
        lambda run: run_direct(run, X5, trigger=raising(KeyError("trig")))(),
        ["x"],
        lambda o: o.state["message"].startswith("Unexpected error while checking task trigger"),
    ),
    "trigger_raising_skip": (
        lambda run: run_direct(run, X5, trigger=raising(signals.SKIP("by trigger")))(),
        ["x"],
        lambda o: o.state["type"] == "Skipped",
    ),
    "trigger_manual_only": (
        lambda run: run_direct(run, X5, trigger=triggers.manual_only)(),
        ["x"],
        lambda o: o.state["type"] == "Paused",
    ),
    "trigger_all_finished_with_failed_upstream": (
        lambda run: run_direct(run, {"x": Failed("f", result=3)}, trigger=triggers.all_finished)(),
        ["x"],
        lambda o: (o.state["type"], o.state["result"]) == ("Success", 3),
    ),
    "upstream_skipped_and_skip_on_upstream_skip": (
        lambda run: run_direct(run, {"x": Skipped("up skipped")})(),
        [],
        lambda o: o.state["type"] == "Skipped" and o.seen == [],
    ),
    "upstream_skipped_and_no_skip_on_upstream_skip": (
        lambda run: run_direct(run, {"x": Skipped("up skipped")}, skip_on_upstream_skip=False)(),
        ["x"],
        lambda o: o.state["type"] == "Success",
    ),
    "upstream_pending": (
        lambda run: run_direct(run, {"x": Pending("not yet")})(),
        [],
        lambda o: o.state["type"] == "Pending" and o.seen == [],
    ),
    "upstream_mapped_reduced": (
        lambda run: run_direct(
            run, {"x": Mapped(map_states=[Success(result=1), Success(result=2)], result=[1, 2])}
        )(sum),
        ["x"],
        lambda o: o.state["result"] == 3,
    ),
    "upstream_mapped_with_a_failed_child": (
        lambda run: run_direct(
            run, {"x": Mapped(map_states=[Success(result=1), Failed("c")], result=[1, None])}
        )(),
        ["x"],
        lambda o: o.state["type"] == "TriggerFailed",
    ),
    "mapped_child": (
        lambda run: run_direct(run, X5, {"map_index": 2, "flow_name": "f"}, mapped=True)(
            lambda x: (x, prefect.context.get("map_index"))
        ),
        ["x[2]"],
        lambda o: o.seen[0]["task_full_name"] == "x[2]" and o.seen[0]["map_index"] == 2,
    ),
    "reads_map_index_when_unmapped": (
        lambda run: run_direct(run)(lambda x: prefect.context.get("map_index", "missing")),
        ["x"],
        lambda o: o.state["result"] is None,
    ),
    "task_run_name_template": (
        lambda run: run_direct(run, X5, task_run_name="run-{x}-{task_name}")(),
        ["x"],
        lambda o: o.seen[0]["task_run_name"] == "run-5-x",
    ),
    "task_run_name_callable": (
        lambda run: run_direct(run, X5, task_run_name=lambda **kw: f"n{kw['x']}")(),
        ["x"],
        lambda o: o.seen[0]["task_run_name"] == "n5",
    ),
    "task_run_name_with_a_missing_field": (
        lambda run: run_direct(run, X5, task_run_name="{nope}")(),
        ["x"],
        lambda o: o.state["type"] == "Failed" and "KeyError" in o.state["message"],
    ),
    "checkpointing_to_a_local_result": (
        lambda run: run_direct(
            run,
            X5,
            {"checkpointing": True},
            result=LocalResult(dir=str(run.dir), location="{task_name}-{x}.txt"),
        )(lambda x: x * 3),
        ["x"],
        lambda o: o.files == ["x-5.txt"] and o.state["location"] == "<dir>/x-5.txt",
    ),
    "checkpoint_false": (
        lambda run: run_direct(
            run,
            X5,
            {"checkpointing": True},
            checkpoint=False,
            result=LocalResult(dir=str(run.dir), location="{task_name}.txt"),
        )(),
        ["x"],
        lambda o: o.files == [] and o.state["location"] is None,
    ),
    "checkpointing_unreadable_config": (
        lambda run: run_direct(run, context={"config": {"flows": BadFlows()}})(),
        ["x"],
        lambda o: o.state["type"] == "Failed" and o.seen == [],
    ),
    "constant_and_parameter_upstream": (
        lambda run: (
            lambda t: TaskRunner(t).run(
                upstream_states={
                    edge(Constant(4), t, "x"): Success(result=4),
                    edge(Parameter("p"), t, None): Success(result=9),
                },
                context={"parameters": {"p": 9}},
            )
        )(recording_task(run)),
        ["x"],
        lambda o: o.state["result"] == 4 and o.seen[0]["parameters"] == {"'p'": 9},
    ),
}


@pytest.mark.parametrize("name", sorted(DIRECT))
def test_a_direct_task_run_is_the_same_on_both_paths(name: str, tmp_path: Path) -> None:
    scenario, plain_runs, expectation = DIRECT[name]
    observation = check_equivalent(scenario, tmp_path, plain_runs)
    assert observation.context_changes == []
    assert expectation(observation), observation


RAISED_IN_TASK: dict[str, tuple[Callable[[], BaseException], str]] = {
    "exception": (lambda: ValueError("in task"), "raised"),
    "fail": (lambda: signals.FAIL("fail signal"), "Failed"),
    "skip": (lambda: signals.SKIP("skip signal"), "Skipped"),
}


@pytest.mark.parametrize("name", sorted(RAISED_IN_TASK))
def test_raise_on_exception_behaves_the_same_on_both_paths(name: str, tmp_path: Path) -> None:
    make_error, expected = RAISED_IN_TASK[name]

    def scenario(run: Run) -> State:
        with prefect.context(raise_on_exception=True):
            return run_direct(run, X5)(raising(make_error()))

    observation = check_equivalent(scenario, tmp_path, ["x"])
    if expected == "raised":
        assert observation.outcome == ("raised", ("exception", "ValueError", "in task"))
    else:
        assert observation.state["type"] == expected


def test_raise_on_exception_with_a_failing_trigger_is_the_same(tmp_path: Path) -> None:
    def scenario(run: Run) -> State:
        with prefect.context(raise_on_exception=True):
            return run_direct(run, {"x": Failed("up")})()

    assert check_equivalent(scenario, tmp_path, ["x"]).state["type"] == "TriggerFailed"


# ------------------------------------------------------------------ flow.run (LocalExecutor)


def flow_chain(run: Run) -> State | None:
    inc = recording_task(run, lambda x: x + 1, name="inc")

    @task(tags=["t1"])
    def add(x: int, y: int) -> int:
        run.snapshot()
        return x + y

    with Flow("chain") as flow:
        a = inc(Parameter("p"))
        with prefect.tags("tagged"):
            add(a, 10)
    return flow.run(parameters={"p": 1}, context={"custom": "value"})


def chain_ran(o: Observation) -> bool:
    return (
        o.task_state("add")["result"] == 12
        and o.seen[1]["task_tags"] == ("set", ["'t1'", "'tagged'"])
        and o.seen[1]["custom"] == "value"
        and o.seen[0]["parameters"] == {"'p'": 1}
    )


def flow_failure(run: Run) -> State | None:
    boom = recording_task(run, fail("boom"), name="boom")
    after = recording_task(run, name="after")
    finisher = recording_task(run, name="finisher", trigger=triggers.all_finished)
    with Flow("failure") as flow:
        b = boom()
        after(b)
        finisher(b)
    return flow.run()


def failure_ran(o: Observation) -> bool:
    return (
        o.state["type"] == "Failed"
        and o.task_state("after")["type"] == "TriggerFailed"
        and [s["task_name"] for s in o.seen] == ["boom", "finisher"]
    )


def flow_retries(run: Run) -> State | None:
    attempts: list[int] = []

    def flaky(x: Any) -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise ValueError("transient")
        return "ok"

    first = recording_task(run, flaky, name="first", max_retries=1, retry_delay=timedelta(0))
    second = recording_task(run, name="second")
    with Flow("retries") as flow:
        second(first())
    return flow.run()


def retries_ran(o: Observation) -> bool:
    runs = [(s["task_name"], s["task_run_count"]) for s in o.seen]
    retrying = ("prefect.TaskRunner", "INFO", RETRYING_LINE, "run", None)
    return (
        o.task_state("second")["result"] == "ok"
        and runs == [("first", 1), ("first", 2), ("second", 1)]
        and retrying in o.logs
    )


RETRYING_LINE = "Task 'first': Finished task run for task with final state: 'Retrying'"


def flow_skips(run: Run) -> State | None:
    skipper = recording_task(run, raising(signals.SKIP("skipped")), name="skipper")
    follows = recording_task(run, name="follows")
    ignores = recording_task(run, name="ignores", skip_on_upstream_skip=False)
    with Flow("skips") as flow:
        s = skipper()
        follows(s)
        ignores(s)
    return flow.run()


def flow_mapping(run: Run) -> State | None:
    double = recording_task(run, lambda x: (x * 2, prefect.context.get("map_index")), name="double")
    total = recording_task(run, lambda x: sum(pair[0] for pair in x), name="total")
    with Flow("mapping") as flow:
        total(double.map([1, 2, 3]))
    return flow.run()


def mapping_ran(o: Observation) -> bool:
    names = [s["task_full_name"] for s in o.seen]
    return o.task_state("total")["result"] == 12 and names == [
        "double[0]",
        "double[1]",
        "double[2]",
        "total",
    ]


def flow_mapping_with_run_names_and_checkpoints(run: Run) -> State | None:
    checkpointing = prefect.config.flows.checkpointing
    prefect.config.flows.checkpointing = True
    try:
        double = recording_task(run, lambda x: x * 2, name="double", task_run_name="item-{x}")
        quiet = recording_task(run, name="quiet", checkpoint=False)
        result = LocalResult(dir=str(run.dir), location="{task_full_name}.out")
        with Flow("checkpoints", result=result) as flow:
            quiet(double.map([1, 2]))
        return flow.run()
    finally:
        prefect.config.flows.checkpointing = checkpointing


def checkpoints_written(o: Observation) -> bool:
    run_names = [s.get("task_run_name") for s in o.seen]
    return o.files == ["double[0].out", "double[1].out"] and run_names == [
        "item-1",
        "item-2",
        None,
    ]


def flow_loop_and_pause(run: Run) -> State | None:
    loop = recording_task(run, looping, name="loop")
    manual = recording_task(run, name="manual", trigger=triggers.manual_only)
    with Flow("loop") as flow:
        manual(loop())
    return flow.run()


def looped_and_paused(o: Observation) -> bool:
    return (
        o.state["type"] == "Running"
        and o.task_state("loop")["result"] == 20
        and o.task_state("manual")["type"] == "Paused"
        and [s.get("task_loop_count") for s in o.seen] == [None, 2, 3]
    )


def child_body(x: int) -> Any:
    """What mapped child `x` does: succeed, fail, skip, loop, or change `prefect.context`
    (which the next child must not see)."""
    if x == 1:
        raise ValueError("child failed")
    if x == 2:
        raise signals.SKIP("child skipped")
    if x == 3:
        return looping(x)
    if x == 4:
        prefect.context.update(leaked="yes", task_name="changed")
    return prefect.context.get("leaked")


def flow_mapped_children_that_differ(run: Run) -> State | None:
    each = recording_task(run, child_body, name="each")
    also = recording_task(run, name="also")
    with Flow("children") as flow:
        mapped = each.map([0, 1, 2, 3, 4, 5])
        also.map(mapped)
    return flow.run()


def children_differed(o: Observation) -> bool:
    children = [s["type"] for s in o.task_state("each")["map_states"][1]]
    downstream = [s["type"] for s in o.task_state("also")["map_states"][1]]
    return (
        children == ["Success", "Failed", "Skipped", "Success", "Success", "Success"]
        and downstream == ["Success", "TriggerFailed", "Skipped", "Success", "Success", "Success"]
        and o.task_state("each")["map_states"][1][5]["result"] is None
    )


def flow_mapped_child_retries(run: Run) -> State | None:
    attempts: list[int] = []

    def flaky(x: int) -> int:
        attempts.append(x)
        if attempts.count(x) == 1 and x == 1:
            raise ValueError("transient")
        return x

    each = recording_task(run, flaky, name="each", max_retries=1, retry_delay=timedelta(0))
    also = recording_task(run, name="also")
    with Flow("child-retries") as flow:
        also.map(each.map([0, 1, 2]))
    return flow.run()


def flow_mapped_with_a_whole_mapped_input(run: Run) -> State | None:
    first = recording_task(run, lambda x: x * 10, name="first")

    @task(name="pair")
    def pair(x: int, everything: list[int]) -> tuple[int, int]:
        run.snapshot()
        return x, sum(everything)

    with Flow("whole") as flow:
        tens = first.map([1, 2])
        pair.map([5, 6], everything=prefect.unmapped(tens))
    return flow.run()


def flow_raise_on_exception(run: Run) -> State | None:
    boom = recording_task(run, fail("loud"), name="boom")
    with Flow("loud") as flow:
        boom()
    with prefect.context(raise_on_exception=True):
        return flow.run()


def flow_mapped_raise_on_exception(run: Run) -> State | None:
    each = recording_task(run, lambda x: 1 // x, name="each")
    with Flow("loud-map") as flow:
        each.map([1, 0, 2])
    with prefect.context(raise_on_exception=True):
        return flow.run()


FLOWS: dict[str, tuple[Scenario, list[str], Callable[[Observation], Any]]] = {
    "chain": (flow_chain, ["p", "inc", "add"], chain_ran),
    "failure": (flow_failure, ["boom", "after", "finisher"], failure_ran),
    "retries": (flow_retries, ["first"], retries_ran),
    "skips": (
        flow_skips,
        ["skipper", "ignores"],
        lambda o: (
            o.task_state("follows")["type"] == "Skipped"
            and o.task_state("ignores")["type"] == "Success"
        ),
    ),
    "mapping": (flow_mapping, ["double[0]", "double[1]", "double[2]", "total"], mapping_ran),
    "mapping_with_run_names_and_checkpoints": (
        flow_mapping_with_run_names_and_checkpoints,
        ["double[0]", "double[1]", "quiet"],
        checkpoints_written,
    ),
    "loop_and_pause": (flow_loop_and_pause, ["loop", "manual"], looped_and_paused),
    "mapped_children_that_differ": (
        flow_mapped_children_that_differ,
        [f"each[{i}]" for i in range(6)] + [f"also[{i}]" for i in (0, 1, 3, 4, 5)],
        children_differed,
    ),
    "mapped_child_retries": (
        flow_mapped_child_retries,
        ["each[0]", "each[1]", "each[2]", "also[0]", "also[2]"],
        lambda o: [s["result"] for s in o.task_state("also")["map_states"][1]] == [0, 1, 2],
    ),
    "mapped_with_a_whole_mapped_input": (
        flow_mapped_with_a_whole_mapped_input,
        ["first[0]", "first[1]", "pair[0]", "pair[1]"],
        lambda o: (
            [s["result"] for s in o.task_state("pair")["map_states"][1]]
            == [("tuple", [5, 30]), ("tuple", [6, 30])]
        ),
    ),
    "mapped_raise_on_exception": (
        flow_mapped_raise_on_exception,
        ["each[0]", "each[1]"],
        lambda o: o.outcome[0] == "raised" and len(o.seen) == 2,
    ),
    "raise_on_exception": (
        flow_raise_on_exception,
        ["boom"],
        lambda o: o.outcome == ("raised", ("exception", "ValueError", "loud")),
    ),
}


@pytest.mark.parametrize("name", sorted(FLOWS))
def test_a_flow_run_is_the_same_on_both_paths(name: str, tmp_path: Path) -> None:
    scenario, plain_runs, expectation = FLOWS[name]
    observation = check_equivalent(scenario, tmp_path, plain_runs)
    # `flow.run` keeps the process's task caches in `prefect.context`; nothing else changes.
    assert set(observation.context_changes) <= {"caches"}
    assert expectation(observation), observation


def test_the_lines_written_by_prefects_own_handler_are_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With Prefect's default logging (lines written without records), both paths write the
    same lines, tracebacks included."""
    stream_handler = next(
        h
        for h in logging.getLogger("prefect").handlers
        if getattr(h, "_prefect_handler_role", None) == "stream"
    )
    monkeypatch.setattr(logging.getLogger(), "handlers", [])
    outputs = []
    for plain in (True, False):
        buffer = io.StringIO()
        old_stream = stream_handler.setStream(buffer)  # type: ignore[attr-defined]
        try:
            with pytest.MonkeyPatch.context() as patch:
                if not plain:
                    disable_fast_paths(patch)
                flow_failure(Run(tmp_path))
                flow_mapped_children_that_differ(Run(tmp_path))
                run_direct(Run(tmp_path), X5)(fail("direct"))
        finally:
            stream_handler.setStream(old_stream)  # type: ignore[attr-defined]
        text = re.sub(r"(?m)^\[[^\]]*\] ", "", buffer.getvalue())
        # Traceback frames inside Prefect name whichever path ran; the user's frames,
        # the exception and every other line must be the same.
        text = re.sub(
            r'(?m)^  File "[^"]*/src/prefect/[^"]*", line \d+, in \w+\n(    .*\n)*', "", text
        )
        outputs.append(text.splitlines())
    assert "INFO - prefect.TaskRunner | Task 'x': Starting task run..." in outputs[0]
    assert outputs[0] == outputs[1]


# ------------------------------------------------------------------ when the fast path is taken


@pytest.fixture
def plain_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The full names of the task runs that took a fast path."""
    calls: list[str] = []
    spy_on_fast_paths(monkeypatch, calls)
    return calls


@task
def plain(x: int = 1) -> int:
    return x + 1


def test_a_plain_task_run_takes_the_fast_path(plain_calls: list[str]) -> None:
    state = TaskRunner(plain).run()
    assert state.is_successful() and state.result == 2
    assert plain_calls == ["plain"]


def test_a_plain_flow_run_takes_the_fast_path_for_every_task(plain_calls: list[str]) -> None:
    with Flow("f") as flow:
        plain(plain(Parameter("p")))
    state = flow.run(parameters={"p": 1})
    assert state is not None and state.is_successful()
    assert plain_calls == ["p", "plain", "plain"]


def handler(*args: Any) -> None:
    return None


NOT_PLAIN_TASKS: dict[str, dict[str, Any]] = {
    "task_state_handlers": {"state_handlers": [handler]},
    "target": {"target": "out.txt"},
    "cache_for": {"cache_for": timedelta(minutes=1)},
    "log_stdout": {"log_stdout": True},
}


@pytest.mark.parametrize("name", sorted(NOT_PLAIN_TASKS))
def test_tasks_that_need_the_skipped_steps_take_the_full_path(
    name: str, plain_calls: list[str], tmp_path: Path
) -> None:
    t = task(name="t", result=LocalResult(dir=str(tmp_path)), **NOT_PLAIN_TASKS[name])(lambda: 1)
    assert TaskRunner(t).run().is_successful()
    assert plain_calls == []


def test_a_runner_state_handler_means_the_full_path(plain_calls: list[str]) -> None:
    seen: list[str] = []
    runner = TaskRunner(plain, state_handlers=[lambda r, old, new: seen.append(type(new).__name__)])
    assert runner.run().is_successful()
    assert plain_calls == [] and seen == ["Running", "Success"]


def test_task_runner_state_handlers_of_a_flow_run_mean_the_full_path(
    plain_calls: list[str],
) -> None:
    with Flow("f") as flow:
        plain()
    state = flow.run(task_runner_state_handlers=[handler])
    assert state is not None and state.is_successful()
    assert plain_calls == []


def test_a_task_runner_subclass_takes_the_full_path(plain_calls: list[str]) -> None:
    class Sub(TaskRunner):
        pass

    assert Sub(plain).run().is_successful()
    with Flow("f") as flow:
        plain()
    assert FlowRunner(flow, task_runner_cls=Sub).run(return_tasks=flow.tasks).is_successful()
    assert plain_calls == []


GUARDED_STEPS = [
    (TaskRunner, name)
    for name in (
        "initialize_run",
        "check_task_is_ready",
        "check_task_reached_start_time",
        "check_upstream_finished",
        "check_upstream_skipped",
        "load_results",
        "get_task_inputs",
        "check_task_ready_to_map",
        "check_target",
        "check_task_is_cached",
        "set_task_to_running",
        "cache_result",
        "call_runner_target_handlers",
        "run",
    )
] + [(Runner, "initialize_run"), (Runner, "handle_state_change")]


@pytest.mark.parametrize(
    "cls, name", GUARDED_STEPS, ids=[f"{c.__name__}.{n}" for c, n in GUARDED_STEPS]
)
def test_a_step_patched_on_the_class_means_the_full_path(
    cls: type, name: str, plain_calls: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    original = cls.__dict__[name]

    def patched(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(name)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(cls, name, patched)
    assert TaskRunner(plain).run().is_successful()
    assert plain_calls == []
    # Every one of these steps runs in a plain run but the mapping and target checks.
    assert calls or name in ("check_task_ready_to_map", "check_target")


def test_an_attribute_set_on_the_runner_means_the_full_path(plain_calls: list[str]) -> None:
    runner = TaskRunner(plain)
    runner.note = "mine"  # type: ignore[attr-defined]
    assert runner.run().is_successful()
    assert plain_calls == []


def test_debug_logging_on_the_task_runner_logger_means_the_full_path(
    plain_calls: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="prefect.TaskRunner")
    assert TaskRunner(plain).run().is_successful()
    assert plain_calls == []
    assert "Task 'plain': Calling task.run() method..." in caplog.messages


def test_a_given_state_means_the_full_path(plain_calls: list[str]) -> None:
    assert TaskRunner(plain).run(state=Pending()).is_successful()
    assert plain_calls == []


def test_a_mapped_parent_run_means_the_full_path(plain_calls: list[str]) -> None:
    upstream: dict[Edge, State] = {
        edge(Task("up"), plain, "x", mapped=True): Success(result=[1, 2])
    }
    state = TaskRunner(plain).run(upstream_states=upstream, is_mapped_parent=True)
    assert isinstance(state, Mapped) and state.n_map_states == 2
    assert plain_calls == []


@pytest.mark.parametrize("where", ["argument", "prefect.context"])
def test_a_loop_count_in_the_context_means_the_full_path(
    where: str, plain_calls: list[str]
) -> None:
    if where == "argument":
        state = TaskRunner(plain).run(context={"task_loop_count": 2})
    else:
        with prefect.context(task_loop_count=2):
            state = TaskRunner(plain).run()
    assert state.is_successful()
    assert plain_calls == []


@pytest.mark.parametrize(
    "upstream_state, expected",
    [(Pending(), Pending), (Skipped(), Skipped)],
    ids=["unfinished", "skipped"],
)
def test_unfinished_or_skipped_upstream_tasks_mean_the_full_path(
    upstream_state: State, expected: type, plain_calls: list[str]
) -> None:
    state = TaskRunner(plain).run(upstream_states={edge(Task("up"), plain, "x"): upstream_state})
    assert type(state) is expected
    assert plain_calls == []


# ------------------------------------------------------------------ known divergences


def patched_step_scenario(name: str, make: Callable[[Callable, list[str]], Callable]) -> Scenario:
    """A plain run with `TaskRunner.<name>` replaced by `make(original)`; the scenario returns
    the final state and what the replacement recorded."""

    def scenario(run: Run) -> Any:
        original = getattr(TaskRunner, name)
        calls: list[str] = []
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(TaskRunner, name, make(original, calls))
            return run_direct(run, X5)(), calls

    return scenario


def recording(original: Callable, calls: list[str]) -> Callable:
    def step(self: TaskRunner, *args: Any, **kwargs: Any) -> Any:
        calls.append(type(args[0]).__name__ if args and isinstance(args[0], State) else "call")
        return original(self, *args, **kwargs)

    return step


UNGUARDED = (
    "fix: add it to `_PLAIN_STEP_NAMES` in task_runner.py so a patch sends runs down the full path"
)


def test_a_patched_trigger_step_returning_a_state_is_the_same(tmp_path: Path) -> None:
    scenario = patched_step_scenario(
        "check_task_trigger", lambda original, calls: lambda self, state, **kw: Success("no run")
    )
    check_equivalent(scenario, tmp_path, None)


def test_a_trigger_whose_error_cannot_be_printed_is_the_same(tmp_path: Path) -> None:
    scenario = lambda run: run_direct(run, X5, trigger=raising(BadRepr("odd")))()  # noqa: E731
    check_equivalent(scenario, tmp_path, None)


def test_a_patched_retry_step_is_called_the_same(tmp_path: Path) -> None:
    check_equivalent(patched_step_scenario("check_for_retry", recording), tmp_path, None)


def test_a_patched_loop_step_is_called_the_same(tmp_path: Path) -> None:
    check_equivalent(patched_step_scenario("check_task_is_looping", recording), tmp_path, None)


def test_a_patched_run_name_step_is_called_the_same(tmp_path: Path) -> None:
    check_equivalent(patched_step_scenario("set_task_run_name", recording), tmp_path, None)


def test_handle_state_change_patched_on_task_runner_is_called_the_same(tmp_path: Path) -> None:
    def make(original: Callable, calls: list[str]) -> Callable:
        def step(self: TaskRunner, old_state: State, new_state: State) -> State:
            calls.append(f"{type(old_state).__name__}->{type(new_state).__name__}")
            return original(self, old_state, new_state)  # type: ignore[no-any-return]

        return step

    check_equivalent(patched_step_scenario("handle_state_change", make), tmp_path, None)


class BrokenState(Success):
    """An upstream state that cannot say whether it is finished."""

    def is_finished(self) -> bool:
        raise RuntimeError("cannot tell")


def test_an_upstream_state_that_raises_is_the_same(tmp_path: Path) -> None:
    scenario = lambda run: run_direct(run, {"x": BrokenState(result=1)})()  # noqa: E731
    check_equivalent(scenario, tmp_path, None)


@pytest.mark.parametrize("name", sorted(FLOWS))
def test_a_flow_run_on_a_local_dask_executor_is_the_same_on_both_paths(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The children's shared runs also serve a LocalDaskExecutor's batches (the synchronous
    scheduler here, for a deterministic order of lines)."""
    import functools

    from prefect.executors import LocalDaskExecutor

    monkeypatch.setattr(
        prefect.engine,
        "get_default_executor_class",
        lambda: functools.partial(LocalDaskExecutor, scheduler="sync"),
    )
    scenario, _, _ = FLOWS[name]
    baseline = dict(prefect.context)
    fast = observe(scenario, tmp_path, plain=True)
    prefect.context.clear()
    prefect.context.update(baseline)
    full = observe(scenario, tmp_path, plain=False)
    assert full.plain_runs == []
    # Dask orders independent batches its own way: the same lines and contexts, in any order.
    assert fast.outcome == full.outcome
    assert sorted(map(repr, fast.logs)) == sorted(map(repr, full.logs))
    assert sorted(map(repr, fast.seen)) == sorted(map(repr, full.seen))
    assert fast.files == full.files
    assert fast.context_changes == full.context_changes
    assert set(fast.context_changes) <= {"caches"}
    if name == "mapping":
        assert any("[" in run for run in fast.plain_runs), fast.plain_runs
