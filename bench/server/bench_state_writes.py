"""State writes per second through a real server process, as flow-run processes make them.

For each database (SQLite in a fresh home; PostgreSQL when `--database-url postgresql://...` is
given or a throwaway cluster can be started, see tests/server/_postgres.py) a server process is
started, one flow with 10 tasks is registered (`create_flow_from_compressed_string` with our
`flow.serialize()`, gzip + base64), and then N concurrent clients (N = 1, 8, 32) each loop for
`--duration` seconds:

    create_flow_run -> set_flow_run_states Submitted -> Running ->
    10 x (get_or_create_task_run_info -> set_task_run_states Running -> Success) ->
    set_flow_run_states Success

with the documents the 1.x client sends. One item of `set_*_run_states` is one state write;
the table shows writes per second and the p50/p99 latency of the state-write requests.

    python bench/server/bench_state_writes.py [--clients 1,8,32] [--duration 10]
        [--database-url postgresql://...] [--no-postgres] [--no-sqlite] [--check]

Targets with 8 clients: >= 2,000 writes/s on SQLite, >= 3,000 on PostgreSQL, p99 <= 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

from _server import Connection, percentile, postgres_database, print_table, running_server

TARGET_WRITES = {"sqlite": 2000.0, "postgresql": 3000.0}
TARGET_P99_MS = 50.0
TARGET_CLIENTS = 8
TASKS = 10


def _documents() -> dict[str, str]:
    """The GraphQL texts of the 1.x client's calls, rendered by our client's own renderer."""
    from prefect.utilities.graphql import parse_graphql, with_args

    def input_mutation(name: str, selection: Any) -> str:
        return parse_graphql(
            {f"mutation($input: {name}_input!)": {f"{name}(input: $input)": selection}}
        )

    states = {"states": {"id": True, "status": True, "message": True}}
    task_run_info = parse_graphql(
        {
            "mutation": {
                with_args(
                    "get_or_create_task_run_info",
                    {
                        "input": {
                            "flow_run_id": "FLOW_RUN_ID",
                            "task_id": "TASK_ID",
                            "map_index": -1,
                        }
                    },
                ): {"id": True, "version": True, "serialized_state": True}
            }
        }
    )
    return {
        "create_project": input_mutation("create_project", {"id": True}),
        "create_flow": input_mutation("create_flow_from_compressed_string", {"id": True}),
        "create_flow_run": input_mutation("create_flow_run", {"id": True}),
        "set_flow_run_states": input_mutation("set_flow_run_states", states),
        "set_task_run_states": input_mutation("set_task_run_states", states),
        # Inline arguments, as the client sends it: the ids are substituted per call.
        "get_or_create_task_run_info": task_run_info,
    }


def _serialized_states() -> dict[str, dict[str, Any]]:
    from prefect.engine.state import Running, Submitted, Success

    return {
        "Submitted": Submitted("Submitted for execution").serialize(),
        "Running": Running("Starting flow run.").serialize(),
        "Success": Success("All reference tasks succeeded.").serialize(),
    }


def _serialized_flow() -> dict[str, Any]:
    from prefect import Flow, task

    @task
    def step(x: int) -> int:
        return x + 1

    with Flow("bench-state-writes") as flow:
        value: Any = step(0)
        for _ in range(TASKS - 1):
            value = step(value)
    return flow.serialize()


async def register_flow(port: int, docs: dict[str, str]) -> tuple[str, list[str]]:
    """Register the benchmark flow; returns its id and its task ids."""
    from prefect.utilities.graphql import compress, parse_graphql, with_args

    conn = Connection(port)
    await conn.open()
    try:
        tenant_id = (await conn.graphql("query { tenant { id } }"))["tenant"][0]["id"]
        project = await conn.graphql(
            docs["create_project"],
            {"input": {"tenant_id": tenant_id, "name": f"bench-{uuid.uuid4().hex[:6]}"}},
        )
        flow = await conn.graphql(
            docs["create_flow"],
            {
                "input": {
                    "project_id": project["create_project"]["id"],
                    "serialized_flow": compress(_serialized_flow()),
                    "set_schedule_active": False,
                }
            },
        )
        flow_id = flow["create_flow_from_compressed_string"]["id"]
        query = parse_graphql(
            {"query": {with_args("task", {"where": {"flow_id": {"_eq": flow_id}}}): {"id"}}}
        )
        task_ids = [row["id"] for row in (await conn.graphql(query))["task"]]
    finally:
        await conn.close()
    if len(task_ids) != TASKS:
        raise RuntimeError(f"expected {TASKS} tasks, the server has {len(task_ids)}")
    return flow_id, task_ids


class _Finished(Exception):
    pass


class Worker:
    """One client running flow runs back to back; records each state write's latency."""

    def __init__(self, port: int, docs: dict[str, str], states: dict[str, Any]) -> None:
        self.conn = Connection(port)
        self.docs = docs
        self.states = states
        self.latencies: list[float] = []
        self.deadline = float("inf")
        self.counting = False

    async def _write(self, doc: str, key: str, run_id: str, state: str, version: int) -> None:
        if time.perf_counter() >= self.deadline:
            raise _Finished
        variables = {
            "input": {"states": [{key: run_id, "version": version, "state": self.states[state]}]}
        }
        began = time.perf_counter()
        data = await self.conn.graphql(doc, variables)
        took = time.perf_counter() - began
        answer = next(iter(data.values()))["states"][0]
        if answer["status"] != "SUCCESS":
            raise RuntimeError(f"state write answered {answer}")
        if self.counting and began + took <= self.deadline:
            self.latencies.append(took)

    async def flow_run(self, flow_id: str, task_ids: list[str]) -> None:
        docs = self.docs
        created = await self.conn.graphql(
            docs["create_flow_run"],
            {"input": {"flow_id": flow_id, "idempotency_key": uuid.uuid4().hex}},
        )
        run_id = created["create_flow_run"]["id"]
        flow_states = docs["set_flow_run_states"]
        task_states = docs["set_task_run_states"]
        await self._write(flow_states, "flow_run_id", run_id, "Submitted", 1)
        await self._write(flow_states, "flow_run_id", run_id, "Running", 2)
        template = docs["get_or_create_task_run_info"].replace("FLOW_RUN_ID", run_id)
        for task_id in task_ids:
            info = (await self.conn.graphql(template.replace("TASK_ID", task_id)))[
                "get_or_create_task_run_info"
            ]
            version = int(info["version"] or 0)
            await self._write(task_states, "task_run_id", info["id"], "Running", version)
            await self._write(task_states, "task_run_id", info["id"], "Success", version + 1)
        await self._write(flow_states, "flow_run_id", run_id, "Success", 3)

    async def run_until(self, deadline: float, flow_id: str, task_ids: list[str]) -> None:
        self.deadline = deadline
        self.counting = True
        try:
            while True:
                await self.flow_run(flow_id, task_ids)
        except _Finished:
            pass


