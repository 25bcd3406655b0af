"""Prefect's configuration: `Config`, and how `prefect.config` is loaded.

Loading happens once, at import, in this order (later steps win):

1. the packaged `config.toml` (`DEFAULT_CONFIG`);
2. the user's file (`USER_CONFIG`), deep-merged over it, if it exists;
3. the backend file (`BACKEND_CONFIG`, written by `prefect backend`), deep-merged, if it exists;
4. `PREFECT__SECTION__KEY` environment variables;

after which string values are expanded (`$VAR`, `~`), cast to Python literals, and
`${dotted.key}` references are resolved. Finally the keys are validated and the task defaults
are normalized (see `process_task_defaults`).

This module must not import `prefect.utilities.context`: the context is seeded from the config,
so it imports this module, not the other way around.
"""

from __future__ import annotations

import datetime
import os
import re
import threading
from collections.abc import Iterable, Mapping, MutableMapping
from typing import TYPE_CHECKING, Any, Union, cast

from prefect.utilities.collections import (
    CompoundKey,
    dict_to_flatdict,
    flatdict_to_dict,
    merge_dicts,
)

try:
    # The standard-library parser is TOML 1.0 compliant, several times faster than `toml`, and
    # already imported by python-box; `toml` remains the parser on Python 3.10.
    import tomllib as _tomllib
except ImportError:  # pragma: no cover (Python 3.10)
    _tomllib = None  # type: ignore[assignment]

DEFAULT_CONFIG = os.path.join(os.path.dirname(__file__), "config.toml")
USER_CONFIG = os.getenv("PREFECT__USER_CONFIG_PATH", "~/.prefect/config.toml")
BACKEND_CONFIG = os.getenv("PREFECT__BACKEND_CONFIG_PATH", "~/.prefect/backend.toml")
ENV_VAR_PREFIX = "PREFECT"
INTERPOLATION_REGEX = re.compile(r"\${(.[^${}]*)}")

# Both expansion and reference resolution give up after this many rounds, which stops
# self-referencing values from looping forever.
_MAX_INTERPOLATION_ROUNDS = 10

# Secret names are case-sensitive, so only this part of such variables is lower-cased.
_SECRETS_PATH = ("context", "secrets")


# `Config` is a `box.Box`, and python-box (with what it imports) costs more than the rest of
# `import prefect` together. So the class, and `config` itself, are built on first use
# (module `__getattr__` below); `import prefect` alone does not load box. Until then, the few
# values needed at import time (logging settings) are read from the plain loaded values.
_lock = threading.RLock()
_config_cls: type | None = None
_default_flat: dict | None = None
_default_plain: dict | None = None


def _config_class() -> type:
    """The `Config` class (created, importing box, on first call)."""
    global _config_cls
    if _config_cls is None:
        with _lock:
            if _config_cls is None:
                from prefect.utilities._lazy_import import import_box

                _config_cls = _make_config_class(import_box())
    return _config_cls


def _make_config_class(Box: Any) -> type:
    class Config(Box):
        """A nested configuration mapping with attribute and item access.

        Tables are themselves `Config` objects, so `config.cloud.api` and `config["cloud"]["api"]`
        are equivalent. Any `box.Box` option may be passed, e.g. `Config(default_box=True)`.
        """

        def __getattr__(self, item: str) -> Any:
            # Attribute reads of existing keys (`config.cloud.api`) are the common case and sit on
            # hot paths; answer them straight from the dict before Box's general lookup.
            try:
                return dict.__getitem__(self, item)
            except KeyError:
                return super().__getattr__(item)

        def copy(self) -> Config:
            """Return a recursive copy.

            Every nested `Config` is a new object, so setting keys on the copy (at any depth) never
            changes the original. Leaf values (lists, objects) are shared, not copied.

            Returns:
                the copy, with the same `Box` options
            """
            new = cast(Config, Box.copy(self))
            # `Box.copy` rebuilds nested boxes in current python-box releases; make sure of it
            # rather than depend on that detail.
            items: list[tuple[Any, Any]] = list(dict.items(new))
            for key, value in items:
                if value is dict.get(self, key) and isinstance(value, Config):
                    dict.__setitem__(new, key, value.copy())
            return new

    Config.__module__ = __name__
    Config.__qualname__ = "Config"
    return Config


