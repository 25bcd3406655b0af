from __future__ import annotations

import pytest

from prefect.run_configs import ECSRun

TASK_DEFINITION = {"containerDefinitions": [{"name": "flow", "image": "img"}], "cpu": "256"}
TASK_DEFINITION_YAML = """
containerDefinitions:
  - name: flow
    image: img
cpu: "256"
"""


def test_defaults():
    config = ECSRun()
    for attr in (
        "task_definition",
        "task_definition_path",
        "task_definition_arn",
        "image",
        "env",
        "cpu",
        "memory",
        "task_role_arn",
        "execution_role_arn",
        "run_task_kwargs",
    ):
        assert getattr(config, attr) is None, attr
    assert config.labels == set()


def test_all_arguments_are_stored():
    config = ECSRun(
        task_definition=TASK_DEFINITION,
        image="img:2",
        env={"A": "1"},
        cpu="1 vcpu",
        memory="2 GB",
        task_role_arn="task-role",
        execution_role_arn="exec-role",
        run_task_kwargs={"cluster": "c"},
        labels=["ecs"],
    )
    assert config.task_definition == TASK_DEFINITION
    assert config.image == "img:2"
    assert config.cpu == "1 vcpu"
    assert config.memory == "2 GB"
    assert config.task_role_arn == "task-role"
    assert config.execution_role_arn == "exec-role"
    assert config.run_task_kwargs == {"cluster": "c"}
    assert config.labels == {"ecs"}


def test_numeric_cpu_and_memory_are_stored_as_text():
    config = ECSRun(cpu=1024, memory=2048)
    assert config.cpu == "1024"
    assert config.memory == "2048"


def test_task_definition_yaml_text_is_parsed():
    assert ECSRun(task_definition=TASK_DEFINITION_YAML).task_definition == TASK_DEFINITION


def test_local_task_definition_path_is_read_now(tmp_path):
    path = tmp_path / "task.yaml"
    path.write_text(TASK_DEFINITION_YAML)
    config = ECSRun(task_definition_path=str(path))
    assert config.task_definition == TASK_DEFINITION
    assert config.task_definition_path is None


def test_remote_task_definition_path_is_kept_for_the_agent():
    config = ECSRun(task_definition_path="s3://bucket/task.yaml")
    assert config.task_definition_path == "s3://bucket/task.yaml"
    assert config.task_definition is None


def test_task_definition_arn_is_stored():
    assert ECSRun(task_definition_arn="arn:x").task_definition_arn == "arn:x"


@pytest.mark.parametrize(
    "kwargs, names",
    [
        (
            {"task_definition": TASK_DEFINITION, "task_definition_path": "s3://b/t.yaml"},
            "`task_definition` and `task_definition_path`",
        ),
        (
            {"task_definition": TASK_DEFINITION, "task_definition_arn": "arn"},
            "`task_definition` and `task_definition_arn`",
        ),
        (
            {"task_definition_path": "s3://b/t.yaml", "task_definition_arn": "arn"},
            "`task_definition_path` and `task_definition_arn`",
        ),
    ],
)
def test_two_task_definition_sources_are_refused(kwargs, names):
    with pytest.raises(ValueError, match=names):
        ECSRun(**kwargs)


def test_image_with_task_definition_arn_is_refused():
    with pytest.raises(ValueError, match="`task_definition_arn` and `image`"):
        ECSRun(task_definition_arn="arn", image="img")
