"""Tasks for the executor tests, in a plain module that worker processes import by name.

`tests/executors/conftest.py` puts this directory on `sys.path` before any worker process is
started; spawned workers copy that `sys.path`, so whatever here is pickled by reference (the
`Multiply` class, the `record_run` helper that tasks call) imports in them as `dask_tasks`.

Side effects that must be seen across processes go to files: `record_run` appends a line naming
the task run to the file at `prefect.context["run_log"]`.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import prefect
from prefect import Task, task
from prefect.triggers import all_finished, any_failed


def record_run(label: str | None = None) -> None:
    """Append `<task name>[<map index>]` (or `label`) to the run log, when the run has one."""
    path = prefect.context.get("run_log")
    if path is None:
        return
    if label is None:
        index = prefect.context.get("map_index")
        label = prefect.context.get("task_name", "?")
        if index is not None:
            label = f"{label}[{index}]"
    with open(path, "a", encoding="utf-8") as log:
        log.write(f"{label}\n")


def read_run_log(path: Path) -> list[str]:
    """The lines `record_run` wrote, in order."""
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


@task
def inc(x: int) -> int:
    record_run()
    return x + 1


@task
def double(x: int) -> int:
    record_run()
    return 2 * x


@task
def add(x: int, y: int) -> int:
    record_run()
    return x + y


@task
def total(xs: list[int]) -> int:
    record_run()
    return sum(xs)


@task
def make_range(n: int) -> list[int]:
    record_run()
    return list(range(n))


@task
def is_even(x: int) -> bool:
    return x % 2 == 0


@task
def fail() -> None:
    record_run()
    raise ValueError("boom")


@task(trigger=any_failed)
def on_failure() -> str:
    return "handled"


@task(trigger=all_finished)
def cleanup() -> str:
    return "cleaned"


class Multiply(Task):
    """A class-based task: pickled by reference, so it only runs where `dask_tasks` imports."""

    def run(self, x: int, factor: int = 3) -> tuple[int, str]:  # type: ignore[override]
        record_run()
        return x * factor, type(self).__module__


@task(max_retries=2, retry_delay=timedelta(0))
def flaky() -> int:
    """Fails on its first attempt, succeeds on the next."""
    record_run()
    run_count = prefect.context.get("task_run_count")
    if run_count < 2:
        raise RuntimeError(f"attempt {run_count} fails")
    return run_count


SLOW_SECONDS = 120


@task(timeout=1)
def slow() -> str:
    """Runs `SLOW_SECONDS`, far beyond its 1 s timeout, in short naps: a run stopped in its
    thread (on Dask workers timeouts use threads) ends at the next nap, not minutes later."""
    deadline = time.monotonic() + SLOW_SECONDS
    while time.monotonic() < deadline:
        time.sleep(0.05)
    return "too late"


@task(cache_for=timedelta(minutes=10))
def cached_inc(x: int) -> int:
    record_run()
    return x + 1


@task
def context_values() -> tuple[Any, Any, Any]:
    """What a task sees of its context: its name, map index and the custom `x`."""
    return (
        prefect.context.get("task_name"),
        prefect.context.get("map_index"),
        prefect.context.get("x"),
    )


@task
def mapped_context_values(item: int) -> tuple[Any, Any, Any, int]:
    return (
        prefect.context.get("task_name"),
        prefect.context.get("map_index"),
        prefect.context.get("x"),
        item,
    )


@task
def where() -> tuple[int, bool]:
    """The process id and whether the run happened in the main thread."""
    return os.getpid(), threading.current_thread() is threading.main_thread()


@task
def say_hello(name: str) -> str:
    prefect.context.get("logger").info("Hello %s from process %d", name, os.getpid())
    return name


@task
def unpicklable() -> Any:
    return threading.Lock()


@task
def kill_worker() -> None:
    """Ends the worker process at once, as a crash would."""
    sys.stdout.flush()
    os._exit(1)


@task
def rendezvous(index: int, directory: str, expected: int, limit: float) -> int:
    """Marks child `index` as started in `directory`, then waits (at most `limit` seconds)
    until `expected` children have started; returns how many it saw. Children running one
    after another see only themselves and those before them."""
    folder = Path(directory)
    (folder / f"{index}.started").touch()
    deadline = time.monotonic() + limit
    while True:
        seen = len(list(folder.glob("*.started")))
        if seen >= expected or time.monotonic() > deadline:
            return seen
        time.sleep(0.02)


@task
def wait_for_interrupt(marker: str) -> None:
    """Writes its process id to `marker`, then waits two minutes in short sleeps, so that an
    exception raised in its thread between two of them (as on Ctrl-C) stops it."""
    Path(marker).write_text(str(os.getpid()), encoding="utf-8")
    for _ in range(1200):
        time.sleep(0.1)


def __getattr__(name: str) -> Any:
    # `RecordingLocalCluster` is made on first access: worker processes import this module,
    # and importing `distributed` would add a second to the start of every one of them.
    if name == "RecordingLocalCluster":
        cluster_class = globals()[name] = _recording_local_cluster()
        return cluster_class
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _recording_local_cluster() -> type:
    from distributed import LocalCluster

    class RecordingLocalCluster(LocalCluster):  # type: ignore[misc]
        """A `LocalCluster` remembering its instances and its `adapt` calls (for tests of
        temporary clusters made by `DaskExecutor` from a class or an import path)."""

        instances: list[RecordingLocalCluster] = []

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            self.adapt_calls: list[dict[str, Any]] = []
            super().__init__(*args, **kwargs)
            RecordingLocalCluster.instances.append(self)

        def adapt(self, *args: Any, **kwargs: Any) -> Any:
            self.adapt_calls.append(dict(kwargs))
            return super().adapt(*args, **kwargs)

    RecordingLocalCluster.__qualname__ = "RecordingLocalCluster"
    return RecordingLocalCluster


@task
def unpicklable_if_odd(x: int) -> Any:
    return threading.Lock() if x % 2 else x
