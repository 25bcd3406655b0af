from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pendulum
import pytest

import prefect
from prefect import Flow, Parameter, Task
from prefect.run_configs import UniversalRun
from prefect.schedules import Schedule
from prefect.schedules.clocks import IntervalClock
from prefect.serialization.flow import FlowSchema
from prefect.storage import Local

V = prefect.__version__


class Add(Task):
    def run(self, x, y):  # type: ignore[override]
        return x + y


class Total(Task):
    def run(self, xs):  # type: ignore[override]
        return sum(xs)


def _task(type_: str, name: str, slug: str, inputs: dict, **settings: object) -> dict:
    return {
        "type": type_,
        "name": name,
        "slug": slug,
        "tags": [],
        "max_retries": 0,
        "retry_delay": None,
        "inputs": inputs,
        "outputs": "typing.Any",
        "timeout": None,
        "trigger": {"fn": "prefect.triggers.all_successful", "kwargs": {}},
        "skip_on_upstream_skip": True,
        "cache_for": None,
        "cache_key": None,
        "cache_validator": {"fn": "prefect.engine.cache_validators.never_use", "kwargs": {}},
        "auto_generated": False,
        "__version__": V,
        **settings,
    }


def _edge(up: str, down: str, key: str | None, mapped: bool) -> dict:
    return {
        "upstream_task": {"slug": up, "__version__": V},
        "downstream_task": {"slug": down, "__version__": V},
        "key": key,
        "mapped": mapped,
        "flattened": False,
        "__version__": V,
    }


ANY = {"required": True, "type": "typing.Any"}

# The flow JSON of `small_flow()`, written from the shapes in server-protocol.md §5.3-5.8.
GOLDEN = {
    "type": "prefect.core.flow.Flow",
    "name": "small",
    "schedule": {
        "clocks": [
            {
                "start_date": {"dt": "2021-01-01T00:00:00", "tz": "UTC"},
                "end_date": None,
                "interval": 3_600_000_000,
                "parameter_defaults": {},
                "labels": None,
                "__version__": V,
                "type": "IntervalClock",
            }
        ],
        "filters": [],
        "or_filters": [],
        "not_filters": [],
        "adjustments": [],
        "__version__": V,
    },
    "parameters": [
        {
            "type": "prefect.core.parameter.Parameter",
            "name": "xs",
            "slug": "xs",
            "default": [1, 2, 3],
            "required": False,
            "tags": [],
            "outputs": "typing.Any",
            "__version__": V,
        }
    ],
    "tasks": [
        _task(
            "prefect.tasks.core.constants.Constant",
            "Constant[list]",
            "Constant[list]-1",
            {},
            auto_generated=True,
        ),
        _task(f"{__name__}.Add", "add", "add-1", {"x": ANY, "y": ANY}, tags=["math"]),
        _task(
            f"{__name__}.Total",
            "total",
            "total-1",
            {"xs": ANY},
            max_retries=2,
            retry_delay=10,
            trigger={"fn": "prefect.triggers.all_finished", "kwargs": {}},
        ),
        _task("prefect.core.parameter.Parameter", "xs", "xs", {}),
    ],
    "edges": [
        _edge("Constant[list]-1", "add-1", "y", True),
        _edge("add-1", "total-1", "xs", False),
        _edge("xs", "add-1", "x", True),
    ],
    "reference_tasks": [],
    "run_config": {"env": None, "labels": ["dev"], "__version__": V, "type": "UniversalRun"},
    "storage": {
        "flows": {},
        "secrets": [],
        "directory": "/srv/prefect/flows",
        "path": None,
        "stored_as_script": False,
        "__version__": V,
        "type": "Local",
    },
    "__version__": V,
}


def small_flow() -> Flow:
    schedule = Schedule(
        clocks=[IntervalClock(timedelta(hours=1), start_date=pendulum.datetime(2021, 1, 1))]
    )
    flow = Flow(
        "small",
        schedule=schedule,
        run_config=UniversalRun(labels=["dev"]),
        storage=Local(directory="/srv/prefect/flows", validate=False),
    )
    with flow:
        xs = Parameter("xs", default=[1, 2, 3])
        # A mapped constant gets a Constant task (unmapped ones stay plain flow constants).
        added = Add(name="add", tags=["math"]).map(xs, [10, 20, 30])
        Total(
            name="total",
            max_retries=2,
            retry_delay=timedelta(seconds=10),
            trigger=prefect.triggers.all_finished,
        )(added)
    return flow


def test_a_small_flow_serializes_to_the_golden_json():
    assert small_flow().serialize() == GOLDEN


def test_the_golden_json_loads_and_dumps_back_unchanged():
    loaded = FlowSchema().load(json.loads(json.dumps(GOLDEN)))
    assert loaded.name == "small"
    assert {t.slug for t in loaded.tasks} == {"add-1", "total-1", "xs", "Constant[list]-1"}
    assert isinstance(loaded.storage, Local)
    assert isinstance(loaded.run_config, UniversalRun)
    assert loaded.serialize() == GOLDEN


def test_serialize_without_build_leaves_the_storage_empty():
    flow = small_flow()
    flow.serialize()
    assert flow.storage.flows == {}


def test_serialize_with_build_adds_the_flow_to_its_storage(tmp_path):
    flow = Flow("built", storage=Local(directory=str(tmp_path)))
    flow.add_task(Task(name="t"))
    data = flow.serialize(build=True)
    location = data["storage"]["flows"]["built"]
    assert location.startswith(str(tmp_path))
    assert flow.storage.flows == {"built": location}
    assert flow.storage.get_flow("built").name == "built"


def test_building_twice_warns_that_the_flow_is_already_stored(tmp_path):
    flow = Flow("built", storage=Local(directory=str(tmp_path)))
    flow.serialize(build=True)
    with pytest.warns(UserWarning, match="already contained in storage"):
        flow.serialize(build=True)


def test_build_without_storage_raises():
    with pytest.raises(ValueError, match="no storage"):
        Flow("f").serialize(build=True)


def test_serialized_hash_is_the_sha256_of_the_sorted_json():
    flow = small_flow()
    expected = hashlib.sha256(json.dumps(GOLDEN, sort_keys=True).encode()).hexdigest()
    assert flow.serialized_hash() == expected


def test_serialized_hash_is_stable_and_changes_with_the_flow():
    assert small_flow().serialized_hash() == small_flow().serialized_hash()
    changed = small_flow()
    changed.add_task(Task(name="extra"))
    assert changed.serialized_hash() != small_flow().serialized_hash()
    renamed = small_flow()
    renamed.name = "other"
    assert renamed.serialized_hash() != small_flow().serialized_hash()
