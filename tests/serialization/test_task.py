from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

import prefect
from prefect import Flow, Parameter, Task
from prefect.core.parameter import DateTimeParameter
from prefect.engine import cache_validators
from prefect.serialization import task as task_schemas
from prefect.serialization.task import ParameterSchema, TaskMethodsMixin, TaskSchema
from prefect.tasks.core.constants import Constant
from prefect.tasks.core.operators import GetItem

VERSION = prefect.__version__

TASK_KEYS = {
    "__version__",
    "type",
    "name",
    "slug",
    "tags",
    "max_retries",
    "retry_delay",
    "inputs",
    "outputs",
    "timeout",
    "trigger",
    "skip_on_upstream_skip",
    "cache_for",
    "cache_key",
    "cache_validator",
    "auto_generated",
}


class AddTask(Task):
    def run(self, x, y: int = 1) -> int:  # type: ignore[override]
        return x + y


def test_schema_names_of_the_reference_exist():
    assert issubclass(TaskSchema, TaskMethodsMixin)
    assert issubclass(ParameterSchema, TaskMethodsMixin)
    assert set(task_schemas.__all__) == {"TaskMethodsMixin", "TaskSchema", "ParameterSchema"}


def test_a_default_task_dumps_the_1x_task_object():
    assert TaskSchema().dump(Task(name="hi")) == {
        "type": "prefect.core.task.Task",
        "name": "hi",
        "slug": None,
        "tags": [],
        "max_retries": 0,
        "retry_delay": None,
        "inputs": {},
        "outputs": "None",
        "timeout": None,
        "trigger": {"fn": "prefect.triggers.all_successful", "kwargs": {}},
        "skip_on_upstream_skip": True,
        "cache_for": None,
        "cache_key": None,
        "cache_validator": {"fn": "prefect.engine.cache_validators.never_use", "kwargs": {}},
        "auto_generated": False,
        "__version__": VERSION,
    }


def test_task_settings_dump_as_seconds_sorted_tags_and_function_references():
    task = Task(
        name="t",
        slug="t-x",
        tags=["b", "a"],
        max_retries=3,
        retry_delay=timedelta(minutes=1),
        timeout=timedelta(seconds=30),
        trigger=prefect.triggers.all_failed,
        skip_on_upstream_skip=False,
        cache_for=timedelta(hours=1),
        cache_key="k",
        cache_validator=cache_validators.all_inputs,
    )
    data = TaskSchema().dump(task)
    assert set(data) == TASK_KEYS
    assert data["slug"] == "t-x"
    assert data["tags"] == ["a", "b"]
    assert (data["max_retries"], data["retry_delay"], data["timeout"]) == (3, 60, 30)
    assert data["cache_for"] == 3600
    assert data["cache_key"] == "k"
    assert data["skip_on_upstream_skip"] is False
    assert data["trigger"] == {"fn": "prefect.triggers.all_failed", "kwargs": {}}
    assert data["cache_validator"] == {
        "fn": "prefect.engine.cache_validators.all_inputs",
        "kwargs": {},
    }
    json.dumps(data)


def _user_task_class() -> type:
    """A Task subclass compiled without postponed annotations, like most 1.x user code."""
    source = (
        "class UserAdd(Task):\n    def run(self, x, y: int = 1) -> int:\n        return x + y\n"
    )
    namespace: dict = {"Task": Task, "__name__": "user_flows"}
    exec(compile(source, "<user>", "exec", dont_inherit=True), namespace)
    return namespace["UserAdd"]


def test_inputs_and_outputs_are_described_by_their_types_as_text():
    data = TaskSchema().dump(_user_task_class()())
    assert data["type"] == "user_flows.UserAdd"
    assert data["inputs"] == {
        "x": {"required": True, "type": str(Any)},
        "y": {"required": False, "type": str(int)},
    }
    assert data["outputs"] == str(int)


def test_string_annotations_of_user_tasks_are_kept_as_written():
    # This module uses postponed annotations: as in 1.x, the text is what was written.
    data = TaskSchema().dump(AddTask())
    assert data["type"] == f"{__name__}.AddTask"
    assert data["inputs"]["y"] == {"required": False, "type": "int"}
    assert data["outputs"] == "int"


def test_prefect_tasks_with_postponed_annotations_dump_evaluated_types():
    # Our modules use `from __future__ import annotations`; 1.x wrote the evaluated types.
    data = TaskSchema().dump(GetItem())
    assert data["outputs"] == "typing.Any"
    assert data["inputs"]["key"] == {"required": True, "type": "typing.Any"}
    assert TaskSchema().dump(Constant(1))["outputs"] == "typing.Any"


