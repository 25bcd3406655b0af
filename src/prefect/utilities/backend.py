"""The backend file that `prefect backend` writes: ``{home_dir}/backend.toml``, or the file
named by ``PREFECT__BACKEND_CONFIG_PATH`` when that is set (the file the configuration loader
reads).

It holds one key, ``backend`` (``"server"`` or ``"cloud"``); the configuration loader merges it
over the user configuration.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["backend_path", "load_backend", "save_backend"]


def backend_path() -> Path:
    """Where the backend file is: ``PREFECT__BACKEND_CONFIG_PATH`` if set, else
    ``backend.toml`` in ``home_dir``."""
    import prefect

    configured = os.getenv("PREFECT__BACKEND_CONFIG_PATH")
    if configured:
        return Path(configured).expanduser()

    config = prefect.context.get("config") or prefect.config
    return Path(str(config.home_dir)).expanduser() / "backend.toml"


def save_backend(backend: str) -> None:
    """Write ``backend = "<backend>"`` to the backend file, creating its directory.

    Args:
        backend: ``"server"`` or ``"cloud"``.
    """
    import toml

    path = backend_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(toml.dumps({"backend": backend}))


def load_backend() -> dict:
    """The contents of the backend file (an empty dict when there is none)."""
    import toml

    path = backend_path()
    if not path.exists():
        return {}
    return dict(toml.loads(path.read_text()))
