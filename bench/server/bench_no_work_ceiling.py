"""The ceiling of `bench_state_writes.py` on this machine: its client loop against servers that
do no work at all.

Two stand-in servers answer each request of the loop with a fixed, well-formed answer (no
GraphQL, no database, no rules), so what remains is HTTP/1.1 keep-alive on loopback, reading the
JSON body, writing an answer, and the benchmark's own clients, all on this machine's cores:

* `uvicorn`: uvicorn with httptools and a bare ASGI callable (the server's stack without
  Starlette, graphql-core or SQLAlchemy);
* `asyncio`: a bare `asyncio.Protocol` with httptools' parser, the least a Python HTTP server can
  do per request.

No real server can beat these figures with the same clients on the same machine; the state-write
targets of `bench_state_writes.py` are read against them (bench/server/README.md).

    python bench/server/bench_no_work_ceiling.py [--clients 8] [--duration 8]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
import uuid

from _server import free_port, print_table

_ANSWER = r"""
import json, uuid
RUN_ID = str(uuid.uuid4())
STATES = {"states": [{"id": RUN_ID, "status": "SUCCESS", "message": None}]}

def answer(body):
    query = json.loads(body)["query"]
    if "create_flow_run" in query:
        data = {"create_flow_run": {"id": RUN_ID}}
    elif "get_or_create_task_run_info" in query:
        data = {"get_or_create_task_run_info": {"id": RUN_ID, "version": 1, "serialized_state": None}}
    elif "set_task_run_states" in query:
        data = {"set_task_run_states": STATES}
    else:
        data = {"set_flow_run_states": STATES}
    return json.dumps({"data": data}).encode()
"""

_UVICORN = (
    _ANSWER
    + r"""
import sys, uvicorn

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    body = answer(b"".join(chunks))
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})

uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), http="httptools", loop="asyncio",
            lifespan="off", log_level="warning", access_log=False)
"""
)

_ASYNCIO = (
    _ANSWER
    + r"""
import asyncio, sys, httptools

class Protocol(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport
        self.parser = httptools.HttpRequestParser(self)
        self.chunks = []

    def data_received(self, data):
        self.parser.feed_data(data)

    def on_body(self, body):
        self.chunks.append(body)

    def on_message_complete(self):
        body = answer(b"".join(self.chunks))
        self.chunks = []
        self.transport.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
            b"content-length: %d\r\n\r\n%s" % (len(body), body)
        )

async def main():
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Protocol, "127.0.0.1", int(sys.argv[1]))
    await server.serve_forever()

asyncio.run(main())
"""
)


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as file:
        fields = file.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wait_listening(port: int, process: subprocess.Popen, deadline_s: float = 60.0) -> None:
    import socket

    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"stand-in server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("stand-in server did not listen in time")


def main() -> int:
    import bench_state_writes

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--duration", type=float, default=8.0)
    args = parser.parse_args()
    task_ids = [str(uuid.uuid4()) for _ in range(bench_state_writes.TASKS)]
    rows = []
    for name, code in (("uvicorn, no work", _UVICORN), ("asyncio, no work", _ASYNCIO)):
        port = free_port()
        process = subprocess.Popen([sys.executable, "-c", code, str(port)])
        try:
            _wait_listening(port, process)
            result = asyncio.run(
                bench_state_writes.measure(
                    port,
                    args.clients,
                    args.duration,
                    "no-flow",
                    task_ids,
                    lambda pid=process.pid: _cpu_seconds(pid),
                )
            )
        finally:
            process.terminate()
            process.wait()
        rows.append(
            [
                name,
                args.clients,
                f"{result['per_s']:,.0f}",
                f"{result['p99_ms']:.1f}",
                f"{result['cpu_ms_per_write'] * 1000:.0f}",
            ]
        )
    print_table(["stand-in server", "clients", "writes/s", "p99 ms", "server CPU us/write"], rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
