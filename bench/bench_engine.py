"""Engine overhead: build and run flows of trivial tasks on the LocalExecutor.

Workloads (``N`` is the size; every task body is a line of arithmetic):

- ``chain``: N tasks in a line, each taking the previous one's result.
- ``wide``: N independent tasks gathered into one reduce (through the ``List`` task that
  passing a list of tasks creates, as a user's flow would).
- ``map``: one task mapped over ``range(N)``, then a reduce.
- ``map2``: a map over the children of a first map (N children each), then a reduce.
- ``diamond``: N / 4 diamonds ``a -> (b, c) -> d`` in a line, N tasks in all.

Each workload at each size runs in a fresh interpreter, so the peak RSS (``ru_maxrss``) is that
workload's alone. Logging stays as a user has it (INFO lines to stdout); the child's output goes to
a temporary file whose lines are counted, so the formatting and writing are paid as usual. Before
the timed flow, each child builds and runs a one-task flow (untimed) so that one-time costs (lazy
imports, loading the config) do not blur the per-task figures at small N.

Per-task cost is the ``flow.run()`` wall time divided by the task runs: mapped parents, each mapped
child, and the ``Constant`` task that holds a mapped list (1.x runs it too) count; a task's
unmapped constants are never run. The CPU column (``time.process_time()`` over the same span) is
the steadier figure on a shared machine; the targets use wall time. ``--repeat R`` runs each
measurement R times and keeps the fastest. Build time is the ``with Flow(...)`` block. The script prints a
markdown table, then checks the targets of the engine issue and prints PASS/FAIL for each; with
``--check`` it exits 1 if a target fails or a workload times out, errors or computes a wrong
result.

    python bench/bench_engine.py [--workloads chain,map] [--sizes 100,1000,10000] [--big]
                                 [--timeout 300] [--repeat 1] [--check]
                                 [--profile [--profile-top 10]]

``--big`` adds ``map`` at N = 100,000 (the peak-RSS target). ``--profile`` runs each child's build
and run under cProfile and prints their top functions by own time (timings are then inflated;
targets are not checked).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

WORKLOADS = ("chain", "wide", "map", "map2", "diamond")
DEFAULT_SIZES = (100, 1_000, 10_000)
BIG_MAP_SIZE = 100_000

# Targets of the engine issue.
MAX_US_PER_TASK = 200.0
TARGET_SIZES = (1_000, 10_000)
MAX_GROWTH = 1.5  # per-task cost at 10,000 over that at 100
MAX_BUILD_SECONDS = 1.0  # building a 10,000-task flow
MAX_BIG_MAP_RSS_MIB = 1024.0  # map at 100,000

# Executors (`--executor`) and the targets of the executors issue (`--scale`).
EXECUTORS = ("local", "threads", "processes", "sync", "dask")
MILLION = 1_000_000
MAX_MILLION_SECONDS = 60.0  # map over 1,000,000 on LocalExecutor
MAX_MILLION_RSS_MIB = 4096.0
MAX_KIB_PER_CHILD = 2.0  # peak RSS per mapped child at 1,000,000
MAX_MAP2_SECONDS = {"local": 30.0, "threads": 60.0}  # map2 over 100,000
MAX_DASK_MAP_SECONDS = 120.0  # map over 100,000 on DaskExecutor, 2-worker LocalCluster
MAX_THREADS_RATIO = 2.0  # LocalDaskExecutor(threads) per-task cost over LocalExecutor's, N=10,000


# ---------------------------------------------------------------------------------------------
# Child side: build one flow, run it, measure.


def _build(workload: str, size: int) -> tuple[Any, Callable[[Any], Any], Any]:
    """The flow, the task whose result is checked, and that result's expected value."""
    from prefect import Flow, task

    @task
    def inc(x: int) -> int:
        return x + 1

    @task
    def total(values: list[int]) -> int:
        return sum(values)

    @task
    def pick(left: int, right: int) -> int:
        return max(left, right)

    with Flow(f"bench-{workload}-{size}") as flow:
        if workload == "chain":
            last: Any = inc(0)
            for _ in range(size - 1):
                last = inc(last)
            expected: Any = size
        elif workload == "wide":
            last = total([inc(i) for i in range(size)])
            expected = sum(range(1, size + 1))
        elif workload == "map":
            last = total(inc.map(list(range(size))))
            expected = sum(range(1, size + 1))
        elif workload == "map2":
            last = total(inc.map(inc.map(list(range(size)))))
            expected = sum(range(2, size + 2))
        elif workload == "diamond":
            if size % 4:
                raise SystemExit(f"diamond needs a multiple of 4 tasks, got {size}")
            last = 0
            for _ in range(size // 4):
                top = inc(last)
                last = pick(inc(top), inc(top))
            expected = 2 * (size // 4)
        else:
            raise SystemExit(f"unknown workload {workload!r}; choose from {', '.join(WORKLOADS)}")
    return flow, last, expected


def _peak_rss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _count_task_runs(flow_state: Any) -> tuple[int, int]:
    """Task runs (mapped children included) and how many of them did not end successful."""
    from prefect.engine.state import Mapped

    runs = failed = 0
    pending = list(flow_state.result.values())
    while pending:
        state = pending.pop()
        runs += 1
        if not state.is_successful():
            failed += 1
        if isinstance(state, Mapped):
            pending.extend(state.map_states)
    return runs, failed


def _start_profile(profile_path: str | None) -> Any:
    if not profile_path:
        return None
    import cProfile

    profiler = cProfile.Profile()
    profiler.enable()
    return profiler


def _stop_profile(profiler: Any, profile_path: str | None, phase: str) -> None:
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(f"{profile_path}.{phase}")


def _executor(name: str) -> tuple[Any, Any]:
    """The executor for ``--executor NAME``, and what to close after the run (a cluster)."""
    if name == "local":
        from prefect.executors import LocalExecutor

        return LocalExecutor(), None
    if name in ("threads", "processes", "sync"):
        from prefect.executors import LocalDaskExecutor

        return LocalDaskExecutor(scheduler=name), None
    if name == "dask":
        from distributed import LocalCluster

        from prefect.executors import DaskExecutor

        # Started before the timing: the figures are about running tasks, not starting Dask.
        cluster = LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        )
        return DaskExecutor(address=cluster.scheduler_address), cluster
    raise SystemExit(f"unknown executor {name!r}; choose from {', '.join(EXECUTORS)}")


def run_child(
    workload: str, size: int, result_path: str, profile_path: str | None, executor_name: str
) -> None:
    """Build and run one workload; write the measurements as JSON to ``result_path``."""
    import logging

    import prefect

    executor, cluster = _executor(executor_name)

    rss_after_import = _peak_rss_mib()
    # The first flow pays one-time costs (modules imported on first use, the config loaded);
    # leave them out of the figures so per-task costs at N=100 and N=10,000 compare.
    start = time.perf_counter()
    _build("chain", 1)[0].run(executor=executor)
    warmup_seconds = time.perf_counter() - start

    profiler = _start_profile(profile_path)
    start = time.perf_counter()
    flow, last, expected = _build(workload, size)
    build_seconds = time.perf_counter() - start
    _stop_profile(profiler, profile_path, "build")

    profiler = _start_profile(profile_path)
    start, start_cpu = time.perf_counter(), time.process_time()
    state = flow.run(executor=executor)
    run_seconds = time.perf_counter() - start
    run_cpu_seconds = time.process_time() - start_cpu
    _stop_profile(profiler, profile_path, "run")
    if cluster is not None:
        cluster.close()

    runs, not_successful = _count_task_runs(state)
    task_state = state.result.get(last) if isinstance(state.result, dict) else None
    value = getattr(task_state, "result", None)
    report = {
        "workload": workload,
        "size": size,
        "flow_tasks": len(flow.tasks),
        "task_runs": runs,
        "not_successful": not_successful,
        "build_seconds": build_seconds,
        "run_seconds": run_seconds,
        "run_cpu_seconds": run_cpu_seconds,
        "peak_rss_mib": _peak_rss_mib(),
        "rss_after_import_mib": rss_after_import,
        "warmup_seconds": warmup_seconds,
        "final_state": repr(state),
        "flow_success": type(state).__name__ == "Success",
        "result_ok": value == expected,
        "logging_info": logging.getLogger("prefect").isEnabledFor(logging.INFO),
        "executor": executor_name,
        "prefect_file": prefect.__file__,
    }
    with open(result_path, "w", encoding="utf-8") as handle:
        json.dump(report, handle)


# ---------------------------------------------------------------------------------------------
# Parent side: one subprocess per measurement, the table and the targets.


@dataclass
class Measurement:
    workload: str
    size: int
    status: str  # "ok", "TIMEOUT", "ERROR", "WRONG"
    data: dict[str, Any]
    log_lines: int = 0
    wall_seconds: float = 0.0
    error: str = ""
    executor: str = "local"

    @property
    def us_per_task(self) -> float | None:
        if self.status != "ok":
            return None
        return float(self.data["run_seconds"]) / max(1, int(self.data["task_runs"])) * 1e6

    @property
    def cpu_us_per_task(self) -> float | None:
        if self.status != "ok":
            return None
        return float(self.data["run_cpu_seconds"]) / max(1, int(self.data["task_runs"])) * 1e6


def measure(
    workload: str,
    size: int,
    timeout: float,
    profile_path: str | None = None,
    executor: str = "local",
) -> Measurement:
    with tempfile.TemporaryDirectory(prefix="bench-engine-") as tmp:
        result_path = os.path.join(tmp, "result.json")
        log_path = os.path.join(tmp, "output.log")
        command = [sys.executable, __file__, "--child", workload, str(size), result_path]
        command += ["--child-executor", executor]
        if profile_path:
            command += ["--child-profile", profile_path]
        start = time.perf_counter()
        with open(log_path, "wb") as log:
            try:
                completed = subprocess.run(
                    command, stdout=log, stderr=subprocess.STDOUT, timeout=timeout
                )
            except subprocess.TimeoutExpired:
                return Measurement(
                    workload,
                    size,
                    "TIMEOUT",
                    {},
                    wall_seconds=time.perf_counter() - start,
                    executor=executor,
                )
        wall = time.perf_counter() - start
        with open(log_path, "rb") as log:
            log_lines = sum(chunk.count(b"\n") for chunk in iter(lambda: log.read(1 << 20), b""))
        if completed.returncode != 0 or not os.path.exists(result_path):
            with open(log_path, "rb") as log:
                log.seek(max(0, os.path.getsize(log_path) - 2000))
                tail = log.read().decode("utf-8", "replace")
            return Measurement(
                workload,
                size,
                "ERROR",
                {},
                log_lines,
                wall,
                f"exit {completed.returncode}\n{tail}",
                executor,
            )
        with open(result_path, encoding="utf-8") as handle:
            data = json.load(handle)
    status = "ok"
    error = ""
    if not (data["flow_success"] and data["result_ok"] and data["not_successful"] == 0):
        status = "WRONG"
        error = (
            f"final state {data['final_state']}, result ok: {data['result_ok']}, "
            f"task runs not successful: {data['not_successful']}"
        )
    return Measurement(workload, size, status, data, log_lines, wall, error, executor)


def table(measurements: list[Measurement]) -> str:
    lines = [
        "| executor | workload | N | task runs | build (s) | run (s) | µs per task "
        "| CPU µs per task | peak RSS (MiB) | log lines |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for m in measurements:
        if m.status in ("ok", "WRONG"):
            d = m.data
            runs = max(1, d["task_runs"])
            note = "" if m.status == "ok" else " (WRONG)"
            lines.append(
                f"| {m.executor} | {m.workload}{note} | {m.size:,} | {runs:,} "
                f"| {d['build_seconds']:.3f} | {d['run_seconds']:.2f} "
                f"| {d['run_seconds'] / runs * 1e6:,.0f} | {d['run_cpu_seconds'] / runs * 1e6:,.0f} "
                f"| {d['peak_rss_mib']:.0f} | {m.log_lines:,} |"
            )
        else:
            lines.append(
                f"| {m.executor} | {m.workload} | {m.size:,} | | | {m.status} after "
                f"{m.wall_seconds:.1f} s | | | | {m.log_lines:,} |"
            )
    return "\n".join(lines)


def check_targets(measurements: list[Measurement]) -> list[tuple[str, str, str]]:
    """(target, PASS/FAIL, detail) for each target of the engine issue (LocalExecutor runs)
    and of the executors issue."""
    checks = _engine_targets([m for m in measurements if m.executor == "local"])
    return checks + _executor_targets(measurements)


def _executor_targets(measurements: list[Measurement]) -> list[tuple[str, str, str]]:
    by_key = {(m.executor, m.workload, m.size): m for m in measurements}
    checks: list[tuple[str, str, str]] = []

    def verdict(ok: bool) -> str:
        return "PASS" if ok else "FAIL"

    def run_seconds(m: Measurement) -> float:
        return float(m.data["run_seconds"])

    million = by_key.get(("local", "map", MILLION))
    if million is not None:
        name = f"local map N={MILLION:,}: < {MAX_MILLION_SECONDS:.0f} s"
        if million.status != "ok":
            checks.append((name, "FAIL", million.status))
        else:
            seconds, rss = run_seconds(million), million.data["peak_rss_mib"]
            per_child = (rss - million.data["rss_after_import_mib"]) * 1024 / MILLION
            checks.append((name, verdict(seconds < MAX_MILLION_SECONDS), f"{seconds:.1f} s"))
            checks.append(
                (
                    f"local map N={MILLION:,}: peak RSS < {MAX_MILLION_RSS_MIB:.0f} MiB",
                    verdict(rss < MAX_MILLION_RSS_MIB),
                    f"{rss:.0f} MiB",
                )
            )
            checks.append(
                (
                    f"local map N={MILLION:,}: <= {MAX_KIB_PER_CHILD} KiB peak RSS per child",
                    verdict(per_child <= MAX_KIB_PER_CHILD),
                    f"{per_child:.2f} KiB",
                )
            )
    for executor, limit in MAX_MAP2_SECONDS.items():
        m = by_key.get((executor, "map2", BIG_MAP_SIZE))
        if m is not None:
            name = f"{executor} map2 N={BIG_MAP_SIZE:,}: < {limit:.0f} s"
            ok = m.status == "ok"
            detail = f"{run_seconds(m):.1f} s" if ok else m.status
            checks.append((name, verdict(ok and run_seconds(m) < limit), detail))
    m = by_key.get(("dask", "map", BIG_MAP_SIZE))
    if m is not None:
        name = f"dask map N={BIG_MAP_SIZE:,}: < {MAX_DASK_MAP_SECONDS:.0f} s"
        ok = m.status == "ok"
        detail = f"{run_seconds(m):.1f} s" if ok else m.status
        checks.append((name, verdict(ok and run_seconds(m) < MAX_DASK_MAP_SECONDS), detail))
    for workload in WORKLOADS:
        local = by_key.get(("local", workload, 10_000))
        threads = by_key.get(("threads", workload, 10_000))
        if local is None or threads is None:
            continue
        name = f"threads {workload} N=10,000: per-task <= {MAX_THREADS_RATIO:.0f}x local"
        if local.status != "ok" or threads.status != "ok":
            checks.append((name, "FAIL", f"local {local.status}, threads {threads.status}"))
            continue
        ratio = (threads.us_per_task or 0.0) / (local.us_per_task or 1.0)
        checks.append((name, verdict(ratio <= MAX_THREADS_RATIO), f"{ratio:.2f}x"))
    return checks


def _engine_targets(measurements: list[Measurement]) -> list[tuple[str, str, str]]:
    by_key = {(m.workload, m.size): m for m in measurements}
    workloads = list(dict.fromkeys(m.workload for m in measurements))
    checks: list[tuple[str, str, str]] = []

    def verdict(ok: bool) -> str:
        return "PASS" if ok else "FAIL"

    for size in TARGET_SIZES:
        for workload in workloads:
            m = by_key.get((workload, size))
            name = f"{workload} N={size:,}: <= {MAX_US_PER_TASK:.0f} µs per task"
            if m is None:
                continue
            if m.status != "ok":
                checks.append((name, "FAIL", m.status))
                continue
            per_task = m.us_per_task or 0.0
            checks.append((name, verdict(per_task <= MAX_US_PER_TASK), f"{per_task:,.0f} µs"))

    for workload in workloads:
        small, large = by_key.get((workload, 100)), by_key.get((workload, 10_000))
        name = f"{workload}: per-task at N=10,000 <= {MAX_GROWTH}x N=100"
        if small is None or large is None:
            continue
        if small.status != "ok" or large.status != "ok":
            checks.append((name, "FAIL", f"N=100 {small.status}, N=10,000 {large.status}"))
            continue
        ratio = (large.us_per_task or 0.0) / (small.us_per_task or 1.0)
        checks.append((name, verdict(ratio <= MAX_GROWTH), f"{ratio:.2f}x"))

    # Maps build a handful of tasks whatever N is; the target is about flows of 10,000 tasks.
    for m in measurements:
        if m.size == 10_000 and m.status == "ok" and m.data["flow_tasks"] >= 10_000:
            seconds = m.data["build_seconds"]
            checks.append(
                (
                    f"{m.workload}: build the 10,000-task flow < {MAX_BUILD_SECONDS:.0f} s",
                    verdict(seconds < MAX_BUILD_SECONDS),
                    f"{seconds:.3f} s",
                )
            )

    big = by_key.get(("map", BIG_MAP_SIZE))
    if big is not None:
        name = f"map N={BIG_MAP_SIZE:,}: peak RSS < {MAX_BIG_MAP_RSS_MIB:.0f} MiB"
        if big.status != "ok":
            checks.append((name, "FAIL", big.status))
        else:
            rss = big.data["peak_rss_mib"]
            checks.append((name, verdict(rss < MAX_BIG_MAP_RSS_MIB), f"{rss:.0f} MiB"))
    return checks


def print_profile(path: str, top: int) -> None:
    """The ``top`` functions by own time, named ``folder/file.py:line(function)``."""
    import pstats

    stats = pstats.Stats(path)
    total = stats.total_tt  # type: ignore[attr-defined]
    rows = sorted(stats.stats.items(), key=lambda item: -item[1][2])  # type: ignore[attr-defined]
    print(f"{'calls':>9} {'tottime':>8} {'cumtime':>8} {'own %':>6}  function")
    for (filename, line, function), (_, calls, tottime, cumtime, _) in rows[:top]:
        if filename == "~":
            where = function
        else:
            folder, name = os.path.split(filename)
            where = f"{os.path.basename(folder)}/{name}:{line}({function})"
        share = 100 * tottime / total if total else 0.0
        print(f"{calls:>9} {tottime:>8.3f} {cumtime:>8.3f} {share:>5.1f}%  {where}")
    print(f"(total {total:.3f} s profiled)")


def _csv(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--workloads",
        type=_csv,
        default=list(WORKLOADS),
        help=f"comma-separated, from {','.join(WORKLOADS)} (default all)",
    )
    parser.add_argument(
        "--sizes",
        type=lambda value: [int(part) for part in _csv(value)],
        default=list(DEFAULT_SIZES),
        help="comma-separated N values (default 100,1000,10000)",
    )
    parser.add_argument(
        "--big", action="store_true", help=f"also run map at N={BIG_MAP_SIZE:,} (slow)"
    )
    parser.add_argument(
        "--executor",
        type=_csv,
        default=["local"],
        help="comma-separated, from local (default), threads/processes/sync "
        "(LocalDaskExecutor), dask (DaskExecutor on a 2-worker LocalCluster)",
    )
    parser.add_argument("--child-executor", default="local", help=argparse.SUPPRESS)
    parser.add_argument(
        "--scale",
        action="store_true",
        help=f"also the big maps of the executors issue: map at N={MILLION:,} and map2 at "
        f"N={BIG_MAP_SIZE:,} (map at N={BIG_MAP_SIZE:,} on dask)",
    )
    parser.add_argument(
        "--timeout", type=float, default=300.0, help="seconds per workload (default 300)"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="runs per workload and size, each in a fresh child; the fastest is kept (default 1)",
    )
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if a target fails or a workload does not pass"
    )
    parser.add_argument(
        "--profile", action="store_true", help="cProfile each run and print its hot spots"
    )
    parser.add_argument("--profile-top", type=int, default=10, help="functions per profile")
    parser.add_argument(
        "--child", nargs=3, metavar=("WORKLOAD", "N", "RESULT"), help=argparse.SUPPRESS
    )
    parser.add_argument("--child-profile", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        workload, size, result_path = args.child
        run_child(workload, int(size), result_path, args.child_profile, args.child_executor)
        return 0

    unknown = [w for w in args.workloads if w not in WORKLOADS]
    if unknown:
        parser.error(
            f"unknown workload(s) {', '.join(unknown)}; choose from {', '.join(WORKLOADS)}"
        )
    unknown = [e for e in args.executor if e not in EXECUTORS]
    if unknown:
        parser.error(
            f"unknown executor(s) {', '.join(unknown)}; choose from {', '.join(EXECUTORS)}"
        )
    runs = []
    for executor in args.executor:
        executor_runs = [(w, n) for n in args.sizes for w in args.workloads]
        if args.big and ("map", BIG_MAP_SIZE) not in executor_runs:
            executor_runs.append(("map", BIG_MAP_SIZE))
        if args.scale:
            big_runs = (
                [("map", BIG_MAP_SIZE)]
                if executor == "dask"
                else [("map", MILLION), ("map2", BIG_MAP_SIZE)]
            )
            executor_runs += [run for run in big_runs if run not in executor_runs]
        runs += [(executor, w, n) for w, n in executor_runs]

    measurements = []
    with tempfile.TemporaryDirectory(prefix="bench-engine-profiles-") as profiles:
        for executor, workload, size in runs:
            profile_path = (
                os.path.join(profiles, f"{executor}-{workload}-{size}.prof")
                if args.profile
                else None
            )
            print(
                f"running {workload} N={size:,} on {executor} ...",
                end=" ",
                file=sys.stderr,
                flush=True,
            )
            m = measure(workload, size, args.timeout, profile_path, executor)
            for _ in range(args.repeat - 1):
                if m.status != "ok":
                    break
                again = measure(workload, size, args.timeout, executor=executor)
                if again.status != "ok" or again.data["run_seconds"] < m.data["run_seconds"]:
                    m = again
            measurements.append(m)
            per_task = m.us_per_task
            summary = f"{per_task:,.0f} µs per task" if per_task is not None else m.status
            print(f"{summary} ({m.wall_seconds:.1f} s)", file=sys.stderr, flush=True)
            if m.error:
                print(m.error, file=sys.stderr)
            for phase in ("build", "run"):
                if profile_path and os.path.exists(f"{profile_path}.{phase}"):
                    print(
                        f"\n### profile of the {phase}: {workload} N={size:,} "
                        f"(top {args.profile_top} by tottime)\n"
                    )
                    print_profile(f"{profile_path}.{phase}", args.profile_top)

    ok = [m for m in measurements if m.status == "ok"]
    print(flush=True)
    print(table(measurements))
    if ok:
        first = ok[0].data
        warmups = [m.data["warmup_seconds"] for m in ok]
        print(
            f"\nPython {sys.version.split()[0]}, executors {', '.join(args.executor)}, "
            f"logging at INFO: "
            f"{all(m.data['logging_info'] for m in ok)}; "
            f"peak RSS after `import prefect` alone: ~{first['rss_after_import_mib']:.0f} MiB; "
            f"not timed: a first one-task flow (build and run, lazy imports included) in each "
            f"child, {min(warmups):.2f}-{max(warmups):.2f} s"
        )
    if args.profile:
        print("\n(profiled runs: timings inflated by cProfile; targets not checked)")
        return 1 if args.check and len(ok) != len(measurements) else 0

    checks = check_targets(measurements)
    if checks:
        print("\nTargets:")
        for name, result, detail in checks:
            print(f"  {result:<4}  {name}  ({detail})")
    failed = any(result == "FAIL" for _, result, _ in checks) or len(ok) != len(measurements)
    return 1 if args.check and failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
