"""Debugging aids: check that an object can be shipped to another process, and let task
errors surface instead of becoming ``Failed`` states."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import prefect


def is_serializable(obj: Any, raise_on_error: bool = False) -> bool:
    """Whether ``obj`` survives a cloudpickle round trip (what Dask and flow storage need).

    The object is pickled and unpickled in this process. That catches locks, open files,
    generators and the like; it cannot catch references to modules that only this process can
    import.

    Args:
        obj: the object to check (a task, a flow, a function, ...).
        raise_on_error: re-raise the pickling error instead of returning ``False``.

    Returns:
        ``True`` if the round trip works, ``False`` otherwise.

    Raises:
        Exception: the pickling or unpickling error, when ``raise_on_error`` is true.
    """
    import cloudpickle

    try:
        cloudpickle.loads(cloudpickle.dumps(obj))
    except Exception:
        if raise_on_error:
            raise
        return False
    return True


@contextmanager
def raise_on_exception() -> Iterator:
    """Make task and flow runners re-raise errors instead of turning them into states.

    Inside the block ``prefect.context.raise_on_exception`` is ``True``, so an exception in a
    task propagates out of ``flow.run()`` where a debugger can catch it::

        with raise_on_exception():
            flow.run()
    """
    with prefect.context(raise_on_exception=True):
        yield
