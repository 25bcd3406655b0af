"""The Prefect context: thread-local, run-scoped values that any code can read.

`prefect.context` is a single `Context` object. Every thread sees its own contents: the first
time a thread touches it, the object is initialized afresh, seeded from the `context` table of
the config (`[context]` in a user config file, `PREFECT__CONTEXT__<KEY>` environment
variables) and always holding `config`.

Values are set temporarily with the object as a context manager, which is how flows and the
runners publish what they are doing:

```python
with prefect.context(flow=my_flow, tags={"a"}):
    prefect.context.flow  # my_flow
prefect.context.get("flow")  # None again
```
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Mapping, MutableMapping
from typing import TYPE_CHECKING, Any, ContextManager

from prefect import configuration
from prefect.utilities.collections import _RESERVED_KEYS, DotDict

__all__ = ["Context", "context"]


class Context(DotDict, threading.local):
    """A thread-local `DotDict` holding the values of the current run.

    On creation in each thread it is seeded with the config's `context` table, then the given
    arguments, and a `config` entry: the loaded config itself, or, if a `config` mapping is
    passed, a copy of the loaded config with that mapping merged in.

    Args:
        *args: mappings of initial values
        **kwargs: more initial values

    Contexts cannot be pickled: they belong to one process and thread.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        initial: dict[str, Any] = {}
        config = configuration.config
        Config = configuration.Config
        seeded = config.get("context")
        if isinstance(seeded, Mapping):
            for key, value in seeded.items():
                # Copy tables (such as `secrets`) so that changing them in the context never
                # changes the loaded config.
                initial[key] = value.copy() if isinstance(value, Config) else value
        for arg in args:
            initial.update(arg.__dict__ if isinstance(arg, DotDict) else arg)
        initial.update(kwargs)
        initial["config"] = _merge_config(config, initial.get("config"))
        super().__init__(initial)

    def __getstate__(self) -> None:
        raise TypeError(
            "Prefect context objects cannot be pickled: they hold the live state of one thread. "
            "Pass the values you need (e.g. `dict(prefect.context)` or `prefect.context.get(...)`) "
            "instead of the context itself."
        )

    def __repr__(self) -> str:
        return "<Context>"

    def __call__(self, *args: MutableMapping, **kwargs: Any) -> ContextManager[Context]:
        """Temporarily update the context; the previous contents come back on exit.

        Keys set (or removed) inside the block by any means are undone on exit, including when
        the block raises. A `config` value is merged into the current config rather than
        replacing it. Blocks nest.

        Args:
            *args: mappings of values to set
            **kwargs: more values to set; they win over `args`

        Returns:
            a context manager whose `with` block sees the updated values; it yields this context
        """
        updates = kwargs
        if args:
            if len(args) == 1 and not kwargs and type(args[0]) is dict:
                # The common runner call, `prefect.context(context_dict)`: read, never copied
                # or changed.
                updates = args[0]
            else:
                updates = {}
                for arg in args:
                    updates.update(arg.__dict__ if isinstance(arg, DotDict) else arg)
                updates.update(kwargs)
        return _TemporaryUpdate(self, updates)


_MISSING = object()

# Per thread: id(context) -> the blocks active on that context, innermost last.
_blocks = threading.local()


def _block_stack(context: Context) -> list[_TemporaryUpdate]:
    try:
        stacks = _blocks.stacks
    except AttributeError:
        stacks = _blocks.stacks = {}
    stack = stacks.get(id(context))
    if stack is None:
        stack = stacks[id(context)] = []
    return stack  # type: ignore[no-any-return]


