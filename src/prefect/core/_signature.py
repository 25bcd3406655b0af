"""What Prefect needs to know about a task's `run` signature, computed once per function."""

from __future__ import annotations

import typing
import weakref
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    import inspect

# The keyword arguments of `Task.__call__` that are not inputs of `run`; a `run` may not use them.
RESERVED_ARGUMENTS = ("upstream_tasks", "mapped", "task_args", "flow")


CO_VARARGS = 0x04


def validate_run_signature(run: Callable) -> None:
    """Refuse `run` signatures the engine cannot call with keyword arguments only."""
    func = run
    seen = set()
    while hasattr(func, "__wrapped__") and id(func) not in seen:  # as `inspect.unwrap`
        seen.add(id(func))
        func = func.__wrapped__
    # Read plain functions' code objects directly: this runs for every Task subclass created,
    # and `inspect` is not needed at import time otherwise.
    code = getattr(func, "__code__", None)
    if code is not None and not hasattr(func, "__signature__"):
        has_varargs = bool(code.co_flags & CO_VARARGS)
        names = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
    else:
        import inspect

        try:
            spec = inspect.getfullargspec(func)
        except TypeError as exc:
            raise ValueError(
                "This function can not be inspected (this is common with `builtin` and `numpy` "
                f"functions): {func!r}. To use it as a task, wrap it in a standard Python "
                "function."
            ) from exc
        has_varargs = spec.varargs is not None
        names = tuple(spec.args + spec.kwonlyargs)
    if has_varargs:
        raise ValueError(
            "Tasks with variable positional arguments (*args) are not supported, because all "
            "Prefect arguments are stored as keywords. Accept **kwargs in `run` instead and "
            "build the positional arguments from them."
        )
    violations = [name for name in RESERVED_ARGUMENTS if name in names]
    if violations:
        raise ValueError(
            "Tasks cannot have the following argument names: {}. These are reserved keyword "
            "arguments of `Task.__call__`; rename them in `run`.".format(", ".join(violations))
        )


# Signatures of `run` callables, computed once per function (binding is on the build hot path).
SIGNATURES: weakref.WeakKeyDictionary[Any, inspect.Signature] = weakref.WeakKeyDictionary()


def run_signature(run: Callable) -> inspect.Signature:
    key = getattr(run, "__func__", run)
    try:
        return SIGNATURES[key]
    except (KeyError, TypeError):
        pass
    import inspect

    signature = inspect.signature(run)
    try:
        SIGNATURES[key] = signature
    except TypeError:  # not weak-referenceable (e.g. a callable instance with __slots__)
        pass
    return signature


# Per `run` function: the nout its return annotation declares (computed once; resolving string
# annotations compiles code).
NOUTS: weakref.WeakKeyDictionary[Any, int | None] = weakref.WeakKeyDictionary()


def infer_run_nout(run: Callable) -> int | None:
    """The number of outputs declared by a `Tuple[...]` return annotation of `run`, if any."""
    key = getattr(run, "__func__", run)
    try:
        return NOUTS[key]
    except (KeyError, TypeError):
        pass
    nout = _infer_run_nout(run)
    try:
        NOUTS[key] = nout
    except TypeError:  # not weak-referenceable
        pass
    return nout


def _infer_run_nout(run: Callable) -> int | None:
    import inspect

    annotation = run_signature(run).return_annotation
    if annotation is inspect.Signature.empty:
        return None
    if isinstance(annotation, str):
        if "uple" not in annotation:  # cannot name a tuple type: no need to resolve it
            return None
        try:
            annotation = typing.get_type_hints(run).get("return")
        except Exception:  # unresolvable forward references: no inference
            return None
    if typing.get_origin(annotation) is not tuple or annotation is typing.Tuple:
        return None  # not a tuple, or a bare `Tuple` (any length)
    args = typing.get_args(annotation)
    if args == ((),):  # `Tuple[()]` on older Pythons
        return 0
    if len(args) == 2 and args[1] is Ellipsis:
        return None  # `Tuple[int, ...]`: any length
    return len(args)


# `inspect.Parameter.VAR_KEYWORD` (an IntEnum), without importing `inspect` at import time.
VAR_KEYWORD_KIND = 4


# Per `run` function: the keyword names it accepts, or None when it takes **kwargs.
ACCEPTED_KEYS: weakref.WeakKeyDictionary[Any, frozenset[str] | None] = weakref.WeakKeyDictionary()


def accepts_keyword(run: Callable, key: str) -> bool:
    """Whether `run` can be called with the keyword argument `key`."""
    func = getattr(run, "__func__", run)
    try:
        accepted = ACCEPTED_KEYS[func]
    except (KeyError, TypeError):
        parameters = run_signature(run).parameters.values()
        if any(p.kind == VAR_KEYWORD_KIND for p in parameters):
            accepted = None
        else:
            # Positional-only parameters (kind 0) cannot be passed by keyword.
            accepted = frozenset(p.name for p in parameters if p.kind in (1, 3))
        try:
            ACCEPTED_KEYS[func] = accepted
        except TypeError:  # not weak-referenceable
            pass
    return accepted is None or key in accepted
