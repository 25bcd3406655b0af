"""The flow users try first: `prefect run --module prefect.hello_world`."""

from prefect import Flow, Parameter, task


@task(log_stdout=True)
def say_hello(to: str) -> None:
    """Print a greeting."""
    print(f"Hello {to}")


@task()
def capitalize(word: str) -> str:
    """Capitalize a word."""
    return word.capitalize()


with Flow("hello-world") as hello_flow:
    name = Parameter("name", default="world")
    say_hello(capitalize(name))
