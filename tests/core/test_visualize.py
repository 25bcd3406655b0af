"""Tests for `Flow.visualize` (graphviz drawing, `prefect.core._visualize`)."""

from __future__ import annotations

import os
import re
import shutil
import sys

import pytest

from prefect import Flow, Task
from prefect.engine.state import Failed, Mapped, Success

if os.environ.get("CI"):  # under CI the `viz` extra must be installed: fail, never skip
    import graphviz
else:
    graphviz = pytest.importorskip("graphviz")


class XTask(Task):
    def run(self, payload):
        return payload


@pytest.fixture
def dot_program():
    """The Graphviz `dot` program; a missing one skips locally but fails under CI."""
    if shutil.which("dot") is None:
        if os.environ.get("CI"):
            pytest.fail("Graphviz's `dot` program is missing; CI must install graphviz.")
        pytest.skip("Graphviz's `dot` program is not installed")


@pytest.fixture
def etl_flow():
    flow = Flow("etl")
    extract, transform, load = Task(name="extract"), XTask(name="transform"), Task(name="load")
    flow.add_edge(extract, transform, key="payload")
    flow.add_edge(transform, load)
    return flow, (extract, transform, load)


def node_line(graph, task) -> str:
    """The DOT line that declares `task`'s node."""
    pattern = re.compile(rf"^\s*{id(task)} \[.*$", re.MULTILINE)
    match = pattern.search(graph.source)
    assert match, f"no node for {task!r} in:\n{graph.source}"
    return match.group(0)


def edge_line(graph, upstream, downstream) -> str:
    pattern = re.compile(rf"^\s*{id(upstream)} -> {id(downstream)}\b.*$", re.MULTILINE)
    match = pattern.search(graph.source)
    assert match, f"no edge {upstream!r} -> {downstream!r} in:\n{graph.source}"
    return match.group(0)


def test_visualize_renders_a_file_with_every_task(tmp_path, dot_program, etl_flow):
    flow, _ = etl_flow
    target = tmp_path / "etl"
    graph = flow.visualize(filename=str(target), format="svg")

    assert isinstance(graph, graphviz.Digraph)
    rendered = tmp_path / "etl.svg"
    assert rendered.is_file()
    svg = rendered.read_text()
    assert svg.lstrip().startswith("<?xml") or "<svg" in svg
    for label in ("extract", "transform", "load", "payload"):
        assert f">{label}</text>" in svg


def test_visualize_graph_has_a_node_per_task_and_labelled_edges(etl_flow, monkeypatch):
    flow, (extract, transform, load) = etl_flow
    monkeypatch.setattr(graphviz.Digraph, "render", lambda self, *a, **k: None)
    graph = flow.visualize()
    assert "label=extract" in node_line(graph, extract)
    assert "label=transform" in node_line(graph, transform)
    assert "label=load" in node_line(graph, load)
    assert "label=payload" in edge_line(graph, extract, transform)
    assert "label" not in edge_line(graph, transform, load)


def test_visualize_without_a_filename_opens_a_viewer(etl_flow, monkeypatch):
    calls = []
    monkeypatch.setattr(
        graphviz.Digraph, "render", lambda self, *args, **kwargs: calls.append(kwargs)
    )
    flow, _ = etl_flow
    flow.visualize()
    assert len(calls) == 1
    assert calls[0].get("view") is True


def test_visualize_horizontal_lays_the_graph_out_left_to_right(etl_flow, monkeypatch):
    flow, _ = etl_flow
    monkeypatch.setattr(graphviz.Digraph, "render", lambda self, *a, **k: None)
    assert "rankdir=LR" in flow.visualize(horizontal=True).source
    assert "rankdir=LR" not in flow.visualize().source


def test_visualize_draws_mapped_tasks_as_boxes_and_mapped_edges_dashed(monkeypatch):
    monkeypatch.setattr(graphviz.Digraph, "render", lambda self, *a, **k: None)
    flow = Flow("mapped")
    numbers, add = Task(name="numbers"), XTask(name="add")
    flow.add_edge(numbers, add, key="payload", mapped=True)
    graph = flow.visualize()
    assert "shape=box" in node_line(graph, add)
    assert "shape=ellipse" in node_line(graph, numbers)
    assert "style=dashed" in edge_line(graph, numbers, add)


def test_visualize_labels_mapped_tasks_with_map(monkeypatch):
    monkeypatch.setattr(graphviz.Digraph, "render", lambda self, *a, **k: None)
    flow = Flow("mapped")
    numbers, add = Task(name="numbers"), XTask(name="add")
    flow.add_edge(numbers, add, key="payload", mapped=True)
    assert "add <map>" in node_line(flow.visualize(), add)


def test_visualize_colours_tasks_by_their_state(etl_flow, monkeypatch):
    monkeypatch.setattr(graphviz.Digraph, "render", lambda self, *a, **k: None)
    flow, (extract, transform, load) = etl_flow
    flow_state = Failed(result={extract: Success(), transform: Failed(), load: Success()})
    graph = flow.visualize(flow_state=flow_state)
    assert Success.color in node_line(graph, extract)
    assert Failed.color in node_line(graph, transform)
    assert "filled" in node_line(graph, transform)


def test_visualize_without_a_state_does_not_fill_nodes(etl_flow, monkeypatch):
    monkeypatch.setattr(graphviz.Digraph, "render", lambda self, *a, **k: None)
    flow, (extract, _, _) = etl_flow
    assert "filled" not in node_line(flow.visualize(), extract)


def test_visualize_colours_each_mapped_child(monkeypatch):
    monkeypatch.setattr(graphviz.Digraph, "render", lambda self, *a, **k: None)
    flow = Flow("mapped")
    numbers, add = Task(name="numbers"), XTask(name="add")
    flow.add_edge(numbers, add, key="payload", mapped=True)
    flow_state = Success(
        result={
            numbers: Success(),
            add: Mapped(map_states=[Success(), Failed(), Success()]),
        }
    )
    source = flow.visualize(flow_state=flow_state).source
    child_nodes = re.findall(rf"^\s*{id(add)}\d+ \[.*$", source, re.MULTILINE)
    assert len(child_nodes) == 3
    assert Failed.color in child_nodes[1]
    assert Success.color in child_nodes[0] and Success.color in child_nodes[2]


def test_visualize_without_graphviz_names_the_viz_extra(etl_flow, monkeypatch):
    flow, _ = etl_flow
    monkeypatch.setitem(sys.modules, "graphviz", None)
    with pytest.raises(ImportError, match=r"prefect\[viz\]"):
        flow.visualize()
