from __future__ import annotations

import inspect
import logging
from typing import Any

import pytest

from prefect.executors import Executor, LocalExecutor


class RecordingExecutor(Executor):
    """A user-style executor: runs eagerly and records every call it gets."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, Any]] = []

    def submit(self, fn, *args, extra_context=None, **kwargs):
        self.calls.append(("submit", (fn, args, kwargs, extra_context)))
        return fn(*args, **kwargs)

    def wait(self, futures):
        self.calls.append(("wait", futures))
        return futures


class TestExecutor:
    def test_init_sets_a_prefect_logger_named_after_the_class(self):
        executor = Executor()
        assert isinstance(executor.logger, logging.Logger)
        assert executor.logger.name == "prefect.Executor"
        assert LocalExecutor().logger.name == "prefect.LocalExecutor"

    def test_repr_names_the_class(self):
        assert repr(Executor()) == "<Executor: Executor>"
        assert repr(LocalExecutor()) == "<Executor: LocalExecutor>"
        assert repr(RecordingExecutor()) == "<Executor: RecordingExecutor>"

    def test_start_is_a_reusable_context_manager_yielding_none(self):
        executor = Executor()
        with executor.start() as started:
            assert started is None
        with executor.start() as started_again:
            assert started_again is None

    def test_submit_is_abstract(self):
        with pytest.raises(NotImplementedError, match="Executor does not implement `submit`"):
            Executor().submit(lambda: 1)

    def test_wait_is_abstract(self):
        with pytest.raises(NotImplementedError, match="Executor does not implement `wait`"):
            Executor().wait([1])

    def test_extra_context_is_keyword_only(self):
        parameters = inspect.signature(Executor.submit).parameters
        assert parameters["extra_context"].kind is inspect.Parameter.KEYWORD_ONLY
        assert parameters["extra_context"].default is None


class TestSubclassing:
    def test_a_subclass_implementing_submit_and_wait_gets_start_from_the_base(self):
        executor = RecordingExecutor()
        with executor.start():
            future = executor.submit(pow, 2, 5, extra_context={"task_name": "p"})
            result = executor.wait({"p": future})
        assert result == {"p": 32}
        assert executor.calls == [
            ("submit", (pow, (2, 5), {}, {"task_name": "p"})),
            ("wait", {"p": 32}),
        ]

    def test_a_subclass_may_add_set_up_in_start(self):
        events: list[str] = []

        class WithResources(RecordingExecutor):
            from contextlib import contextmanager

            @contextmanager
            def start(self):
                events.append("up")
                try:
                    yield
                finally:
                    events.append("down")

        executor = WithResources()
        with pytest.raises(RuntimeError), executor.start():
            executor.submit(lambda: events.append("run"))
            raise RuntimeError("flow run broke")
        assert events == ["up", "run", "down"]