def string_to_type(val: str) -> Union[bool, int, float, str]:
    """Cast a string to the Python value it spells, if any.

    `"true"` / `"false"` (any letter case) become booleans; anything `ast.literal_eval` accepts
    (ints, floats, lists, dicts, tuples, `None`, quoted strings) becomes that value; every other
    string is returned unchanged. Non-strings are returned unchanged.

    Args:
        val: the string to cast

    Returns:
        the cast value, or `val` itself
    """
    if not isinstance(val, str):
        return val
    lowered = val.lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    if not _may_be_literal(val):
        return val
    # The literals config files hold most (ports, empty lists), without parsing.
    if val.isascii() and val.isdigit() and (val[0] != "0" or val == "0"):
        return int(val)
    if val in _EMPTY_LITERALS:
        return _EMPTY_LITERALS[val]()
    from ast import literal_eval

    try:
        return literal_eval(val)
    except Exception:
        # Not a Python literal (a hostname, a log format, ...): keep the text.
        return val


_EMPTY_LITERALS = {"[]": list, "{}": dict, "()": tuple}
_CLOSERS = {"[": "]", "(": ")", "{": "}", "'": "'", '"': '"'}
_LITERAL_STARTS = frozenset("0123456789.+-")
_STRING_PREFIX_LETTERS = frozenset("bBrRuU")


def _may_be_literal(val: str) -> bool:
    """False for strings `ast.literal_eval` certainly rejects (most config values: names,
    URLs, formats), so loading the config rarely needs to parse."""
    text = val.lstrip(" \t")
    if not text:
        return False
    first = text[0]
    if first in _CLOSERS and "#" not in text:
        # A container or string literal must end with its closing character (unless a
        # trailing comment follows it).
        return text.rstrip()[-1] == _CLOSERS[first]
    if first in _CLOSERS:
        return True
    if first in _LITERAL_STARTS:
        # Dotted quads and versions ("127.0.0.1") are not numbers.
        return text.count(".") <= 1 or not text.replace(".", "").isdigit()
    if text in ("None", "True", "False"):
        return True
    # String literals with prefixes: b'..', r"..", rb'..', u'..'.
    prefix = 0
    while prefix < 2 and prefix < len(text) and text[prefix] in _STRING_PREFIX_LETTERS:
        prefix += 1
    return 0 < prefix < len(text) and text[prefix] in "'\""


def interpolate_env_vars(env_var: str) -> Union[bool, int, float, str] | None:
    """Expand environment variables (`$VAR`, `${VAR}`) and a leading `~` in a string.

    Expansion is repeated until the value stops changing, so a variable whose value refers to
    another variable is fully expanded. If an expansion happened, the result is cast with
    `string_to_type`; an unchanged string is returned as is. `${dotted.key}` config references
    survive untouched because no environment variable has such a name.

    Args:
        env_var: the value to expand; non-strings are returned unchanged

    Returns:
        the expanded (and possibly cast) value, or `None` if it was still changing after
        10 rounds (a self-referencing variable)
    """
    if not isinstance(env_var, str):
        return env_var
    expanded = _expand(env_var)
    if expanded is None or expanded == env_var:
        return expanded
    return string_to_type(expanded)


def _expand(value: str) -> str | None:
    """Expand variables and `~` until stable; None if still changing after the last round."""
    for _ in range(_MAX_INTERPOLATION_ROUNDS):
        expanded = os.path.expanduser(os.path.expandvars(value))
        if expanded == value:
            return value
        value = expanded
    return None


def create_user_config(dest_path: str, source_path: str = DEFAULT_CONFIG) -> None:
    """Write a copy of a config file (by default the packaged one) to `dest_path`.

    Missing parent directories are created.

    Args:
        dest_path: where to write the file; environment variables and `~` are expanded
        source_path: the file to copy

    Raises:
        ValueError: if `dest_path` already exists
    """
    dest = str(interpolate_env_vars(dest_path))
    if os.path.isfile(dest):
        raise ValueError(
            f"File already exists: {dest}; remove it or choose another path for the user config."
        )
    directory = os.path.dirname(dest)
    if directory:
        os.makedirs(directory, exist_ok=True)
    with open(source_path, encoding="utf-8") as source:
        contents = source.read()
    with open(dest, "w", encoding="utf-8") as target:
        target.write(contents)


def process_task_defaults(config: Any) -> Any:
    """Normalize `tasks.defaults` in place (TOML has no null, so `false` stands for "none").

    - `max_retries`: missing or falsey -> `0`
    - `retry_delay`: missing or `false` -> `None`; an int -> `timedelta(seconds=int)`
    - `timeout`: missing or `false` -> `None`

    Missing `tasks` / `tasks.defaults` tables are created.

    Args:
        config: the config to update

    Returns:
        the same config object
    """
    table = type(config)
    if not isinstance(config.get("tasks"), MutableMapping):
        config["tasks"] = table()
    tasks = config["tasks"]
    if not isinstance(tasks.get("defaults"), MutableMapping):
        tasks["defaults"] = table()
    defaults = tasks["defaults"]

    defaults["max_retries"] = defaults.get("max_retries") or 0

    # TOML has no null, so `false` (or a missing key) means "none"; 0 is a real value.
    retry_delay = defaults.get("retry_delay", False)
    if retry_delay is False:
        retry_delay = None
    elif isinstance(retry_delay, int) and not isinstance(retry_delay, bool):
        retry_delay = datetime.timedelta(seconds=retry_delay)
    defaults["retry_delay"] = retry_delay

    timeout = defaults.get("timeout", False)
    defaults["timeout"] = None if timeout is False else timeout
    return config


