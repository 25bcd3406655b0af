"""A Prefect 1 flow run end to end: what ``make demo`` shows.

A small extract-transform-load flow, written as a Prefect 1.x user writes one:

- ``Parameter``s choose how many records to extract, the scale factor and the threshold;
- ``transform`` is mapped over the extracted records (one child task run per record);
- ``load`` fails on its first attempt, like a flaky network call, and is retried one second later
  (``max_retries``/``retry_delay``; a local ``flow.run`` waits and runs it again);
- ``case``/``merge`` choose which report to write from the loaded total;
- every task result is checkpointed by a ``LocalResult`` in a temporary directory
  (checkpointing is switched on for this run through the run's context).

The script prints the final state of the flow run and the key results, and exits 0 only when the
flow run ends ``Success`` with the expected results (1 otherwise).

    python examples/demo_flow.py
"""

from __future__ import annotations

import sys
import tempfile
from datetime import timedelta
from pathlib import Path

import prefect
from prefect import Flow, Parameter, case, task, unmapped
from prefect.engine.results import LocalResult
from prefect.engine.state import State, Success
from prefect.tasks.control_flow import merge

PARAMETERS = {"count": 5, "factor": 10}  # "threshold" keeps its default, 100


@task
def extract(count: int) -> list[int]:
    """The records to process: 1, 2, ..., count."""
    return list(range(1, count + 1))


@task
def transform(record: int, factor: int) -> int:
    return record * factor


@task(max_retries=2, retry_delay=timedelta(seconds=1))
def load(values: list[int]) -> int:
    """Store the values and return their total; the first attempt fails on purpose."""
    attempt = prefect.context.get("task_run_count", 1)
    if attempt == 1:
        raise ConnectionError("warehouse not reachable (the demo fails the first attempt)")
    prefect.context.logger.info("Loaded %d values on attempt %d", len(values), attempt)
    return sum(values)


@task
def is_large(total: int, threshold: int) -> bool:
    return total > threshold


@task
def large_report(total: int) -> str:
    return f"large batch: total {total} (over the threshold)"


@task
def small_report(total: int) -> str:
    return f"small batch: total {total}"


def build_flow(result_dir: str) -> tuple[Flow, dict[str, object]]:
    """The flow, and the tasks whose results the demo prints, by label."""
    with Flow("etl-demo", result=LocalResult(dir=result_dir)) as flow:
        count = Parameter("count", default=3)
        factor = Parameter("factor", default=2)
        threshold = Parameter("threshold", default=100)

        records = extract(count)
        scaled = transform.map(records, factor=unmapped(factor))
        total = load(scaled)
        over_threshold = is_large(total, threshold)
        with case(over_threshold, True):
            large = large_report(total)
        with case(over_threshold, False):
            small = small_report(total)
        report = merge(large, small)
    return flow, {"transform": scaled, "load": total, "report": report}


EXPECTED = {
    "transform": [10, 20, 30, 40, 50],
    "load": 150,
    "report": "large batch: total 150 (over the threshold)",
}


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="prefect-demo-") as result_dir:
        flow, shown = build_flow(result_dir)
        state: State | None = flow.run(parameters=PARAMETERS, context={"checkpointing": True})
        checkpoints = [path for path in Path(result_dir).rglob("*") if path.is_file()]
        task_states = state.result if state is not None and isinstance(state.result, dict) else {}

        print()
        print(f"Flow run final state: {state!r}")
        results = {}
        for label, task_ in shown.items():
            task_state = task_states.get(task_)
            results[label] = getattr(task_state, "result", None)
            print(f"  {label:<10} {task_state!r:<45} result: {results[label]!r}")
        stored = getattr(task_states.get(shown["load"]), "_result", None)
        print(f"  {len(checkpoints)} task results checkpointed in {result_dir}")
        print(f"  the 'load' result was written to {getattr(stored, 'location', None)}")

    if type(state) is not Success:
        print(f"FAILED: the flow run ended {type(state).__name__}, not Success", file=sys.stderr)
        return 1
    wrong = {label: value for label, value in results.items() if value != EXPECTED[label]}
    if wrong:
        print(f"FAILED: unexpected results {wrong}", file=sys.stderr)
        return 1
    if not checkpoints:
        print("FAILED: no task result was checkpointed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
