from __future__ import annotations

import warnings

import pytest

import prefect.executors
from prefect.engine.executors.local import LocalExecutor


def test_construction_warns_and_points_at_the_new_path():
    with pytest.warns(UserWarning, match=r"`prefect\.executors\.LocalExecutor`") as record:
        LocalExecutor()
    assert record[0].filename == __file__  # attributed to the caller, not to prefect


def test_the_legacy_class_is_the_new_one_underneath():
    with pytest.warns(UserWarning):
        executor = LocalExecutor()
    assert isinstance(executor, prefect.executors.LocalExecutor)
    assert executor.submit(divmod, 7, 2) == (3, 1)
    assert executor.wait([1]) == [1]
    assert repr(executor) == "<Executor: LocalExecutor>"
    assert executor.logger.name == "prefect.LocalExecutor"


def test_subclasses_of_the_legacy_class_warn_too():
    class Mine(LocalExecutor):
        pass

    with pytest.warns(UserWarning, match="has been moved"):
        executor = Mine()
    assert isinstance(executor, Mine)


def test_the_new_class_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        prefect.executors.LocalExecutor()
