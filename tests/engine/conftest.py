"""Fixtures of the engine tests: every executor a flow run may be handed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

import pytest

from prefect.executors.base import Executor
from prefect.executors.local import LocalExecutor


class Submission(NamedTuple):
    """One `Executor.submit` call, as the executor received it."""

    fn: Callable
    args: tuple
    kwargs: dict[str, Any]
    extra_context: dict | None


class RecordingExecutor(Executor):
    """A user-style `Executor` subclass: runs every submission at once and records every call.

    It implements only the public interface (`start`, `submit`, `wait`), the way a user would
    write an executor against Prefect 1.x, so tests can check what the flow runner asks of it.
    """

    def __init__(self) -> None:
        super().__init__()
        self.starts = 0
        self.submissions: list[Submission] = []
        self.waits: list[Any] = []

    @contextmanager
    def start(self) -> Iterator[None]:
        self.starts += 1
        yield

    def submit(
        self, fn: Callable, *args: Any, extra_context: dict | None = None, **kwargs: Any
    ) -> Any:
        self.submissions.append(Submission(fn, args, kwargs, extra_context))
        return fn(*args, **kwargs)

    def wait(self, futures: Any) -> Any:
        self.waits.append(futures)
        return futures

    def task_runs(self) -> list[Submission]:
        """The submissions that are task runs (`flow_runner.run_task`), in submission order."""
        from prefect.engine.flow_runner import run_task

        return [s for s in self.submissions if s.fn is run_task]

    def task_run_names(self) -> list[str]:
        """The name of the task of each task-run submission, `name[i]` for mapped children."""
        names = []
        for submission in self.task_runs():
            task = submission.kwargs["task"]
            index = submission.kwargs["context"].get("map_index")
            if submission.kwargs.get("is_mapped_parent"):
                names.append(f"{task.name}(parent)")
            elif index is None:
                names.append(task.name)
            else:
                names.append(f"{task.name}[{index}]")
        return names


EXECUTOR_FACTORIES: dict[str, Callable[[], Executor]] = {
    "local": LocalExecutor,
    "recording": RecordingExecutor,
}


@pytest.fixture(params=sorted(EXECUTOR_FACTORIES))
def executor(request: pytest.FixtureRequest) -> Executor:
    """A fresh executor of each kind: `LocalExecutor()` and a recording `Executor` subclass."""
    return EXECUTOR_FACTORIES[request.param]()


@pytest.fixture
def recording_executor() -> RecordingExecutor:
    """A fresh `RecordingExecutor`, for tests about the calls the flow runner makes."""
    return RecordingExecutor()