async def measure(
    port: int,
    clients: int,
    duration: float,
    flow_id: str,
    task_ids: list[str],
    server_cpu: Callable[[], float] = lambda: 0.0,
) -> dict[str, float]:
    docs = _documents()
    states = _serialized_states()
    workers = [Worker(port, docs, states) for _ in range(clients)]
    for worker in workers:
        await worker.conn.open()
    try:
        # One untimed flow run per client: connections, caches and query plans warm up.
        await asyncio.gather(*(w.flow_run(flow_id, task_ids) for w in workers))
        cpu_before = server_cpu()
        began = time.perf_counter()
        deadline = began + duration
        await asyncio.gather(*(w.run_until(deadline, flow_id, task_ids) for w in workers))
        cpu = server_cpu() - cpu_before
    finally:
        for worker in workers:
            await worker.conn.close()
    latencies = sorted(x for w in workers for x in w.latencies)
    return {
        "writes": len(latencies),
        "per_s": len(latencies) / duration,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        # Server CPU of the timed window over its writes (the other requests included).
        "cpu_ms_per_write": cpu * 1000 / max(len(latencies), 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", default="1,8,32", help="comma-separated client counts")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per setting")
    parser.add_argument(
        "--database-url",
        default=None,
        help="a PostgreSQL database whose server lets us create (and drop) a scratch database",
    )
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    counts = [int(x) for x in args.clients.split(",")]

    backends: list[str] = [] if args.no_sqlite else ["sqlite"]
    if not args.no_postgres:
        backends.append("postgresql")
    rows = []
    ok = True
    docs = _documents()
    for backend in backends:
        with ExitStack() as stack:
            url = None
            if backend == "postgresql":
                try:
                    url = stack.enter_context(postgres_database(args.database_url))
                except RuntimeError as exc:
                    print(f"PostgreSQL skipped: {exc}", file=sys.stderr)
                    continue
            server = stack.enter_context(running_server(url))
            flow_id, task_ids = asyncio.run(register_flow(server.port, docs))
            for clients in counts:
                result = asyncio.run(
                    measure(
                        server.port, clients, args.duration, flow_id, task_ids, server.cpu_seconds
                    )
                )
                verdict = ""
                if clients == TARGET_CLIENTS:
                    passed = (
                        result["per_s"] >= TARGET_WRITES[backend]
                        and result["p99_ms"] <= TARGET_P99_MS
                    )
                    ok = ok and passed
                    verdict = (
                        f"{'PASS' if passed else 'FAIL'} (>= {TARGET_WRITES[backend]:,.0f}/s, "
                        f"p99 <= {TARGET_P99_MS:g} ms)"
                    )
                rows.append(
                    [
                        backend,
                        clients,
                        f"{result['writes']:,}",
                        f"{result['per_s']:,.0f}",
                        f"{result['p50_ms']:.1f}",
                        f"{result['p99_ms']:.1f}",
                        f"{result['cpu_ms_per_write']:.2f}",
                        verdict,
                    ]
                )
                print(f"{backend} clients={clients}: {rows[-1][3]} writes/s", file=sys.stderr)
    print_table(
        [
            "database",
            "clients",
            "writes",
            "writes/s",
            "p50 ms",
            "p99 ms",
            "server CPU ms/write",
            "target",
        ],
        rows,
    )
    return 0 if ok or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
