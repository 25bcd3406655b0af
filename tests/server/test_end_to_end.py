"""Orchestrated runs end to end (issue 8): `prefect server start`, `prefect register`,
`prefect agent local start` and `prefect run` as real processes, checked through the GraphQL API.

One server (SQLite) and one agent serve the module; every test registers its own flow in its own
project. Heartbeats, polls, cancellation checks, log uploads and the server's services run on
timers of about a second (see `_e2e.FAST_TIMERS`). One test repeats the first case on
PostgreSQL with a server of its own.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.server import _e2e
from tests.server._e2e import Stack, state_names, task_runs_by_name

pytestmark = pytest.mark.integration

MAPPED_FLOW = '''
"""A parameter, a task, a task mapped over its result and a reduce."""
import prefect
from prefect import Flow, Parameter, task


@task
def numbers(n):
    return list(range(n))


@task
def square(x):
    prefect.context.logger.info("Squaring %d", x)
    return x * x


@task
def total(values):
    prefect.context.logger.info("Total: %d", sum(values))
    return sum(values)


with Flow("FLOW_NAME") as flow:
    total(square.map(numbers(Parameter("n", default=2))))
'''


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The module's server (SQLite) and agent."""
    stack = Stack(tmp_path_factory.mktemp("e2e-home"))
    try:
        stack.start_server()
        stack.start_agent("agent")
        yield stack
    finally:
        stack.stop()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def start_run(stack: Stack, flow_name: str, project: str, *args: str) -> str:
    """`prefect run --name ... --quiet`: create a run for the agent, return its id."""
    output = stack.check("run", "--name", flow_name, "--project", project, "--quiet", *args)
    flow_run_id = output.strip().splitlines()[-1].strip()
    uuid.UUID(flow_run_id)
    return flow_run_id


def wait_for_task_running(stack: Stack, flow_run_id: str, task_name: str, timeout: float) -> None:
    def running() -> bool:
        tasks = task_runs_by_name(stack.flow_run(flow_run_id))
        return any(t["state"] == "Running" for t in tasks.get(task_name, []))

    try:
        _e2e.poll(running, timeout, f"task {task_name!r} to run")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{stack.diagnostics()}") from None


def run_mapped_flow(stack: Stack) -> None:
    """Case 1, on whichever database `stack` uses."""
    project, flow_name = unique("e2e-map"), unique("mapped")
    path = stack.write_flow(f"{flow_name}.py", MAPPED_FLOW.replace("FLOW_NAME", flow_name))
    stack.register(project, path)

    watched = stack.run(
        "run", "--name", flow_name, "--project", project, "--param", "n=3", "--watch"
    )  # fmt: skip
    assert watched.returncode == 0, f"{watched.stdout}\n{watched.stderr}\n{stack.diagnostics()}"
    assert "Entered state <Success>" in watched.stdout

    (listed,) = stack.flow_runs(flow_name)
    run = stack.flow_run(listed["id"])
    assert run["state"] == "Success"
    assert state_names(run) == ["Scheduled", "Submitted", "Running", "Success"]

    tasks = task_runs_by_name(run)
    assert sorted(tasks) == ["n", "numbers", "square", "total"]
    squares = tasks["square"]
    assert [t["map_index"] for t in squares] == [-1, 0, 1, 2]
    assert squares[0]["state"] == "Mapped"
    for task_run in tasks["n"] + tasks["numbers"] + tasks["total"] + squares[1:]:
        assert task_run["state"] == "Success", task_run
        assert state_names(task_run)[-2:] == ["Running", "Success"], task_run
    # The mapped parent never runs itself: it goes from Pending to Mapped.
    assert state_names(squares[0]) == ["Pending", "Mapped"]

    run = stack.wait_for_logs(
        run["id"],
        "Task 'square': Starting task run...",
        "Task 'square[2]': Starting task run...",
        "Squaring 2",
        "Total: 5",
        "Flow run SUCCESS: all reference tasks succeeded",
    )
    by_task_run = {log["task_run_id"] for log in run["logs"] if log["message"] == "Total: 5"}
    assert by_task_run == {tasks["total"][0]["id"]}


def test_mapped_flow_runs_through_the_agent_with_states_and_logs_stored(stack: Stack) -> None:
    run_mapped_flow(stack)


RETRY_FLOW = '''
"""A task that fails its first attempt and succeeds when retried a second later."""
from datetime import timedelta

import prefect
from prefect import Flow, task


@task(max_retries=2, retry_delay=timedelta(seconds=1))
def flaky():
    attempt = prefect.context.get("task_run_count", 1)
    if attempt == 1:
        raise ConnectionError("not reachable on the first attempt")
    return attempt


with Flow("FLOW_NAME") as flow:
    flaky()
'''


