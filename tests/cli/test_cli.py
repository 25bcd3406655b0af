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
