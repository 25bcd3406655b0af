"""Time helpers: retry back-off delays and the current time as a pendulum ``DateTime``."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pendulum

_MAX_SECONDS = datetime.timedelta.max.total_seconds()


def retry_delay(
    attempt: int,
    base_delay: float | datetime.timedelta = 1.0,
    multiplier: float = 2.0,
    max_delay: float | datetime.timedelta | None = None,
) -> datetime.timedelta:
    """The wait before retry number ``attempt`` under exponential back-off.

    The first retry waits ``base_delay``; each later one waits ``multiplier`` times longer,
    capped at ``max_delay``: ``base_delay * multiplier ** (attempt - 1)``. With
    ``multiplier=1`` this is a constant delay.

    Args:
        attempt: the retry about to happen, counting from 1.
        base_delay: the first delay, in seconds or as a ``timedelta``.
        multiplier: growth factor between consecutive retries (at least 1).
        max_delay: upper bound for the delay, in seconds or as a ``timedelta``; ``None`` for
            no bound.

    Returns:
        the delay.

    Raises:
        ValueError: if ``attempt`` is below 1, ``base_delay`` or ``max_delay`` is negative, or
            ``multiplier`` is below 1.
    """
    base = _seconds(base_delay)
    cap = None if max_delay is None else _seconds(max_delay)
    if attempt < 1:
        raise ValueError(f"attempt counts retries from 1; got {attempt}.")
    if base < 0 or (cap is not None and cap < 0):
        raise ValueError(
            f"Delays cannot be negative; got base_delay={base_delay!r}, max_delay={max_delay!r}."
        )
    if multiplier < 1:
        raise ValueError(f"multiplier must be at least 1 (delays never shrink); got {multiplier}.")
    try:
        seconds = base * multiplier ** (attempt - 1)
    except OverflowError:
        seconds = float("inf")
    if cap is not None:
        seconds = min(seconds, cap)
    # timedelta cannot hold an unbounded delay; clamp to its maximum.
    if seconds >= _MAX_SECONDS:
        return datetime.timedelta.max
    return datetime.timedelta(seconds=seconds)


def _seconds(delay: float | datetime.timedelta) -> float:
    if isinstance(delay, datetime.timedelta):
        return delay.total_seconds()
    return float(delay)


def _now_utc() -> pendulum.DateTime:
    """The current time as a UTC pendulum ``DateTime`` (pendulum is imported on first use)."""
    import pendulum

    return pendulum.now("UTC")
