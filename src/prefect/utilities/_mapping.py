"""Preparing the upstream states of mapped children (re-exported by
`prefect.utilities.executors`, the 1.x home of these helpers)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from prefect.engine.result import Result
from prefect.engine.state import Mapped, State
from prefect.utilities._copy import shallow_copy, shallow_copy_is_plain

if TYPE_CHECKING:
    from prefect.core import Edge, Task


def _indexed_state(upstream_state: State, index: int) -> State:
    """A copy of a (non-mapped) upstream state whose result is its result's `index`-th item."""
    child = shallow_copy(upstream_state)
    result = upstream_state._result  # type: ignore[attr-defined]
    child._result = result.from_value(result.value[index])  # type: ignore[attr-defined]
    return child


def prepare_upstream_states_for_mapping(
    state: State,
    upstream_states: dict[Edge, State],
    mapped_children: dict[Task, list],
    executor: Any,
) -> list[dict[Edge, State]]:
    """For each child of a mapped task, its upstream states by edge.

    Unmapped edges pass their state whole; a mapped edge from a mapped task passes the child
    with the same index; a mapped edge from any other task passes a copy of its state holding
    one item of its result.

    Args:
        state: the parent's `Mapped` state (its `n_map_states` is the number of children)
        upstream_states: the parent's upstream states
        mapped_children: the children (states or futures) of mapped upstream tasks
        executor: the executor (to wait on flattened children)

    Returns:
        one `{edge: state}` per child
    """
    return list(iter_upstream_states_for_mapping(state, upstream_states, mapped_children))


def iter_upstream_states_for_mapping(
    state: State,
    upstream_states: dict[Edge, State],
    mapped_children: dict[Task, list],
) -> Iterator[dict[Edge, State]]:
    """`prepare_upstream_states_for_mapping`, one child at a time: a map over a million items
    holds one child's upstream states at a time, not a million. How each edge feeds the
    children is decided before the first child."""
    n_children = state.n_map_states if isinstance(state, Mapped) else 0
    # How each edge feeds the children, decided once per edge (in the parent's edge order):
    # the same state to every child, item `i` of a list of states (the children of a mapped
    # upstream task), or a copy holding item `i` of the upstream result.
    whole: list[tuple[Edge, State]] = []
    from_children: list[tuple[Edge, list]] = []
    from_items: list[tuple[Edge, State]] = []
    for edge, upstream_state in upstream_states.items():
        if not edge.mapped:
            whole.append((edge, upstream_state))
        elif isinstance(upstream_state, Mapped):
            # The flow runner has already flattened a flattened edge's children into the
            # upstream state; otherwise the children just submitted are the freshest.
            if edge.flattened or edge.upstream_task not in mapped_children:
                from_children.append((edge, upstream_state.map_states))
            else:
                from_children.append((edge, mapped_children[edge.upstream_task]))
        elif upstream_state.is_successful() and hasattr(upstream_state.result, "__getitem__"):
            from_items.append((edge, upstream_state))
        else:
            # e.g. a re-run whose inputs live in the children's cached inputs
            whole.append((edge, upstream_state))
    return _children_upstream_states(n_children, dict(whole), from_children, from_items)


def _children_upstream_states(
    n_children: int,
    whole: dict[Edge, State],
    from_children: list[tuple[Edge, list]],
    from_items: list[tuple[Edge, State]],
) -> Iterator[dict[Edge, State]]:
    if not from_children and len(from_items) == 1:
        # One mapped list (the common `task.map(items)`): each child's copy of the state,
        # holding its item, is made from one template.
        ((edge, upstream_state),) = from_items
        result = upstream_state._result  # type: ignore[attr-defined]
        values = result.value
        state_cls, result_cls = type(upstream_state), type(result)
        if (
            shallow_copy_is_plain(state_cls)
            and shallow_copy_is_plain(result_cls)
            and result_cls.from_value is Result.from_value
            and result_cls.copy is Result.copy
        ):
            # The copies `shallow_copy` and `from_value` would make, made here.
            new = object.__new__
            state_values = upstream_state.__dict__
            result_values = result.__dict__
            for index in range(n_children):
                states = whole.copy()
                item = new(result_cls)
                item_values = item.__dict__ = result_values.copy()
                item_values["location"] = None
                item_values["value"] = values[index]
                child = new(state_cls)
                child_values = child.__dict__ = state_values.copy()
                child_values["_result"] = item
                states[edge] = child
                yield states
            return
        for index in range(n_children):
            states = whole.copy()
            child = shallow_copy(upstream_state)
            child._result = result.from_value(values[index])  # type: ignore[attr-defined]
            states[edge] = child
            yield states
        return
    for index in range(n_children):
        states = whole.copy()
        for edge, children in from_children:
            states[edge] = children[index]
        for edge, upstream_state in from_items:
            states[edge] = _indexed_state(upstream_state, index)
        yield states


def flatten_upstream_state(upstream_state: State) -> State:
    """A copy of a successful state whose result (a list of lists) is flattened one level."""
    if not upstream_state.is_successful():
        return upstream_state
    result = upstream_state._result  # type: ignore[attr-defined]
    value = result.value
    if not isinstance(value, (list, tuple)):
        return upstream_state
    flat: list = []
    for item in value:
        if isinstance(item, (list, tuple)):
            flat.extend(item)
        else:
            flat.append(item)
    new_state = shallow_copy(upstream_state)
    new_state._result = result.from_value(flat)  # type: ignore[attr-defined]
    return new_state


def flatten_mapped_children(mapped_children: list, executor: Any) -> list:
    """One state per item of the children's results: the children of a mapped task flattened
    one level (a child whose result is `[a, b]` gives two states)."""
    children = executor.wait(mapped_children)
    flat: list = []
    for child in children:
        value = child.result
        if child.is_successful() and isinstance(value, (list, tuple)):
            for item in value:
                new_state = shallow_copy(child)
                new_state._result = child._result.from_value(item)  # type: ignore[attr-defined]
                flat.append(new_state)
        else:
            flat.append(child)
    return flat
