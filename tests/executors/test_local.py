from __future__ import annotations

import threading

import pytest

from prefect.executors import Executor, LocalExecutor


def test_local_executor_is_an_executor():
    assert issubclass(LocalExecutor, Executor)


def test_submit_runs_the_function_immediately_in_the_calling_thread():
    seen: list[int] = []
    LocalExecutor().submit(lambda: seen.append(threading.get_ident()))
    assert seen == [threading.get_ident()]


def test_submit_returns_the_result_and_passes_args_and_kwargs():
    def combine(a, b, *, c):
        return (a, b, c)

    assert LocalExecutor().submit(combine, 1, 2, c=3) == (1, 2, 3)


def test_extra_context_is_not_passed_to_the_function():
    def takes_kwargs(**kwargs):
        return kwargs

    result = LocalExecutor().submit(takes_kwargs, extra_context={"task_name": "x"}, y=1)
    assert result == {"y": 1}


def test_submit_propagates_the_functions_exception_unchanged():
    error = ValueError("boom")

    def fail():
        raise error

    with pytest.raises(ValueError) as info:
        LocalExecutor().submit(fail)
    assert info.value is error


def test_wait_returns_its_argument_unchanged():
    nested = {"a": [1, (2, 3)], "b": {4}}
    assert LocalExecutor().wait(nested) is nested
    assert LocalExecutor().wait(None) is None


def test_start_yields_none():
    with LocalExecutor().start() as started:
        assert started is None