class _TemporaryUpdate(contextlib.ContextDecorator):
    """What `Context.__call__` returns.

    Entering keeps a snapshot of the entering thread's values and sets the new ones; exiting
    puts the snapshot back, so keys added inside the block disappear and changed ones revert,
    whatever changed them (as in 1.x). The snapshot is a shallow copy of one dict (values are
    shared, never copied), which costs far less than working out which keys change. A class
    rather than a generator because it is entered for every task run.

    Blocks normally exit innermost first. One that exits while blocks entered after it are
    still active (a generator closed late) undoes only its own keys, in the context and in
    the snapshots of those later blocks, so none of them brings its values back.
    """

    __slots__ = ("_context", "_updates", "_store", "_snapshot", "_stack")

    def __init__(self, context: Context, updates: dict[str, Any]) -> None:
        self._context = context
        self._updates = updates
        self._snapshot: dict[str, Any] | None = None

    def _recreate_cm(self) -> _TemporaryUpdate:
        # Used as a decorator (as 1.x's generator-based manager can be): a fresh block per call.
        return _TemporaryUpdate(self._context, self._updates)

    def __enter__(self) -> Context:
        if self._snapshot is not None:
            raise RuntimeError("This prefect.context(...) block is already active; call again.")
        updates = self._updates
        if not _RESERVED_KEYS.isdisjoint(updates):
            bad = next(key for key in updates if key in _RESERVED_KEYS)
            raise ValueError(f'Invalid key: "{bad}"')
        # The store of the entering thread; the exit restores this one.
        store = self._store = self._context.__dict__
        config = updates.get("config", _MISSING)
        if config is not _MISSING and config is not store.get("config"):
            updates = self._updates = {
                **updates,
                "config": _merge_config(store.get("config"), config),
            }
        self._snapshot = store.copy()
        store.update(updates)
        stack = self._stack = _block_stack(self._context)
        stack.append(self)
        return self._context

    def __exit__(self, *exc_info: object) -> None:
        snapshot = self._snapshot
        self._snapshot = None
        store = self._store
        stack = self._stack
        if stack and stack[-1] is self:
            stack.pop()
            store.clear()
            store.update(snapshot)  # type: ignore[arg-type]
            return
        # Out of order: undo this block's keys only, here and in the later blocks' snapshots.
        position = next((i for i, block in enumerate(stack) if block is self), len(stack))
        later = stack[position + 1 :]
        del stack[position : position + 1]
        for key in self._updates:
            previous = snapshot.get(key, _MISSING)  # type: ignore[union-attr]
            for target in [store] + [block._snapshot for block in later]:
                if target is None:
                    continue
                if previous is _MISSING:
                    target.pop(key, None)
                else:
                    target[key] = previous


def _merge_config(base: Any, override: Any) -> Config:
    """`base` with `override` merged in, as a new `Config`; `base` itself when nothing changes."""
    Config = configuration.Config
    if not isinstance(base, Config):
        base = Config(base) if isinstance(base, Mapping) else Config()
    if not override or override is base:
        return base
    if isinstance(override, Config) and override.keys() == base.keys():
        # A whole configuration (every section; what runners ship to worker processes with
        # the task's context): merging it would only rebuild it, at a millisecond per run.
        return override
    merged = base.copy()
    _merge_into(merged, override)
    return merged


def _merge_into(target: Config, override: Mapping) -> None:
    Config = configuration.Config
    for key, value in override.items():
        current = dict.get(target, key)
        if isinstance(current, Config) and isinstance(value, Mapping):
            # `current` is already a private copy (Config.copy is recursive): update in place.
            _merge_into(current, value)
        else:
            target[key] = value


# Created on first use: creating it loads the configuration (and python-box), which
# `import prefect` alone does not need.
_context: Context | None = None
_context_lock = threading.Lock()


def __dir__() -> list[str]:
    return sorted(set(globals()) | {"context"})


def __getattr__(name: str) -> Any:
    if name == "context":
        global _context
        if _context is None:
            with _context_lock:
                if _context is None:
                    _context = Context()
        globals()["context"] = _context
        return _context
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if TYPE_CHECKING:
    from prefect.configuration import Config

    context: Context
