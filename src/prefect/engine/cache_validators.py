"""Cache validators: decide whether a `Cached` state may stand in for running a task again.

Each takes the cached state, the task's current inputs and the flow's parameters, and returns
whether the cache is still valid.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterable

if TYPE_CHECKING:
    from prefect.engine.state import Cached

__all__ = [
    "never_use",
    "duration_only",
    "all_inputs",
    "all_parameters",
    "partial_parameters_only",
    "partial_inputs_only",
]


def _is_unexpired(state: Cached) -> bool:
    expiration = state.cached_result_expiration
    if expiration is None:
        return True
    import pendulum

    return expiration > pendulum.now("utc")


def never_use(state: Cached, inputs: dict[str, Any], parameters: dict[str, Any]) -> bool:
    """Never reuse a cache."""
    return False


def duration_only(state: Cached, inputs: dict[str, Any], parameters: dict[str, Any]) -> bool:
    """Reuse a cache until it expires, whatever the inputs and parameters."""
    return _is_unexpired(state)


def all_inputs(state: Cached, inputs: dict[str, Any], parameters: dict[str, Any]) -> bool:
    """Reuse an unexpired cache made from exactly these inputs."""
    if not _is_unexpired(state):
        return False
    return {key: res.value for key, res in (state.cached_inputs or {}).items()} == inputs


def all_parameters(state: Cached, inputs: dict[str, Any], parameters: dict[str, Any]) -> bool:
    """Reuse an unexpired cache made under exactly these flow parameters."""
    if not _is_unexpired(state):
        return False
    return state.cached_parameters == parameters


def partial_parameters_only(validate_on: Iterable[str] | None = None) -> Callable:
    """A validator that compares only the named parameters (any cache is valid for `None`)."""

    def _partial_parameters_only(
        state: Cached, inputs: dict[str, Any], parameters: dict[str, Any]
    ) -> bool:
        parameters = parameters or {}
        if not _is_unexpired(state):
            return False
        if validate_on is None:
            return True  # nothing to validate on: the unexpired cache is valid
        cached = state.cached_parameters or {}
        return all(cached.get(key) == parameters.get(key) for key in validate_on)

    return _partial_parameters_only


def partial_inputs_only(validate_on: Iterable[str] | None = None) -> Callable:
    """A validator that compares only the named inputs (any cache is valid for `None`)."""

    def _partial_inputs_only(
        state: Cached, inputs: dict[str, Any], parameters: dict[str, Any]
    ) -> bool:
        inputs = inputs or {}
        if not _is_unexpired(state):
            return False
        if validate_on is None:
            return True  # nothing to validate on: the unexpired cache is valid
        cached = {key: res.value for key, res in (state.cached_inputs or {}).items()}
        return all(cached.get(key) == inputs.get(key) for key in validate_on)

    return _partial_inputs_only
