"""`prefect backend server|cloud`: choose the API the CLI and flows talk to.

The choice is written to the backend file (``PREFECT__BACKEND_CONFIG_PATH``, default
``~/.prefect/backend.toml``) as ``backend = "<name>"``; the configuration merges that file on
load, so it takes effect in every later process.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

__all__ = ["backend"]

BACKENDS = ("server", "cloud")


def backend_file() -> Path:
    """Where the backend choice is stored (read from the environment at call time)."""
    from prefect import configuration

    path = os.getenv("PREFECT__BACKEND_CONFIG_PATH") or configuration.BACKEND_CONFIG
    return Path(path).expanduser()


def save_backend(name: str) -> Path:
    """Write ``backend = "<name>"`` to the backend file, keeping its other keys.

    Returns:
        the file written.
    """
    import toml

    path = backend_file()
    data = toml.loads(path.read_text()) if path.exists() else {}
    data["backend"] = name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(toml.dumps(data))
    return path


@click.command(hidden=True)
@click.argument("api")
def backend(api: str) -> None:
    """Switch the backend to API: `server` (Prefect Server) or `cloud` (Prefect Cloud).

    The choice is stored in the backend file and used by every later command.
    """
    if api not in BACKENDS:
        click.secho(f"{api} is not a valid backend API. Backends: server, cloud", fg="red")
        raise SystemExit(1)
    save_backend(api)
    click.secho(f"Backend switched to {api}", fg="green")
