"""gunicorn settings for the visit counter, read from the environment the task definition sets.

PORT             port to listen on (default 8000)
WEB_CONCURRENCY  worker processes (default: one per CPU this container may use, at least 2)
GUNICORN_THREADS threads per worker (default 4)
GRACEFUL_TIMEOUT seconds to finish in-flight requests after SIGTERM (default 20, below ECS's 30 s stopTimeout)
LOG_LEVEL        level of gunicorn's and the app's logs (default INFO)
The app's own settings (COUNTER_TABLE, AWS_REGION, APP_VERSION, ...) are in visits/settings.py.
"""

import math
import os
from pathlib import Path

from visits.settings import ConfigError, load_settings


def _int_from_env(name: str, default: int, minimum: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        # SystemExit passes gunicorn's config loader without a traceback; the message is the whole story.
        raise SystemExit(f"gunicorn.conf.py: {name} must be an integer >= {minimum}, got {raw!r}")
    return value


def _usable_cpus() -> int:
    # On Fargate os.cpu_count() reports the host's CPUs; the cgroup quota is what the task may use.
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()
        return max(1, math.ceil(int(quota) / int(period)))
    except (OSError, ValueError):
        # No cgroup v2 limit here ("max", or no such file): every CPU we may run on counts.
        return len(os.sched_getaffinity(0))


wsgi_app = "visits:create_app()"
bind = f"0.0.0.0:{_int_from_env('PORT', 8000, 1)}"

worker_class = "gthread"
# One process per CPU, each with a few threads that overlap DynamoDB round trips: more processes than
# CPUs only adds contention (measured by benchmarks/app_bench.py), and two keep a crashed worker from
# taking the task offline.
workers = _int_from_env("WEB_CONCURRENCY", max(2, _usable_cpus()), 1)
threads = _int_from_env("GUNICORN_THREADS", 4, 1)

# The heartbeat file lives in memory: the root filesystem is read-only and disk-backed tmp can stall
# heartbeats long enough for the arbiter to kill healthy workers. Machines without /dev/shm use tmp.
# gunicorn creates the file with mkstemp and unlinks it at once, so a shared directory is safe here.
_SHM = "/dev/shm"  # noqa: S108
worker_tmp_dir = _SHM if os.path.isdir(_SHM) else None

# SIGTERM: stop accepting, finish in-flight requests, exit. Must end before ECS's stopTimeout sends SIGKILL.
graceful_timeout = _int_from_env("GRACEFUL_TIMEOUT", 20, 1)
timeout = 30
# Longer than the ALB's 60 s idle timeout, so the ALB, not gunicorn, closes idle connections
# (gunicorn closing first races with a new request and shows up as a 502).
keepalive = 75

# Check the app's settings once, here, so a bad value stops the server with one line naming it instead
# of every worker failing to boot with a traceback. gunicorn puts the working directory (app/) on sys.path
# before it reads this file.
try:
    _settings = load_settings()
except ConfigError as error:
    raise SystemExit(f"gunicorn.conf.py: {error}") from None

loglevel = _settings.log_level.lower()
accesslog = "-"
errorlog = "-"
# One JSON object per line for both logs; the access line carries the request id the app echoes.
logger_class = "visits.gunicorn_logger.JsonAccessLogger"
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "root": {"level": "WARNING", "handlers": ["json"]},
    "loggers": {
        "gunicorn.error": {"level": loglevel.upper(), "handlers": ["json"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": ["json"], "propagate": False},
    },
    "handlers": {
        "json": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"},
    },
    "formatters": {
        "json": {"()": "visits.logs.JsonFormatter"},
    },
}
