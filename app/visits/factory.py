"""The Flask application factory: settings, counter, logging, routes and error pages."""

from __future__ import annotations

import logging
import os
import re
import socket
import time
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, g, jsonify, request
from markupsafe import escape
from werkzeug.exceptions import HTTPException

from visits.access_log import ACCESS_LOGGER, AccessLog
from visits.counters import Counter, CounterUnavailable, DynamoDBCounter, InProcessCounter, new_visit_id
from visits.logs import configure_logging
from visits.settings import Settings, load_settings, log_level_number

# Ids from clients end up in logs and headers: accept only what real ids (UUIDs, ALB trace ids such
# as "Root=1-5759e988-bd862e3fe1be46a994272793") are made of, so nothing can forge a log line.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:;=/+-]{1,200}$")
_MAX_SLOW_SECONDS = 30.0

_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Visits</title></head>
<body>
<h1>{headline}</h1>
<p>Served by <code>{hostname}</code>, version <code>{version}</code>.</p>
</body>
</html>
"""


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the visit-counter app.

    Settings come from the environment (see visits.settings.Settings); `config` overrides them with the
    same upper-case names. `config["COUNTER"]` may supply a ready counter object; other keys
    (e.g. TESTING) go to Flask's config as usual.
    """
    overrides = dict(config or {})
    counter_override = overrides.pop("COUNTER", None)
    settings = load_settings(overrides=overrides)

    app = Flask(__name__)
    app.config.update(overrides)
    app.config["SETTINGS"] = settings
    logger = configure_logging(log_level_number(settings))

    counter: Counter = counter_override or _make_counter(settings)
    hostname = socket.gethostname()

    _register_request_ids(app)
    _register_error_handlers(app, logger)
    app.wsgi_app = AccessLog(app.wsgi_app, logging.getLogger(ACCESS_LOGGER))  # type: ignore[method-assign]

    @app.get("/")
    def index() -> Response:
        if request.method == "HEAD":
            # Flask answers HEAD through the GET view. HEAD is a safe method (RFC 9110, 9.2.1): a monitor
            # or link checker asking for headers must not count a visit. Same headers, no count, no body.
            return _visit_headers(jsonify(visits=None))
        # A fresh id per visit, never the client's X-Request-Id: two clients may send the same id, and
        # the counter treats a repeated id as a retry of one visit.
        visits = counter.increment(new_visit_id())
        body = {"visits": visits, "hostname": hostname, "version": settings.app_version}
        if _prefers_html():
            # None: counted, but the total could not be read back (see Counter.increment).
            headline = "Your visit was counted" if visits is None else f"Visit number {visits}"
            page = _PAGE.format(headline=headline, hostname=escape(hostname), version=escape(settings.app_version))
            response = Response(page, mimetype="text/html")
        else:
            response = jsonify(body)
        return _visit_headers(response)

    @app.get("/health")
    def health() -> Response:
        # Liveness only: touching the table here would let a DynamoDB blip make the ALB drain every task.
        return _no_store(jsonify(status="ok"))

    @app.get("/ready")
    def ready() -> Response:
        counter.check()
        return _no_store(jsonify(status="ready", counter=counter.name))

    if settings.slow_endpoint_enabled:

        @app.get("/slow")
        def slow() -> Response | tuple[Response, int]:
            raw = request.args.get("seconds", "1")
            try:
                seconds = float(raw)
            except ValueError:
                seconds = -1.0
            if not 0 <= seconds <= _MAX_SLOW_SECONDS:
                message = f"seconds must be a number from 0 to {_MAX_SLOW_SECONDS:g}, got {raw!r}"
                return _error(400, "bad_request", message)
            time.sleep(seconds)
            return _no_store(jsonify(slept=seconds))

    logger.info(
        "app created",
        extra={"fields": {"counter": counter.name, "table": settings.counter_table, "version": settings.app_version}},
    )
    return app


def _make_counter(settings: Settings) -> Counter:
    if settings.counter_table is None:
        return InProcessCounter()
    assert settings.aws_region is not None  # load_settings refuses a table without a region
    return DynamoDBCounter(
        table=settings.counter_table,
        key=settings.counter_key,
        region=settings.aws_region,
        endpoint_url=settings.dynamodb_endpoint_url,
    )


def _prefers_html() -> bool:
    # Browsers rank text/html first; curl and API clients send */* and get JSON. Most requests name no
    # HTML at all, and they skip parsing the Accept header.
    if "html" not in request.environ.get("HTTP_ACCEPT", ""):
        return False
    return request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html"


def _visit_headers(response: Response) -> Response:
    # Every response differs, and the representation depends on Accept. Plain header writes: the
    # parsed `response.vary` set costs a third of this view's time.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Vary"] = "Accept"
    return response


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def _error(status: int, code: str, message: str) -> tuple[Response, int]:
    response = jsonify(error=code, message=message, request_id=g.get("request_id"))
    return _no_store(response), status


def _register_request_ids(app: Flask) -> None:
    @app.before_request
    def assign_request_id() -> None:
        # Read from the WSGI environ: it runs on every request and skips the header view's key mapping.
        for key in ("HTTP_X_REQUEST_ID", "HTTP_X_AMZN_TRACE_ID"):
            candidate = request.environ.get(key, "")
            if _REQUEST_ID.match(candidate):
                g.request_id = candidate
                return
        # 128 random bits in hex, like a UUID4 without building the UUID object.
        g.request_id = os.urandom(16).hex()

    @app.after_request
    def echo_request_id(response: Response) -> Response:
        request_id = g.get("request_id")
        if request_id:
            response.headers["X-Request-Id"] = request_id
        return response


def _register_error_handlers(app: Flask, logger: logging.Logger) -> None:
    @app.errorhandler(CounterUnavailable)
    def counter_unavailable(error: CounterUnavailable) -> tuple[Response, int]:
        logger.error("counter backend unavailable", extra={"fields": {"reason": str(error), "path": request.path}})
        response, status = _error(503, "counter_unavailable", "The visit counter is unavailable; try again shortly.")
        response.headers["Retry-After"] = "1"
        return response, status

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[Response, int]:
        status = error.code or 500
        code = (error.name or "error").lower().replace(" ", "_")
        response, _ = _error(status, code, error.description or error.name)
        # 405 must say what is allowed; keep the headers werkzeug computed.
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response, status

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> tuple[Response, int]:
        # Clients get a JSON 500 with the request id; the traceback goes to the log, never to the page.
        logger.exception("unhandled error", extra={"fields": {"path": request.path}})
        return _error(500, "internal_error", "Something went wrong; the request id is in the log.")