def test_stateful_trigger_dumps_its_factory_and_arguments_and_loads_back():
    task = Task(trigger=prefect.triggers.some_successful(at_least=2, at_most=5))
    data = TaskSchema().dump(task)
    assert data["trigger"] == {
        "fn": "prefect.triggers.some_successful",
        "kwargs": {"at_least": 2, "at_most": 5},
    }
    loaded = TaskSchema().load(data)
    assert TaskSchema().dump(loaded)["trigger"] == data["trigger"]


@pytest.mark.parametrize(
    "trigger",
    [
        prefect.triggers.all_finished,
        prefect.triggers.manual_only,
        prefect.triggers.all_successful,
        prefect.triggers.all_failed,
        prefect.triggers.any_successful,
        prefect.triggers.any_failed,
        prefect.triggers.not_all_skipped,
    ],
)
def test_every_library_trigger_round_trips_to_the_same_function(trigger):
    data = TaskSchema().dump(Task(trigger=trigger))
    assert data["trigger"]["fn"] == f"prefect.triggers.{trigger.__name__}"
    assert TaskSchema().load(data).trigger is trigger


def test_a_custom_trigger_dumps_as_its_qualified_name_and_loads_as_that_text():
    def my_trigger(upstream_states):
        return True

    data = TaskSchema().dump(Task(trigger=my_trigger))
    assert data["trigger"] == f"{__name__}.{my_trigger.__qualname__}"
    loaded = TaskSchema().load(data)
    assert loaded.trigger == data["trigger"]
    assert TaskSchema().dump(loaded) == data


def test_a_custom_cache_validator_dumps_as_its_name_and_back():
    def my_validator(state, inputs, parameters):
        return True

    task = Task(cache_for=timedelta(seconds=5), cache_validator=my_validator)
    data = TaskSchema().dump(task)
    assert data["cache_validator"] == f"{__name__}.{my_validator.__qualname__}"
    assert TaskSchema().dump(TaskSchema().load(data)) == data


def test_partial_cache_validator_round_trips_with_its_arguments():
    validator = cache_validators.partial_inputs_only(validate_on=["x"])
    task = Task(cache_for=timedelta(minutes=5), cache_validator=validator)
    data = TaskSchema().dump(task)
    assert data["cache_validator"] == {
        "fn": "prefect.engine.cache_validators.partial_inputs_only",
        "kwargs": {"validate_on": ["x"]},
    }
    assert TaskSchema().dump(TaskSchema().load(data)) == data


def test_load_gives_a_placeholder_task_with_the_stored_settings():
    task = AddTask(
        name="add",
        slug="add-7",
        tags=["x"],
        max_retries=2,
        retry_delay=timedelta(seconds=5),
        timeout=10,
        skip_on_upstream_skip=False,
        cache_for=timedelta(hours=1),
        cache_key="key",
    )
    task.auto_generated = True
    loaded = TaskSchema().load(TaskSchema().dump(task))
    assert type(loaded) is Task
    for attribute in (
        "name",
        "slug",
        "tags",
        "max_retries",
        "retry_delay",
        "timeout",
        "trigger",
        "skip_on_upstream_skip",
        "cache_for",
        "cache_key",
        "cache_validator",
        "auto_generated",
    ):
        assert getattr(loaded, attribute) == getattr(task, attribute), attribute


def test_a_placeholder_dumps_as_the_task_it_stands_for():
    data = TaskSchema().dump(AddTask(slug="a"))
    assert TaskSchema().dump(TaskSchema().load(data)) == data


def test_load_without_creating_an_object_gives_the_fields():
    data = TaskSchema().dump(Task(name="t", slug="s"))
    loaded = TaskSchema().load(data, create_object=False)
    assert isinstance(loaded, dict)
    assert loaded["slug"] == "s"
    assert loaded["type"] == "prefect.core.task.Task"
    assert "__version__" not in loaded


def test_an_empty_dict_loads_as_a_default_task_and_unknown_keys_are_ignored():
    assert type(TaskSchema().load({})) is Task
    loaded = TaskSchema().load({"name": "n", "id": "abc", "mapped": True, "__version__": "0.1"})
    assert loaded.name == "n"


