"""Triggers decide, from the states of a task's upstream tasks, whether the task runs.

A trigger is called with the upstream states (a dict of `Edge -> State`; only the states
are looked at). It returns `True` when the task should run; otherwise it raises a signal
that ends the task's run: `TRIGGERFAIL` (the task becomes `TriggerFailed`), `PAUSE`
(`manual_only`) or `SKIP` (`not_all_skipped`).

The default trigger of a task is `all_successful`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from operator import methodcaller
from typing import TYPE_CHECKING, Any

import prefect
from prefect.engine import signals

if TYPE_CHECKING:
    from prefect.core.edge import Edge
    from prefect.engine.state import State

__all__ = [
    "all_failed",
    "all_finished",
    "all_successful",
    "always_run",
    "any_failed",
    "any_successful",
    "manual_only",
    "not_all_skipped",
    "some_failed",
    "some_successful",
]

UpstreamStates = Mapping["Edge", "State"]


def _states(upstream_states: UpstreamStates | Iterable[State]) -> list[State]:
    # 1.x triggers took a set of states before they took a dict keyed by edge.
    if type(upstream_states) is dict or isinstance(upstream_states, Mapping):
        return list(upstream_states.values())
    return list(upstream_states)


# `all(map(_IS_X, states))` calls each state's predicate without a generator per check.
_IS_SUCCESSFUL = methodcaller("is_successful")


def all_finished(upstream_states: UpstreamStates) -> bool:
    """Runs the task once every upstream task has finished, whatever the outcome.

    Args:
        upstream_states: the upstream states, keyed by edge.

    Returns:
        True.

    Raises:
        TRIGGERFAIL: if an upstream task is not finished.
    """
    if not all(s.is_finished() for s in _states(upstream_states)):
        raise signals.TRIGGERFAIL(
            'Trigger was "all_finished" but some of the upstream tasks were not finished.'
        )
    return True


always_run = all_finished


def manual_only(upstream_states: UpstreamStates) -> bool:
    """Never runs the task on its own: it pauses until resumed.

    A task that starts from a `Resume` state runs with `resume` set in `prefect.context`;
    then the trigger passes.

    Args:
        upstream_states: the upstream states, keyed by edge (not consulted).

    Returns:
        True when the run was resumed.

    Raises:
        PAUSE: unless the run was resumed.
    """
    if prefect.context.get("resume"):  # type: ignore[attr-defined]
        return True
    raise signals.PAUSE('Trigger function is "manual_only"')


def all_successful(upstream_states: UpstreamStates) -> bool:
    """Runs the task when every upstream task succeeded (the default trigger).

    `Skipped`, `Cached` and `Mapped` count as successful.

    Args:
        upstream_states: the upstream states, keyed by edge.

    Returns:
        True.

    Raises:
        TRIGGERFAIL: if an upstream task did not succeed.
    """
    if not all(map(_IS_SUCCESSFUL, _states(upstream_states))):
        raise signals.TRIGGERFAIL(
            'Trigger was "all_successful" but some of the upstream tasks failed.'
        )
    return True


def all_failed(upstream_states: UpstreamStates) -> bool:
    """Runs the task when every upstream task failed.

    Args:
        upstream_states: the upstream states, keyed by edge.

    Returns:
        True (also when there are no upstream tasks).

    Raises:
        TRIGGERFAIL: if an upstream task did not fail.
    """
    if not all(s.is_failed() for s in _states(upstream_states)):
        raise signals.TRIGGERFAIL(
            'Trigger was "all_failed" but some of the upstream tasks succeeded.'
        )
    return True


def any_successful(upstream_states: UpstreamStates) -> bool:
    """Runs the task when at least one upstream task succeeded.

    Args:
        upstream_states: the upstream states, keyed by edge.

    Returns:
        True (also when there are no upstream tasks).

    Raises:
        TRIGGERFAIL: if there are upstream tasks and none succeeded.
    """
    states = _states(upstream_states)
    if states and not any(s.is_successful() for s in states):
        raise signals.TRIGGERFAIL(
            'Trigger was "any_successful" but none of the upstream tasks succeeded.'
        )
    return True


def any_failed(upstream_states: UpstreamStates) -> bool:
    """Runs the task when at least one upstream task failed.

    Args:
        upstream_states: the upstream states, keyed by edge.

    Returns:
        True (also when there are no upstream tasks).

    Raises:
        TRIGGERFAIL: if there are upstream tasks and none failed.
    """
    states = _states(upstream_states)
    if states and not any(s.is_failed() for s in states):
        raise signals.TRIGGERFAIL('Trigger was "any_failed" but none of the upstream tasks failed.')
    return True


def _bound(limit: int | float | None, total: int, default: float) -> float:
    # A limit strictly between 0 and 1 is a fraction of the upstream tasks. Rounding
    # drops float noise: 0.55 * 20 is 11.000000000000002, and 11 of 20 is 55%.
    if limit is None:
        return default
    if 0 < limit < 1:
        return round(limit * total, 9)
    return limit


def _check_count(
    upstream_states: UpstreamStates,
    name: str,
    outcome: str,
    is_outcome: Callable[[State], bool],
    at_least: int | float | None,
    at_most: int | float | None,
) -> bool:
    states = _states(upstream_states)
    count = sum(1 for s in states if is_outcome(s))
    low = _bound(at_least, len(states), 0)
    high = _bound(at_most, len(states), len(states))
    if not low <= count <= high:
        raise signals.TRIGGERFAIL(
            f'Trigger was "{name}" but {count} of the {len(states)} upstream tasks '
            f"{outcome}, which is not between {_format_bound(low)} and "
            f"{_format_bound(high)}."
        )
    return True


def _format_bound(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def some_failed(
    at_least: int | float | None = None, at_most: int | float | None = None
) -> Callable[[UpstreamStates], bool]:
    """Build a trigger that runs the task when the number of failed upstream tasks is
    within bounds.

    A bound strictly between 0 and 1 is a fraction of the number of upstream tasks
    (`at_least=0.5`: at least half failed); otherwise it is a count.

    Args:
        at_least: the minimum number (or fraction) of failed upstream tasks.
        at_most: the maximum number (or fraction) of failed upstream tasks.

    Returns:
        The trigger. It returns True when the count is within bounds and raises
        `TRIGGERFAIL` otherwise.
    """

    # The closure holds exactly the factory's arguments, so that a serializer can rebuild
    # it as `some_failed(**closure_variables)`.
    def _some_failed(upstream_states: UpstreamStates) -> bool:
        return _check_count(upstream_states, "some_failed", "failed", _is_failed, at_least, at_most)

    return _some_failed


def some_successful(
    at_least: int | float | None = None, at_most: int | float | None = None
) -> Callable[[UpstreamStates], bool]:
    """Build a trigger that runs the task when the number of successful upstream tasks is
    within bounds.

    A bound strictly between 0 and 1 is a fraction of the number of upstream tasks
    (`at_least=0.5`: at least half succeeded); otherwise it is a count.

    Args:
        at_least: the minimum number (or fraction) of successful upstream tasks.
        at_most: the maximum number (or fraction) of successful upstream tasks.

    Returns:
        The trigger. It returns True when the count is within bounds and raises
        `TRIGGERFAIL` otherwise.
    """

    def _some_successful(upstream_states: UpstreamStates) -> bool:
        return _check_count(
            upstream_states, "some_successful", "succeeded", _is_successful, at_least, at_most
        )

    return _some_successful


def _is_failed(state: Any) -> bool:
    return bool(state.is_failed())


def _is_successful(state: Any) -> bool:
    return bool(state.is_successful())


def not_all_skipped(upstream_states: UpstreamStates) -> bool:
    """Runs the task when every upstream task succeeded and not all of them were skipped.

    Args:
        upstream_states: the upstream states, keyed by edge.

    Returns:
        True (also when there are no upstream tasks).

    Raises:
        SKIP: if every upstream task was skipped.
        TRIGGERFAIL: if an upstream task did not succeed.
    """
    states = _states(upstream_states)
    if states and all(s.is_skipped() for s in states):
        raise signals.SKIP("All upstream tasks were skipped.")
    if not all(s.is_successful() for s in states):
        raise signals.TRIGGERFAIL(
            'Trigger was "not_all_skipped" but some of the upstream tasks failed.'
        )
    return True
