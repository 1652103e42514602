"""The access log: one JSON line per request, written by the app so it carries the request id it echoes.

The server (granian) answers only requests it cannot parse by itself; everything else passes through
here. granian's own access log renders a %-template, which cannot escape values for JSON.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

ACCESS_LOGGER = "visits.access"

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class AccessLog:
    """WSGI middleware: logs method, path, status, bytes, duration and the request id of every response."""

    def __init__(self, app: WSGIApp, logger: logging.Logger) -> None:
        self.app = app
        self.logger = logger

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if not self.logger.isEnabledFor(logging.INFO):
            return self.app(environ, start_response)
        started = time.perf_counter()
        seen: list[Any] = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            seen[:] = [status, headers]
            return start_response(status, headers, exc_info)

        body = self.app(environ, capture)
        status, headers = seen if seen else ("500", [])
        header = {name.lower(): value for name, value in headers if name.lower() in _LOGGED_HEADERS}
        fields = {
            "request_id": header.get("x-request-id"),
            "method": environ.get("REQUEST_METHOD"),
            "path": environ.get("PATH_INFO"),
            "query": environ.get("QUERY_STRING") or None,
            "status": int(status.split(None, 1)[0]),
            "bytes": int(header["content-length"]) if header.get("content-length", "").isdigit() else None,
            "duration_ms": round((time.perf_counter() - started) * 1000, 3),
            "remote_addr": environ.get("REMOTE_ADDR"),
            "forwarded_for": environ.get("HTTP_X_FORWARDED_FOR"),
            "user_agent": environ.get("HTTP_USER_AGENT"),
        }
        self.logger.info("request", extra={"fields": {k: v for k, v in fields.items() if v is not None}})
        return body


_LOGGED_HEADERS = frozenset({"x-request-id", "content-length"})