def test_dumping_a_mapping_reads_its_keys():
    data = TaskSchema().dump({"name": "n", "type": "x.Y", "inputs": {}, "outputs": "int"})
    assert data["name"] == "n"
    assert data["type"] == "x.Y"
    assert data["outputs"] == "int"


def test_one_load_gives_one_task_per_slug_and_separate_loads_do_not_share():
    schema = TaskSchema()
    first, second, other = schema.load([{"slug": "a"}, {"slug": "a"}, {"slug": "b"}], many=True)
    assert first is second
    assert first is not other
    assert schema.load({"slug": "a"}) is not first


def test_dumping_a_task_never_indexes_it():
    # Indexing a task builds a GetItem task; the schema must read attributes instead.
    with Flow("f") as flow:
        task = AddTask()(1)
    before = set(flow.tasks)
    with Flow("g"):
        TaskSchema().dump(task)
    assert flow.tasks == before


def test_a_task_in_a_flow_dump_is_named_by_the_flow_slug():
    flow = Flow("f")
    task = flow.add_task(Task(name="t"))
    assert task.slug is None
    assert TaskSchema().dump(task)["slug"] is None
    assert flow.serialize()["tasks"][0]["slug"] == "t-1"


def test_a_parameter_dumps_the_1x_parameter_object():
    assert ParameterSchema().dump(Parameter("x", default=[1, {"a": 2}], tags=["b", "a"])) == {
        "type": "prefect.core.parameter.Parameter",
        "name": "x",
        "slug": "x",
        "default": [1, {"a": 2}],
        "required": False,
        "tags": ["a", "b"],
        "outputs": "typing.Any",
        "__version__": VERSION,
    }


def test_a_parameter_without_default_is_required_with_a_null_default():
    data = ParameterSchema().dump(Parameter("x"))
    assert (data["default"], data["required"]) == (None, True)


@pytest.mark.parametrize(
    "parameter",
    [
        Parameter("p"),
        Parameter("p", default=None, required=False),
        Parameter("p", default={"k": [1.5, "v"]}, tags=["t"]),
        DateTimeParameter("when"),
    ],
)
def test_a_parameter_loads_as_a_parameter_with_the_same_settings(parameter):
    data = ParameterSchema().dump(parameter)
    loaded = ParameterSchema().load(data)
    assert isinstance(loaded, Parameter)
    assert (loaded.name, loaded.slug, loaded.default, loaded.required, loaded.tags) == (
        parameter.name,
        parameter.slug,
        parameter.default,
        parameter.required,
        parameter.tags,
    )
    assert ParameterSchema().dump(loaded) == data


def test_a_parameter_default_that_is_not_json_fails_validation():
    import datetime

    with pytest.raises(ValidationError):
        ParameterSchema().dump(Parameter("p", default=datetime.datetime(2020, 1, 1)))


def test_a_parameter_needs_a_name_to_load():
    with pytest.raises(ValidationError):
        ParameterSchema().load({"default": 1})


def test_task_and_parameter_serialize_methods_use_the_schemas():
    assert Task(name="t").serialize() == TaskSchema().dump(Task(name="t"))
    assert Parameter("p").serialize() == ParameterSchema().dump(Parameter("p"))


_names = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=20)


@settings(max_examples=25)
@given(
    name=_names,
    tags=st.sets(_names, max_size=4),
    retries=st.integers(min_value=1, max_value=20),
    delay=st.integers(min_value=0, max_value=10**6),
    timeout=st.none() | st.integers(min_value=1, max_value=10**6),
    cache_for=st.none() | st.integers(min_value=0, max_value=10**7),
    cache_key=st.none() | _names,
    skip=st.booleans(),
)
def test_task_dump_load_dump_is_stable(
    name, tags, retries, delay, timeout, cache_for, cache_key, skip
):
    task = Task(
        name=name or None,
        slug=name or None,
        tags=tags,
        max_retries=retries,
        retry_delay=timedelta(seconds=delay),
        timeout=timeout,
        cache_for=None if cache_for is None else timedelta(seconds=cache_for),
        cache_key=cache_key,
        skip_on_upstream_skip=skip,
    )
    data = TaskSchema().dump(task)
    assert json.loads(json.dumps(data)) == data
    assert TaskSchema().dump(TaskSchema().load(data)) == data


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=10,
)


@settings(max_examples=25)
@given(default=_json, required=st.booleans())
def test_parameter_dump_load_dump_is_stable(default, required):
    data = ParameterSchema().dump(Parameter("p", default=default, required=required))
    assert ParameterSchema().dump(ParameterSchema().load(data)) == data
