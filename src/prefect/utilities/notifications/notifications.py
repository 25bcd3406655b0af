"""State handlers built from plain callbacks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Union

if TYPE_CHECKING:
    from prefect.core.flow import Flow
    from prefect.core.task import Task
    from prefect.engine.state import State

TrackedObjectType = Union["Flow", "Task"]

__all__ = ["callback_factory"]


def callback_factory(fn: Callable[[Any, State], Any], check: Callable[[State], bool]) -> Callable:
    """Turn `fn(obj, state)` into a state handler that calls it when `check(new_state)` is true.

    Args:
        fn: called with the task or flow and the new state
        check: decides from the new state whether `fn` is called

    Returns:
        a state handler `(obj, old_state, new_state) -> new_state`
    """

    def state_handler(obj: Any, old_state: State, new_state: State) -> State:
        if check(new_state) is True:
            fn(obj, new_state)
        return new_state

    return state_handler
