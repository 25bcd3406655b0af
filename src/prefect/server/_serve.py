"""Run the server in this process: migrate the database, then serve the app under uvicorn.

`serve()` is what `prefect server start` calls. It brings the database to the newest migration
(skipped in one query when it is there already), builds the app of `prefect.server.app`, and serves
it on asyncio with the httptools parser and no access log (a line per state write is noise, and
formatting it costs time on the hot path). SIGINT and SIGTERM shut it down gracefully: uvicorn
stops accepting, finishes open requests, runs the app's lifespan exit (services stopped), then the
database engine is disposed and `serve()` returns 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import signal
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prefect.server.database.engine import Database

__all__ = ["display_url", "serve"]

# Seconds uvicorn waits for open requests after a shutdown signal before closing them.
_GRACEFUL_SHUTDOWN_SECONDS = 5


def display_url(url: str) -> str:
    """A database URL fit to print: the password, if any, replaced by `***`."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    credentials, at, location = rest.rpartition("@")
    if not at or ":" not in credentials:
        return url
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{location}"


def serve(
    *,
    host: str,
    port: int,
    database_url: str,
    upgrade: bool = True,
    pid_file: str | None = None,
    echo: Callable[[str], Any] = print,
    app_factory: Callable[[Database], Any] | None = None,
) -> int:
    """Serve the API until SIGINT or SIGTERM.

    Args:
        host: the address to bind (`127.0.0.1`, or `0.0.0.0` to listen on every interface).
        port: the TCP port.
        database_url: `sqlite:///PATH` or `postgresql://...`.
        upgrade: run the database migrations first (skipped when already at the newest).
        pid_file: write this process's id there while serving (removed on exit).
        echo: where the start-up lines go.
        app_factory: builds the ASGI app from the database (default:
            `prefect.server.app.create_app(database=db)`).

    Returns:
        the process exit code: 0 after a signal, 1 when the server could not start.
    """
    if pid_file is not None:
        _write_pid_file(pid_file)
    # The start-up is mostly imports (SQLAlchemy, graphql-core, Starlette, uvicorn): collecting
    # garbage among objects that all live forever is wasted work (~5% of the instructions).
    # `_serve` freezes them into the permanent generation and turns collection back on.
    gc.disable()
    try:
        with _quiet_signal_reraise() as serving:
            return asyncio.run(
                _serve(host, port, database_url, upgrade, echo, app_factory, serving)
            )
    finally:
        gc.unfreeze()
        gc.enable()
        if pid_file is not None:
            _remove_pid_file(pid_file)


async def _serve(
    host: str,
    port: int,
    database_url: str,
    upgrade: bool,
    echo: Callable[[str], Any],
    app_factory: Callable[[Database], Any] | None,
    serving: dict[str, bool],
) -> int:
    import uvicorn

    from prefect.server.database.engine import Database

    db = Database(database_url)
    try:
        from prefect.server.database import migrate

        if upgrade:
            if await migrate.prepare(db):
                echo(f"Database migrated to revision {migrate.HEAD_REVISION}.")
        else:
            revision = await migrate.current_revision(db)
            if revision != migrate.HEAD_REVISION:
                echo(
                    f"The database is at revision {revision or 'base (empty)'}, this server "
                    f"needs {migrate.HEAD_REVISION}: run `prefect server database upgrade` or "
                    "start without --no-upgrade."
                )
                return 1
        if app_factory is None:
            from prefect.server.app import create_app

            app = create_app(database=db)
        else:
            app = app_factory(db)
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            http="httptools",
            # No websockets (nothing serves them; skips importing a websocket library) and no
            # X-Forwarded-* rewriting (a per-request middleware for a proxy we do not assume).
            ws="none",
            proxy_headers=False,
            lifespan="on",
            access_log=False,
            log_level="warning",
            server_header=False,
            timeout_graceful_shutdown=_GRACEFUL_SHUTDOWN_SECONDS,
        )
        server = uvicorn.Server(config)
        announce = asyncio.ensure_future(_announce_when_started(server, host, port, echo))
        serving["active"] = True
        config.load()  # uvicorn's protocol and lifespan imports, before the freeze
        gc.freeze()
        gc.enable()
        try:
            await server.serve()
        except SystemExit:
            # uvicorn exits this way when the app's start-up fails or it cannot bind (it has
            # logged the error either way).
            if server.lifespan.should_exit:
                echo("The server's start-up failed (see the error above).")
            else:
                echo(
                    f"Could not listen on {host}:{port}; is another server running there? "
                    "Choose another port with --server-port."
                )
            return 1
        finally:
            announce.cancel()
        return 0 if server.started else 1
    finally:
        await db.dispose()


async def _announce_when_started(
    server: Any, host: str, port: int, echo: Callable[[str], Any]
) -> None:
    while not server.started:
        await asyncio.sleep(0.01)
    shown = "127.0.0.1" if host == "0.0.0.0" else host
    where = f"http://{shown}:{port}"
    extra = " (and every other interface)" if host == "0.0.0.0" else ""
    echo(f"Prefect Server listening on {where}{extra}; GraphQL at {where}/graphql.")
    echo("Press Ctrl-C to stop.")
    sys.stdout.flush()


@contextlib.contextmanager
def _quiet_signal_reraise() -> Iterator[dict[str, bool]]:
    """Let a graceful shutdown by signal end in a normal return.

    After its shutdown uvicorn re-raises the signal it caught against the handler it found at
    start. Once serving has begun (the caller sets `["active"]`), the handler installed here
    swallows it, so SIGINT does not turn into a KeyboardInterrupt (exit 130) after everything has
    been cleaned up; before that (during migrations) a signal interrupts as usual.
    """
    serving = {"active": False}

    def _handle(_signum: int, _frame: Any) -> None:
        if not serving["active"]:
            raise KeyboardInterrupt

    handled = (signal.SIGINT, signal.SIGTERM)
    try:
        previous = {sig: signal.signal(sig, _handle) for sig in handled}
    except ValueError:  # not the main thread: uvicorn does not capture signals there either
        yield serving
        return
    try:
        yield serving
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _write_pid_file(path: str) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as file:
        file.write(f"{os.getpid()}\n")


def _remove_pid_file(path: str) -> None:
    # Only our own: a server started later may have written its pid there meanwhile.
    with contextlib.suppress(OSError, ValueError):
        with open(path) as file:
            if int(file.read().strip()) != os.getpid():
                return
        os.remove(path)
