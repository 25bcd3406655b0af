import pytest

import prefect
from prefect.engine import (
    get_default_executor_class,
    get_default_flow_runner_class,
    get_default_task_runner_class,
)
from prefect.engine.flow_runner import FlowRunner
from prefect.engine.task_runner import TaskRunner
from prefect.executors import LocalExecutor
from prefect.utilities.configuration import set_temporary_config


class MyFlowRunner(FlowRunner):
    pass


def test_defaults_are_the_1x_classes():
    assert get_default_executor_class() is LocalExecutor
    assert get_default_flow_runner_class() is FlowRunner
    assert get_default_task_runner_class() is TaskRunner


def test_the_config_path_is_resolved_at_each_call():
    with set_temporary_config({"engine.flow_runner.default_class": f"{__name__}.MyFlowRunner"}):
        assert get_default_flow_runner_class() is MyFlowRunner
    assert get_default_flow_runner_class() is FlowRunner


@pytest.mark.parametrize(
    "key, getter, fallback",
    [
        ("engine.executor.default_class", get_default_executor_class, LocalExecutor),
        ("engine.flow_runner.default_class", get_default_flow_runner_class, FlowRunner),
        ("engine.task_runner.default_class", get_default_task_runner_class, TaskRunner),
    ],
)
def test_a_bad_path_warns_and_falls_back(key, getter, fallback):
    with set_temporary_config({key: "no.such.module.Class"}):
        with pytest.warns(UserWarning, match="no.such.module.Class"):
            assert getter() is fallback


def test_a_class_object_in_the_config_is_used_as_is():
    with set_temporary_config({"engine.flow_runner.default_class": MyFlowRunner}):
        assert get_default_flow_runner_class() is MyFlowRunner


def test_flow_run_uses_the_configured_flow_runner():
    used = []

    class Recording(FlowRunner):
        def run(self, *args, **kwargs):
            used.append(self)
            return super().run(*args, **kwargs)

    @prefect.task
    def one():
        return 1

    with prefect.Flow("f") as flow:
        one()

    with set_temporary_config({"engine.flow_runner.default_class": Recording}):
        assert flow.run().is_successful()
    assert len(used) == 1