def test_task_that_fails_once_is_retried_and_the_run_succeeds(stack: Stack) -> None:
    project, flow_name = unique("e2e-retry"), unique("retry")
    path = stack.write_flow(f"{flow_name}.py", RETRY_FLOW.replace("FLOW_NAME", flow_name))
    stack.register(project, path)
    flow_run_id = start_run(stack, flow_name, project)

    run = stack.wait_for_state(flow_run_id, {"Success", "Failed"}, timeout=120)
    assert run["state"] == "Success", run
    (flaky,) = task_runs_by_name(run)["flaky"]
    states = state_names(flaky)
    assert flaky["state"] == "Success"
    assert "Retrying" in states, states
    assert states.index("Retrying") < len(states) - 1
    assert states[-2:] == ["Running", "Success"], states
    assert states.count("Running") == 2, states


UNCLAIMED_FLOW = '''
"""A flow whose runs no agent takes (a label no agent has)."""
import prefect
from prefect import Flow, task
from prefect.run_configs import LocalRun


@task
def hello():
    prefect.context.logger.info("Hello from the flow run")
    return "hello"


with Flow("FLOW_NAME", run_config=LocalRun(labels=["LABEL"])) as flow:
    hello()
'''


def test_execute_flow_run_runs_a_created_run_without_an_agent(stack: Stack) -> None:
    project, flow_name = unique("e2e-execute"), unique("execute")
    source = UNCLAIMED_FLOW.replace("FLOW_NAME", flow_name).replace("LABEL", unique("nobody"))
    stack.register(project, stack.write_flow(f"{flow_name}.py", source))
    flow_run_id = start_run(stack, flow_name, project)

    # What an agent does for a run, by hand: the run's id and the reporting flow runner.
    done = stack.run(
        "execute",
        "flow-run",
        env={
            "PREFECT__CONTEXT__FLOW_RUN_ID": flow_run_id,
            "PREFECT__ENGINE__FLOW_RUNNER__DEFAULT_CLASS": "prefect.engine.cloud.CloudFlowRunner",
        },
    )
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"

    # The command returns when the run has finished.
    run = stack.flow_run(flow_run_id)
    assert run["state"] == "Success", run
    assert state_names(run) == ["Scheduled", "Running", "Success"]
    (hello,) = task_runs_by_name(run)["hello"]
    assert state_names(hello) == ["Pending", "Running", "Success"]
    stack.wait_for_logs(flow_run_id, "Hello from the flow run")


def test_run_whose_flow_file_is_gone_fails_with_the_load_error_and_watch_exits_1(
    stack: Stack,
) -> None:
    project, flow_name = unique("e2e-missing"), unique("missing")
    path = stack.write_flow(f"{flow_name}.py", RETRY_FLOW.replace("FLOW_NAME", flow_name))
    stack.register(project, path)
    path.unlink()

    watched = stack.run("run", "--name", flow_name, "--project", project, "--watch")
    assert watched.returncode == 1, f"{watched.stdout}\n{watched.stderr}"
    assert "Entered state <Failed>" in watched.stdout
    (listed,) = stack.flow_runs(flow_name)
    run = stack.flow_run(listed["id"])
    assert run["state"] == "Failed", run
    assert state_names(run)[:2] == ["Scheduled", "Submitted"]
    failed = run["states"][-1]
    assert failed["message"].startswith("Failed to load and execute flow run"), failed
    assert all(t["state"] == "Pending" for t in run["task_runs"]), run["task_runs"]
    run = stack.wait_for_logs(run["id"], failed["message"])
    errors = [log["message"] for log in run["logs"] if log["level"] == "ERROR"]
    assert errors == [failed["message"]], run["logs"]


SCHEDULED_FLOW = '''
"""A flow whose schedule's first event is a few seconds after registration."""
from datetime import timedelta

import pendulum

from prefect import Flow, task
from prefect.schedules import IntervalSchedule

# One run an hour, the first one 15 s from now (`prefect register` loads this file, which takes a
# few seconds on a busy machine): the scheduler creates it at registration and the next ones stay
# far in the future.
schedule = IntervalSchedule(
    start_date=pendulum.now("UTC").add(seconds=15), interval=timedelta(hours=1)
)


@task
def tick():
    return "tick"


with Flow("FLOW_NAME", schedule=schedule) as flow:
    tick()
'''


