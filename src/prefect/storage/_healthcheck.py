"""Checks run on flows before storage writes them, and inside a `Docker` image as it builds.

`result_check` runs in `Storage.run_basic_healthchecks`. Run as a script (which the Dockerfile of
`Docker` storage does), this module also checks the image's Python version and that every
flow file in the image loads:

    python healthcheck.py '["/opt/prefect/flows/my-flow.prefect"]' '(3, 11)' [script]
"""

from __future__ import annotations

import ast
import json
import sys
from collections.abc import Iterable
from typing import Any

_RESULTS_DOC = "https://docs.prefect.io/core/concepts/results.html"


def result_check(flows: Iterable[Any], default_result: Any = None) -> None:
    """Refuse flows whose retried or cached tasks could not read their inputs back.

    A task that retries or caches in an orchestrated run reloads its inputs from their
    results, so those upstream tasks (and, for caching, the task itself) need a result when
    the flow has no default one.

    Args:
        flows: the flows to check.
        default_result: a result that applies to every flow (the storage's), if any.

    Raises:
        ValueError: naming the first task that fails the check.
    """
    for flow in flows:
        if getattr(flow, "result", None) is not None or default_result is not None:
            continue
        upstream_edges = flow.all_upstream_edges()
        for task in flow.sorted_tasks():
            needs_inputs = (task.max_retries or 0) > 0 or task.cache_for is not None
            if not needs_inputs:
                continue
            if task.cache_for is not None and task.result is None:
                raise ValueError(
                    f"Task {task} has cache_for set but does not have a result; give it "
                    f"`result=...` or give the flow one. See {_RESULTS_DOC}"
                )
            if any(edge.upstream_task.result is None for edge in upstream_edges[task]):
                setting = "retry settings" if task.max_retries else "cache_for set"
                raise ValueError(
                    f"Task {task} has {setting} but some upstream dependencies do not have "
                    f"result types; give them `result=...` or give the flow one. "
                    f"See {_RESULTS_DOC}"
                )


def system_check(python_version: str) -> None:
    """Fail when the image's Python (major, minor) differs from the one that built the flows."""
    expected = tuple(ast.literal_eval(python_version))
    running = sys.version_info[: len(expected)]
    if running != expected:
        raise ValueError(
            f"Python version mismatch: the flows were built with Python {expected} but the "
            f"image runs Python {tuple(running)}; choose a matching base image."
        )
    print("System Version check: OK")


def load_flows(paths: list[str], stored_as_script: bool) -> list[Any]:
    """Load every flow file of the image (pickles, or scripts when ``stored_as_script``)."""
    from prefect.utilities.storage import extract_flow_from_file, flow_from_bytes_pickle

    flows = []
    for path in paths:
        if stored_as_script:
            flows.append(extract_flow_from_file(file_path=path))
        else:
            with open(path, "rb") as f:
                flows.append(flow_from_bytes_pickle(f.read()))
    print("Flow loading check: OK")
    return flows


def main(argv: list[str]) -> None:
    """Run the image checks: ``argv`` = flow paths (JSON list), Python version, [``script``]."""
    paths = json.loads(argv[0])
    python_version = argv[1]
    stored_as_script = len(argv) > 2 and argv[2] == "script"
    print("Beginning health checks...")
    system_check(python_version)
    flows = load_flows(paths, stored_as_script)
    result_check(flows)
    print("Result check: OK")
    print("All health checks passed.")


if __name__ == "__main__":  # pragma: no cover - runs inside the image
    main(sys.argv[1:])
