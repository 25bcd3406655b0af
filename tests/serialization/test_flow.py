from __future__ import annotations

import json
from datetime import timedelta

import pendulum
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

import prefect
from prefect import Flow, Parameter, Task
from prefect.core.edge import Edge
from prefect.serialization import flow as flow_schemas
from prefect.serialization.flow import (
    FlowSchema,
    get_edges,
    get_parameters,
    get_reference_tasks,
    get_tasks,
)
from prefect.utilities.edges import unmapped

VERSION = prefect.__version__


class ArgTask(Task):
    def run(self, x):  # type: ignore[override]
        return x


def round_trip(flow: Flow) -> Flow:
    return FlowSchema().load(FlowSchema().dump(flow))


def test_schema_names_of_the_reference_exist():
    assert set(flow_schemas.__all__) == {
        "FlowSchema",
        "get_parameters",
        "get_reference_tasks",
        "get_tasks",
        "get_edges",
    }


def test_an_empty_flow_dumps_the_1x_keys_only():
    assert FlowSchema().dump(Flow("empty")) == {
        "type": "prefect.core.flow.Flow",
        "name": "empty",
        "schedule": None,
        "parameters": [],
        "tasks": [],
        "edges": [],
        "reference_tasks": [],
        "run_config": None,
        "storage": None,
        "__version__": VERSION,
    }


def test_there_is_no_executor_result_or_environment_key():
    flow = Flow("f", executor=prefect.executors.LocalExecutor())
    data = FlowSchema().dump(flow)
    for key in ("executor", "environment", "result", "description", "project", "version"):
        assert key not in data


def test_an_empty_flow_loads_as_a_flow():
    flow = round_trip(Flow("empty"))
    assert type(flow) is Flow
    assert flow.name == "empty"
    assert (flow.tasks, flow.edges, flow.schedule, flow.storage, flow.run_config) == (
        set(),
        set(),
        None,
        None,
        None,
    )


def test_tasks_and_parameters_are_sorted_by_slug():
    flow = Flow("f")
    for name in ["c", "a", "b"]:
        flow.add_task(Task(name=name))
    flow.add_task(Parameter("z"))
    flow.add_task(Parameter("m"))
    data = FlowSchema().dump(flow)
    assert [t["slug"] for t in data["tasks"]] == ["a-1", "b-1", "c-1", "m", "z"]
    assert [p["slug"] for p in data["parameters"]] == ["m", "z"]
    assert data["tasks"][3]["type"] == "prefect.core.parameter.Parameter"


def test_edges_are_sorted_by_upstream_downstream_and_key():
    flow = Flow("f")
    a, b, c = Task(name="a"), ArgTask(name="b"), ArgTask(name="c")
    flow.add_edge(b, c, key="x")
    flow.add_edge(a, c)
    flow.add_edge(a, b, key="x")
    data = FlowSchema().dump(flow)
    assert [
        (e["upstream_task"]["slug"], e["downstream_task"]["slug"], e["key"]) for e in data["edges"]
    ] == [("a-1", "b-1", "x"), ("a-1", "c-1", None), ("b-1", "c-1", "x")]


def test_the_same_flow_built_twice_dumps_the_same_json():
    def build() -> Flow:
        with Flow("f") as flow:
            p = Parameter("p", default=2)
            ArgTask(name="t")(p)
            ArgTask(name="t")(p)
        return flow

    assert json.dumps(FlowSchema().dump(build())) == json.dumps(FlowSchema().dump(build()))


def test_loaded_tasks_keep_their_slugs_names_and_settings():
    flow = Flow("f")
    t = Task(name="t", max_retries=1, retry_delay=timedelta(seconds=3), tags=["x"])
    flow.add_task(t)
    flow.add_task(Task(name="t"))
    loaded = round_trip(flow)
    assert sorted(loaded.slugs.values()) == ["t-1", "t-2"]
    (first,) = loaded.get_tasks(slug="t-1")
    assert (first.name, first.max_retries, first.retry_delay, first.tags) == (
        "t",
        1,
        timedelta(seconds=3),
        {"x"},
    )


def test_loaded_edges_join_the_loaded_tasks():
    flow = Flow("f")
    t1, t2, t3 = Task("a"), Task("b"), ArgTask("c")
    flow.add_edge(t1, t2)
    flow.add_edge(t2, t3, key="x")
    flow.add_edge(t1, t3)
    loaded = round_trip(flow)
    d1, d2, d3 = sorted(loaded.tasks, key=lambda t: t.name)
    assert loaded.edges == {Edge(d1, d2), Edge(d2, d3, key="x"), Edge(d1, d3)}
    assert loaded.sorted_tasks()[0] is d1


def test_mapped_and_flattened_edges_survive_loading():
    with Flow("f") as flow:
        p = Parameter("xs", default=[[1], [2]])
        ArgTask(name="m").map(prefect.flatten(p))
    loaded = round_trip(flow)
    (edge,) = loaded.edges
    assert (edge.mapped, edge.flattened, edge.key) == (True, True, "x")
    assert isinstance(edge.upstream_task, Parameter)


def test_parameters_load_as_parameters_among_the_tasks():
    flow = Flow("f")
    flow.add_task(Parameter("x"))
    flow.add_task(Parameter("y", default=5, tags=["t"]))
    loaded = round_trip(flow)
    assert {(p.name, p.required, p.default, frozenset(p.tags)) for p in loaded.parameters()} == {
        ("x", True, None, frozenset()),
        ("y", False, 5, frozenset({"t"})),
    }
    assert loaded.parameters() <= loaded.tasks


