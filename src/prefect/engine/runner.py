"""What the flow and task runners share: state handlers around every state-changing step."""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Iterable
from typing import Any, Callable

import prefect
from prefect.engine import signals
from prefect.engine.state import Failed, Pending, State
from prefect.utilities._log_records import write_plain_line

__all__ = ["ENDRUN", "Runner", "call_state_handlers"]

ENDRUN = signals.ENDRUN


class _RunnerLogger:
    """`runner.logger`: the runner class's logger (`prefect.<class name>`), looked up once per
    class and kept on it (never per run). `Runner.__init__` stores it on the instance, where
    reads find it directly; this descriptor serves instances of subclasses that skip
    `Runner.__init__`. Assigning `runner.logger` sets the instance's own."""

    def __get__(self, obj: Any, cls: type) -> logging.Logger:
        return _class_logger(cls)


# Runner class -> its logger.
_CLASS_LOGGERS: dict[type, logging.Logger] = {}


def _class_logger(cls: type) -> logging.Logger:
    logger = _CLASS_LOGGERS.get(cls)
    if logger is None:
        from prefect.utilities.logging import get_logger

        logger = _CLASS_LOGGERS[cls] = get_logger(cls.__name__)
    return logger


def log_info(logger: logging.Logger, msg: str, *args: Any, func: str = "run") -> None:
    """`logger.info(msg, *args)` for the lines every task run logs, without the caller lookup
    (`findCaller` walks the stack for every record; here the caller is known). The record
    goes through the same factory, filters and handlers; with Prefect's default logging
    set-up, where all that would do is write one line, the line is written directly."""
    if logger.isEnabledFor(logging.INFO) and not write_plain_line(logger, logging.INFO, msg, args):
        logger.handle(
            logger.makeRecord(logger.name, logging.INFO, __file__, 0, msg, args, None, func)
        )


def call_state_handlers(method: Callable[..., State]) -> Callable[..., State]:
    """Decorate a runner step `method(self, state, ...) -> state` so that a new state goes
    through the state handlers.

    A step may return a new state, raise `ENDRUN(state)` to end the run in that state, or raise
    a `PrefectStateSignal` (its state becomes the new state); an unexpected exception becomes a
    `Failed` state. Whatever the new state, if it differs from the old one the runner's
    `handle_state_change` is called; `ENDRUN` is raised again afterwards, with the handled
    state.
    """

    parameters = _plain_parameters(method)
    if parameters is None:

        def inner(self: Runner, state: State, *args: Any, **kwargs: Any) -> State:
            try:
                new_state = method(self, state, *args, **kwargs)
            except (ENDRUN, signals.PrefectStateSignal, Exception) as exc:
                return _step_raised(self, method, state, exc)
            if new_state is not state:
                new_state = self.handle_state_change(old_state=state, new_state=new_state)
            return new_state

    else:
        # Steps run ten times per task run: a wrapper taking the step's own parameters passes
        # them on as they came, where `*args, **kwargs` would pack a tuple and a dict per call
        # (a tenth of a trivial task run's cost). Built from the parameter names only.
        names = ", ".join(parameters)
        source = (
            f"def inner(self, state, {names}):\n"
            f"    try:\n"
            f"        new_state = method(self, state, {names})\n"
            f"    except (ENDRUN, PrefectStateSignal, Exception) as exc:\n"
            f"        return step_raised(self, method, state, exc)\n"
            f"    if new_state is not state:\n"
            f"        new_state = self.handle_state_change(old_state=state, new_state=new_state)\n"
            f"    return new_state\n"
        )
        namespace = {
            "method": method,
            "ENDRUN": ENDRUN,
            "PrefectStateSignal": signals.PrefectStateSignal,
            "step_raised": _step_raised,
        }
        exec(source, namespace)  # noqa: S102
        inner = namespace["inner"]  # type: ignore[assignment]
    return functools.wraps(method)(inner)