def test_flow_registered_with_a_schedule_runs_on_its_own(stack: Stack) -> None:
    project, flow_name = unique("e2e-schedule"), unique("scheduled")
    path = stack.write_flow(f"{flow_name}.py", SCHEDULED_FLOW.replace("FLOW_NAME", flow_name))
    stack.register(project, path)

    def first_run_succeeded() -> dict | None:
        runs = stack.flow_runs(flow_name)
        return runs[0] if runs and runs[0]["state"] == "Success" else None

    try:
        first = _e2e.poll(first_run_succeeded, 120, "the first scheduled run to succeed")
    except AssertionError as exc:
        raise AssertionError(
            f"{exc}: {stack.flow_runs(flow_name)}\n{stack.diagnostics()}"
        ) from None
    assert first["auto_scheduled"] is True
    runs = stack.flow_runs(flow_name)
    # Only the first run was due; the scheduler keeps up to 10 more ahead, an hour apart.
    assert runs[0] == first
    assert 1 <= len(runs[1:]) <= 10, runs
    assert all(r["auto_scheduled"] for r in runs)
    assert [r["state"] for r in runs[1:]] == ["Scheduled"] * (len(runs) - 1)
    assert state_names(stack.flow_run(first["id"])) == [
        "Scheduled",
        "Submitted",
        "Running",
        "Success",
    ]
    # Keep the later runs out of the other tests' way.
    flow_id = stack.query(
        "query($name: String) { flow(where: {name: {_eq: $name}}) { id } }", name=flow_name
    )["flow"][0]["id"]
    stack.query(
        "mutation($id: UUID!) { set_schedule_inactive(input: {flow_id: $id}) { success } }",
        id=flow_id,
    )


FLOW_OF_FLOWS = '''
"""A child flow, and a parent flow that starts a run of it and waits for it."""
import prefect
from prefect import Flow, task
from prefect.tasks.prefect import create_flow_run, wait_for_flow_run


@task
def child_work():
    prefect.context.logger.info("Child at work")
    return 42


with Flow("CHILD_NAME") as child:
    child_work()

with Flow("PARENT_NAME") as parent:
    child_run_id = create_flow_run(flow_name="CHILD_NAME", project_name="PROJECT")
    wait_for_flow_run(child_run_id, raise_final_state=True)
'''


def test_parent_flow_starts_a_registered_child_flow_and_waits_for_it(stack: Stack) -> None:
    project = unique("e2e-flows")
    parent_name, child_name = unique("parent"), unique("child")
    source = (
        FLOW_OF_FLOWS.replace("CHILD_NAME", child_name)
        .replace("PARENT_NAME", parent_name)
        .replace("PROJECT", project)
    )
    stack.register(project, stack.write_flow(f"{parent_name}.py", source))
    parent_run_id = start_run(stack, parent_name, project)

    parent = stack.wait_for_state(parent_run_id, {"Success", "Failed"}, timeout=180)
    (child_listed,) = stack.flow_runs(child_name)
    child = stack.flow_run(child_listed["id"])
    assert parent["state"] == "Success", (parent, child)
    assert child["state"] == "Success", child
    assert state_names(child) == ["Scheduled", "Submitted", "Running", "Success"]
    # The child run is named after its parent and was created by the parent's task.
    assert child["name"] == f"{parent['name']}-{child_name}"
    tasks = task_runs_by_name(parent)
    assert [t["state"] for t in tasks["create_flow_run"]] == ["Success"]
    assert [t["state"] for t in tasks["wait_for_flow_run"]] == ["Success"]
    stack.wait_for_logs(child["id"], "Child at work")


SLEEPING_FLOW = '''
"""A flow whose one task sleeps far longer than any test waits."""
import time

import prefect
from prefect import Flow, task


@task
def sleepy():
    prefect.context.logger.info("Going to sleep")
    time.sleep(300)


with Flow("FLOW_NAME") as flow:
    sleepy()
'''


def test_cancelling_a_running_flow_run_ends_it_cancelled(stack: Stack) -> None:
    import prefect

    project, flow_name = unique("e2e-cancel"), unique("cancel")
    path = stack.write_flow(f"{flow_name}.py", SLEEPING_FLOW.replace("FLOW_NAME", flow_name))
    stack.register(project, path)
    flow_run_id = start_run(stack, flow_name, project)
    wait_for_task_running(stack, flow_run_id, "sleepy", timeout=120)

    assert prefect.Client(api_server=stack.api).cancel_flow_run(flow_run_id) == "Cancelling"

    run = stack.wait_for_state(flow_run_id, {"Cancelled", "Failed", "Success"}, timeout=60)
    assert run["state"] == "Cancelled", run
    assert state_names(run)[-2:] == ["Cancelling", "Cancelled"]
    (sleepy,) = task_runs_by_name(run)["sleepy"]
    assert sleepy["state"] == "Cancelled", sleepy


