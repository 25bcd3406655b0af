"""Helpers for changing `prefect.config` temporarily (mostly in tests)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import prefect
from prefect import configuration

if TYPE_CHECKING:
    from prefect.configuration import Config

__all__ = ["set_temporary_config"]


@contextmanager
def set_temporary_config(temp_config: dict) -> Iterator[Config]:
    """Temporarily set keys of `prefect.config`.

    Keys may be dotted paths into nested sections (`"cloud.api_key"`); missing sections are
    created. Inside the block `prefect.context.config` reflects the change as well. On exit the
    whole config is restored in place, even if the block raised: `prefect.config` stays the same
    object, and so does every section of it.

    Args:
        temp_config: a mapping of (dotted) keys to temporary values

    Yields:
        the updated `prefect.config`

    Example:
        ```python
        with set_temporary_config({"cloud.api_key": "abc", "flows.checkpointing": True}):
            assert prefect.config.cloud.api_key == "abc"
        ```
    """
    config = prefect.config
    Config = configuration.Config
    saved = _snapshot(config)
    try:
        for key, value in temp_config.items():
            *sections, last = key.split(".")
            section = config
            for name in sections:
                child = section.get(name)
                if not isinstance(child, Config):
                    section[name] = Config()
                    # Box stores a converted copy; continue with the stored object.
                    child = section[name]
                section = child
            section[last] = value
        with prefect.context(config=config):
            yield config
    finally:
        _restore(saved)


def _snapshot(root: Config) -> list[tuple[Config, list[tuple[Any, Any]]]]:
    """Record the raw items of `root` and of every section below it."""
    saved = []
    stack = [root]
    while stack:
        section = stack.pop()
        items = list(dict.items(section))
        saved.append((section, items))
        stack.extend(value for _, value in items if isinstance(value, configuration.Config))
    return saved


def _restore(saved: list[tuple[Config, list[tuple[Any, Any]]]]) -> None:
    # Plain dict operations put back the very objects that were there (Box assignment would
    # store copies), so references to sections taken before the change stay valid.
    for section, items in saved:
        dict.clear(section)
        dict.update(section, items)
