"""Signals: exceptions that end a task run in a chosen state.

Raising one of these inside a task (or a trigger) ends the run in the matching state::

    PrefectSignal (prefect.exceptions; a BaseException)
     ├── ENDRUN                 carries an explicit state: ENDRUN(state)
     └── PrefectStateSignal     -> State
          ├── FAIL              -> Failed
          │    ├── TRIGGERFAIL   -> TriggerFailed
          │    └── VALIDATIONFAIL -> ValidationFailed
          ├── LOOP              -> Looped
          ├── SUCCESS           -> Success
          ├── RETRY             -> Retrying
          ├── SKIP              -> Skipped
          └── PAUSE             -> Paused

A state signal builds its state when raised: `FAIL("boom").state` is
`Failed("boom", result=<the signal>)`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from prefect.engine import state
from prefect.exceptions import PrefectSignal

__all__ = [
    "ENDRUN",
    "FAIL",
    "LOOP",
    "PAUSE",
    "RETRY",
    "SKIP",
    "SUCCESS",
    "TRIGGERFAIL",
    "VALIDATIONFAIL",
    "PrefectStateSignal",
    "signal_from_state",
]


def _rebuild_signal(cls: type[PrefectSignal], args: tuple[Any, ...]) -> PrefectSignal:
    # Bypasses `__init__`, whose arguments (a state, state kwargs) are not `args`; the
    # attributes come back through `__setstate__`.
    return cls.__new__(cls, *args)


class ENDRUN(PrefectSignal):
    """Ends the run in the given state, whatever it is.

    Args:
        state: the state to end the run in.
    """

    def __init__(self, state: state.State) -> None:
        self.state = state
        super().__init__(state.message)  # type: ignore[arg-type]

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_signal, (type(self), self.args), self.__dict__)


class PrefectStateSignal(PrefectSignal):
    """Base class for signals that end the run in the state class `_state_cls`.

    Args:
        message: the state's message.
        *args: further positional arguments for the state (the first is `result`).
        **kwargs: keyword arguments for the state; `result` defaults to the signal.
    """

    _state_cls: ClassVar[type[state.State]] = state.State

    def __init__(self, message: str | None = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(message)  # type: ignore[arg-type]
        if not args:
            kwargs.setdefault("result", self._default_result())
        self.state = self._state_cls(message, *args, **kwargs)

    def _default_result(self) -> Any:
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_signal, (type(self), self.args), self.__dict__)


class FAIL(PrefectStateSignal):
    """Ends the run as `Failed`."""

    _state_cls = state.Failed


class LOOP(PrefectStateSignal):
    """Ends this iteration as `Looped`; the task runs again with the loop result.

    The result defaults to `repr(signal)` rather than the signal itself.

    Args:
        message: the state's message.
        *args: further positional arguments for the state (the first is `result`).
        **kwargs: keyword arguments for the state, e.g. `result` for the next iteration.
    """

    _state_cls = state.Looped

    def __init__(self, message: str | None = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(message, *args, **kwargs)

    def _default_result(self) -> Any:
        return repr(self)


class TRIGGERFAIL(FAIL):
    """Ends the run as `TriggerFailed`: the trigger was not satisfied."""

    _state_cls = state.TriggerFailed


class VALIDATIONFAIL(FAIL):
    """Ends the run as `ValidationFailed`: the result did not validate."""

    _state_cls = state.ValidationFailed


class SUCCESS(PrefectStateSignal):
    """Ends the run as `Success`."""

    _state_cls = state.Success


class RETRY(PrefectStateSignal):
    """Ends the run as `Retrying`, to be run again."""

    _state_cls = state.Retrying


class SKIP(PrefectStateSignal):
    """Ends the run as `Skipped`."""

    _state_cls = state.Skipped


class PAUSE(PrefectStateSignal):
    """Ends the run as `Paused`, until resumed."""

    _state_cls = state.Paused


_BUILTIN_STATE_SIGNALS: tuple[type[PrefectStateSignal], ...] = (
    FAIL,
    LOOP,
    TRIGGERFAIL,
    VALIDATIONFAIL,
    SUCCESS,
    RETRY,
    SKIP,
    PAUSE,
)


def signal_from_state(state: state.State) -> type[PrefectStateSignal]:
    """The signal class that produces states of exactly `state`'s type.

    Args:
        state: a state, e.g. `Failed()`.

    Returns:
        The signal class, e.g. `FAIL`.

    Raises:
        ValueError: if no signal produces that state type.
    """
    state_type = type(state)
    for signal_cls in _BUILTIN_STATE_SIGNALS:
        if signal_cls._state_cls is state_type:
            return signal_cls
    known = ", ".join(cls._state_cls.__name__ for cls in _BUILTIN_STATE_SIGNALS)
    raise ValueError(
        f"No signal produces {state_type.__name__} states; signals exist for: {known}."
    )
