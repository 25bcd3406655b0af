from __future__ import annotations

import logging

from prefect import Flow
from prefect.engine.result import NoResult
from prefect.tasks.control_flow import FilterTask
from prefect.tasks.core.function import FunctionTask
from prefect.triggers import all_finished, all_successful


def test_default_filter_drops_none_exceptions_and_no_result():
    results = [1, None, ValueError("x"), NoResult, 0, "", False, [], "a"]
    assert FilterTask().run(results) == [1, 0, "", False, [], "a"]


def test_default_filter_keeps_order():
    assert FilterTask().run([3, None, 1, 2]) == [3, 1, 2]


def test_custom_filter_func():
    task = FilterTask(filter_func=lambda x: x % 2 == 0)
    assert task.run([1, 2, 3, 4]) == [2, 4]


def test_custom_filter_func_replaces_the_default():
    task = FilterTask(filter_func=lambda x: True)
    assert task.run([None, 1]) == [None, 1]


def test_log_func_receives_the_filtered_list():
    seen = []
    task = FilterTask(log_func=seen.append)
    assert task.run([1, None, 2]) == [1, 2]
    assert seen == [[1, 2]]


def test_log_func_string_is_logged(caplog):
    task = FilterTask(log_func=lambda kept: f"kept {len(kept)} results")
    with caplog.at_level(logging.INFO):
        task.run([1, None])
    assert "kept 1 results" in caplog.text


def test_attributes_and_defaults():
    task = FilterTask()
    assert callable(task.filter_func)
    assert task.log_func is None
    assert task.trigger is all_finished
    assert task.skip_on_upstream_skip is False


def test_defaults_can_be_overridden():
    task = FilterTask(trigger=all_successful, skip_on_upstream_skip=True, name="keep")
    assert task.trigger is all_successful
    assert task.skip_on_upstream_skip is True
    assert task.name == "keep"


def test_filter_binds_task_results_input():
    source = FunctionTask(lambda: [1], name="source")
    with Flow("f") as flow:
        filtered = FilterTask().bind(source)
    assert {(e.upstream_task, e.key) for e in flow.edges_to(filtered)} == {(source, "task_results")}
