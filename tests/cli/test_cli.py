import subprocess
import sys

from click.testing import CliRunner

import prefect
from prefect.cli import cli


def test_cli_version_prints_the_package_version():
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"prefect, version {prefect.__version__}\n"


def test_python_dash_m_prefect_runs_the_cli():
    completed = subprocess.run(
        [sys.executable, "-m", "prefect", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("Usage: prefect [OPTIONS] COMMAND [ARGS]...")


# --- the lazy root group ------------------------------------------------------------------------

import pytest  # noqa: E402

from prefect.cli import LazyGroup  # noqa: E402

TOP_LEVEL_1_4_1 = [
    "repl", "version", "config", "diagnostics", "backend", "agent", "auth", "create", "delete",
    "describe", "execute", "get", "run", "server", "heartbeat", "register", "build", "kv",
]  # fmt: skip


def test_every_1_4_1_top_level_command_is_registered():
    assert cli.list_commands(None) == TOP_LEVEL_1_4_1  # type: ignore[arg-type]


@pytest.mark.parametrize("name", TOP_LEVEL_1_4_1)
def test_every_top_level_command_has_help(name):
    result = CliRunner().invoke(cli, [name, "--help"])

    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Usage: cli {name} ")


def test_help_lists_the_visible_commands_and_names_all_of_them():
    result = CliRunner().invoke(cli, ["-h"])

    assert result.exit_code == 0
    listed = result.output.split("Commands:\n", 1)[1]
    assert [line.split()[0] for line in listed.splitlines()] == [
        "repl", "agent", "run", "register", "build", "kv",
    ]  # fmt: skip
    for name in TOP_LEVEL_1_4_1:
        assert f"\n      {name} " in result.output, name


def test_help_imports_no_command_module():
    code = (
        "import sys; from prefect.cli import cli\n"
        "try:\n    cli(['--help'])\nexcept SystemExit:\n    pass\n"
        "bad = [m for m in sys.modules if m.startswith(('prefect.cli.', 'prefect.server', "
        "'sqlalchemy', 'uvicorn'))]\n"
        "assert bad == [], bad"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)

    assert done.returncode == 0, done.stderr


def test_a_command_whose_module_is_missing_says_so_and_the_rest_work():
    group = LazyGroup(
        name="g",
        lazy_commands={
            "broken": "no_such_module_anywhere:cmd",
            "version": cli.lazy_commands["version"],
        },
    )

    broken = CliRunner().invoke(group, ["broken", "--anything"])
    working = CliRunner().invoke(group, ["version"])

    assert broken.exit_code == 1
    assert broken.output.startswith(
        "Error: The `prefect broken` command is not available: importing "
        "no_such_module_anywhere:cmd failed (ModuleNotFoundError: "
    )
    assert working.exit_code == 0
    assert working.output == f"{prefect.__version__}\n"