def _plain_parameters(method: Callable) -> list[str] | None:
    """The names of a step's parameters after `(self, state)` when all are plain
    (positional-or-keyword, no defaults) and none clashes with the wrapper's names; else
    `None`, and the step gets the generic wrapper."""
    code = getattr(method, "__code__", None)
    if (
        code is None
        or getattr(method, "__defaults__", None)
        or getattr(method, "__kwdefaults__", None)
        or code.co_kwonlyargcount
        or code.co_posonlyargcount
        or code.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS)
        or code.co_argcount < 2
    ):
        return None
    names = list(code.co_varnames[2 : code.co_argcount])
    # Every name the generated source uses, which a parameter of that name would hide.
    reserved = {
        "self",
        "state",
        "method",
        "new_state",
        "exc",
        "step_raised",
        "ENDRUN",
        "PrefectStateSignal",
        "Exception",
    }
    if reserved.intersection(names) or not all(name.isidentifier() for name in names):
        return None
    return names


def _step_raised(self: Runner, method: Callable, state: State, exc: BaseException) -> State:
    """What a step's exception means; called from the wrapper's `except` block, so a bare
    `raise` re-raises `exc`. `ENDRUN` ends the run (after its state change is handled), a
    state signal's state becomes the new state, any other exception a `Failed` state; with
    `raise_on_exception` set, signals and errors propagate instead."""
    if isinstance(exc, ENDRUN):
        new_state = exc.state
        if new_state is not state:
            new_state = self.handle_state_change(old_state=state, new_state=new_state)
        raise ENDRUN(new_state)
    if isinstance(exc, signals.PrefectStateSignal):
        self.logger.info("%s signal raised: %r", type(exc).__name__, exc)
        if prefect.context.get("raise_on_exception"):
            raise
        new_state = exc.state
    else:
        msg = f"Unexpected error while running {method.__name__}: {exc!r}"
        self.logger.exception(msg)
        if prefect.context.get("raise_on_exception"):
            raise
        new_state = Failed(msg, result=exc)
    if new_state is not state:
        new_state = self.handle_state_change(old_state=state, new_state=new_state)
    return new_state


class Runner:
    """The base of `FlowRunner` and `TaskRunner`: runs state handlers on state changes.

    Args:
        state_handlers: callables `(runner, old_state, new_state) -> state | None`, called on
            every state change after the target's (flow's or task's) own handlers
    """

    def __init__(self, state_handlers: Iterable[Callable] | None = None):
        self.logger = _CLASS_LOGGERS.get(type(self)) or _class_logger(type(self))
        if state_handlers is None:
            self.state_handlers: list[Callable] = []
        elif type(state_handlers) is list or isinstance(state_handlers, Iterable):
            self.state_handlers = list(state_handlers)
        else:
            raise TypeError("state_handlers should be iterable.")

    logger = _RunnerLogger()

    def _heartbeat(self) -> bool:
        """Send a heartbeat to the backend (only backend runners do); returns whether sent."""
        return False

    def initialize_run(self, state: State | None, context: dict[str, Any]) -> Any:
        """Prepare a run: a missing state becomes `Pending`.

        Args:
            state: the state the run starts from
            context: the run's context, updated in place

        Returns:
            `(state, context)`
        """
        return state or Pending(), context

    def call_runner_target_handlers(self, old_state: State, new_state: State) -> State:
        """Call the state handlers of what is run (the flow or the task); subclasses do."""
        return new_state

    def handle_state_change(self, old_state: State, new_state: State) -> State:
        """Run the target's state handlers, then the runner's; each may replace the state.

        A handler that raises a `PrefectStateSignal` sets the state to the signal's state
        (`PAUSE` and `ENDRUN` propagate); any other exception ends the run `Failed`.

        Raises:
            ENDRUN: when a handler fails (with a `Failed` state) or raises `ENDRUN`
        """
        try:
            new_state = self.call_runner_target_handlers(old_state, new_state)
            for handler in self.state_handlers:
                new_state = handler(self, old_state, new_state) or new_state
        except (signals.PAUSE, ENDRUN):
            raise
        except signals.PrefectStateSignal as exc:
            if prefect.context.get("raise_on_exception"):
                raise
            return exc.state
        except Exception as exc:
            if prefect.context.get("raise_on_exception"):
                raise
            msg = f"Exception raised while calling state handlers: {exc!r}"
            self.logger.exception(msg)
            raise ENDRUN(Failed(msg, result=exc)) from None
        return new_state
