from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

import prefect
from prefect import Flow, Task
from prefect.core.edge import Edge
from prefect.serialization.edge import EdgeSchema

VERSION = prefect.__version__


def test_an_edge_dumps_its_ends_by_slug_and_its_flags():
    edge = Edge(Task(slug="a"), Task(slug="b"), key="x", mapped=True, flattened=True)
    assert EdgeSchema().dump(edge) == {
        "upstream_task": {"slug": "a", "__version__": VERSION},
        "downstream_task": {"slug": "b", "__version__": VERSION},
        "key": "x",
        "mapped": True,
        "flattened": True,
        "__version__": VERSION,
    }


def test_an_edge_without_key_dumps_null_and_false_flags():
    data = EdgeSchema().dump(Edge(Task(slug="a"), Task(slug="b")))
    assert (data["key"], data["mapped"], data["flattened"]) == (None, False, False)


def test_edge_serialize_uses_the_schema():
    edge = Edge(Task(slug="a"), Task(slug="b"), key="y")
    assert edge.serialize() == EdgeSchema().dump(edge)


def test_an_edge_in_a_flow_dump_names_tasks_by_the_flow_slugs():
    flow = Flow("f")
    a, b = Task(name="a"), Task(name="b")
    flow.add_edge(a, b, mapped=True)
    (edge,) = flow.serialize()["edges"]
    assert edge["upstream_task"]["slug"] == "a-1"
    assert edge["downstream_task"]["slug"] == "b-1"
    assert edge["mapped"] is True


def test_loading_gives_an_edge_between_placeholder_tasks_with_the_slugs():
    data = EdgeSchema().dump(Edge(Task(slug="a"), Task(slug="b"), key="x", mapped=True))
    edge = EdgeSchema().load(data)
    assert isinstance(edge, Edge)
    assert (edge.upstream_task.slug, edge.downstream_task.slug) == ("a", "b")
    assert (edge.key, edge.mapped, edge.flattened) == ("x", True, False)
    assert EdgeSchema().dump(edge) == data


def test_both_ends_with_one_slug_load_as_one_task():
    edge = EdgeSchema().load(EdgeSchema().dump(Edge(Task(slug="a"), Task(slug="a"))))
    assert edge.upstream_task is edge.downstream_task


def test_edges_loaded_together_share_their_tasks():
    data = [
        EdgeSchema().dump(Edge(Task(slug="a"), Task(slug="b"))),
        EdgeSchema().dump(Edge(Task(slug="b"), Task(slug="c"))),
    ]
    first, second = EdgeSchema().load(data, many=True)
    assert first.downstream_task is second.upstream_task


def test_an_invalid_key_fails_to_load():
    data = EdgeSchema().dump(Edge(Task(slug="a"), Task(slug="b")))
    data["key"] = "not an identifier"
    with pytest.raises(ValueError):
        EdgeSchema().load(data)
    data["key"] = 3
    with pytest.raises(ValidationError):
        EdgeSchema().load(data)


_slugs = st.text(min_size=1, max_size=12)


@settings(max_examples=25)
@given(
    up=_slugs,
    down=_slugs,
    key=st.none() | st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True),
    mapped=st.booleans(),
    flattened=st.booleans(),
)
def test_edge_dump_load_dump_is_stable(up, down, key, mapped, flattened):
    import keyword

    if key is not None and keyword.iskeyword(key):
        key = key + "_"
    edge = Edge(Task(slug=up), Task(slug=down), key=key, mapped=mapped, flattened=flattened)
    data = EdgeSchema().dump(edge)
    assert EdgeSchema().dump(EdgeSchema().load(data)) == data
