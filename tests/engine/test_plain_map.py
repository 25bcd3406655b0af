"""Plain runs (`prefect.engine._plain_run`) and the mapped children's shared runs
(`prefect.engine._plain_map`): the objects they make directly are the ones the constructors
make, and the collector is handed back as it was."""

from __future__ import annotations

import gc

import pytest

import prefect
from prefect import Flow, task
from prefect.engine import _plain_map, _plain_run
from prefect.engine.result import Result
from prefect.engine.results import LocalResult
from prefect.engine.state import Success
from prefect.utilities import _mapping


@task
def inc(x: int) -> int:
    return x + 1


def test_a_success_made_directly_is_the_one_the_constructor_makes() -> None:
    base = Result(location="somewhere/{x}")
    with prefect.context(task_tags={"b", "a"}):
        expected = Success(result=base.from_value(3), message="Task run succeeded.")
        tags = prefect.context.get("task_tags")
    made = _plain_run.new_success(base, 3, tags)
    assert type(made) is Success
    assert vars(made).keys() == vars(expected).keys()
    assert sorted(made.context["tags"]) == sorted(expected.context["tags"])
    assert made == expected
    assert made.message == expected.message
    assert vars(made._result) == vars(expected._result)
    assert made._result is not base
    # Without tags in the context, no tags key, as the constructor does.
    bare = _plain_run.new_success(base, None, _plain_run.MISSING)
    assert bare.context == Success(result=base.from_value(None)).context == {}


def test_results_with_their_own_copies_are_not_made_directly() -> None:
    class Custom(Result):
        def from_value(self, value):  # type: ignore[no-untyped-def]
            return super().from_value(value * 10)

    assert _plain_run.makes_plain_success(Result())
    assert _plain_run.makes_plain_success(LocalResult(dir="/tmp"))
    assert not _plain_run.makes_plain_success(Custom())

    with Flow("custom", result=Custom()) as flow:
        mapped = inc.map([1, 2])
    state = flow.run()
    assert [s.result for s in state.result[mapped].map_states] == [20, 30]


def test_children_upstream_states_made_directly_match_the_generic_copies() -> None:
    with Flow("f") as flow:
        mapped = inc.map([5, 6, 7])
    state = flow.run()
    assert [s.result for s in state.result[mapped].map_states] == [6, 7, 8]

    upstream = Success(result=[1, 2, 3], message="m")
    upstream.context["tags"] = ["t"]
    (edge,) = flow.edges_to(mapped)
    parent = prefect.engine.state.Mapped(n_map_states=3)
    children = list(_mapping.iter_upstream_states_for_mapping(parent, {edge: upstream}, {}))
    generic = [_mapping._indexed_state(upstream, i) for i in range(3)]
    for made, expected in zip(children, generic):
        child = made[edge]
        assert type(child) is Success
        assert vars(child).keys() == vars(expected).keys()
        assert child.result == expected.result
        assert child.message == "m" and child.context == {"tags": ["t"]}
        assert vars(child._result) == vars(expected._result)
        assert child._result is not upstream._result


def test_a_large_map_freezes_the_collector_and_thaws_it_afterwards(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_plain_map, "_FREEZE_EVERY", 5)
    calls: list[str] = []
    monkeypatch.setattr(_plain_map.gc, "freeze", lambda: calls.append("freeze"))
    monkeypatch.setattr(_plain_map.gc, "unfreeze", lambda: calls.append("unfreeze"))
    with Flow("big") as flow:
        mapped = inc.map(list(range(12)))
    state = flow.run()
    assert [s.result for s in state.result[mapped].map_states] == list(range(1, 13))
    assert calls == ["freeze", "freeze", "unfreeze"]


def test_the_collector_is_left_alone_when_off_or_already_frozen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_plain_map, "_FREEZE_EVERY", 2)
    calls: list[str] = []
    monkeypatch.setattr(_plain_map.gc, "freeze", lambda: calls.append("freeze"))
    monkeypatch.setattr(_plain_map.gc, "unfreeze", lambda: calls.append("unfreeze"))
    with Flow("big") as flow:
        inc.map(list(range(6)))

    monkeypatch.setattr(_plain_map.gc, "get_freeze_count", lambda: 10)
    assert flow.run().is_successful()
    assert calls == []

    monkeypatch.setattr(_plain_map.gc, "get_freeze_count", lambda: 0)
    monkeypatch.setattr(_plain_map.gc, "isenabled", lambda: False)
    assert flow.run().is_successful()
    assert calls == []


def test_the_collector_is_really_thawed_after_a_map(monkeypatch: pytest.MonkeyPatch) -> None:
    assert gc.get_freeze_count() == 0
    monkeypatch.setattr(_plain_map, "_FREEZE_EVERY", 2)
    frozen: list[int] = []

    @task
    def look(x: int) -> int:
        frozen.append(gc.get_freeze_count())
        return x

    with Flow("real") as flow:
        look.map(list(range(5)))
    assert flow.run().is_successful()
    assert frozen[0] == 0 and frozen[1] > 0  # frozen from the second child on
    assert gc.get_freeze_count() == 0
