"""A scripted HTTP server on 127.0.0.1 that records what the client sends.

Tests queue answers (`FakeAPI.reply`), run client code, then read `FakeAPI.requests`. When the
queue is empty the server answers ``{"data": {}}``. The client test modules load this file by
path (the suite runs with ``--import-mode=importlib``: there is no package to import from).
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def query(self) -> str:
        return str(self.json["query"])

    @property
    def variables(self) -> Any:
        """The variables the client sent, decoded from their JSON string."""
        raw = self.json["variables"]
        assert isinstance(raw, str), "the 1.x client sends variables as a JSON string"
        return json.loads(raw)


@dataclass
class Answer:
    status: int = 200
    body: Any = field(default_factory=lambda: {"data": {}})
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeAPI:
    url: str
    requests: list[Recorded] = field(default_factory=list)
    answers: deque[Answer | Callable[[Recorded], Answer]] = field(default_factory=deque)

    def reply(self, body: Any = None, status: int = 200, **headers: str) -> None:
        """Queue one answer: a dict/list is sent as JSON, a str as text, None as empty."""
        self.answers.append(Answer(status, body, dict(headers)))

    def reply_data(self, **data: Any) -> None:
        """Queue ``{"data": {...}}``."""
        self.reply({"data": data})

    def reply_with(self, func: Callable[[Recorded], Answer]) -> None:
        """Queue a function that builds the answer from the request."""
        self.answers.append(func)

    @property
    def queries(self) -> list[str]:
        return [r.query for r in self.requests]


def _handler(api: FakeAPI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            recorded = Recorded(
                method=self.command,
                path=self.path,
                headers={k: v for k, v in self.headers.items()},
                body=self.rfile.read(length) if length else b"",
            )
            api.requests.append(recorded)
            queued = api.answers.popleft() if api.answers else Answer()
            answer = queued(recorded) if callable(queued) else queued
            if answer.body is None:
                payload = b""
            elif isinstance(answer.body, str):
                payload = answer.body.encode()
            else:
                payload = json.dumps(answer.body).encode()
            self.send_response(answer.status)
            for key, value in answer.headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def serve() -> Iterator[FakeAPI]:
    """Run a server for one test; yields its `FakeAPI`."""
    api = FakeAPI(url="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(api))
    api.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
