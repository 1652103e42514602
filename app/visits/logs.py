"""One JSON object per log line on stdout, so CloudWatch Logs Insights can query fields directly."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from flask import g, has_request_context

LOGGER_NAME = "visits"


def _timestamp(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds")


class JsonFormatter(logging.Formatter):
    """Formats a record as JSON: time, level, logger, message, request_id when known, and `extra` fields.

    Fields passed as `extra={"fields": {...}}` are merged in, so callers add context without
    formatting it into the message.
    """

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            entry["request_id"] = request_id
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class RequestIdFilter(logging.Filter):
    """Stamps the current request's id on records logged while a request is handled."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context() and not getattr(record, "request_id", None):
            record.request_id = g.get("request_id")
        return True


def configure_logging(level: int) -> logging.Logger:
    """Send the app's logger to stdout as JSON at `level`; calling it again replaces, never duplicates."""
    logger = logging.getLogger(LOGGER_NAME)
    for handler in list(logger.handlers):
        if getattr(handler, "_visits_handler", False):
            logger.removeHandler(handler)
    handler = logging.StreamHandler(sys.stdout)
    handler._visits_handler = True  # type: ignore[attr-defined]
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    logger.addHandler(handler)
    logger.setLevel(level)
    # A root handler (the server's) would print every line a second time, in its own format.
    logger.propagate = False
    return logger
