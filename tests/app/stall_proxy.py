"""A fault injector in front of a real moto server: forwards DynamoDB's JSON API calls and can hold an
answer past the client's read timeout (the write has happened; the client does not know) or answer a
call itself with an error DynamoDB documents. Every call is recorded for the tests to inspect."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Call:
    """One request that reached the proxy and what became of it."""

    operation: str
    body: bytes
    status: int = 0
    answer: bytes = b""
    stalled: bool = False
    injected: bool = False

    @property
    def params(self) -> dict[str, Any]:
        return json.loads(self.body)


# Decides, for the n-th call (1-based) of an operation, whether to stall its answer.
StallRule = Callable[[str, int], bool]
# Returns (status, JSON body) to answer a call without forwarding it, or None to forward it.
InjectRule = Callable[[str, int], tuple[int, dict[str, Any]] | None]


@dataclass
class StallProxy:
    upstream_port: int
    stall_seconds: float = 3.0
    stall: StallRule = lambda operation, nth: False
    inject: InjectRule = lambda operation, nth: None
    calls: list[Call] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    @property
    def endpoint(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def of(self, operation: str) -> list[Call]:
        with self._lock:
            return [call for call in self.calls if call.operation == operation]

    def start(self) -> StallProxy:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # the test output stays quiet
                return None

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                # DynamoDB's JSON protocol names the operation in X-Amz-Target: DynamoDB_20120810.<Op>.
                operation = self.headers.get("X-Amz-Target", "").rpartition(".")[2]
                call = Call(operation=operation, body=body)
                with proxy._lock:
                    proxy.calls.append(call)
                    nth = sum(1 for seen in proxy.calls if seen.operation == operation)
                injected = proxy.inject(operation, nth)
                if injected is not None:
                    call.injected = True
                    call.status, payload = injected[0], json.dumps(injected[1]).encode()
                    content_type = "application/x-amz-json-1.0"
                else:
                    call.status, payload, content_type = proxy._forward(self.headers, body)
                call.answer = payload
                if proxy.stall(operation, nth):
                    call.stalled = True
                    time.sleep(proxy.stall_seconds)
                try:
                    self.send_response(call.status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the client gave up waiting (its read timeout): exactly the case under test

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _forward(self, headers: Any, body: bytes) -> tuple[int, bytes, str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=30)
        try:
            forwarded = {name: value for name, value in headers.items() if name.lower() not in {"host", "connection"}}
            connection.request("POST", "/", body=body, headers=forwarded)
            response = connection.getresponse()
            return response.status, response.read(), response.getheader("Content-Type", "application/x-amz-json-1.0")
        finally:
            connection.close()
