"""The states a task run or flow run moves through.

::

    State
        Pending
            Scheduled
                Paused
                Resume
                Retrying
        _MetaState            (wraps another state: Submitted, Queued, ClientFailed)
        Running
            Cancelling
        Finished
            Looped
            Success
                Cached
                Mapped
                Skipped
            Cancelled
            Failed
                TimedOut
                TriggerFailed
                ValidationFailed

Every state carries a `message`, a `result` (stored as a `Result`, read back as its
value), a `context` dict and `cached_inputs`. The `is_*` predicates are `isinstance` checks,
so a subclass answers like its parents.

States are created for every transition of every task run, so construction stays cheap:
no per-instance logger, no introspection, third-party imports only where a datetime is
needed.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, ClassVar

import prefect
from prefect.engine.result import NoResult, Result

__all__ = [
    "Cached",
    "Cancelled",
    "Cancelling",
    "ClientFailed",
    "Failed",
    "Finished",
    "Looped",
    "Mapped",
    "Paused",
    "Pending",
    "Queued",
    "Resume",
    "Retrying",
    "Running",
    "Scheduled",
    "Skipped",
    "State",
    "Submitted",
    "Success",
    "TimedOut",
    "TriggerFailed",
    "ValidationFailed",
]


_NO_VALUES: dict[str, Any] = {}
# The `prefect` package's namespace (the same dict for the life of the module), where
# `prefect.context` is found once it exists.
_PREFECT_NAMESPACE: dict[str, Any] = vars(prefect)
_MISSING = object()


def _current_context() -> Mapping[str, Any]:
    # Resolved at call time, as in 1.x: `prefect.context` is thread-local and patched by
    # `with prefect.context(...)`.
    try:
        return prefect.context  # type: ignore[attr-defined,no-any-return]
    except AttributeError:
        # Only while `prefect/__init__.py` is still being imported.
        from prefect.utilities.context import context

        return context


def _utc_now() -> datetime.datetime:
    import pendulum

    return pendulum.now("UTC")


def _as_pendulum(value: datetime.datetime) -> datetime.datetime:
    import pendulum

    if isinstance(value, pendulum.DateTime):
        return value
    return pendulum.instance(value)


class State:
    """The base state: a message, a result and some context.

    Args:
        message: a description of the state.
        result: the state's result; a value is wrapped in a `Result`, a `Result` is
            kept as-is, and when omitted the state holds `NoResult`.
        context: extra information about the run; when `prefect.context` has
            `task_tags`, they are stored under `"tags"` unless given.
        cached_inputs: deprecated; the task inputs, as `Result`s.
    """

    color: ClassVar[str] = "#696969"

    # Properties (not stored under their own name) that equality also compares.
    _compared_properties: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        message: str | None = None,
        result: Any = None,
        context: dict[str, Any] | None = None,
        cached_inputs: dict[str, Result] | None = None,
    ) -> None:
        self.message = message
        if result is None:
            self._result: Any = NoResult
        elif isinstance(result, Result):
            self._result = result
        else:
            self._result = Result(value=result)
        self.context = context or {}
        self.cached_inputs = cached_inputs or {}
        # States are made for every transition: read the context's own dict (no Python-level
        # mapping calls).
        current: Any = _PREFECT_NAMESPACE.get("context")
        if current is None:  # `prefect.context` not built yet, or still importing
            current = _current_context()
        values: dict[str, Any] = getattr(current, "__dict__", _NO_VALUES)
        task_tags = values.get("task_tags", _MISSING)
        if task_tags is not _MISSING:
            self.context.setdefault("tags", list(task_tags))

    @property
    def result(self) -> Any:
        """The value of the state's `Result` (`None` for `NoResult`).

        Assigning a `Result` stores it as-is; any other value is wrapped in
        `Result(value=...)`.
        """
        return getattr(self._result, "value", self._result)

    @result.setter
    def result(self, value: Any) -> None:
        self._result = value if isinstance(value, Result) else Result(value=value)

    def __repr__(self) -> str:
        if self.message:
            return f'<{type(self).__name__}: "{self.message}">'
        return f"<{type(self).__name__}>"

    def __eq__(self, other: object) -> bool:
        """Equal when of the exact same type with equal results and equal public
        attributes, ignoring `message` and `context`."""
        if type(self) is not type(other):
            return False
        assert isinstance(other, State)
        missing = object()
        mine, theirs = self.__dict__, other.__dict__
        for name in mine.keys() | theirs.keys():
            if name.startswith("_") or name in ("context", "message", "result"):
                continue
            if mine.get(name, missing) != theirs.get(name, missing):
                return False
        for name in self._compared_properties:
            if getattr(self, name) != getattr(other, name):
                return False
        return bool(self.result == other.result)

    # States are mutable and compared by value, yet used in sets and as dict keys by identity
    # (as in 1.x); `object`'s hash is that identity, computed without a Python-level call.
    __hash__ = object.__hash__

    def load_result(self, result: Result | None = None) -> State:
        """Read the result from storage if only its location is known.

        When the stored result has no value but has a `location`, it is replaced by
        `reader.read(location)`, where `reader` is `result` if given, else the stored
        result.

        Args:
            result: the `Result` to read with.

        Returns:
            This state.
        """
        stored = self._result
        location = getattr(stored, "location", None)
        if location is not None and getattr(stored, "value", None) is None:
            reader = result if result is not None else stored
            self._result = reader.read(location)
        return self

    def load_cached_results(self, results: Mapping[str, Result | None] | None = None) -> State:
        """Read each cached input from storage if only its location is known.

        Args:
            results: per input name, the `Result` to read with; an input without one is
                read with its own stored result.

        Returns:
            This state.
        """
        if not self.cached_inputs:
            return self
        readers = results or {}
        for name, stored in list(self.cached_inputs.items()):
            location = getattr(stored, "location", None)
            if location is not None and getattr(stored, "value", None) is None:
                reader = readers.get(name)
                self.cached_inputs[name] = (reader if reader is not None else stored).read(location)
        return self

    @classmethod
    def children(
        cls, include_self: bool = False, names_only: bool = False
    ) -> list[type[State]] | list[str]:
        """All subclasses of this state, recursively and depth-first.

        Classes whose name starts with `_` are left out (their subclasses are not).

        Args:
            include_self: also include this class, at the end.
            names_only: return class names instead of classes.

        Returns:
            The subclasses (or their names).
        """
        found: list[type[State]] = []

        def visit(parent: type[State]) -> None:
            for child in parent.__subclasses__():
                if not child.__name__.startswith("_"):
                    found.append(child)
                visit(child)

        visit(cls)
        if include_self:
            found.append(cls)
        if names_only:
            return [state_cls.__name__ for state_cls in found]
        return found

    @classmethod
    def parents(
        cls, include_self: bool = False, names_only: bool = False
    ) -> list[type[State]] | list[str]:
        """The ancestors of this state, nearest first, up to (not including) `object`.

        Classes whose name starts with `_` are left out.

        Args:
            include_self: also include this class, at the end.
            names_only: return class names instead of classes.

        Returns:
            The ancestor classes (or their names).
        """
        found = [
            ancestor
            for ancestor in cls.__mro__[1:]
            if ancestor is not object and not ancestor.__name__.startswith("_")
        ]
        if include_self:
            found.append(cls)
        if names_only:
            return [state_cls.__name__ for state_cls in found]
        return found

    def is_pending(self) -> bool:
        """Whether the state is `Pending` (or a subclass, e.g. `Scheduled`)."""
        return isinstance(self, Pending)

    def is_queued(self) -> bool:
        """Whether the state is `Queued`."""
        return isinstance(self, Queued)

    def is_retrying(self) -> bool:
        """Whether the state is `Retrying`."""
        return isinstance(self, Retrying)

    def is_running(self) -> bool:
        """Whether the state is `Running` (or `Cancelling`)."""
        return isinstance(self, Running)

    def is_cached(self) -> bool:
        """Whether the state is `Cached`."""
        return isinstance(self, Cached)

    def is_finished(self) -> bool:
        """Whether the state is `Finished` (or a subclass, e.g. `Success`, `Failed`)."""
        return isinstance(self, Finished)

    def is_looped(self) -> bool:
        """Whether the state is `Looped`."""
        return isinstance(self, Looped)

    def is_scheduled(self) -> bool:
        """Whether the state is `Scheduled` (or a subclass) or `Queued`."""
        return isinstance(self, (Scheduled, Queued))

    def is_submitted(self) -> bool:
        """Whether the state is `Submitted`."""
        return isinstance(self, Submitted)

    def is_skipped(self) -> bool:
        """Whether the state is `Skipped`."""
        return isinstance(self, Skipped)

    def is_successful(self) -> bool:
        """Whether the state is `Success` (or a subclass: `Cached`, `Mapped`, `Skipped`)."""
        return isinstance(self, Success)

    def is_failed(self) -> bool:
        """Whether the state is `Failed` (or a subclass, e.g. `TriggerFailed`)."""
        return isinstance(self, Failed)

    def is_mapped(self) -> bool:
        """Whether the state is `Mapped`."""
        return isinstance(self, Mapped)

    def is_meta_state(self) -> bool:
        """Whether the state wraps another state (`Submitted`, `Queued`, `ClientFailed`)."""
        return isinstance(self, _MetaState)

    @staticmethod
    def deserialize(json_blob: dict) -> State:
        """Build a state from its JSON form.

        Args:
            json_blob: the output of `serialize`.

        Returns:
            The state.
        """
        # The codec gives what `prefect.serialization.state.StateSchema` gives (tested so),
        # about 100 times faster, handing the schema what it does not cover.
        from prefect.serialization._state_codec import dict_to_state

        return dict_to_state(json_blob)

    def serialize(self) -> dict:
        """The JSON form of this state (the 1.x wire format).

        Returns:
            A JSON-compatible dict.
        """
        from prefect.serialization._state_codec import state_to_dict

        return state_to_dict(self)


# ----------------------------------------------------------------------------- Pending


class Pending(State):
    """The run has not started yet.

    Args:
        message: a description of the state.
        result: the state's result.
        cached_inputs: deprecated; the task inputs, as `Result`s.
        context: extra information about the run.
    """

    color = "#7ebdff"

    def __init__(
        self,
        message: str | None = None,
        result: Any = None,
        cached_inputs: dict[str, Result] | None = None,
        context: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(
            message=message, result=result, context=context, cached_inputs=cached_inputs
        )


class Scheduled(Pending):
    """The run is waiting for its start time.

    Args:
        message: a description of the state.
        result: the state's result.
        start_time: when the run should start; defaults to now (UTC). Stored as a
            pendulum datetime.
        cached_inputs: deprecated; the task inputs, as `Result`s.
        context: extra information about the run; `task_run_count` is copied into it
            from `prefect.context` when present there.
    """

    color = "#ffab00"
    start_time: datetime.datetime | None

    def __init__(
        self,
        message: str | None = None,
        result: Any = None,
        start_time: datetime.datetime | None = None,
        cached_inputs: dict[str, Result] | None = None,
        context: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(
            message=message, result=result, cached_inputs=cached_inputs, context=context
        )
        self.start_time = _as_pendulum(start_time) if start_time else _utc_now()
        task_run_count = _current_context().get("task_run_count")
        if task_run_count is not None:
            self.context.setdefault("task_run_count", task_run_count)


class Paused(Scheduled):
    """The run is paused until it is resumed (or until `start_time`, when given).

    Args:
        message: a description of the state.
        result: the state's result.
        start_time: when the run should resume on its own; `None` waits for a manual
            resume.
        cached_inputs: deprecated; the task inputs, as `Result`s.
        context: extra information about the run.
    """

    color = "#99a8e8"

    def __init__(
        self,
        message: str | None = None,
        result: Any = None,
        start_time: datetime.datetime | None = None,
        cached_inputs: dict[str, Result] | None = None,
        context: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(
            message=message,
            result=result,
            start_time=start_time,
            cached_inputs=cached_inputs,
            context=context,
        )
        if start_time is None:
            self.start_time = None


# -------------------------------------------------------------------------- Meta states


class _MetaState(State):
    """A state that wraps the run's "real" state (e.g. `Submitted` around `Scheduled`).

    Args:
        message: a description of the state.
        result: the state's result.
        state: the wrapped state; a wrapped meta state is unwrapped down to the first
            non-meta state.
        context: extra information about the run.
        cached_inputs: deprecated; the task inputs, as `Result`s.
    """

    _compared_properties = ("state",)

    def __init__(
        self,
        message: str | None = None,
        result: Any = None,
        state: State | None = None,
        context: dict[str, Any] | None = None,
        cached_inputs: dict[str, Result] | None = None,
    ) -> None:
        super().__init__(
            message=message, result=result, context=context, cached_inputs=cached_inputs
        )
        self.state = state

    @property
    def state(self) -> State | None:
        """The wrapped, non-meta state."""
        return self._state

    @state.setter
    def state(self, value: State | None) -> None:
        while isinstance(value, _MetaState):
            value = value.state
        self._state = value


class ClientFailed(_MetaState):
    """The run could not report its state to the backend; `state` is the state it tried
    to set."""

    color = "#eb0000"


class Submitted(_MetaState):
    """The run was handed to an executor or an agent; `state` is the state it left."""

    color = "#ffdf5d"


class Queued(_MetaState):
    """The run is waiting for capacity (e.g. a concurrency limit); it is retried at
    `start_time`.

    Args:
        message: a description of the state.
        result: the state's result.
        state: the wrapped state.
        start_time: when to try again; defaults to now (UTC). Stored as a pendulum
            datetime.
        context: extra information about the run.
        cached_inputs: deprecated; the task inputs, as `Result`s.
    """

    color = "#ffea7f"

    def __init__(
        self,
        message: str | None = None,
        result: Any = None,
        state: State | None = None,
        start_time: datetime.datetime | None = None,
        context: dict[str, Any] | None = None,
        cached_inputs: dict[str, Result] | None = None,
    ) -> None:
        super().__init__(
            message=message,
            result=result,
            state=state,
            context=context,
            cached_inputs=cached_inputs,
        )
        self.start_time = _as_pendulum(start_time) if start_time else _utc_now()


# --------------------------------------------------------------------- Scheduled kinds


class Resume(Scheduled):
    """A paused run was resumed and is scheduled to continue."""

    color = "#f58c0c"


class Retrying(Scheduled):
    """The run failed and is scheduled to run again.

    Args:
        message: a description of the state.
        result: the state's result.
        start_time: when the retry should start; defaults to now (UTC).
        cached_inputs: deprecated; the task inputs, as `Result`s.
        context: extra information about the run.
        run_count: how many times the task has run; defaults to
            `prefect.context.task_run_count`, else 1.
    """

    color = "#f66a0a"

    def __init__(
        self,
        message: str | None = None,
        result: Any = None,
        start_time: datetime.datetime | None = None,
        cached_inputs: dict[str, Result] | None = None,
        context: dict[str, Any] | None = None,
        run_count: int | None = None,
    ) -> None:
        super().__init__(
            message=message,
            result=result,
            start_time=start_time,
            cached_inputs=cached_inputs,
            context=context,
        )
        if run_count is None:
            run_count = int(_current_context().get("task_run_count", 1))
        self.run_count = run_count


# ----------------------------------------------------------------------------- Running


class Running(State):
    """The run is in progress."""

    color = "#3d67ff"


class Cancelling(Running):
    """The run was asked to cancel and is stopping."""

    color = "#E8E8E8"


# ---------------------------------------------------------------------------- Finished


class Finished(State):
    """The run is over (base of every final state)."""

    color = "#003ccb"


class Looped(Finished):
    """The task finished one iteration of a loop and will run again.

    Args:
        message: a description of the state.
        result: the iteration's result.
        loop_count: the iteration number; defaults to `prefect.context.task_loop_count`,
            else 1.
        context: extra information about the run.
        cached_inputs: deprecated; the task inputs, as `Result`s.
    """

    color = "#003ccb"

    def __init__(
        self,
        message: str | None = None,
        result: Any = None,
        loop_count: int | None = None,
        context: dict[str, Any] | None = None,
        cached_inputs: dict[str, Result] | None = None,
    ) -> None:
        super().__init__(
            message=message, result=result, context=context, cached_inputs=cached_inputs
        )
        if loop_count is None:
            loop_count = int(_current_context().get("task_loop_count", 1))
        self.loop_count = loop_count


class Success(Finished):
    """The run finished successfully."""

    color = "#28a745"


class Cached(Success):
    """The task's result was taken from (or saved to) the cache.

    Args:
        message: a description of the state.
        result: the cached result.
        cached_inputs: deprecated; the task inputs, as `Result`s.
        cached_parameters: the flow parameters the result was computed with.
        cached_result_expiration: when the cached result stops being valid; stored as a
            pendulum datetime.
        context: extra information about the run.
        hashed_inputs: a hash of each input, for target-based caching.
    """

    color = "#34d058"

    def __init__(
        self,
        message: str | None = None,
        result: Any = None,
        cached_inputs: dict[str, Result] | None = None,
        cached_parameters: dict[str, Any] | None = None,
        cached_result_expiration: datetime.datetime | None = None,
        context: dict[str, Any] | None = None,
        hashed_inputs: dict[str, str] | None = None,
    ) -> None:
        super().__init__(
            message=message, result=result, context=context, cached_inputs=cached_inputs
        )
        self.hashed_inputs = hashed_inputs
        self.cached_parameters = cached_parameters
        if cached_result_expiration is not None:
            cached_result_expiration = _as_pendulum(cached_result_expiration)
        self.cached_result_expiration = cached_result_expiration


class Mapped(Success):
    """The task was mapped: one child run per element of its mapped inputs.

    Args:
        message: a description of the state.
        result: the state's result (the list of child results once loaded).
        map_states: the states of the child runs.
        context: extra information about the run.
        cached_inputs: deprecated; the task inputs, as `Result`s.
        n_map_states: the number of children, when `map_states` is not held (e.g. on
            the backend); defaults to `len(map_states)`.
    """

    color = "#003ccb"
    _compared_properties = ("n_map_states",)

    def __init__(
        self,
        message: str | None = None,
        result: Any = None,
        map_states: list[State] | None = None,
        context: dict[str, Any] | None = None,
        cached_inputs: dict[str, Result] | None = None,
        n_map_states: int | None = None,
    ) -> None:
        super().__init__(
            message=message, result=result, context=context, cached_inputs=cached_inputs
        )
        self.map_states: list[State] = map_states or []
        self.n_map_states = n_map_states  # type: ignore[assignment]

    @property
    def n_map_states(self) -> int:
        """The number of child runs: the stored count, else `len(map_states)`."""
        return self._n_map_states or len(self.map_states)

    @n_map_states.setter
    def n_map_states(self, value: int | None) -> None:
        self._n_map_states = value

    def load_result(self, result: Result | None = None) -> State:
        """Load each child's result, then set this state's result to their list.

        Args:
            result: the `Result` to read the children's results with.

        Returns:
            This state.
        """
        for child in self.map_states:
            child.load_result(result)
        self.result = [child.result for child in self.map_states]
        return self


class Cancelled(Finished):
    """The run was cancelled."""

    color = "#bdbdbd"


class Failed(Finished):
    """The run failed.

    Args:
        message: a description of the failure.
        result: the state's result (often the exception raised).
        cached_inputs: deprecated; the task inputs, as `Result`s.
        context: extra information about the run.
    """

    color = "#eb0000"

    def __init__(
        self,
        message: str | None = None,
        result: Any = None,
        cached_inputs: dict[str, Result] | None = None,
        context: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(
            message=message, result=result, context=context, cached_inputs=cached_inputs
        )


class TimedOut(Failed):
    """The task ran longer than its `timeout`."""

    color = "#ff4e33"


class TriggerFailed(Failed):
    """The task's trigger was not satisfied by its upstream states."""

    color = "#ff5131"


class ValidationFailed(Failed):
    """The task's result failed validation."""

    color = "#ff5131"


class Skipped(Success):
    """The task was skipped; counts as successful for downstream triggers.

    Args:
        message: why the task was skipped.
        result: the state's result.
        context: extra information about the run.
        cached_inputs: deprecated; the task inputs, as `Result`s.
    """

    color = "#62757f"

    def __init__(
        self,
        message: str | None = None,
        result: Any = None,
        context: dict[str, Any] | None = None,
        cached_inputs: dict[str, Result] | None = None,
    ) -> None:
        super().__init__(
            message=message, result=result, context=context, cached_inputs=cached_inputs
        )