RECOVERY_FLOWS = '''
"""Two flows that hang on their first run (each leaves a marker file) and go on when run again.

- In FLOW_NAME-task a task hangs: when its process dies, the zombie killer retries the task.
- In FLOW_NAME-flow every task has finished and the flow's state handler hangs before the flow
  reports Success: when its process dies, no task run is active, and Lazarus reschedules the run.
"""
import os
import time
from datetime import timedelta

import prefect
from prefect import Flow, task
from prefect.run_configs import LocalRun

HERE = os.path.dirname(os.path.abspath(__file__))


def hang_the_first_time(marker):
    path = os.path.join(HERE, marker)
    if not os.path.exists(path):
        open(path, "w").close()
        time.sleep(300)


@task(max_retries=1, retry_delay=timedelta(seconds=1))
def hang_once():
    prefect.context.logger.info("Attempt %d", prefect.context.task_run_count)
    hang_the_first_time("FLOW_NAME-task.started")
    return "done"


@task
def after(value):
    return value


@task
def quick():
    return "quick"


def hang_before_success(flow, old_state, new_state):
    if new_state.is_successful():
        hang_the_first_time("FLOW_NAME-flow.started")
    return new_state


# The label keeps the module's shared agent away: only this test's agents run them.
with Flow("FLOW_NAME-task", run_config=LocalRun(labels=["LABEL"])) as task_flow:
    after(hang_once())

with Flow(
    "FLOW_NAME-flow", run_config=LocalRun(labels=["LABEL"]), state_handlers=[hang_before_success]
) as flow_flow:
    quick()
'''


def test_runs_whose_agent_and_processes_are_killed_are_recovered(stack: Stack) -> None:
    project, name = unique("e2e-recovery"), unique("recovery")
    label = unique("recovery-label")
    source = RECOVERY_FLOWS.replace("FLOW_NAME", name).replace("LABEL", label)
    path = stack.write_flow(f"{name}.py", source)
    stack.register(project, path)
    stack.start_agent("recovery-agent-1", label)

    def wait_for_marker(marker: str, what: str) -> None:
        try:
            _e2e.poll(lambda: (path.parent / marker).exists(), 120, what)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{stack.diagnostics()}") from None

    # One after the other. The task's run hangs in the task (inside `hang_once`, so that its
    # retry will not hang), with heartbeats: it can wait for the second run. The second run
    # hangs without heartbeats, and must be killed before Lazarus judges it lost.
    task_run_id = start_run(stack, f"{name}-task", project)
    wait_for_marker(f"{name}-task.started", "the task to hang")
    flow_run_id = start_run(stack, f"{name}-flow", project)
    wait_for_marker(f"{name}-flow.started", "the flow's state handler to hang")

    killed = stack.kill_agent("recovery-agent-1")
    assert len(killed) == 2, f"expected two flow-run processes, killed {killed}"
    stack.start_agent("recovery-agent-2", label)

    # Zombie killer: the hanging task run is retried, and the flow run goes on where it was.
    run = stack.wait_for_state(task_run_id, {"Success", "Failed"}, timeout=180)
    assert run["state"] == "Success", run
    (hang_once,) = task_runs_by_name(run)["hang_once"]
    assert hang_once["state"] == "Success"
    assert state_names(hang_once)[-2:] == ["Running", "Success"], hang_once["states"]
    retrying = [s for s in hang_once["states"] if s["state"] == "Retrying"]
    assert len(retrying) == 1, hang_once["states"]
    assert retrying[0]["message"].startswith("No heartbeat detected from the remote task")

    # Lazarus: the run with nothing left to do but finish is rescheduled and run again.
    run = stack.wait_for_state(flow_run_id, {"Success", "Failed"}, timeout=120)
    assert run["state"] == "Success", run
    assert state_names(run) == [
        "Scheduled", "Submitted", "Running",
        "Scheduled", "Submitted", "Running", "Success",
    ]  # fmt: skip
    assert run["states"][3]["message"] == "Rescheduled by a Lazarus process."
    lazarus_logs = [log["message"] for log in run["logs"] if log["name"] == "Lazarus.FlowRun"]
    assert lazarus_logs == ["Rescheduled by a Lazarus process. This is attempt 1."]
    stack.stop_process("recovery-agent-2")


@pytest.fixture
def postgres_database(postgres_url: str) -> Iterator[str]:
    """A new, empty database in the session's PostgreSQL cluster (so the server's migrations do
    not meet the tables of the other server tests)."""
    import asyncpg

    name = f"e2e_{uuid.uuid4().hex[:12]}"

    async def execute(statement: str) -> None:
        connection = await asyncpg.connect(postgres_url)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(execute(f'CREATE DATABASE "{name}"'))
    base, _, _ = postgres_url.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        asyncio.run(execute(f'DROP DATABASE IF EXISTS "{name}"'))


def test_mapped_flow_runs_end_to_end_on_postgresql(postgres_database: str, tmp_path: Path) -> None:
    stack = Stack(tmp_path / "pg-home", database_url=postgres_database)
    try:
        stack.start_server()
        stack.start_agent("agent")
        run_mapped_flow(stack)
    finally:
        stack.stop()
