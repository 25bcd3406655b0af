"""Tests for `prefect.core.flow.Flow`: building, querying, changing and storing the graph."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import prefect
from prefect import Flow, Parameter, Task, case
from prefect.core.edge import Edge
from prefect.engine.state import Failed, Success
from prefect.tasks.control_flow.conditional import CompareValue
from prefect.tasks.core import collections
from prefect.tasks.core.constants import Constant
from prefect.utilities.configuration import set_temporary_config
from prefect.utilities.edges import flatten, mapped, unmapped


class XTask(Task):
    def run(self, x):
        return x


class XYTask(Task):
    def run(self, x, y=None):
        return x


class KwargsTask(Task):
    def run(self, **kwargs):
        return kwargs


def chain_flow(*names: str) -> tuple[Flow, list[Task]]:
    """A flow whose tasks (named `names`) run one after another."""
    flow = Flow("chain")
    tasks = [Task(name=name) for name in names]
    flow.chain(*tasks)
    return flow, tasks


def keyed_edges(flow: Flow, task: Task) -> dict:
    return {e.key: e for e in flow.edges_to(task)}


# Construction --------------------------------------------------------------------------------


def test_flow_requires_a_name():
    with pytest.raises(TypeError):
        Flow()  # type: ignore[call-arg]


@pytest.mark.parametrize("name", ["", None])
def test_flow_with_an_empty_name_raises_value_error(name):
    with pytest.raises(ValueError, match="name"):
        Flow(name=name)


def test_new_flow_is_empty_and_keeps_its_settings():
    flow = Flow("my flow")
    assert flow.name == "my flow"
    assert flow.tasks == set()
    assert flow.edges == set()
    assert dict(flow.constants) == {}
    assert flow.slugs == {}
    assert flow.state_handlers == []
    assert flow.schedule is None
    assert flow.executor is None
    assert flow.run_config is None
    assert flow.storage is None
    assert flow.result is None
    assert flow.terminal_state_handler is None


def test_flow_keeps_the_objects_it_is_given():
    schedule, executor, run_config, storage, result = (object() for _ in range(5))

    def handler(flow, state, reference_states):
        return state

    flow = Flow(
        "f",
        schedule=schedule,
        executor=executor,
        run_config=run_config,
        storage=storage,
        result=result,
        terminal_state_handler=handler,
    )
    assert flow.schedule is schedule
    assert flow.executor is executor
    assert flow.run_config is run_config
    assert flow.storage is storage
    assert flow.result is result
    assert flow.terminal_state_handler is handler


def test_flow_repr():
    assert repr(Flow("my flow")) == '<Flow: name="my flow">'


def test_flow_with_tasks_argument_adds_them():
    t1, t2 = Task(), Task()
    flow = Flow("f", tasks=[t1, t2])
    assert flow.tasks == {t1, t2}
    assert flow.edges == set()


def test_flow_with_edges_argument_adds_edges_and_their_tasks():
    t1, t2, t3 = Task(), XTask(), Task()
    edges = [Edge(t1, t2, key="x", mapped=True), Edge(t2, t3)]
    flow = Flow("f", edges=edges)
    assert flow.tasks == {t1, t2, t3}
    assert flow.edges == set(edges)
    (keyed,) = flow.edges_to(t2)
    assert keyed.key == "x"
    assert keyed.mapped is True


def test_flow_with_reference_tasks_argument():
    t1, t2 = Task(), Task()
    flow = Flow("f", tasks=[t1, t2], reference_tasks=[t1])
    assert flow.reference_tasks() == {t1}


def test_flow_with_a_reference_task_outside_the_flow_raises_value_error():
    with pytest.raises(ValueError):
        Flow("f", tasks=[Task()], reference_tasks=[Task()])


def test_flow_with_cyclic_edges_and_validate_raises_value_error():
    a, b = Task(), Task()
    with pytest.raises(ValueError, match="[Cc]ycle"):
        Flow("f", edges=[Edge(a, b), Edge(b, a)], validate=True)


def test_flow_keeps_a_list_of_state_handlers():
    def handler(flow, old, new):
        return new

    flow = Flow("f", state_handlers=[handler])
    assert flow.state_handlers == [handler]


@pytest.mark.parametrize("handlers", [lambda flow, old, new: new, {print}])
def test_flow_state_handlers_that_are_not_a_sequence_raise_type_error(handlers):
    with pytest.raises(TypeError, match="state_handlers"):
        Flow("f", state_handlers=handlers)


def test_on_failure_appends_a_handler_called_only_for_failed_states():
    calls = []

    def handler(flow, old, new):
        return new

    def on_failure(flow, state):
        calls.append((flow, state))

    flow = Flow("f", state_handlers=[handler], on_failure=on_failure)
    assert len(flow.state_handlers) == 2
    assert flow.state_handlers[0] is handler

    failure_handler = flow.state_handlers[1]
    success = Success()
    assert failure_handler(flow, None, success) is success
    assert calls == []

    failed = Failed("boom")
    assert failure_handler(flow, success, failed) is failed
    assert calls == [(flow, failed)]


def test_on_failure_alone_makes_one_handler():
    flow = Flow("f", on_failure=lambda flow, state: None)
    assert len(flow.state_handlers) == 1


# The flow context ------------------------------------------------------------------------------


def test_flow_context_sets_and_clears_the_active_flow():
    assert "flow" not in prefect.context
    with Flow("f") as flow:
        assert prefect.context.flow is flow
        assert prefect.context.get("flow") is flow
    assert "flow" not in prefect.context


def test_entering_a_flow_returns_the_flow_itself():
    flow = Flow("f")
    with flow as entered:
        assert entered is flow


def test_nested_flow_contexts_restore_the_outer_flow():
    with Flow("outer") as outer:
        with Flow("inner") as inner:
            assert prefect.context.flow is inner
        assert prefect.context.flow is outer
    assert "flow" not in prefect.context


def test_flow_context_restores_a_flow_set_in_the_context_before():
    previous = Flow("previous")
    with prefect.context(flow=previous):
        with Flow("f"):
            pass
        assert prefect.context.flow is previous


def test_flow_context_is_restored_after_an_exception():
    with pytest.raises(RuntimeError):
        with Flow("f"):
            raise RuntimeError("boom")
    assert "flow" not in prefect.context


def test_tasks_called_in_the_flow_context_are_added_to_it():
    t = XTask()
    with Flow("f") as flow:
        result = t(x=1)
    assert flow.tasks == {result}
    assert flow.constants[result] == {"x": 1}


def test_tasks_called_in_a_nested_flow_go_to_the_inner_flow():
    t = Task()
    with Flow("outer") as outer:
        with Flow("inner") as inner:
            in_inner = t()
        in_outer = t()
    assert inner.tasks == {in_inner}
    assert outer.tasks == {in_outer}


def test_task_created_but_not_added_in_the_flow_context_warns():
    with pytest.warns(UserWarning, match="Tasks were created but not added to the flow") as rec:
        with Flow("f"):
            Task(name="lonely")
    assert "lonely" in str(rec[0].message)


def test_parameter_created_but_not_added_in_the_flow_context_warns():
    with pytest.warns(UserWarning, match="Tasks were created but not added to the flow"):
        with Flow("f"):
            Parameter("p")


@pytest.mark.filterwarnings("error")
def test_tasks_created_and_used_in_the_flow_context_do_not_warn():
    with Flow("f") as flow:
        explicit = Task()
        flow.add_task(explicit)
        upstream = Task()
        XTask()(x=upstream)
        Parameter("p")()
    assert explicit in flow.tasks and upstream in flow.tasks


@pytest.mark.filterwarnings("error")
def test_tasks_created_outside_the_flow_context_do_not_warn():
    Task()
    with Flow("f"):
        pass


@pytest.mark.filterwarnings("error")
def test_building_another_flow_inside_a_flow_context_does_not_warn():
    t, upstream = XTask(), Task()
    with Flow("outer"):
        other = Flow("other")
        other.set_dependencies(t, keyword_tasks={"x": [upstream, 1]})
    assert isinstance(other.upstream_tasks(t).pop(), collections.List)


def test_no_unused_task_warning_when_the_block_raises():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(RuntimeError):
            with Flow("f"):
                Task()
                raise RuntimeError()


# add_task ------------------------------------------------------------------------------------


def test_add_task_adds_and_returns_the_task():
    flow = Flow("f")
    t = Task()
    assert flow.add_task(t) is t
    assert flow.tasks == {t}


@pytest.mark.parametrize("not_a_task", [1, "task", None, object(), Task])
def test_add_task_rejects_non_tasks_with_type_error(not_a_task):
    with pytest.raises(TypeError):
        Flow("f").add_task(not_a_task)


def test_adding_a_task_twice_changes_nothing():
    flow = Flow("f")
    t = Task()
    flow.add_task(t)
    flow.add_task(t)
    assert flow.tasks == {t}
    assert flow.slugs == {t: "Task-1"}


def test_add_task_with_a_duplicate_slug_raises_value_error_naming_it():
    flow = Flow("f")
    flow.add_task(Task(slug="shared-slug"))
    with pytest.raises(ValueError, match="shared-slug"):
        flow.add_task(Task(slug="shared-slug"))
    assert len(flow.tasks) == 1


def test_add_task_generates_numbered_slugs_per_name():
    flow = Flow("f")
    a1, a2, b1 = Task(name="a"), Task(name="a"), Task(name="b")
    for t in (a1, a2, b1):
        flow.add_task(t)
    assert flow.slugs == {a1: "a-1", a2: "a-2", b1: "b-1"}
    # As in 1.x, a generated slug is the flow's record; the task keeps its own (None).
    assert (a1.slug, a2.slug, b1.slug) == (None, None, None)
    assert flow.get_tasks(slug="a-2") == [a2]


def test_add_task_keeps_an_explicit_slug():
    flow = Flow("f")
    t = Task(slug="custom")
    flow.add_task(t)
    assert flow.slugs[t] == "custom"
    assert t.slug == "custom"


def test_generated_slugs_avoid_slugs_already_taken():
    flow = Flow("f")
    taken = Task(name="a", slug="a-1")
    flow.add_task(taken)
    generated = Task(name="a")
    flow.add_task(generated)
    assert flow.slugs[generated] == "a-2"


def test_parameter_slug_is_its_name():
    flow = Flow("f")
    p = Parameter("x")
    flow.add_task(p)
    assert flow.slugs[p] == "x"


def test_two_parameters_with_the_same_name_raise_value_error():
    flow = Flow("f")
    flow.add_task(Parameter("x"))
    with pytest.raises(ValueError, match='"x"'):
        flow.add_task(Parameter("x"))


def test_add_task_inside_a_case_block_puts_it_in_the_block():
    flow = Flow("f")
    cond, t = Task(name="cond"), Task(name="t")
    with case(cond, True):
        flow.add_task(t)
    (gate,) = flow.upstream_tasks(t)
    assert isinstance(gate, CompareValue)
    assert flow.upstream_tasks(gate) == {cond}


# add_edge --------------------------------------------------------------------------------------


def test_add_edge_adds_the_edge_and_both_tasks():
    flow = Flow("f")
    a, b = Task(), Task()
    edge = flow.add_edge(a, b)
    assert isinstance(edge, Edge)
    assert (edge.upstream_task, edge.downstream_task, edge.key) == (a, b, None)
    assert flow.edges == {edge}
    assert flow.tasks == {a, b}


def test_add_edge_with_a_key():
    flow = Flow("f")
    a, b = Task(), XTask()
    edge = flow.add_edge(a, b, key="x")
    assert edge.key == "x"
    assert keyed_edges(flow, b) == {"x": edge}


def test_add_edge_mapped_and_flattened_flags():
    flow = Flow("f")
    a, b = Task(), XTask()
    edge = flow.add_edge(a, b, key="x", mapped=True, flattened=True)
    assert edge.mapped is True
    assert edge.flattened is True
    plain = flow.add_edge(Task(), b)
    assert plain.mapped is False
    assert plain.flattened is False


def test_add_edge_into_a_parameter_raises_value_error():
    flow = Flow("f")
    with pytest.raises(ValueError, match="Parameters must be root tasks"):
        flow.add_edge(Task(), Parameter("p"))


def test_add_edge_out_of_a_parameter_is_allowed():
    flow = Flow("f")
    p, t = Parameter("p"), XTask()
    flow.add_edge(p, t, key="x")
    assert flow.upstream_tasks(t) == {p}


def test_add_edge_with_a_key_the_task_does_not_take_raises_type_error_naming_the_task():
    flow = Flow("f")
    with pytest.raises(TypeError, match="Downstreamer"):
        flow.add_edge(Task(), XTask(name="Downstreamer"), key="not_an_argument", validate=True)


def test_add_edge_checks_keys_under_eager_edge_validation():
    flow = Flow("f")
    with set_temporary_config({"flows.eager_edge_validation": True}):
        with pytest.raises(TypeError, match="not_an_argument"):
            flow.add_edge(Task(), XTask(), key="not_an_argument")


def test_add_edge_accepts_any_key_for_a_task_taking_kwargs():
    flow = Flow("f")
    t = KwargsTask()
    flow.add_edge(Task(), t, key="anything")
    flow.add_edge(Task(), t, key="else_")
    assert set(keyed_edges(flow, t)) == {"anything", "else_"}


def test_add_edge_with_a_key_already_used_raises_value_error():
    flow = Flow("f")
    b = XTask()
    flow.add_edge(Task(), b, key="x")
    with pytest.raises(ValueError, match='Argument "x" .* has already been assigned'):
        flow.add_edge(Task(), b, key="x", validate=True)


def test_same_key_on_different_downstream_tasks_is_fine():
    flow = Flow("f")
    a = Task()
    flow.add_edge(a, XTask(), key="x")
    flow.add_edge(a, XTask(), key="x")
    assert len(flow.edges) == 2


def test_add_edge_does_not_validate_by_default():
    flow = Flow("f")
    a, b = Task(), Task()
    flow.add_edge(a, b)
    flow.add_edge(b, a)
    with pytest.raises(ValueError, match="[Cc]ycle"):
        flow.validate()


def test_add_edge_with_validate_catches_a_cycle():
    flow = Flow("f")
    a, b, c = Task(), Task(), Task()
    flow.add_edge(a, b, validate=True)
    flow.add_edge(b, c, validate=True)
    with pytest.raises(ValueError, match="[Cc]ycle"):
        flow.add_edge(c, a, validate=True)


def test_eager_edge_validation_config_catches_a_cycle():
    flow = Flow("f")
    a, b = Task(), Task()
    flow.add_edge(a, b)
    with set_temporary_config({"flows.eager_edge_validation": True}):
        with pytest.raises(ValueError, match="[Cc]ycle"):
            flow.add_edge(b, a)


def test_validate_false_overrides_eager_edge_validation_config():
    flow = Flow("f")
    a, b = Task(), Task()
    flow.add_edge(a, b)
    with set_temporary_config({"flows.eager_edge_validation": True}):
        flow.add_edge(b, a, validate=False)
    assert len(flow.edges) == 2


def test_add_edge_turns_a_non_task_upstream_into_a_constant_task():
    flow = Flow("f")
    t = XTask()
    edge = flow.add_edge(5, t, key="x")
    assert isinstance(edge.upstream_task, Constant)
    assert edge.upstream_task.value == 5
    assert edge.upstream_task in flow.tasks


def test_add_edge_turns_a_collection_of_tasks_into_a_collection_task():
    flow = Flow("f")
    a, t = Task(), XTask()
    edge = flow.add_edge([a], t, key="x")
    assert isinstance(edge.upstream_task, collections.List)
    assert flow.upstream_tasks(edge.upstream_task) == {a}


def test_add_edge_clears_cached_queries():
    flow = Flow("f")
    a, b = Task(), Task()
    flow.add_task(a)
    flow.add_task(b)
    assert flow.root_tasks() == {a, b}
    assert flow.terminal_tasks() == {a, b}
    flow.add_edge(a, b)
    assert flow.root_tasks() == {a}
    assert flow.terminal_tasks() == {b}
    assert flow.sorted_tasks() == (a, b)


# set_dependencies ----------------------------------------------------------------------------


def test_set_dependencies_with_upstream_and_downstream_tasks():
    flow = Flow("f")
    up, t, down = Task(), Task(), Task()
    flow.set_dependencies(t, upstream_tasks=[up], downstream_tasks=[down])
    assert flow.edges == {Edge(up, t), Edge(t, down)}


def test_set_dependencies_adds_the_task_even_without_dependencies():
    flow = Flow("f")
    t = Task()
    flow.set_dependencies(t)
    assert flow.tasks == {t}


def test_set_dependencies_with_keyword_tasks_makes_keyed_edges():
    flow = Flow("f")
    a, b, t = Task(), Task(), XYTask()
    flow.set_dependencies(t, keyword_tasks={"x": a, "y": b})
    assert flow.edges == {Edge(a, t, key="x"), Edge(b, t, key="y")}
    assert not flow.constants.get(t)


def test_set_dependencies_stores_plain_keyword_values_as_constants():
    flow = Flow("f")
    t = XYTask()
    flow.set_dependencies(t, keyword_tasks={"x": 1, "y": [1, 2]})
    assert flow.constants[t] == {"x": 1, "y": [1, 2]}
    assert flow.tasks == {t}
    assert flow.edges == set()


def test_set_dependencies_turns_non_task_upstream_and_downstream_into_constant_tasks():
    flow = Flow("f")
    t = XTask()
    flow.set_dependencies(t, upstream_tasks=[2], downstream_tasks=[3], keyword_tasks={"x": 4})
    assert len(flow.tasks) == 3
    assert flow.constants[t] == {"x": 4}
    (up,) = flow.upstream_tasks(t)
    (down,) = flow.downstream_tasks(t)
    assert isinstance(up, Constant) and up.value == 2
    assert isinstance(down, Constant) and down.value == 3


def test_set_dependencies_mapped_maps_keyword_and_upstream_edges():
    flow = Flow("f")
    xs, up, t = Task(), Task(), XTask()
    flow.set_dependencies(t, upstream_tasks=[up], keyword_tasks={"x": xs}, mapped=True)
    edges = keyed_edges(flow, t)
    assert edges["x"].mapped is True
    assert edges[None].mapped is True


def test_set_dependencies_maps_constants_as_constant_tasks():
    flow = Flow("f")
    t = XTask()
    flow.set_dependencies(t, keyword_tasks={"x": [1, 2, 3]}, mapped=True)
    assert flow.constants[t] == {}
    edge = keyed_edges(flow, t)["x"]
    assert edge.mapped is True
    assert isinstance(edge.upstream_task, Constant)
    assert edge.upstream_task.value == [1, 2, 3]


def test_set_dependencies_unmapped_inputs_of_a_mapped_task():
    flow = Flow("f")
    xs, y, up, t = Task(), Task(), Task(), XYTask()
    flow.set_dependencies(
        t, upstream_tasks=[unmapped(up)], keyword_tasks={"x": xs, "y": unmapped(y)}, mapped=True
    )
    edges = keyed_edges(flow, t)
    assert edges["x"].mapped is True
    assert edges["y"].mapped is False
    assert edges["y"].upstream_task is y
    assert edges[None].mapped is False
    assert edges[None].upstream_task is up


def test_set_dependencies_unmapped_plain_value_is_a_constant():
    flow = Flow("f")
    t = XYTask()
    flow.set_dependencies(t, keyword_tasks={"x": [1, 2], "y": unmapped(10)}, mapped=True)
    assert flow.constants[t] == {"y": 10}


def test_set_dependencies_mapped_annotation_without_mapped_flag():
    flow = Flow("f")
    xs, y, t = Task(), Task(), XYTask()
    flow.set_dependencies(t, keyword_tasks={"x": mapped(xs), "y": y})
    edges = keyed_edges(flow, t)
    assert edges["x"].mapped is True
    assert edges["y"].mapped is False


def test_set_dependencies_flatten_annotation():
    flow = Flow("f")
    nested, t = Task(), XTask()
    flow.set_dependencies(t, keyword_tasks={"x": flatten(nested)}, mapped=True)
    edge = keyed_edges(flow, t)["x"]
    assert edge.upstream_task is nested
    assert edge.flattened is True
    assert edge.mapped is True


@pytest.mark.parametrize(
    "make, cls",
    [
        (lambda a: [a, 1], collections.List),
        (lambda a: (a, 1), collections.Tuple),
        (lambda a: {a, 1}, collections.Set),
    ],
)
def test_set_dependencies_turns_collections_holding_tasks_into_collection_tasks(make, cls):
    flow = Flow("f")
    a, t = Task(), XTask()
    flow.set_dependencies(t, keyword_tasks={"x": make(a)})
    collection_task = keyed_edges(flow, t)["x"].upstream_task
    assert isinstance(collection_task, cls)
    assert collection_task.auto_generated is True
    assert flow.upstream_tasks(collection_task) == {a}
    # The plain item is a constant of the collection task, not a task of its own.
    assert list(flow.constants[collection_task].values()) == [1]
    assert len(flow.tasks) == 3


def test_set_dependencies_turns_dicts_holding_tasks_into_dict_tasks():
    flow = Flow("f")
    a, t = Task(), XTask()
    flow.set_dependencies(t, keyword_tasks={"x": {"a": a, "b": 2}})
    dict_task = keyed_edges(flow, t)["x"].upstream_task
    assert isinstance(dict_task, collections.Dict)
    assert flow.constants[dict_task] == {"keys": ["a", "b"]}
    values = keyed_edges(flow, dict_task)["values"].upstream_task
    assert flow.upstream_tasks(values) == {a}
    assert flow.constants[values] == {"arg_2": 2}


def test_set_dependencies_with_validate_catches_a_cycle():
    flow = Flow("f")
    a, b = Task(), Task()
    flow.add_edge(a, b)
    with pytest.raises(ValueError, match="[Cc]ycle"):
        flow.set_dependencies(a, upstream_tasks=[b], validate=True)


def test_set_dependencies_cannot_give_a_parameter_inputs():
    flow = Flow("f")
    with pytest.raises(ValueError):
        flow.set_dependencies(Parameter("p"), upstream_tasks=[Task()])
    with pytest.raises(ValueError):
        flow.set_dependencies(Parameter("q"), keyword_tasks={"x": Task()})


def test_set_dependencies_with_a_keyword_the_task_does_not_take_raises_type_error():
    with pytest.raises(TypeError):
        Flow("f").set_dependencies(XTask(), keyword_tasks={"nope": Task()}, validate=True)


# chain -----------------------------------------------------------------------------------------


def test_chain_links_tasks_in_order_and_returns_the_edges():
    flow = Flow("f")
    a, b, c = Task(), Task(), Task()
    edges = flow.chain(a, b, c)
    assert edges == [Edge(a, b), Edge(b, c)]
    assert flow.edges == set(edges)
    assert flow.sorted_tasks() == (a, b, c)


def test_chain_with_validate_catches_a_cycle():
    flow = Flow("f")
    a, b = Task(), Task()
    flow.chain(a, b)
    with pytest.raises(ValueError, match="[Cc]ycle"):
        flow.chain(b, a, validate=True)


# Root, terminal and reference tasks ------------------------------------------------------------


def test_root_and_terminal_tasks():
    flow, (a, b, c) = chain_flow("a", "b", "c")
    d = Task(name="d")
    flow.add_task(d)
    assert flow.root_tasks() == {a, d}
    assert flow.terminal_tasks() == {c, d}


def test_root_and_terminal_tasks_of_an_empty_flow():
    flow = Flow("f")
    assert flow.root_tasks() == set()
    assert flow.terminal_tasks() == set()
    assert flow.reference_tasks() == set()


def test_reference_tasks_default_to_the_terminal_tasks():
    flow, (a, b, c) = chain_flow("a", "b", "c")
    assert flow.reference_tasks() == {c}
    d = Task()
    flow.add_edge(c, d)
    assert flow.reference_tasks() == {d}


def test_set_reference_tasks():
    flow, (a, b, c) = chain_flow("a", "b", "c")
    flow.set_reference_tasks([a, b])
    assert flow.reference_tasks() == {a, b}
    flow.add_edge(c, Task())
    assert flow.reference_tasks() == {a, b}


def test_set_reference_tasks_to_nothing_falls_back_to_terminal_tasks():
    flow, (a, b, c) = chain_flow("a", "b", "c")
    flow.set_reference_tasks([a])
    flow.set_reference_tasks([])
    assert flow.reference_tasks() == {c}


def test_set_reference_tasks_outside_the_flow_raises_value_error():
    flow, (a, _, _) = chain_flow("a", "b", "c")
    flow.set_reference_tasks([a])
    with pytest.raises(ValueError):
        flow.set_reference_tasks([a, Task()])
    assert flow.reference_tasks() == {a}


def test_parameters_returns_only_parameters():
    flow = Flow("f")
    x, y = Parameter("x"), Parameter("y", default=1)
    t = XTask()
    flow.add_edge(x, t, key="x")
    flow.add_task(y)
    assert flow.parameters() == {x, y}


# get_tasks -------------------------------------------------------------------------------------


@pytest.fixture
def tagged_flow():
    flow = Flow("f")
    tasks = {
        "a": Task(name="a", tags=["red", "big"]),
        "b": Task(name="b", tags=["red"]),
        "x": XTask(name="a", slug="special"),
        "p": Parameter("p"),
    }
    for t in tasks.values():
        flow.add_task(t)
    return flow, tasks


def test_get_tasks_without_filters_returns_every_task(tagged_flow):
    flow, tasks = tagged_flow
    result = flow.get_tasks()
    assert isinstance(result, list)
    assert set(result) == set(tasks.values())
    assert len(result) == 4


def test_get_tasks_filters(tagged_flow):
    flow, t = tagged_flow
    assert set(flow.get_tasks(name="a")) == {t["a"], t["x"]}
    assert flow.get_tasks(slug="special") == [t["x"]]
    assert flow.get_tasks(slug="b-1") == [t["b"]]
    assert set(flow.get_tasks(tags=["red"])) == {t["a"], t["b"]}
    assert flow.get_tasks(tags=["red", "big"]) == [t["a"]]
    assert flow.get_tasks(task_type=XTask) == [t["x"]]
    assert flow.get_tasks(task_type=Parameter) == [t["p"]]
    assert flow.get_tasks(name="a", task_type=XTask) == [t["x"]]
    assert flow.get_tasks(name="a", tags=["big"]) == [t["a"]]


def test_get_tasks_with_no_match_returns_an_empty_list(tagged_flow):
    flow, _ = tagged_flow
    assert flow.get_tasks(name="missing") == []
    assert flow.get_tasks(tags=["red", "blue"]) == []
    assert flow.get_tasks(name="b", slug="special") == []


# Edge and neighbour queries ----------------------------------------------------------------


def test_edges_to_and_from_and_neighbours():
    flow = Flow("f")
    a, b, c = Task(), XTask(), Task()
    e1 = flow.add_edge(a, b, key="x")
    e2 = flow.add_edge(b, c)
    e3 = flow.add_edge(a, c)
    assert flow.edges_to(b) == {e1}
    assert flow.edges_from(a) == {e1, e3}
    assert flow.edges_to(c) == {e2, e3}
    assert flow.edges_from(c) == set()
    assert flow.edges_to(a) == set()
    assert flow.upstream_tasks(c) == {a, b}
    assert flow.downstream_tasks(a) == {b, c}
    assert flow.upstream_tasks(a) == set()
    assert flow.downstream_tasks(c) == set()


@pytest.mark.parametrize("method", ["edges_to", "edges_from", "upstream_tasks", "downstream_tasks"])
def test_neighbour_queries_of_a_task_not_in_the_flow_raise_value_error(method):
    flow, _ = chain_flow("a", "b")
    with pytest.raises(ValueError, match="not found"):
        getattr(flow, method)(Task())


def test_all_upstream_and_downstream_edges_cover_every_task():
    flow = Flow("f")
    a, b, lonely = Task(), Task(), Task()
    edge = flow.add_edge(a, b)
    flow.add_task(lonely)
    assert flow.all_upstream_edges() == {a: set(), b: {edge}, lonely: set()}
    assert flow.all_downstream_edges() == {a: {edge}, b: set(), lonely: set()}
    c = Task()
    edge2 = flow.add_edge(b, c)
    assert flow.all_upstream_edges()[c] == {edge2}
    assert flow.all_downstream_edges()[b] == {edge2}


# sorted_tasks and validate ---------------------------------------------------------------------


def test_sorted_tasks_of_a_chain():
    flow = Flow("f")
    a, b, c = Task(), Task(), Task()
    # Added out of order: the edges decide.
    flow.add_edge(b, c)
    flow.add_edge(a, b)
    assert flow.sorted_tasks() == (a, b, c)


def test_sorted_tasks_of_a_diamond_puts_the_join_last():
    flow = Flow("f")
    a, b, c, d = (Task(name=n) for n in "abcd")
    flow.add_edge(a, b)
    flow.add_edge(a, c)
    flow.add_edge(b, d)
    flow.add_edge(c, d)
    order = flow.sorted_tasks()
    assert order[0] is a and order[-1] is d
    assert set(order[1:3]) == {b, c}


def test_sorted_tasks_of_independent_tasks_follows_insertion_order():
    tasks = [Task(name=str(i)) for i in range(30)]
    flow = Flow("f")
    for t in tasks:
        flow.add_task(t)
    assert flow.sorted_tasks() == tuple(tasks)
    assert list(flow) == tasks


def test_sorted_tasks_is_the_same_for_flows_built_the_same_way():
    def build():
        flow = Flow("f")
        named = {n: Task(name=n) for n in "abcdefgh"}
        flow.chain(named["c"], named["a"], named["h"])
        flow.chain(named["b"], named["h"])
        for t in named.values():
            flow.add_task(t)
        flow.add_edge(named["g"], named["d"])
        return [t.name for t in flow.sorted_tasks()]

    first = build()
    assert all(build() == first for _ in range(5))


def test_sorted_tasks_from_root_tasks_covers_them_and_everything_downstream():
    flow, (a, b, c) = chain_flow("a", "b", "c")
    x, y = Task(), Task()
    flow.add_edge(x, y)
    assert flow.sorted_tasks(root_tasks=[b]) == (b, c)
    assert flow.sorted_tasks(root_tasks=[x]) == (x, y)
    assert set(flow.sorted_tasks(root_tasks=[a, x])) == {a, b, c, x, y}
    assert flow.sorted_tasks() != flow.sorted_tasks(root_tasks=[b])


def test_sorted_tasks_of_an_empty_flow():
    assert Flow("f").sorted_tasks() == ()


def test_sorted_tasks_with_a_cycle_raises_value_error_naming_the_tasks():
    flow = Flow("f")
    alpha, beta, gamma = Task(name="alpha"), Task(name="beta"), Task(name="gamma")
    flow.add_edge(alpha, beta)
    flow.add_edge(beta, alpha)
    flow.add_task(gamma)
    with pytest.raises(ValueError, match="[Cc]ycle") as exc:
        flow.sorted_tasks()
    assert "alpha" in str(exc.value)
    assert "beta" in str(exc.value)
    assert "gamma" not in str(exc.value)


def test_iterating_a_flow_yields_its_sorted_tasks():
    flow, tasks = chain_flow("a", "b", "c")
    assert list(flow) == tasks
    assert list(iter(flow)) == list(flow.sorted_tasks())


@settings(deadline=None, max_examples=50)
@given(
    n=st.integers(min_value=1, max_value=12),
    pairs=st.lists(st.tuples(st.integers(0, 11), st.integers(0, 11)), max_size=30),
    order=st.randoms(use_true_random=False),
)
def test_sorted_tasks_is_a_deterministic_topological_order(n, pairs, order):
    edges = {(i, j) for i, j in pairs if i < j < n}  # i < j: never a cycle
    insertion = list(range(n))
    order.shuffle(insertion)

    def build():
        tasks = [Task(name=str(i)) for i in range(n)]
        flow = Flow("f")
        for i in insertion:
            flow.add_task(tasks[i])
        for i, j in sorted(edges):
            flow.add_edge(tasks[i], tasks[j])
        return [int(t.name) for t in flow.sorted_tasks()]

    result = build()
    assert sorted(result) == list(range(n))
    position = {task: index for index, task in enumerate(result)}
    assert all(position[i] < position[j] for i, j in edges)
    assert build() == result
    if not edges:
        assert result == insertion


def test_validate_passes_for_a_valid_flow():
    flow, _ = chain_flow("a", "b", "c")
    assert flow.validate() is None


def test_validate_catches_edges_to_tasks_outside_the_flow():
    flow, (a, b) = chain_flow("a", "b")
    flow.edges.add(Edge(b, Task(name="outsider")))
    with pytest.raises(ValueError, match="not contained in this flow"):
        flow.validate()


def test_validate_catches_cycles():
    flow, (a, b, c) = chain_flow("a", "b", "c")
    flow.add_edge(c, a)
    with pytest.raises(ValueError, match="[Cc]ycle"):
        flow.validate()


def test_validate_catches_reference_tasks_outside_the_flow():
    flow, (a, b) = chain_flow("a", "b")
    flow.set_reference_tasks([a])
    flow.tasks.remove(a)
    flow.edges.clear()
    with pytest.raises(ValueError, match="reference tasks"):
        flow.validate()


# replace ---------------------------------------------------------------------------------------


def test_replace_moves_edges_to_the_new_task():
    flow = Flow("f")
    a, old, c = Task(name="a"), XTask(name="old"), Task(name="c")
    flow.add_edge(a, old, key="x", mapped=True)
    flow.add_edge(old, c, flattened=True)
    new = XTask(name="new")
    flow.replace(old, new)
    assert old not in flow.tasks
    assert new in flow.tasks
    assert flow.edges == {
        Edge(a, new, key="x", mapped=True),
        Edge(new, c, flattened=True),
    }
    assert flow.sorted_tasks() == (a, new, c)


def test_replace_moves_constants():
    flow = Flow("f")
    old = XYTask()
    flow.set_dependencies(old, keyword_tasks={"x": 1, "y": 2})
    new = XYTask()
    flow.replace(old, new)
    assert flow.constants[new] == {"x": 1, "y": 2}
    assert old not in flow.constants


def test_replace_moves_reference_tasks():
    flow, (a, b, c) = chain_flow("a", "b", "c")
    flow.set_reference_tasks([a, b])
    new = Task(name="new")
    flow.replace(b, new)
    assert flow.reference_tasks() == {a, new}


def test_replace_a_terminal_task_updates_the_terminal_tasks():
    flow, (a, b) = chain_flow("a", "b")
    new = Task()
    flow.replace(b, new)
    assert flow.terminal_tasks() == {new}
    assert flow.reference_tasks() == {new}


def test_replace_with_a_plain_value_uses_a_constant_task():
    flow = Flow("f")
    old, t = Task(), XTask()
    flow.add_edge(old, t, key="x")
    flow.replace(old, 5)
    (upstream,) = flow.upstream_tasks(t)
    assert isinstance(upstream, Constant)
    assert upstream.value == 5


def test_replace_a_task_not_in_the_flow_raises_value_error():
    flow, _ = chain_flow("a", "b")
    with pytest.raises(ValueError):
        flow.replace(Task(), Task())


def test_replace_validates_by_default():
    flow, (a, b, c) = chain_flow("a", "b", "c")
    with pytest.raises(ValueError, match="[Cc]ycle"):
        flow.replace(a, c)


def test_replace_without_validation_allows_an_invalid_graph():
    flow, (a, b, c) = chain_flow("a", "b", "c")
    flow.replace(a, c, validate=False)
    assert flow.edges == {Edge(c, b), Edge(b, c)}
    with pytest.raises(ValueError):
        flow.validate()


def test_replace_keeps_the_keyword_inputs_of_the_replaced_task_taken():
    flow = Flow("f")
    old, t = Task(), XTask()
    flow.add_edge(old, t, key="x")
    flow.replace(t, XTask())
    (new,) = flow.downstream_tasks(old)
    with pytest.raises(ValueError):
        flow.add_edge(Task(), new, key="x", validate=True)


# copy ------------------------------------------------------------------------------------------


def test_copy_is_equal_and_shares_tasks():
    flow, tasks = chain_flow("a", "b", "c")
    new = flow.copy()
    assert new is not flow
    assert new == flow
    assert new.name == flow.name
    assert new.tasks == flow.tasks
    assert new.edges == flow.edges
    for t in tasks:
        assert t in new.tasks


def test_changing_a_copy_leaves_the_original_alone():
    flow, (a, b, c) = chain_flow("a", "b", "c")
    flow.set_reference_tasks([c])
    original_order = flow.sorted_tasks()
    original_roots = flow.root_tasks()

    new = flow.copy()
    d = XTask(name="d")
    new.add_edge(d, a)
    new.set_dependencies(d, keyword_tasks={"x": 1})
    new.set_reference_tasks([b])

    assert d not in flow.tasks
    assert len(flow.edges) == 2
    assert d not in flow.constants
    assert flow.reference_tasks() == {c}
    assert flow.sorted_tasks() == original_order
    assert flow.root_tasks() == original_roots
    assert new.sorted_tasks() == (d, a, b, c)
    assert new.root_tasks() == {d}
    assert new.reference_tasks() == {b}


def test_changing_the_original_leaves_a_copy_alone():
    flow, (a, b) = chain_flow("a", "b")
    new = flow.copy()
    flow.add_edge(b, Task(name="c"))
    assert len(new.tasks) == 2
    assert new.terminal_tasks() == {b}


# update ----------------------------------------------------------------------------------------


def test_update_adds_tasks_edges_and_constants():
    first, (a, b) = chain_flow("a", "b")
    second = Flow("second")
    c, d = Task(name="c"), XTask(name="d")
    second.add_edge(c, d, key="x", mapped=True)
    lonely = XYTask()
    second.set_dependencies(lonely, keyword_tasks={"x": 1})

    first.update(second)
    assert first.tasks == {a, b, c, d, lonely}
    assert first.edges == {Edge(a, b), Edge(c, d, key="x", mapped=True)}
    assert first.constants[lonely] == {"x": 1}
    # the other flow is unchanged
    assert second.tasks == {c, d, lonely}


def test_update_with_shared_tasks_does_not_duplicate_edges():
    first, (a, b) = chain_flow("a", "b")
    second = Flow("second")
    c = Task()
    second.chain(a, b, c)
    first.update(second)
    assert first.edges == {Edge(a, b), Edge(b, c)}


def test_update_with_validate_catches_a_cycle():
    first, (a, b) = chain_flow("a", "b")
    second = Flow("second")
    second.add_edge(b, a)
    with pytest.raises(ValueError, match="[Cc]ycle"):
        first.update(second, validate=True)


def test_update_with_same_named_parameters_raises_without_merge_parameters():
    first, second = Flow("first"), Flow("second")
    first.add_edge(Parameter("x"), XTask(), key="x")
    second.add_edge(Parameter("x"), XTask(), key="x")
    with pytest.raises(ValueError, match='"x"'):
        first.update(second)


def test_update_with_merge_parameters_uses_this_flows_parameter():
    first, second = Flow("first"), Flow("second")
    mine, theirs = Parameter("x"), Parameter("x")
    t1, t2 = XTask(name="t1"), XTask(name="t2")
    first.add_edge(mine, t1, key="x")
    second.add_edge(theirs, t2, key="x")

    first.update(second, merge_parameters=True)
    assert first.parameters() == {mine}
    assert first.tasks == {mine, t1, t2}
    assert first.upstream_tasks(t2) == {mine}
    assert keyed_edges(first, t2)["x"].upstream_task is mine
    first.validate()


def test_update_with_merge_parameters_adds_new_parameters():
    first, second = Flow("first"), Flow("second")
    x, y = Parameter("x"), Parameter("y")
    first.add_task(x)
    second.add_task(y)
    first.update(second, merge_parameters=True)
    assert first.parameters() == {x, y}


def test_update_keeps_reference_tasks_unless_merging_them():
    first, (a, b) = chain_flow("a", "b")
    first.set_reference_tasks([a])
    second, (c, d) = chain_flow("c", "d")
    second.set_reference_tasks([c])

    kept = first.copy()
    kept.update(second)
    assert kept.reference_tasks() == {a}

    first.update(second, merge_reference_tasks=True)
    assert first.reference_tasks() == {a, c}


# Equality --------------------------------------------------------------------------------------


def test_flows_with_the_same_name_tasks_and_edges_are_equal():
    a, b = Task(), Task()
    f1, f2 = Flow("f"), Flow("f")
    f1.add_edge(a, b)
    f2.add_edge(a, b)
    assert f1 == f2


def test_flows_differing_in_name_tasks_edges_or_references_are_not_equal():
    a, b = Task(), Task()

    def build(name="f", extra_task=False, edge=True, reference=None):
        flow = Flow(name, tasks=[a, b])
        if edge:
            flow.add_edge(a, b)
        if extra_task:
            flow.add_task(Task())
        if reference:
            flow.set_reference_tasks(reference)
        return flow

    base = build()
    assert base != build(name="g")
    assert base != build(extra_task=True)
    assert base != build(edge=False)
    assert base != build(reference=[a])


def test_flow_is_not_equal_to_other_types():
    flow = Flow("f")
    assert flow != "f"
    assert flow != 1
    assert flow != None  # noqa: E711


# save and load ---------------------------------------------------------------------------------


def _flow_to_save() -> Flow:
    flow = Flow("My Saved Flow")
    a, b = Task(name="a"), XYTask(name="b")
    flow.add_edge(a, b, key="x")
    flow.set_dependencies(b, keyword_tasks={"y": 3})
    flow.set_reference_tasks([a])
    return flow


def _check_loaded(loaded: Flow) -> None:
    assert isinstance(loaded, Flow)
    assert loaded.name == "My Saved Flow"
    (a,) = loaded.get_tasks(name="a")
    (b,) = loaded.get_tasks(name="b")
    assert isinstance(b, XYTask)
    assert loaded.tasks == {a, b}
    assert loaded.edges == {Edge(a, b, key="x")}
    assert loaded.constants[b] == {"y": 3}
    assert loaded.reference_tasks() == {a}
    assert loaded.sorted_tasks() == (a, b)


def test_save_and_load_round_trip_with_a_path(tmp_path):
    path = tmp_path / "sub" / "flow.prefect"
    written = _flow_to_save().save(str(path))
    assert written == str(path)
    assert path.is_file()
    _check_loaded(Flow.load(str(path)))


def test_save_without_a_path_writes_under_home_dir_flows(tmp_path):
    with set_temporary_config({"home_dir": str(tmp_path)}):
        written = _flow_to_save().save()
        expected = tmp_path / "flows" / "my-saved-flow.prefect"
        assert Path(written) == expected
        assert expected.is_file()
        _check_loaded(Flow.load(str(expected)))
        _check_loaded(Flow.load("My Saved Flow"))


def test_save_expands_the_user_directory(isolated_prefect):
    written = _flow_to_save().save("~/saved.prefect")
    assert Path(written) == Path(os.path.expanduser("~")) / "saved.prefect"
    assert Path(written).is_file()
    _check_loaded(Flow.load("~/saved.prefect"))


def test_load_of_a_missing_flow_raises():
    with pytest.raises(OSError):
        Flow.load("no flow has this name")


def test_sorted_tasks_with_empty_root_tasks_sorts_the_whole_flow():
    flow = Flow("f")
    a, b = Task(name="a"), Task(name="b")
    flow.add_edge(a, b)
    assert flow.sorted_tasks(root_tasks=[]) == (a, b)


def test_a_resource_cleanup_task_stands_for_its_upstream_tasks_as_reference_task():
    @prefect.resource_manager
    class Thing:
        def setup(self):
            return 1

        def cleanup(self, resource):
            pass

    @prefect.task
    def use(resource):
        return resource

    with Flow("f") as flow:
        with Thing() as resource:
            used = use(resource)

    (cleanup,) = flow.terminal_tasks()
    assert type(cleanup).__name__ == "ResourceCleanupTask"
    assert used in flow.reference_tasks()
    assert cleanup not in flow.reference_tasks()
    flow.set_reference_tasks([cleanup])
    assert flow.reference_tasks() == {cleanup}
