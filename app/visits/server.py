"""Serve the visit counter with granian (Rust HTTP, WSGI workers), configured from the environment.

`python -m visits.server` is the image's command: this process becomes granian's main process (PID 1
in the container) and receives ECS's SIGTERM itself.

BIND_ADDRESS     address to listen on (default 0.0.0.0: every interface of the container)
PORT             port to listen on (default 8000)
WEB_CONCURRENCY  worker processes (default: one per CPU this container may use, at least 2)
WEB_THREADS      Python threads per worker that run requests, overlapping DynamoDB round trips (default 4)
GRACEFUL_TIMEOUT seconds to finish in-flight requests after SIGTERM (default 20, below ECS's 30 s stopTimeout)
HEADER_TIMEOUT   seconds a client may take to send its request headers, and a keep-alive connection may
                 stay idle (default 60, granian's maximum)
LOG_LEVEL        level of the server's and the app's logs (default INFO)
The app's own settings (COUNTER_TABLE, AWS_REGION, APP_VERSION, ...) are in visits/settings.py.

Why granian and not gunicorn (measured by benchmarks/app_bench.py): HTTP parsing, keep-alive and slow
clients are handled in Rust on an event loop, so Python threads only ever run the app. A client that
trickles its headers holds no Python thread and is cut off after HEADER_TIMEOUT (gunicorn's gthread
worker lends each such connection a thread while it reads the headers, with no header deadline).
"""

from __future__ import annotations

import ipaddress
import math
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from visits.settings import ConfigError, load_settings

APP_TARGET = "visits:create_app"


class ServerConfigError(ValueError):
    """A server setting has a value the server cannot use; the message names the variable."""


def _int_from_env(environ: Mapping[str, str], name: str, default: int, minimum: int, maximum: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = minimum - 1
    if not minimum <= value <= maximum:
        raise ServerConfigError(f"{name} must be an integer from {minimum} to {maximum}, got {raw!r}")
    return value


def usable_cpus() -> int:
    """CPUs this process may use: the cgroup v2 quota when there is one, else the CPUs it may run on."""
    # On Fargate os.cpu_count() reports the host's CPUs; the cgroup quota is what the task may use.
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()
        return max(1, math.ceil(int(quota) / int(period)))
    except (OSError, ValueError):
        # No cgroup v2 limit here ("max", or no such file): every CPU we may run on counts.
        return len(os.sched_getaffinity(0))


def _address(environ: Mapping[str, str]) -> str:
    raw = environ.get("BIND_ADDRESS", "").strip()
    if not raw:
        # Every interface of the container: the task's security group admits only the ALB.
        return "0.0.0.0"
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        raise ServerConfigError(
            f"BIND_ADDRESS must be an IP address such as 127.0.0.1 or 0.0.0.0, got {raw!r}"
        ) from None


def logging_config(level: str) -> dict[str, Any]:
    """dictConfig for granian's own logger: one JSON object per line on stdout, like the app's."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "visits.logs.JsonFormatter"}},
        "handlers": {"json": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"}},
        # "_granian" is the name granian's Python and Rust parts log under (granian/log.py).
        "loggers": {"_granian": {"handlers": ["json"], "level": level, "propagate": False}},
        "root": {"level": "WARNING", "handlers": ["json"]},
    }


def server_options(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """granian's keyword arguments for this environment. Raises ServerConfigError or ConfigError."""
    from granian.constants import Interfaces
    from granian.http import HTTP1Settings
    from granian.log import LogLevels

    env = os.environ if environ is None else environ
    # Check the app's settings once, here, so a bad value stops the server with one line naming it
    # instead of every worker failing to start.
    settings = load_settings(env)
    threads = _int_from_env(env, "WEB_THREADS", 4, 1, 256)
    return {
        "target": APP_TARGET,
        "factory": True,
        "interface": Interfaces.WSGI,
        "address": _address(env),
        "port": _int_from_env(env, "PORT", 8000, 1, 65535),
        "workers": _int_from_env(env, "WEB_CONCURRENCY", max(2, usable_cpus()), 1, 64),
        "blocking_threads": threads,
        # granian's backpressure caps the connections a worker holds (default backlog / workers, 512 per
        # worker here), not the requests running in Python: the ALB's idle keep-alive connections and slow
        # clients count against it, so it stays at granian's default, far above the threads.
        # SIGTERM: stop accepting, finish in-flight requests, exit; workers still busy after this are
        # killed, before ECS's stopTimeout sends SIGKILL.
        "workers_kill_timeout": _int_from_env(env, "GRACEFUL_TIMEOUT", 20, 1, 1800),
        # The header deadline is also how long a keep-alive connection may sit idle between requests
        # (measured: an idle connection closes HEADER_TIMEOUT after its last response). The ALB reuses
        # idle connections for up to its idle timeout (60 s by default) and AWS asks targets to keep them
        # longer, or a request can race the server's close and become a 502
        # (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-load-balancer-attributes.html,
        # "Connection idle timeout"). granian allows at most 60 s, so that is the default; the ALB's idle
        # timeout should sit below it. Slow senders cost no Python thread meanwhile.
        "http1_settings": HTTP1Settings(header_read_timeout=_int_from_env(env, "HEADER_TIMEOUT", 60, 1, 60) * 1000),
        "websockets": False,
        "respawn_failed_workers": True,
        "log_level": LogLevels(settings.log_level.lower()),
        "log_dictconfig": logging_config(settings.log_level),
        # The app writes the access log itself (visits.access_log), with the request id it echoes.
        "log_access": False,
    }


def main() -> None:
    try:
        options = server_options()
    except (ServerConfigError, ConfigError) as error:
        sys.exit(f"visits.server: {error}")
    from granian import Granian

    Granian(**options).serve()


if __name__ == "__main__":
    main()