def to_environment_variables(
    config: Config, include: Iterable[str] | None = None, prefix: str = "PREFECT"
) -> dict:
    """Express a config as the environment variables that would recreate it.

    Each leaf `a.b.key` becomes `{PREFIX}__A__B__KEY` (upper case) with `str(value)` as its value.

    Args:
        config: the config to convert
        include: dotted keys (`"cloud.api"`) to limit the output to; all keys when omitted
        prefix: the variable-name prefix

    Returns:
        a dict of variable names to string values
    """
    if isinstance(include, str):
        include = [include]
    wanted = set(include) if include else None
    env = {}
    for key, value in dict_to_flatdict(config).items():
        if wanted is not None and ".".join(map(str, key)) not in wanted:
            continue
        env["__".join((prefix, *map(str, key))).upper()] = str(value)
    return env


def validate_config(config: Mapping) -> None:
    """Check that no key, at any depth, collides with an attribute of `Config`.

    A key such as `copy` or `update` could not be reached as an attribute and would break
    `Config` methods, so it is refused.

    Args:
        config: the config to check

    Raises:
        ValueError: naming the first offending key
    """
    items: list[tuple[Any, Any]] = list(dict.items(config))  # type: ignore[arg-type]
    for key, value in items:
        if isinstance(key, str) and hasattr(_config_class(), key):
            raise ValueError(f'Invalid config key: "{key}"')
        if isinstance(value, dict):
            validate_config(value)


def load_toml(path: str) -> dict:
    """Parse a TOML file.

    Args:
        path: the file to read

    Returns:
        its contents as nested dicts
    """
    if _tomllib is not None:
        with open(path, "rb") as f:
            return _tomllib.load(f)
    import toml

    with open(path, encoding="utf-8") as f:
        return toml.load(f)


def _env_var_key(option: str) -> CompoundKey | None:
    """The config key path that `PREFIX__<option>` sets, or None if it names no key."""
    parts = option.split("__")
    if not all(parts):
        return None
    lowered = [part.lower() for part in parts]
    if len(parts) > len(_SECRETS_PATH) and tuple(lowered[:2]) == _SECRETS_PATH:
        return CompoundKey((*lowered[:2], *parts[2:]))
    return CompoundKey(lowered)


def _decode_escapes(value: str) -> str:
    """Interpret backslash escapes (`\\n`, `\\t`, ...) in an environment value, as 1.x does;
    characters outside Latin-1 survive unchanged."""
    if "\\" not in value:
        return value
    import codecs

    try:
        return codecs.decode(value.encode("latin-1", "backslashreplace"), "unicode_escape")
    except UnicodeDecodeError:  # e.g. a Windows path ("C:\\Users"): keep it as written
        return value


