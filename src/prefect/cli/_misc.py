"""The small top-level commands: `repl`, `version`, `config` and `diagnostics`."""

from __future__ import annotations

import json
from typing import Any

import click

__all__ = ["config", "diagnostics", "repl", "version"]


@click.command()
def repl() -> None:
    """Start an interactive Prefect CLI session.

    Needs the `click-repl` package.
    """
    try:
        from click_repl import repl as click_repl
    except ImportError:
        raise click.ClickException(
            "`prefect repl` needs the `click-repl` package: pip install click-repl"
        ) from None
    ctx = click.get_current_context()
    click.echo("Welcome to the Prefect CLI! Type `help` to see the commands, `:q` to quit.")
    click_repl(ctx.parent or ctx)


@click.command(hidden=True)
def version() -> None:
    """Get the current Prefect version."""
    import prefect

    click.echo(prefect.__version__)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


@click.command(hidden=True)
def config() -> None:
    """Output Prefect config as JSON."""
    import prefect

    click.echo(json.dumps(_plain(prefect.config.to_dict()), indent=2))


def _diagnostic_report(include_secret_names: bool) -> dict[str, Any]:
    from prefect.utilities import diagnostics as module

    return json.loads(module.diagnostic_info(include_secret_names=include_secret_names))


@click.command(hidden=True)
@click.option("--include-secret-names", is_flag=True, hidden=True)
def diagnostics(include_secret_names: bool = False) -> None:
    """Output Prefect diagnostic information (for bug reports)."""
    click.echo(json.dumps(_diagnostic_report(include_secret_names), indent=4, sort_keys=True))
