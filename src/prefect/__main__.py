"""`python -m prefect`: the `prefect` command line."""

from prefect.cli import cli

if __name__ == "__main__":
    cli(prog_name="prefect")
