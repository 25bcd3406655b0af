"""The upstream states a task run gets for its constant (non-task) inputs."""

from __future__ import annotations

import pickle

import cloudpickle

import prefect
from prefect import Flow, task
from prefect.core.edge import Edge
from prefect.engine.flow_runner import _constant_inputs
from prefect.engine.state import Success
from prefect.tasks.core.constants import Constant


def build() -> tuple[Flow, prefect.Task]:
    @task
    def add(x, y):
        return x + y

    with Flow("constants") as flow:
        total = add(1, y=[1, 2, 3, 4, 5, 6, 7, 8, 9])
    return flow, total


def test_each_constant_input_is_an_edge_from_a_constant_task_with_a_success_state():
    flow, total = build()
    inputs = _constant_inputs(flow, total)
    assert sorted(edge.key for edge in inputs) == ["x", "y"]
    for edge, state in inputs.items():
        assert edge.downstream_task is total
        assert not edge.mapped and not edge.flattened
        constant = edge.upstream_task
        assert isinstance(constant, Constant)
        assert constant.value == state.result == flow.constants[total][edge.key]
        assert isinstance(state, Success) and state.message == "Auto-generated constant value"
        assert edge.upstream_task is constant  # made once
    names = {edge.key: edge.upstream_task.name for edge in inputs}
    assert names == {"x": "1", "y": "Constant[list]"}


def test_constant_inputs_are_made_once_per_flow_graph():
    flow, total = build()
    assert _constant_inputs(flow, total) is _constant_inputs(flow, total)
    first = _constant_inputs(flow, total)
    flow.add_task(Constant(5))  # any change to the graph starts afresh
    assert _constant_inputs(flow, total) is not first


def test_constant_edges_are_equal_only_to_themselves_and_usable_as_keys():
    flow, total = build()
    edges = list(_constant_inputs(flow, total))
    assert edges[0] == edges[0] and edges[0] != edges[1]
    assert len({*edges, *edges}) == 2
    regular = Edge(edges[0].upstream_task, total, key=edges[0].key)
    assert edges[0] != regular and regular != edges[0]


def test_constant_edges_survive_pickling():
    flow, total = build()
    for edge in _constant_inputs(flow, total):
        # The downstream task is a function defined in a test: only cloudpickle takes it.
        copy = pickle.loads(cloudpickle.dumps(edge))
        assert copy.key == edge.key
        assert copy.upstream_task.value == edge.upstream_task.value
        assert copy.downstream_task.name == total.name


def test_a_trigger_sees_constant_inputs_keyed_by_their_edges():
    seen = {}

    def trigger(upstream_states):
        seen.update(
            {edge.key: (edge.upstream_task.value, s.result) for edge, s in upstream_states.items()}
        )
        return True

    @task(trigger=trigger)
    def add(x, y):
        return x + y

    with Flow("trigger") as flow:
        add(2, 3)
    assert flow.run().is_successful()
    assert seen == {"x": (2, 2), "y": (3, 3)}
