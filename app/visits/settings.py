"""Settings for the visit counter, read from the environment inside the app factory."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# DynamoDB's own rule for table names, checked here so a typo fails at start-up, not on the first visit.
_TABLE_NAME = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")


class ConfigError(ValueError):
    """A setting has a value the app cannot use; the message names the setting."""


@dataclass(frozen=True, kw_only=True)
class Settings:
    """What the app needs to know about its environment.

    Every field maps to the environment variable (or `create_app` config key) in upper case.
    """

    app_version: str = "dev"
    """APP_VERSION: shown in responses so a rollout can be watched. Default "dev"."""
    counter_table: str | None = None
    """COUNTER_TABLE: DynamoDB table holding the counter. Default none: an in-process counter."""
    counter_key: str = "visits"
    """COUNTER_KEY: value of the `pk` partition key of the counter item. Default "visits"."""
    aws_region: str | None = None
    """AWS_REGION, else AWS_DEFAULT_REGION: region of the table. Required when COUNTER_TABLE is set."""
    dynamodb_endpoint_url: str | None = None
    """DYNAMODB_ENDPOINT_URL: another DynamoDB endpoint (DynamoDB Local, moto). Default: AWS's."""
    log_level: str = "INFO"
    """LOG_LEVEL: one of DEBUG, INFO, WARNING, ERROR, CRITICAL. Default INFO."""
    slow_endpoint_enabled: bool = False
    """SLOW_ENDPOINT_ENABLED: adds GET /slow for shutdown tests. Default off; never enable in production."""


def _text(raw: Any) -> str | None:
    # ECS task definitions often carry empty values; treat them as unset rather than as a value.
    if raw is None:
        return None
    value = str(raw).strip()
    return value or None


def _flag(name: str, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    value = "" if raw is None else str(raw).strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name} must be one of 1/true/yes/on or 0/false/no/off, got {raw!r}")


def load_settings(environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None) -> Settings:
    """Build Settings from environment variables, with `overrides` (create_app's config) taking precedence.

    Raises ConfigError naming the variable when a value is unusable.
    """
    env: Mapping[str, Any] = os.environ if environ is None else environ
    merged: dict[str, Any] = {**env, **(overrides or {})}

    log_level = (_text(merged.get("LOG_LEVEL")) or "INFO").upper()
    if log_level not in _LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL must be one of {', '.join(_LOG_LEVELS)}, got {merged.get('LOG_LEVEL')!r}")

    table = _text(merged.get("COUNTER_TABLE"))
    if table is not None and not _TABLE_NAME.match(table):
        raise ConfigError(f"COUNTER_TABLE must be a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -), got {table!r}")
    # AWS_REGION is what the ECS and Lambda runtimes set; botocore itself only reads AWS_DEFAULT_REGION.
    region = _text(merged.get("AWS_REGION")) or _text(merged.get("AWS_DEFAULT_REGION"))
    if table is not None and region is None:
        raise ConfigError(f"COUNTER_TABLE is set to {table!r} but neither AWS_REGION nor AWS_DEFAULT_REGION is")

    counter_key = _text(merged.get("COUNTER_KEY")) or "visits"
    if len(counter_key.encode()) > 2048:
        raise ConfigError("COUNTER_KEY must be at most 2048 bytes (DynamoDB's partition key limit)")

    return Settings(
        app_version=_text(merged.get("APP_VERSION")) or "dev",
        counter_table=table,
        counter_key=counter_key,
        aws_region=region,
        dynamodb_endpoint_url=_text(merged.get("DYNAMODB_ENDPOINT_URL")),
        log_level=log_level,
        slow_endpoint_enabled=_flag("SLOW_ENDPOINT_ENABLED", merged.get("SLOW_ENDPOINT_ENABLED")),
    )


def log_level_number(settings: Settings) -> int:
    """The `logging` level for settings.log_level."""
    return logging.getLevelNamesMapping()[settings.log_level]
