"""Submitted calls grouped into batches: how the Dask executors keep one `submit` per task run
(the 1.x executor contract) while Dask sees a few larger tasks.

A submission is recorded as a `Call`: the function, its arguments (which may hold the futures of
earlier submissions, nested in lists, tuples, sets and dict values) and the keys of the calls it
depends on. `plan_batches` cuts the calls waiting to run, in submission order (a topological
order), into consecutive batches; each batch runs its calls one after another in one Dask task
(`run_batch`), after the batches holding what they depend on.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

# Batches are cut so that each worker gets several; none holds more calls than this.
MAX_BATCH = 1_000
BATCHES_PER_WORKER = 4


class Raised:
    """The outcome of a call that raised: dependents raise it too, as `wait` does."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


class Call:
    """One submission: `fn(*args, **kwargs)`, known by `key`, waiting on `dependencies`."""

    __slots__ = ("key", "fn", "args", "kwargs", "dependencies")

    def __init__(
        self, key: str, fn: Callable, args: tuple, kwargs: dict, dependencies: list[str]
    ) -> None:
        self.key = key
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.dependencies = dependencies


class Batch:
    """Calls run in order in one Dask task; `known` holds the results of calls computed
    before (by earlier `wait`s) that they use. Opaque to Dask (not a tuple or list)."""

    __slots__ = ("calls", "known")

    def __init__(self, calls: list[Call], known: dict[str, Any]) -> None:
        self.calls = calls
        self.known = known


_CONTAINERS = (dict, list, tuple, set, frozenset)


def references(obj: Any, future_type: Any, found: list[str]) -> None:
    """Append to `found` the keys (`_key`) of the futures (instances of `future_type`) in `obj` (itself,
    or nested in plain lists, tuples, sets and dict values; other objects are not looked
    into)."""
    if type(obj) is future_type:
        found.append(obj._key)
        return
    kind = type(obj)
    if kind is dict:
        items: Iterable[Any] = obj.values()
    elif kind in _CONTAINERS:
        items = obj
    else:
        return
    for item in items:
        if type(item) is future_type:
            found.append(item._key)
        elif type(item) in _CONTAINERS:
            references(item, future_type, found)


def resolve(obj: Any, future_type: Any, results: dict[str, Any]) -> Any:
    """`obj` with each future replaced by its result (containers holding none are returned as
    they are). A result that is `Raised` raises its error."""
    if type(obj) is future_type:
        value = results[obj._key]
        if type(value) is Raised:
            raise value.error
        return value
    kind = type(obj)
    if kind is dict:
        changed: dict | None = None
        for key, item in obj.items():
            if type(item) is future_type or type(item) in _CONTAINERS:
                new = resolve(item, future_type, results)
                if new is not item:
                    if changed is None:
                        changed = dict(obj)
                    changed[key] = new
        return obj if changed is None else changed
    if kind in _CONTAINERS:
        items = list(obj)
        replaced = False
        for index, item in enumerate(items):
            if type(item) is future_type or type(item) in _CONTAINERS:
                new = resolve(item, future_type, results)
                if new is not item:
                    items[index] = new
                    replaced = True
        return kind(items) if replaced else obj
    return obj


def plan_batches(
    calls: list[Call], workers: int, batch_key: Callable[[Call], str]
) -> list[tuple[str, list[Call], list[str]]]:
    """Cut `calls` (in submission order) into consecutive batches: `(batch key, calls, keys
    of the earlier batches they depend on)`. Independent calls end up in different batches
    that can run in parallel; a chain runs batch after batch."""
    if not calls:
        return []
    size = max(1, min(MAX_BATCH, math.ceil(len(calls) / max(1, workers * BATCHES_PER_WORKER))))
    batch_of: dict[str, str] = {}
    plan: list[tuple[str, list[Call], list[str]]] = []
    for start in range(0, len(calls), size):
        chunk = calls[start : start + size]
        key = batch_key(chunk[0])
        needs: dict[str, None] = {}
        for call in chunk:
            for dependency in call.dependencies:
                other = batch_of.get(dependency)
                if other is not None and other != key:
                    needs[other] = None
        for call in chunk:
            batch_of[call.key] = key
        plan.append((key, chunk, list(needs)))
    return plan


def merged(results: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """One `{call key: result}` dict from several (batches' results)."""
    known: dict[str, Any] = {}
    for part in results:
        known.update(part)
    return known


def run_batch(batch: Batch, upstream: list[dict[str, Any]], future_type: Any) -> dict[str, Any]:
    """Run a batch's calls in order; return `{call key: result}` (a `Raised` for a call that
    raised). `upstream` holds the results of the batches it depends on.

    Consecutive calls of methods of one object with a `batch_scope()` (the mapped children of
    a plain task, see `prefect.engine._plain_map`) run inside one such scope."""
    known = merged([batch.known, *upstream])
    own: dict[str, Any] = {}
    owner: Any = None
    scope: Any = None
    try:
        for call in batch.calls:
            fn = call.fn
            fn_owner = getattr(fn, "__self__", None)
            if fn_owner is not owner:
                if scope is not None:
                    scope, done = None, scope
                    done.__exit__(None, None, None)
                owner = fn_owner
                enter_scope = getattr(owner, "batch_scope", None)
                if enter_scope is not None:
                    scope = enter_scope()
                    scope.__enter__()
            try:
                if call.dependencies:
                    result = fn(
                        *resolve(call.args, future_type, known),
                        **resolve(call.kwargs, future_type, known),
                    )
                else:  # no future among the arguments (`references` found none)
                    result = fn(*call.args, **call.kwargs)
            except Exception as exc:
                result = Raised(exc)
            known[call.key] = own[call.key] = result
    finally:
        if scope is not None:
            scope.__exit__(None, None, None)
    return own
