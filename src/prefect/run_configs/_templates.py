"""Job and task-definition templates given as YAML text, a mapping, or a path.

Local paths are read when the run config is created; remote ones (`s3://`, `gcs://`,
`http(s)://`, `agent://` for a file on the agent's machine) are kept as text for the agent to
load when it starts the run.
"""

from __future__ import annotations

import sys
from typing import Any
from urllib.parse import ParseResult, urlparse

# Schemes that name a file on the machine that creates the run config.
_LOCAL_SCHEMES = ("", "file", "local")


def parse_path(path: str) -> ParseResult:
    """Split a path or URL; local paths (no scheme, `file://`, `local://`) get scheme `file`.

    Args:
        path: a file path or URL.

    Returns:
        the parsed URL; for local paths, `path` holds the whole file path.
    """
    parsed = urlparse(path)
    is_drive_letter = sys.platform == "win32" and len(parsed.scheme) == 1
    if parsed.scheme in _LOCAL_SCHEMES or is_drive_letter:
        if parsed.scheme in ("file", "local"):
            local_path = parsed.netloc + parsed.path
        else:
            local_path = path
        return ParseResult("file", "", local_path, "", "", "")
    return parsed


def is_local_path(path: str) -> bool:
    """Whether `path` names a file to read now (rather than one the agent reads later)."""
    return parse_path(path).scheme == "file"


def load_yaml_mapping(text: str, what: str) -> dict:
    """Parse YAML text that must hold a mapping.

    Args:
        text: the YAML document.
        what: what the document is, for error messages (e.g. "job_template").

    Returns:
        the mapping.

    Raises:
        ValueError: if the document is not a mapping.
    """
    import yaml

    value: Any = yaml.safe_load(text)
    if not isinstance(value, dict):
        raise ValueError(
            f"`{what}` must be a YAML mapping (an object at the top level); "
            f"got {type(value).__name__}."
        )
    return value


def read_local_template(path: str, what: str) -> dict:
    """Read and parse a local YAML (or JSON) template file.

    Args:
        path: a local path, optionally with a `file://` or `local://` scheme.
        what: the argument that named it, for error messages.

    Returns:
        the parsed mapping.
    """
    with open(parse_path(path).path, encoding="utf-8") as f:
        return load_yaml_mapping(f.read(), what)
