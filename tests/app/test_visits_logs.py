"""Log lines are JSON objects carrying the request id; the access log is JSON too."""

from __future__ import annotations

import json
import logging
import sys

from visits.logs import LOGGER_NAME, JsonFormatter, configure_logging


def _record(name: str, message: str, args=None, **attributes) -> logging.LogRecord:
    record = logging.LogRecord(name, logging.INFO, __file__, 1, message, args, None)
    for key, value in attributes.items():
        setattr(record, key, value)
    return record


def test_json_formatter_writes_one_object_with_fields_and_request_id():
    record = _record("visits", "counted %s", ("one",), request_id="r-1", fields={"visits": 3})

    entry = json.loads(JsonFormatter().format(record))

    assert entry["message"] == "counted one"
    assert entry["level"] == "INFO"
    assert entry["request_id"] == "r-1"
    assert entry["visits"] == 3
    assert entry["time"].endswith("+00:00")


def test_json_formatter_keeps_the_traceback_inside_the_object():
    try:
        raise ValueError("bad thing")
    except ValueError:
        record = logging.LogRecord("visits", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())

    line = JsonFormatter().format(record)

    assert "\n" not in line
    assert "ValueError: bad thing" in json.loads(line)["exception"]


def test_access_log_lines_carry_request_fields_as_json(make_app, log_lines):
    client = make_app().test_client()

    client.get(
        "/?from=test",
        headers={"X-Request-Id": "r-9", "X-Forwarded-For": "203.0.113.9", "User-Agent": 'agent "quoted"'},
        environ_base={"REMOTE_ADDR": "10.0.1.7"},
    )

    [entry] = [line for line in log_lines() if line["logger"] == "visits.access"]
    assert entry["message"] == "request"
    assert (entry["method"], entry["path"], entry["query"], entry["status"]) == ("GET", "/", "from=test", 200)
    assert entry["bytes"] > 0
    assert entry["duration_ms"] >= 0
    assert entry["request_id"] == "r-9"
    assert entry["remote_addr"] == "10.0.1.7"
    assert entry["forwarded_for"] == "203.0.113.9"
    assert entry["user_agent"] == 'agent "quoted"'


def test_access_log_records_error_statuses_too(make_app, log_lines):
    make_app().test_client().get("/nope")

    [entry] = [line for line in log_lines() if line["logger"] == "visits.access"]
    assert entry["status"] == 404
    assert "query" not in entry


def test_configure_logging_twice_keeps_one_handler():
    configure_logging(logging.INFO)
    logger = configure_logging(logging.WARNING)

    ours = [handler for handler in logger.handlers if getattr(handler, "_visits_handler", False)]
    assert len(ours) == 1
    assert logger.name == LOGGER_NAME
    assert logger.level == logging.WARNING
    assert logger.propagate is False


def test_log_level_hides_lower_levels(make_app, log_lines):
    make_app(LOG_LEVEL="ERROR")
    logging.getLogger(LOGGER_NAME).warning("not shown")
    logging.getLogger(LOGGER_NAME).error("shown")

    assert [line["message"] for line in log_lines()] == ["shown"]