def _expand_and_cast(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    expanded = _expand(value)
    return expanded if expanded is None else string_to_type(expanded)


def _resolve_reference(flat_config: dict, match: re.Match) -> Any:
    return flat_config.get(CompoundKey(match.group(1).split(".")), "")


def interpolate_config(config: dict, env_var_prefix: str | None = None) -> Config:
    """Apply environment overrides, expand and cast values, and resolve `${...}` references.

    Args:
        config: the merged (file) configuration as nested dicts
        env_var_prefix: when given, every environment variable `{prefix}__A__B__KEY` sets key
            `a.b.key` (lower-cased, except secret names under `context.secrets`)

    Returns:
        the resulting `Config`
    """
    return flatdict_to_dict(_interpolate_flat(config, env_var_prefix), dct_class=_config_class())


def _interpolate_flat(config: dict, env_var_prefix: str | None) -> dict:
    """`interpolate_config` on the flattened view, returning it flat."""
    flat_config = dict_to_flatdict(config)

    if env_var_prefix:
        start = env_var_prefix + "__"
        for name, raw in os.environ.items():
            if not name.startswith(start):
                continue
            key = _env_var_key(name[len(start) :])
            if key is not None:
                flat_config[key] = _decode_escapes(raw)

    # Values from files and from the environment alike: expand, then cast once.
    for key, value in flat_config.items():
        flat_config[key] = _expand_and_cast(value)

    # References may nest (`${${backend}.endpoint}`) or point at values that are references
    # themselves, so resolve innermost references repeatedly, watching only unresolved keys.
    pending = {key for key, value in flat_config.items() if isinstance(value, str)}
    for _ in range(_MAX_INTERPOLATION_ROUNDS):
        if not pending:
            break
        for key in list(pending):
            value = flat_config[key]
            match = INTERPOLATION_REGEX.search(value) if isinstance(value, str) else None
            if match is None:
                pending.discard(key)
            elif match.group(0) == value:
                # The whole value is a reference: take the referenced value with its type.
                flat_config[key] = _resolve_reference(flat_config, match)
            else:
                flat_config[key] = INTERPOLATION_REGEX.sub(
                    lambda m: str(_resolve_reference(flat_config, m)), value
                )
    return flat_config


def _expand_path(path: str) -> str:
    return os.path.expanduser(os.path.expandvars(path))


def load_configuration(
    path: str,
    user_config_path: str | None = None,
    backend_config_path: str | None = None,
    env_var_prefix: str | None = None,
) -> Config:
    """Load a configuration from files and environment variables.

    Args:
        path: the base (default) TOML file
        user_config_path: a TOML file merged over the base, if it exists
        backend_config_path: a TOML file merged over both, if it exists
        env_var_prefix: the prefix of environment variables that override keys (e.g.
            `"PREFECT"`); no environment overrides when omitted

    Returns:
        the loaded, validated `Config`

    Raises:
        ValueError: if a key collides with a `Config` attribute (see `validate_config`)
    """
    flat = _load_flat(path, user_config_path, backend_config_path, env_var_prefix)
    config: Config = flatdict_to_dict(flat, dct_class=_config_class())
    validate_config(config)
    return process_task_defaults(config)


def _load_flat(
    path: str,
    user_config_path: str | None,
    backend_config_path: str | None,
    env_var_prefix: str | None,
) -> dict:
    """The merged and interpolated configuration, flattened (no `Config` objects)."""
    loaded = load_toml(_expand_path(path))
    for extra_path in (user_config_path, backend_config_path):
        if not extra_path:
            continue
        expanded = _expand_path(extra_path)
        if os.path.isfile(expanded):
            loaded = cast(dict, merge_dicts(loaded, load_toml(expanded)))
    return _interpolate_flat(loaded, env_var_prefix)


def load_default_config() -> Config:
    """Load Prefect's configuration from its standard locations.

    Returns:
        the packaged defaults, merged with `USER_CONFIG` and `BACKEND_CONFIG` and overridden by
        `PREFECT__*` environment variables
    """
    return load_configuration(
        path=DEFAULT_CONFIG,
        user_config_path=USER_CONFIG,
        backend_config_path=BACKEND_CONFIG,
        env_var_prefix=ENV_VAR_PREFIX,
    )


def _default_values() -> dict:
    """The default configuration as plain nested dicts, loaded once, without box."""
    global _default_flat, _default_plain
    if _default_plain is None:
        with _lock:
            if _default_flat is None:
                _default_flat = _load_flat(
                    DEFAULT_CONFIG, USER_CONFIG, BACKEND_CONFIG, ENV_VAR_PREFIX
                )
            _default_plain = process_task_defaults(flatdict_to_dict(_default_flat, dct_class=dict))
    return _default_plain


def _current_value(*path: str) -> Any:
    """A value of `prefect.config` if it exists yet, else of the plain default values.

    For code that runs at import time and must not build the `Config` (logging setup).
    """
    node: Any = globals().get("config")
    if node is None:
        node = _default_values()
    for key in path:
        node = dict.__getitem__(node, key) if isinstance(node, dict) else node[key]
    return node


def _materialize_config() -> Config:
    with _lock:
        existing = globals().get("config")
        if existing is not None:
            return existing
        if _default_flat is not None:
            # Reuse the values loaded at import time (the same files and environment).
            loaded: Config = flatdict_to_dict(_default_flat, dct_class=_config_class())
            validate_config(loaded)
            loaded = process_task_defaults(loaded)
        else:
            loaded = load_default_config()
        globals()["config"] = loaded
        return loaded


def __dir__() -> list[str]:
    return sorted(set(globals()) | {"Config", "config"})


def __getattr__(name: str) -> Any:
    if name == "Config":
        return _config_class()
    if name == "config":
        return _materialize_config()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if TYPE_CHECKING:
    from box import Box

    class Config(Box):  # noqa: D101 - the real class is built by _make_config_class
        def copy(self) -> Config: ...

    config: Config