def test_parameters_listed_only_under_parameters_still_join_the_flow():
    data = FlowSchema().dump(Flow("f", tasks=[Parameter("x", default=1)]))
    data["tasks"] = []
    loaded = FlowSchema().load(data)
    (parameter,) = loaded.parameters()
    assert parameter.default == 1


def test_reference_tasks_dump_only_those_set_and_load_back():
    x, y, z = Task("x"), Task("y"), Task("z")
    flow = Flow("f", tasks=[x, y, z])
    assert FlowSchema().dump(flow)["reference_tasks"] == []
    flow.set_reference_tasks([y])
    data = FlowSchema().dump(flow)
    assert data["reference_tasks"] == [{"slug": "y-1", "__version__": VERSION}]
    loaded = FlowSchema().load(data)
    assert loaded.reference_tasks() == {t for t in loaded.tasks if t.name == "y"}


def test_a_loaded_flow_dumps_exactly_as_stored():
    with Flow("f") as flow:
        p = Parameter("p", default=[1, 2])
        mapped = ArgTask(name="m", tags=["t"]).map(p)
        total = ArgTask(name="total", max_retries=2, retry_delay=timedelta(seconds=1))(mapped)
        ArgTask(name="u")(unmapped(p))
    flow.set_reference_tasks([total])
    data = FlowSchema().dump(flow)
    again = FlowSchema().dump(FlowSchema().load(data))
    assert again == data


def test_the_schedule_round_trips():
    schedule = prefect.schedules.Schedule(
        clocks=[
            prefect.schedules.clocks.IntervalClock(
                timedelta(minutes=5), start_date=pendulum.datetime(2020, 1, 1)
            )
        ]
    )
    flow = Flow("f", schedule=schedule)
    data = FlowSchema().dump(flow)
    assert data["schedule"]["clocks"][0]["type"] == "IntervalClock"
    assert "type" not in data["schedule"]
    loaded = FlowSchema().load(data)
    assert loaded.schedule.next(3) == schedule.next(3)


def test_the_run_config_round_trips():
    from prefect.run_configs import UniversalRun

    flow = Flow("f", run_config=UniversalRun(labels=["b", "a"], env={"K": "V"}))
    data = FlowSchema().dump(flow)
    assert data["run_config"]["type"] == "UniversalRun"
    assert data["run_config"]["labels"] == ["a", "b"]
    loaded = FlowSchema().load(data)
    assert isinstance(loaded.run_config, UniversalRun)
    assert set(loaded.run_config.labels) == {"a", "b"}


def test_a_flow_needs_a_name_to_load():
    with pytest.raises(ValidationError):
        FlowSchema().load({"tasks": []})


def test_unknown_keys_and_old_keys_are_ignored_on_load():
    data = FlowSchema().dump(Flow("f"))
    data.update(environment=None, executor={"type": "LocalExecutor"}, description="d")
    assert FlowSchema().load(data).name == "f"


def test_load_without_creating_an_object_gives_the_fields():
    data = FlowSchema().dump(Flow("f", tasks=[Task("a")]))
    loaded = FlowSchema().load(data, create_object=False)
    assert loaded["name"] == "f"
    assert loaded["tasks"][0]["slug"] == "a-1"
    # The flag reaches the nested task and edge loads, and is reset afterwards.
    assert type(FlowSchema().load(data)) is Flow


def test_loads_of_one_flow_do_not_share_tasks():
    data = FlowSchema().dump(Flow("f", tasks=[Task("a")]))
    schema = FlowSchema()
    (first,) = schema.load(data).tasks
    (second,) = schema.load(data).tasks
    assert first is not second


def test_the_selection_functions_sort_by_slug():
    flow = Flow("f")
    b, a = Task("b"), Task("a")
    flow.add_edge(b, a)
    flow.add_task(Parameter("p"))
    flow.set_reference_tasks([b, a])
    assert get_tasks(flow, {}) == [a, b, next(iter(flow.parameters()))]
    assert get_parameters(flow, {}) == list(flow.parameters())
    assert get_edges(flow, {}) == list(flow.edges)
    assert get_reference_tasks(flow, {}) == [a, b]


def test_a_mapping_dumps_its_own_parts():
    data = FlowSchema().dump({"name": "f", "tasks": [], "edges": [], "parameters": []})
    assert data["name"] == "f"
    assert data["tasks"] == []


_task_names = st.sampled_from(["a", "b", "c", "load data"])


@st.composite
def flows(draw: st.DrawFn) -> Flow:
    flow = Flow(draw(st.text(min_size=1, max_size=10)))
    n_tasks = draw(st.integers(min_value=0, max_value=6))
    tasks: list[Task] = [ArgTask(name=draw(_task_names)) for _ in range(n_tasks)]
    for task in tasks:
        flow.add_task(task)
    if draw(st.booleans()):
        flow.add_task(Parameter("p", default=draw(st.integers() | st.none())))
    # Edges only go forward in `tasks`, so the graph has no cycle.
    for i, j in draw(
        st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), max_size=8, unique=True)
    ):
        if i < j < n_tasks:
            flow.add_edge(tasks[i], tasks[j], mapped=draw(st.booleans()), validate=False)
    if tasks and draw(st.booleans()):
        flow.set_reference_tasks(draw(st.sets(st.sampled_from(tasks), max_size=2)))
    return flow


@settings(max_examples=25)
@given(flow=flows())
def test_flow_dump_load_dump_is_stable(flow):
    data = FlowSchema().dump(flow)
    assert json.loads(json.dumps(data)) == data
    loaded = FlowSchema().load(data)
    assert FlowSchema().dump(loaded) == data
    assert len(loaded.tasks) == len(flow.tasks)
    assert len(loaded.edges) == len(flow.edges)
