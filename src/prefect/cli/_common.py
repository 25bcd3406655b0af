"""What the CLI commands share: the terminal-error convention, progress lines, JSON options.

A command that cannot go on raises `TerminalError`; `handle_terminal_error` prints its message
on one line (red) and exits with status 1. Tracebacks of unexpected errors are shown only when
`prefect.config.debug` is true (``PREFECT__DEBUG=true``); otherwise one line names the error.
"""

from __future__ import annotations

import functools
import json
import sys
import traceback
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click

__all__ = [
    "TerminalError",
    "error_text",
    "handle_terminal_error",
    "load_json_key_values",
    "log_exception",
    "try_error_done",
]

F = TypeVar("F", bound=Callable[..., Any])


class TerminalError(Exception):
    """Stop the command: the message (if any) is printed and the exit status is 1."""


def _debug() -> bool:
    import prefect

    return bool(prefect.config.get("debug", False))


def error_text(exc: BaseException) -> str:
    """One line naming an error: ``Type: message``; GraphQL error lists give their messages."""
    args = getattr(exc, "args", ())
    if args and isinstance(args[0], list):
        messages = [
            str(item.get("message", item)) if isinstance(item, dict) else str(item)
            for item in args[0]
        ]
        text = "; ".join(messages)
    else:
        text = str(exc)
    text = " ".join(text.split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def log_exception(exc: BaseException, indent: int = 0) -> None:
    """Print an error: its traceback in debug mode, otherwise one line."""
    prefix = " " * indent
    if _debug():
        lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
        click.echo("".join(prefix + line for line in "".join(lines).splitlines(True)))
    else:
        click.secho(prefix + error_text(exc), fg="red")


def _is_connection_error(exc: BaseException) -> bool:
    requests = sys.modules.get("requests")
    return requests is not None and isinstance(exc, requests.ConnectionError)


def handle_terminal_error(func: F) -> F:
    """Turn a `TerminalError`, an unreachable API or an API error into one printed line and
    exit status 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except TerminalError as exc:
            message = str(exc)
            if message:
                click.secho(message, fg="red")
            sys.exit(1)
        except Exception as exc:
            from prefect.exceptions import ClientError

            if not (_is_connection_error(exc) or isinstance(exc, ClientError)):
                raise
            log_exception(exc)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


@contextmanager
def try_error_done(
    message: str,
    echo: Callable[..., None] = click.secho,
    skip_done: bool = False,
) -> Iterator[None]:
    """Print ``message``, run the block, then `` Done`` or `` Error`` on the same line.

    An exception in the block becomes a `TerminalError` carrying its one-line description.
    """
    echo(message, nl=False)
    try:
        yield
    except TerminalError:
        echo(" Error", fg="red")
        raise
    except Exception as exc:
        echo(" Error", fg="red")
        if _debug():
            log_exception(exc, indent=2)
        raise TerminalError(error_text(exc)) from exc
    else:
        if not skip_done:
            echo(" Done", fg="green")


def _cast_json(value: str) -> Any:
    """A JSON value, or the text itself when it is not JSON (``name=world`` -> ``"world"``)."""
    try:
        return json.loads(value)
    except ValueError:
        return value


def load_json_key_values(specs: Iterable[str], display_name: str) -> dict[str, Any]:
    """Parse ``key=value`` options; values are JSON when they parse as JSON, text otherwise.

    Raises:
        TerminalError: an option has no ``=``.
    """
    parsed: dict[str, Any] = {}
    for spec in specs:
        key, sep, value = spec.partition("=")
        if not sep or not key:
            raise TerminalError(
                f"Invalid {display_name} option {spec!r}. Expected format 'key=value'."
            )
        parsed[key] = _cast_json(value)
    return parsed


def backend_is_cloud() -> bool:
    """Whether the configured backend is Prefect Cloud."""
    import prefect

    return str(prefect.config.backend) == "cloud"
