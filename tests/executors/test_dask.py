"""The Dask executors on real Dask: what the engine supports works on every executor (the
`executor` fixture runs a test on `LocalExecutor`, `LocalDaskExecutor` with threads, processes
and the synchronous scheduler, and `DaskExecutor` on the session's `LocalCluster`), and the
Dask-specific behaviours: keys, resources, temporary clusters, adaptive scaling, worker events,
errors, crashes and Ctrl-C.

Tasks that process-based executors run come from the plain module `dask_tasks` (see the
conftest); tasks defined here only run on thread executors.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import operator
import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest

if os.environ.get("CI", "").lower() != "true":  # under CI a missing Dask is a failure
    pytest.importorskip("distributed")

import cloudpickle  # noqa: E402
import dask  # noqa: E402
import dask_tasks as t  # noqa: E402
import psutil  # noqa: E402  (a requirement of distributed)
from distributed import LocalCluster  # noqa: E402
from distributed.core import Status  # noqa: E402

from prefect import Flow, Parameter, apply_map, case, flatten, unmapped  # noqa: E402
from prefect.engine.results import LocalResult  # noqa: E402
from prefect.engine.state import (  # noqa: E402
    Cached,
    Failed,
    Mapped,
    Skipped,
    State,
    Success,
    TimedOut,
    TriggerFailed,
)
from prefect.executors import DaskExecutor, LocalDaskExecutor, LocalExecutor  # noqa: E402
from prefect.tasks.control_flow import merge  # noqa: E402
from prefect.utilities.configuration import set_temporary_config  # noqa: E402

# Generous: process pools and clusters start slowly on a loaded machine (the default of the
# suite; a deadline only matters when a test is failing anyway).
pytestmark = pytest.mark.timeout(120)

PROCESS_KINDS = {"processes", "cluster"}
DASK_KINDS = [
    pytest.param("threads", id="LocalDaskExecutor-threads"),
    pytest.param("processes", id="LocalDaskExecutor-processes", marks=pytest.mark.integration),
    pytest.param("sync", id="LocalDaskExecutor-sync"),
    pytest.param("cluster", id="DaskExecutor", marks=pytest.mark.integration),
]
# A temporary cluster that starts fast: one worker thread in this process.
SMALL_CLUSTER = {"n_workers": 1, "processes": False, "dashboard_address": ":0"}
# `distributed.performance_report` needs bokeh, which nothing installs.
HAS_BOKEH = importlib.util.find_spec("bokeh") is not None


def results_of(state: State) -> Any:
    """A task state's result; for a mapped task, its children's results."""
    if isinstance(state, Mapped):
        return [child.result for child in state.map_states]
    return state.result


def summary(flow_state: State) -> dict[str, Any]:
    """Each task's final state as comparable values: type names (children's too for mapped
    tasks) and the results of successful states."""
    out: dict[str, Any] = {}
    for task, state in flow_state.result.items():
        children = getattr(state, "map_states", None) if isinstance(state, Mapped) else None
        out[task.slug] = (
            type(state).__name__,
            state.result if state.is_successful() and not state.is_skipped() else None,
            [(type(c).__name__, c.result if c.is_successful() else None) for c in children]
            if children is not None
            else None,
        )
    return out


@pytest.fixture
def run_log(tmp_path: Path) -> Path:
    """The file `dask_tasks.record_run` appends to (passed to runs as context `run_log`)."""
    return tmp_path / "runs.log"


# --- What the engine supports, on every executor ---------------------------------------------


def test_a_map_runs_one_child_per_item(executor):
    with Flow("map") as flow:
        incremented = t.inc.map([1, 2, 3])

    state = flow.run(executor=executor)

    assert state.is_successful()
    mapped = state.result[incremented]
    assert isinstance(mapped, Mapped)
    assert [type(child) for child in mapped.map_states] == [Success] * 3
    assert results_of(mapped) == [2, 3, 4]


def test_a_map_of_a_map_maps_over_the_first_maps_children(executor):
    with Flow("map of a map") as flow:
        incremented = t.inc.map([1, 2, 3])
        doubled = t.double.map(incremented)
        multiplied = t.Multiply().map(doubled)

    state = flow.run(executor=executor)

    assert state.is_successful()
    assert results_of(state.result[doubled]) == [4, 6, 8]
    # A class-based task is pickled by reference: process workers import it from `dask_tasks`.
    assert results_of(state.result[multiplied]) == [(n, "dask_tasks") for n in (12, 18, 24)]


def test_flatten_maps_over_the_items_of_the_childrens_lists(executor):
    with Flow("flatten") as flow:
        ranges = t.make_range.map([1, 2, 3])
        incremented = t.inc.map(flatten(ranges))
        summed = t.total(flatten(ranges))

    state = flow.run(executor=executor)

    assert state.is_successful()
    assert results_of(state.result[ranges]) == [[0], [0, 1], [0, 1, 2]]
    assert results_of(state.result[incremented]) == [1, 1, 2, 1, 2, 3]
    assert state.result[summed].result == 4


def inc_then_double(x: Any) -> Any:
    return t.double(t.inc(x))


def test_apply_map_maps_every_task_the_function_builds(executor):
    with Flow("apply_map") as flow:
        out = apply_map(inc_then_double, [1, 2, 3])

    state = flow.run(executor=executor)

    assert state.is_successful()
    assert results_of(state.result[out]) == [4, 6, 8]


def test_a_failing_task_is_retried_until_it_succeeds(executor, run_log):
    with Flow("retries") as flow:
        flaky = t.flaky()

    state = flow.run(executor=executor, context={"run_log": str(run_log)})

    assert state.is_successful()
    assert type(state.result[flaky]) is Success
    assert state.result[flaky].result == 2  # succeeded on its second run
    assert t.read_run_log(run_log) == ["flaky", "flaky"]


@pytest.mark.timeout(t.SLOW_SECONDS + 30)
def test_a_task_over_its_timeout_ends_timed_out_without_waiting_for_it(executor):
    with Flow("timeout") as flow:
        slow = t.slow()
        fast = t.inc(1)

    start = time.monotonic()
    state = flow.run(executor=executor)
    elapsed = time.monotonic() - start

    assert type(state.result[slow]) is TimedOut
    assert state.result[fast].result == 2
    assert state.is_failed()
    # `slow` runs 120 s with a 1 s timeout: the run did not wait for it. The rest is process
    # start-up and shutdown (a few seconds, more on a loaded machine).
    assert elapsed < t.SLOW_SECONDS / 2, f"the run took {elapsed:.1f} s"


def test_triggers_decide_what_runs_downstream_of_a_failure(executor):
    with Flow("triggers") as flow:
        failing = t.fail()
        handler = t.on_failure(upstream_tasks=[failing])
        cleanup = t.cleanup(upstream_tasks=[failing])
        downstream = t.inc(failing)

    state = flow.run(executor=executor)

    states = state.result
    assert type(states[failing]) is Failed
    assert isinstance(states[failing].result, ValueError)
    assert (type(states[handler]), states[handler].result) == (Success, "handled")
    assert (type(states[cleanup]), states[cleanup].result) == (Success, "cleaned")
    assert type(states[downstream]) is TriggerFailed
    assert state.is_failed()


def test_a_cached_task_reuses_its_cached_state_in_the_next_run(executor, run_log):
    with Flow("caching") as flow:
        cached = t.cached_inc(1)

    first = flow.run(executor=executor, context={"run_log": str(run_log)})
    second = flow.run(executor=executor, context={"run_log": str(run_log)})

    assert type(first.result[cached]) is Cached
    assert type(second.result[cached]) is Cached
    assert second.result[cached].result == 2
    assert t.read_run_log(run_log) == ["cached_inc"]  # the second run did not run it


def test_checkpointed_results_are_written_where_the_flow_result_says(executor, tmp_path):
    results_dir = tmp_path / "results"
    with Flow("results", result=LocalResult(dir=str(results_dir))) as flow:
        single = t.inc(1)
        mapped = t.double.map([1, 2])
        unsaved = t.inc(10, task_args={"checkpoint": False})

    state = flow.run(executor=executor, context={"checkpointing": True})

    assert state.is_successful()
    locations = [state.result[single]._result.location] + [
        child._result.location for child in state.result[mapped].map_states
    ]
    assert all(location is not None for location in locations)
    reader = LocalResult(dir=str(results_dir))
    assert [reader.read(location).value for location in locations] == [2, 2, 4]
    assert len(list(results_dir.iterdir())) == 3  # nothing written for `unsaved`
    assert state.result[unsaved].result == 11
    assert state.result[unsaved]._result.location is None


def branch_on_parity(number: Any) -> tuple[Any, Any, Any]:
    """Doubles an even number, increments an odd one; returns both branches and the merge."""
    with case(t.is_even(number), True):
        doubled = t.double(number)
    with case(t.is_even(number), False):
        incremented = t.inc(number)
    return doubled, incremented, merge(doubled, incremented)


def test_case_runs_one_branch_and_merge_takes_its_result(executor):
    with Flow("case") as flow:
        even = branch_on_parity(Parameter("even"))
        odd = branch_on_parity(Parameter("odd"))

    state = flow.run(executor=executor, parameters={"even": 4, "odd": 3})

    assert state.is_successful()
    assert [type(state.result[task]) for task in even] == [Success, Skipped, Success]
    assert state.result[even[2]].result == 8
    assert [type(state.result[task]) for task in odd] == [Skipped, Success, Success]
    assert state.result[odd[2]].result == 4


def test_parameters_reach_the_tasks_using_them(executor):
    with Flow("parameters") as flow:
        number = Parameter("number", default=1)
        offset = Parameter("offset", default=100)
        incremented = t.inc(number)
        mapped = t.add.map(t.make_range(number), y=unmapped(offset))

    state = flow.run(executor=executor, parameters={"number": 3})

    assert state.result[incremented].result == 4
    assert results_of(state.result[mapped]) == [100, 101, 102]  # `offset` kept its default


def test_tasks_see_their_context_where_they_run(executor, executor_kind):
    with Flow("context") as flow:
        single = t.context_values()
        mapped = t.mapped_context_values.map([10, 20])
        location = t.where()

    state = flow.run(executor=executor, context={"x": 1})

    assert state.is_successful()
    assert state.result[single].result == ("context_values", None, 1)
    assert results_of(state.result[mapped]) == [
        ("mapped_context_values", 0, 1, 10),
        ("mapped_context_values", 1, 1, 20),
    ]
    pid, _ = state.result[location].result
    # The process executors really ran the tasks elsewhere: the context travelled with them.
    assert (pid != os.getpid()) == (executor_kind in PROCESS_KINDS)


@pytest.mark.parametrize("executor_kind", ["local", "threads", "sync"])
def test_log_lines_of_tasks_in_threads_reach_the_prefect_logger(executor, caplog):
    with Flow("logs") as flow:
        t.say_hello("world")

    with caplog.at_level(logging.INFO, logger="prefect"):
        state = flow.run(executor=executor)

    assert state.is_successful()
    messages = [r.getMessage() for r in caplog.records]
    assert f"Hello world from process {os.getpid()}" in messages


@pytest.mark.integration
def test_log_lines_of_tasks_in_worker_processes_reach_the_workers_output(capfd):
    executor = LocalDaskExecutor(scheduler="processes", num_workers=1)
    with Flow("logs") as flow:
        t.say_hello("world")

    state = flow.run(executor=executor)

    assert state.is_successful()
    output = "".join(capfd.readouterr())
    lines = re.findall(r"Hello world from process (\d+)", output)
    assert lines and all(int(pid) != os.getpid() for pid in lines), output[-2000:]


@pytest.mark.integration
def test_log_lines_of_tasks_on_a_dask_cluster_reach_the_workers_output(capfd):
    cluster_kwargs = {"n_workers": 1, "processes": True, "dashboard_address": ":0"}
    executor = DaskExecutor(cluster_kwargs=cluster_kwargs)
    with Flow("logs") as flow:
        t.say_hello("cluster")

    state = flow.run(executor=executor)

    assert state.is_successful()
    output = "".join(capfd.readouterr())
    lines = re.findall(r"Hello cluster from process (\d+)", output)
    assert lines and all(int(pid) != os.getpid() for pid in lines), output[-2000:]


def build_varied_flow() -> Flow:
    """A flow with a bit of everything: parameters, maps, flatten, failures, triggers, skips."""
    with Flow("varied") as flow:
        n = Parameter("n", default=3)
        numbers = t.make_range(n)
        incremented = t.inc.map(numbers)
        doubled = t.double.map(incremented)
        t.total(doubled)
        ranges = t.make_range.map(incremented)
        t.inc.map(flatten(ranges))
        failing = t.fail()
        t.on_failure(upstream_tasks=[failing])
        t.cleanup(upstream_tasks=[failing])
        t.add(failing, 1)
        with case(t.is_even(n), True):
            even = t.double(n)
        with case(t.is_even(n), False):
            odd = t.inc(n)
        merge(even, odd)
    return flow


def test_final_states_and_results_equal_those_of_local_executor(executor):
    flow = build_varied_flow()

    expected = flow.run(executor=LocalExecutor(), parameters={"n": 3})
    state = flow.run(executor=executor, parameters={"n": 3})

    assert type(state) is type(expected) is Failed
    assert summary(state) == summary(expected)


def test_each_task_run_happens_exactly_once(executor, run_log):
    with Flow("once") as flow:
        numbers = t.make_range(3)
        incremented = t.inc.map(numbers)
        doubled = t.double.map(incremented)
        summed = t.total(doubled)
        t.add(summed, t.total(incremented))
        t.inc.map(flatten(t.make_range.map(incremented)))

    state = flow.run(executor=executor, context={"run_log": str(run_log)})

    assert state.is_successful()
    expected = (
        ["make_range", "total", "total", "add"]
        + [f"{name}[{i}]" for name in ("inc", "double", "make_range") for i in range(3)]
        + [f"inc[{i}]" for i in range(1 + 2 + 3)]  # the children of the flattened map
    )
    assert sorted(t.read_run_log(run_log)) == sorted(expected)


def test_an_unpicklable_result_fails_its_task_on_process_executors_only(executor, executor_kind):
    with Flow("unpicklable") as flow:
        lock = t.unpicklable()
        other = t.inc(1)

    state = flow.run(executor=executor)

    assert state.result[other].result == 2
    if executor_kind in PROCESS_KINDS:
        assert type(state.result[lock]) is Failed
        message = state.result[lock].message
        assert "'unpicklable'" in message
        assert "pickle" in message
        assert "thread" in message  # a thread-based executor does not need to pickle it
    else:
        assert type(state.result[lock]) is Success
        assert isinstance(state.result[lock].result, type(threading.Lock()))


def test_unpicklable_results_of_mapped_children_fail_those_children_only(executor, executor_kind):
    with Flow("unpicklable children") as flow:
        children = t.unpicklable_if_odd.map(list(range(6)))

    state = flow.run(executor=executor)

    map_states = state.result[children].map_states
    assert len(map_states) == 6
    for index, child in enumerate(map_states):
        if index % 2 == 0:
            assert type(child) is Success and child.result == index
        elif executor_kind in PROCESS_KINDS:
            assert type(child) is Failed
            assert "'unpicklable_if_odd'" in child.message and "pickle" in child.message
        else:
            assert type(child) is Success


@pytest.mark.parametrize(
    "executor_kind",
    [
        pytest.param("threads", id="LocalDaskExecutor-threads"),
        pytest.param("processes", id="LocalDaskExecutor-processes", marks=pytest.mark.integration),
        pytest.param("cluster", id="DaskExecutor", marks=pytest.mark.integration),
    ],
)
@pytest.mark.timeout(150)  # above the children's generous deadline
def test_mapped_children_run_in_parallel(executor_kind, tmp_path, request):
    # How long a child waits for the other one to start. Generous: the second worker process
    # may still be starting when the first child runs, and the machine may be loaded. Children
    # running in parallel meet at once; only children run one after the other wait that long.
    limit = 60
    if executor_kind == "cluster":
        cluster = request.getfixturevalue("dask_cluster")
        executor = DaskExecutor(address=cluster.scheduler_address)
    else:
        executor = LocalDaskExecutor(scheduler=executor_kind, num_workers=2)
    with Flow("parallel") as flow:
        seen = t.rendezvous.map(
            [0, 1], directory=unmapped(str(tmp_path)), expected=unmapped(2), limit=unmapped(limit)
        )

    state = flow.run(executor=executor)

    # Each child saw the other one start while it was running.
    assert results_of(state.result[seen]) == [2, 2]


# --- Executor objects --------------------------------------------------------------------------


def test_executors_are_picklable_before_and_after_start_and_copies_work(executor):
    with Flow("pickled") as flow:
        incremented = t.inc.map([1, 2])

    before = cloudpickle.loads(cloudpickle.dumps(executor))
    with executor.start():
        during = cloudpickle.loads(cloudpickle.dumps(executor))
        # Pickling a started executor leaves it working.
        assert executor.wait(executor.submit(operator.add, 1, 2)) == 3
    after = cloudpickle.loads(cloudpickle.dumps(executor))

    for copy in (before, during, after):
        assert type(copy) is type(executor)
        assert vars(copy).keys() == vars(executor).keys()
    # The copy of a started executor runs flows (it starts its own pool or client).
    state = flow.run(executor=during)
    assert results_of(state.result[incremented]) == [2, 3]


def test_local_dask_executor_rejects_an_unknown_scheduler():
    with pytest.raises(ValueError, match="'gpus'"):
        LocalDaskExecutor(scheduler="gpus")


@pytest.mark.parametrize(
    ("name", "scheduler"),
    [("threading", "threads"), ("multiprocessing", "processes"), ("synchronous", "synchronous")],
)
def test_local_dask_executor_accepts_the_dask_scheduler_names(name, scheduler):
    executor = LocalDaskExecutor(scheduler=name, num_workers=2)
    assert executor.scheduler == scheduler
    assert executor.dask_config == {"num_workers": 2}


@pytest.mark.parametrize("executor_kind", DASK_KINDS)
def test_dask_keys_start_with_the_task_name_and_end_with_the_map_index(executor):
    with executor.start():
        child = executor.submit(
            operator.add, 1, 2, extra_context={"task_name": "my-task", "task_index": 3}
        )
        plain = executor.submit(
            operator.mul, 2, 5, extra_context={"task_name": "other", "task_index": None}
        )
        twin = executor.submit(
            operator.add, 1, 1, extra_context={"task_name": "my-task", "task_index": 3}
        )
        keys = [str(f.key) for f in (child, plain, twin)]
        assert executor.wait([child, plain, twin]) == [3, 10, 2]

    assert keys[0].startswith("my-task-") and keys[0].endswith("-3")
    assert keys[1].startswith("other-")
    assert keys[2].startswith("my-task-") and keys[2] != keys[0]  # unique per submission


@pytest.mark.integration
def test_dask_resource_tags_restrict_tasks_to_workers_with_the_resource():
    cluster = LocalCluster(resources={"GPU": 1}, threads_per_worker=1, **SMALL_CLUSTER)
    try:
        executor = DaskExecutor(address=cluster.scheduler_address)
        with executor.start():
            tagged = executor.submit(
                operator.add,
                1,
                2,
                extra_context={"task_name": "gpu", "task_tags": {"dask-resource:GPU=1", "x"}},
            )
            untagged = executor.submit(
                operator.add, 2, 2, extra_context={"task_name": "cpu", "task_tags": {"x"}}
            )
            assert executor.wait([tagged, untagged]) == [3, 4]
            restrictions = executor.client.run_on_scheduler(
                lambda dask_scheduler: {
                    key: ts.resource_restrictions for key, ts in dask_scheduler.tasks.items()
                }
            )
        assert {key: r for key, r in restrictions.items() if r} == {tagged.key: {"GPU": 1.0}}

        with Flow("gpu") as flow:
            result = t.inc(1, task_args={"tags": ["dask-resource:GPU=1"]})
        state = flow.run(executor=DaskExecutor(address=cluster.scheduler_address))
        assert state.result[result].result == 2
    finally:
        cluster.close()


@pytest.mark.integration
def test_a_dask_resource_tag_without_a_number_raises_naming_the_tag(dask_cluster):
    executor = DaskExecutor(address=dask_cluster.scheduler_address)
    with executor.start():
        with pytest.raises(ValueError, match="dask-resource:GPU=lots"):
            executor.submit(
                operator.add,
                1,
                2,
                extra_context={"task_name": "gpu", "task_tags": {"dask-resource:GPU=lots"}},
            )


@pytest.fixture
def recording_cluster():
    """`dask_tasks.RecordingLocalCluster`, with no instances recorded yet."""
    t.RecordingLocalCluster.instances.clear()
    yield t.RecordingLocalCluster
    for cluster in t.RecordingLocalCluster.instances:
        cluster.close()
    t.RecordingLocalCluster.instances.clear()


@pytest.mark.parametrize(
    "cluster_class",
    [t.RecordingLocalCluster, "dask_tasks.RecordingLocalCluster"],
    ids=["class", "import path"],
)
def test_without_an_address_a_temporary_cluster_is_made_and_closed(
    recording_cluster, cluster_class
):
    executor = DaskExecutor(cluster_class=cluster_class, cluster_kwargs=SMALL_CLUSTER)
    assert executor.cluster_class is recording_cluster
    with Flow("temporary") as flow:
        incremented = t.inc.map([1, 2])

    state = flow.run(executor=executor)

    assert results_of(state.result[incremented]) == [2, 3]
    (cluster,) = recording_cluster.instances
    assert cluster.status == Status.closed
    assert cluster.adapt_calls == []
    assert executor.client is None


def test_the_default_temporary_cluster_is_a_local_cluster():
    executor = DaskExecutor(cluster_kwargs=SMALL_CLUSTER)
    assert executor.address is None
    assert executor.cluster_class is LocalCluster
    with Flow("default") as flow:
        location = t.where()

    state = flow.run(executor=executor)

    assert state.result[location].result[0] == os.getpid()  # a worker thread of this process


def test_adapt_kwargs_make_the_temporary_cluster_adaptive(recording_cluster, caplog):
    executor = DaskExecutor(
        cluster_class=recording_cluster,
        cluster_kwargs={**SMALL_CLUSTER, "n_workers": 0},
        adapt_kwargs={"minimum": 1, "maximum": 1},
    )
    with Flow("adaptive") as flow:
        incremented = t.inc(1)

    with caplog.at_level(logging.DEBUG, logger="prefect.DaskExecutor"):
        state = flow.run(executor=executor)

    assert state.result[incremented].result == 2  # the adaptive worker ran it
    (cluster,) = recording_cluster.instances
    assert cluster.adapt_calls == [{"minimum": 1, "maximum": 1}]
    # The cluster started with no worker: the one adaptive scaling added was seen joining.
    added = [r.getMessage() for r in caplog.records if r.getMessage().endswith(" added")]
    assert len(added) == 1 and re.fullmatch(r"Worker (tcp|inproc)://\S+ added", added[0])


@pytest.mark.parametrize(
    "kwargs",
    [{"cluster_class": "distributed.LocalCluster"}, {"cluster_kwargs": {"n_workers": 1}}],
    ids=["cluster_class", "cluster_kwargs"],
)
def test_an_address_with_a_cluster_class_or_its_arguments_is_refused(kwargs):
    with pytest.raises(ValueError, match="address"):
        DaskExecutor(address="tcp://127.0.0.1:8786", **kwargs)


def test_an_unreachable_address_raises_a_connection_error_naming_it_after_the_8_s_timeout():
    executor = DaskExecutor(address="tcp://127.0.0.1:9")

    start = time.monotonic()
    with pytest.raises(ConnectionError, match=re.escape("tcp://127.0.0.1:9")) as raised:
        with executor.start():
            pass  # pragma: no cover - never reached
    elapsed = time.monotonic() - start

    assert "within 8 s" in str(raised.value)
    # The executor's own 8 s connect timeout applied, not Dask's default of 30 s (the margin
    # is for a loaded machine: the 8 s alone leave too little of a 10 s bound).
    assert elapsed < 20, f"gave up after {elapsed:.1f} s"
    assert executor.client is None


@pytest.mark.timeout(150)  # above the sum of its generous deadlines
def test_workers_joining_and_leaving_the_cluster_are_logged(recording_cluster, caplog):
    executor = DaskExecutor(cluster_class=recording_cluster, cluster_kwargs=SMALL_CLUSTER)

    def messages() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.name == "prefect.DaskExecutor"]

    def wait_for(message: str) -> None:
        # Generous: the scheduler's worker events reach us late on a loaded 2-core machine.
        deadline = time.monotonic() + 30
        while message not in messages() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert message in messages()

    with caplog.at_level(logging.DEBUG, logger="prefect.DaskExecutor"):
        with executor.start():
            (cluster,) = recording_cluster.instances
            (first,) = executor.client.scheduler_info()["workers"]
            cluster.scale(2)
            executor.client.wait_for_workers(2, timeout=30)
            (second,) = set(executor.client.scheduler_info()["workers"]) - {first}
            assert re.fullmatch(r"(tcp|inproc)://\S+", second)
            wait_for(f"Worker {second} added")
            cluster.scale(1)
            deadline = time.monotonic() + 30
            while len(executor.client.scheduler_info()["workers"]) > 1:
                assert time.monotonic() < deadline, "the cluster did not scale down"
                time.sleep(0.05)
            (left,) = {first, second} - set(executor.client.scheduler_info()["workers"])
            wait_for(f"Worker {left} removed")


def test_workers_are_not_watched_when_watch_worker_status_is_off(recording_cluster, caplog):
    executor = DaskExecutor(
        cluster_class=recording_cluster, cluster_kwargs=SMALL_CLUSTER, watch_worker_status=False
    )
    with caplog.at_level(logging.DEBUG, logger="prefect.DaskExecutor"):
        with executor.start():
            (cluster,) = recording_cluster.instances
            cluster.scale(2)
            executor.client.wait_for_workers(2, timeout=30)
            time.sleep(0.3)  # long enough for an event to arrive (they take milliseconds)

    assert not [r for r in caplog.records if re.match(r"Worker \S+ added", r.getMessage())]


def test_worker_status_changes_are_logged_at_debug_level(caplog):
    executor = DaskExecutor(address="tcp://127.0.0.1:8786")

    with caplog.at_level(logging.DEBUG, logger="prefect.DaskExecutor"):
        asyncio.run(executor.on_worker_status_changed("add", {"workers": {"tcp://10.0.0.5:1": {}}}))
        asyncio.run(executor.on_worker_status_changed("remove", "tcp://10.0.0.5:1"))

    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.DEBUG, "Worker tcp://10.0.0.5:1 added"),
        (logging.DEBUG, "Worker tcp://10.0.0.5:1 removed"),
    ]


@pytest.mark.parametrize(("debug", "level"), [(None, logging.CRITICAL), (True, logging.WARNING)])
def test_a_temporary_local_clusters_own_logs_are_silenced_unless_debugging(debug, level):
    executor = DaskExecutor(debug=debug, cluster_kwargs={"n_workers": 1})
    assert executor.cluster_kwargs == {"n_workers": 1, "silence_logs": level}


def test_there_is_no_performance_report_without_a_path():
    assert DaskExecutor(address="tcp://127.0.0.1:8786").performance_report == ""


@pytest.mark.integration
@pytest.mark.skipif(not HAS_BOKEH, reason="the report is drawn with bokeh, not installed here")
def test_a_performance_report_is_written_for_the_run(dask_cluster, tmp_path):
    report = tmp_path / "report.html"
    executor = DaskExecutor(
        address=dask_cluster.scheduler_address, performance_report_path=str(report)
    )
    with Flow("report") as flow:
        incremented = t.inc.map([1, 2])

    state = flow.run(executor=executor)

    assert state.is_successful(), state.message
    assert results_of(state.result[incremented]) == [2, 3]
    assert report.exists()
    assert "<html" in executor.performance_report.lower()


# --- Crashes and interrupts --------------------------------------------------------------------


@pytest.mark.integration
@pytest.mark.timeout(150)
def test_a_task_killing_its_dask_worker_fails_the_run_instead_of_hanging():
    # Not retried on another worker: the scheduler gives up on the first death.
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        executor = DaskExecutor(
            cluster_kwargs={"n_workers": 1, "processes": True, "dashboard_address": ":0"}
        )
        with Flow("crash") as flow:
            t.kill_worker()

        start = time.monotonic()
        state = flow.run(executor=executor)
        elapsed = time.monotonic() - start

    assert state.is_failed()
    assert "kill_worker" in state.message  # the Dask key names the task
    # A hang never ends; a failing run takes seconds (cluster start-up and shutdown included),
    # but half a minute on a loaded 2-core machine.
    assert elapsed < 100, f"the run took {elapsed:.1f} s"


KILLED_WORKER_SCRIPT = textwrap.dedent(
    """
    import signal
    import sys

    sys.path.insert(0, {tasks_dir!r})
    import dask_tasks
    from prefect import Flow
    from prefect.executors import LocalDaskExecutor

    if __name__ == "__main__":
        with Flow("crash") as flow:
            dask_tasks.kill_worker()
        state = flow.run(executor=LocalDaskExecutor(scheduler="processes", num_workers=1))
        print("final state:", type(state).__name__)
    """
)


@pytest.mark.integration
@pytest.mark.timeout(120)
def test_a_task_killing_its_worker_process_fails_the_run_of_local_dask_executor(tmp_path):
    # In a child process of its own: a run that hangs is then stopped with its workers.
    script = tmp_path / "crash.py"
    script.write_text(
        KILLED_WORKER_SCRIPT.format(tasks_dir=os.path.dirname(t.__file__)), encoding="utf-8"
    )
    process = subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    # A hang never ends. Start-up included (Python, Prefect, Dask, a worker process: seconds
    # on a loaded machine); the run itself can fail in about a second.
    limit = 60
    try:
        output = process.communicate(timeout=limit)[0].decode()
    except subprocess.TimeoutExpired:
        pytest.fail(f"the flow run still runs {limit} s after the worker died")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    assert "final state: Failed" in output, output[-3000:]


CTRL_C_SCRIPT = textwrap.dedent(
    """
    import signal
    import sys

    sys.path.insert(0, {tasks_dir!r})
    import dask_tasks
    from prefect import Flow
    from prefect.executors import DaskExecutor, LocalDaskExecutor

    if __name__ == "__main__":
        # As in a terminal, whatever started the tests (a shell's background job ignores
        # SIGINT, and its children inherit that).
        signal.signal(signal.SIGINT, signal.default_int_handler)
        with Flow("interrupted") as flow:
            dask_tasks.wait_for_interrupt({marker!r})
        kind = sys.argv[1]
        if kind == "cluster":
            cluster_kwargs = {{"n_workers": 1, "processes": True, "dashboard_address": ":0"}}
            executor = DaskExecutor(cluster_kwargs=cluster_kwargs)
        else:
            executor = LocalDaskExecutor(scheduler=kind, num_workers=2)
        flow.run(executor=executor)
        print("the flow run returned")
    """
)


# How long the flow's process may take to exit after Ctrl-C, stopping its workers (seconds
# when it works; a run that ignores Ctrl-C goes on for the task's two minutes).
CTRL_C_LIMIT = 45


@pytest.mark.integration
@pytest.mark.timeout(180)  # above the sum of its generous deadlines
@pytest.mark.parametrize(
    ("executor_kind", "target"),
    [
        pytest.param("cluster", "process", id="DaskExecutor"),
        pytest.param("processes", "process group", id="LocalDaskExecutor-processes"),
        pytest.param(
            "processes",
            "process",
            id="LocalDaskExecutor-processes-only-the-flows-process-interrupted",
        ),
        pytest.param("threads", "process group", id="LocalDaskExecutor-threads"),
    ],
)
def test_ctrl_c_stops_the_run_and_leaves_no_processes_behind(tmp_path, executor_kind, target):
    marker = tmp_path / "started"
    script = tmp_path / "interrupted.py"
    script.write_text(
        CTRL_C_SCRIPT.format(tasks_dir=os.path.dirname(t.__file__), marker=str(marker)),
        encoding="utf-8",
    )
    process = subprocess.Popen(
        [sys.executable, str(script), executor_kind],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # a process group of its own, as a terminal gives
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert process.poll() is None, process.communicate()[0].decode()[-3000:]
            assert time.monotonic() < deadline, "the task never started"
            time.sleep(0.05)
        children = psutil.Process(process.pid).children(recursive=True)
        task_pid = int(marker.read_text(encoding="utf-8"))
        if executor_kind != "threads":
            assert task_pid in {child.pid for child in children}

        if target == "process group":  # Ctrl-C in a terminal
            os.killpg(process.pid, signal.SIGINT)
        else:  # the flow's process only: its workers are left for it to stop
            process.send_signal(signal.SIGINT)
        try:
            output = process.communicate(timeout=CTRL_C_LIMIT)[0].decode()
        except subprocess.TimeoutExpired:
            pytest.fail(f"the flow's process still runs {CTRL_C_LIMIT} s after Ctrl-C")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    assert process.returncode != 0
    assert "KeyboardInterrupt" in output
    assert "the flow run returned" not in output
    # Workers notice their parent's exit on their own: give them time on a loaded machine.
    _, alive = psutil.wait_procs(children, timeout=30)
    assert alive == [], f"left running: {alive}"


# --- Choosing the executor ---------------------------------------------------------------------


@pytest.fixture
def where_flow() -> tuple[Flow, Any]:
    with Flow("where") as flow:
        location = t.where()
    return flow, location


def test_flow_run_uses_the_executor_it_is_given(where_flow):
    flow, location = where_flow

    in_thread = flow.run(executor=LocalDaskExecutor())
    in_main = flow.run(executor=LocalExecutor())

    assert in_thread.result[location].result == (os.getpid(), False)
    assert in_main.result[location].result == (os.getpid(), True)


@pytest.mark.integration
def test_flow_run_uses_the_flows_executor_unless_given_another(where_flow, dask_cluster):
    flow, location = where_flow
    flow.executor = DaskExecutor(address=dask_cluster.scheduler_address)

    on_cluster = flow.run()
    overridden = flow.run(executor=LocalExecutor())

    assert on_cluster.result[location].result[0] != os.getpid()
    assert overridden.result[location].result == (os.getpid(), True)


def test_flow_run_uses_the_configured_default_executor_class(where_flow):
    flow, location = where_flow

    with set_temporary_config(
        {"engine.executor.default_class": "prefect.executors.LocalDaskExecutor"}
    ):
        state = flow.run()

    assert state.result[location].result == (os.getpid(), False)


def dask_cluster_pids(cluster: Any) -> set[int]:
    from distributed import Client

    with Client(cluster.scheduler_address, set_as_default=False) as client:
        return set(client.run(os.getpid).values())


@pytest.mark.integration
def test_the_configured_dask_executor_uses_the_configured_address(where_flow, dask_cluster):
    flow, location = where_flow
    config = {
        "engine.executor.default_class": "prefect.executors.DaskExecutor",
        "engine.executor.dask.address": dask_cluster.scheduler_address,
    }

    with set_temporary_config(config):
        state = flow.run()

    worker_pids = dask_cluster_pids(dask_cluster)
    assert state.result[location].result[0] in worker_pids


@pytest.mark.integration
@pytest.mark.skipif(HAS_BOKEH, reason="about runs where bokeh is missing")
def test_without_bokeh_a_performance_report_is_skipped_with_a_warning(
    dask_cluster, tmp_path, caplog
):
    report = tmp_path / "report.html"
    executor = DaskExecutor(
        address=dask_cluster.scheduler_address, performance_report_path=str(report)
    )
    with Flow("report") as flow:
        incremented = t.inc.map([1, 2])

    with caplog.at_level(logging.WARNING, logger="prefect.DaskExecutor"):
        state = flow.run(executor=executor)

    assert state.is_successful(), state.message
    assert results_of(state.result[incremented]) == [2, 3]
    assert not report.exists()
    assert any("bokeh" in record.getMessage() for record in caplog.records)


def test_local_dask_executor_callback_caches_the_results_of_each_batch():
    executor = LocalDaskExecutor(scheduler="sync")
    with Flow("cached-batches") as flow:
        incremented = t.inc.map([1, 2, 3])

    state = flow.run(executor=executor)

    assert state.is_successful(), state.message
    cached = executor.callback.cache
    assert cached and all(key.endswith("-batch") for key in cached)
    states = [s for results in cached.values() for s in results.values()]
    assert sorted(s.result for s in states if isinstance(s.result, int)) == [2, 3, 4]
    assert results_of(state.result[incremented]) == [2, 3, 4]
