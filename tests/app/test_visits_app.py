"""The Flask app through its test client: every endpoint, content negotiation, request ids, error paths."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from visits.counters import CounterUnavailable

APP_DIR = Path(__file__).resolve().parents[2] / "app"

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


class BrokenCounter:
    """A backend that is down: every call raises CounterUnavailable."""

    name = "broken"

    def increment(self, visit_id: str) -> int:
        raise CounterUnavailable("DynamoDB UpdateItem on table 'visits' failed: ThrottlingException")

    def check(self) -> None:
        raise CounterUnavailable("DynamoDB GetItem on table 'visits' failed: ThrottlingException")


class ExplodingCounter:
    """A backend with a bug: raises something nobody expected."""

    name = "exploding"

    def increment(self, visit_id: str) -> int:
        raise KeyError("Attributes")

    def check(self) -> None:
        return None


class UntouchableCounter:
    """Fails the test if anything calls it."""

    name = "untouchable"

    def increment(self, visit_id: str) -> int:
        raise AssertionError("increment must not be called")

    def check(self) -> None:
        raise AssertionError("check must not be called")


def test_index_counts_each_visit_and_answers_json(make_app):
    client = make_app(APP_VERSION="1.2.3").test_client()

    first = client.get("/")
    second = client.get("/")

    assert first.status_code == 200
    assert first.mimetype == "application/json"
    assert first.get_json() == {"visits": 1, "hostname": socket.gethostname(), "version": "1.2.3"}
    assert second.get_json()["visits"] == 2


class RecordingCounter:
    """Counts like the in-process backend and keeps every visit id it was given."""

    name = "recording"

    def __init__(self) -> None:
        self.visit_ids: list[str] = []

    def increment(self, visit_id: str) -> int:
        self.visit_ids.append(visit_id)
        return len(self.visit_ids)

    def check(self) -> None:
        return None


def test_each_visit_gets_its_own_id_never_the_clients_request_id(make_app):
    counter = RecordingCounter()
    client = make_app(COUNTER=counter).test_client()

    client.get("/", headers={"X-Request-Id": "same-id"})
    client.get("/", headers={"X-Request-Id": "same-id"})

    # A client repeating its request id is two visits; a repeated visit id would be counted once.
    assert len(set(counter.visit_ids)) == 2
    assert all(re.fullmatch(r"[0-9a-f]{32}", visit_id) for visit_id in counter.visit_ids)


def test_head_answers_the_headers_of_get_without_counting(make_app):
    counter = RecordingCounter()
    client = make_app(COUNTER=counter).test_client()

    head = client.head("/")
    get = client.get("/")

    assert head.status_code == 200
    assert head.data == b""
    assert (head.mimetype, head.headers["Cache-Control"], head.headers["Vary"]) == (
        "application/json",
        "no-store",
        "Accept",
    )
    assert get.get_json()["visits"] == 1
    assert len(counter.visit_ids) == 1


def test_index_is_never_cached_and_varies_on_accept(make_app):
    response = make_app().test_client().get("/")

    assert response.headers["Cache-Control"] == "no-store"
    assert "Accept" in response.headers["Vary"]


def test_index_answers_json_to_clients_that_accept_anything(make_app):
    response = make_app().test_client().get("/", headers={"Accept": "*/*"})

    assert response.mimetype == "application/json"


def test_index_answers_html_to_browsers_with_escaped_values(make_app):
    client = make_app(APP_VERSION="<script>x</script>").test_client()
    client.get("/")

    response = client.get("/", headers={"Accept": BROWSER_ACCEPT})

    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "Visit number 2" in page
    assert "&lt;script&gt;x&lt;/script&gt;" in page
    assert "<script>" not in page


class UnreadableTotalCounter:
    """Counts the visit but cannot read the total back (DynamoDB answered the write, not the read)."""

    name = "unreadable"

    def increment(self, visit_id: str) -> None:
        return None

    def check(self) -> None:
        return None


def test_a_counted_visit_without_a_total_is_a_success_in_json_and_html(make_app):
    client = make_app(COUNTER=UnreadableTotalCounter()).test_client()

    as_json = client.get("/")
    as_html = client.get("/", headers={"Accept": BROWSER_ACCEPT})

    assert (as_json.status_code, as_json.get_json()["visits"]) == (200, None)
    assert as_html.status_code == 200
    assert "Your visit was counted" in as_html.get_data(as_text=True)


def test_version_defaults_to_dev(make_app):
    assert make_app().test_client().get("/").get_json()["version"] == "dev"


def test_version_comes_from_the_environment_when_the_app_is_created(make_app, monkeypatch):
    monkeypatch.setenv("APP_VERSION", "2024.06.01-abc123")

    assert make_app().test_client().get("/").get_json()["version"] == "2024.06.01-abc123"


def test_health_is_ok_without_touching_the_counter(make_app):
    response = make_app(COUNTER=UntouchableCounter()).test_client().get("/health")

    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def test_ready_reports_the_counter_backend(make_app):
    response = make_app().test_client().get("/ready")

    assert response.status_code == 200
    assert response.get_json() == {"status": "ready", "counter": "in-process"}


def test_ready_is_503_when_the_backend_is_down(make_app, log_lines):
    client = make_app(COUNTER=BrokenCounter()).test_client()

    response = client.get("/ready", headers={"X-Request-Id": "ready-probe-1"})

    assert response.status_code == 503
    assert response.get_json()["error"] == "counter_unavailable"
    errors = [line for line in log_lines() if line["level"] == "ERROR"]
    assert [line["request_id"] for line in errors] == ["ready-probe-1"]
    assert "GetItem" in errors[0]["reason"]


def test_index_is_a_clear_503_json_error_when_the_backend_is_down(make_app, log_lines):
    client = make_app(COUNTER=BrokenCounter()).test_client()

    response = client.get("/", headers={"X-Request-Id": "visit-42"})

    assert response.status_code == 503
    assert response.mimetype == "application/json"
    assert response.headers["Retry-After"] == "1"
    assert response.headers["X-Request-Id"] == "visit-42"
    assert response.get_json() == {
        "error": "counter_unavailable",
        "message": "The visit counter is unavailable; try again shortly.",
        "request_id": "visit-42",
    }
    [error] = [line for line in log_lines() if line["level"] == "ERROR"]
    assert error["message"] == "counter backend unavailable"
    assert error["request_id"] == "visit-42"
    assert "ThrottlingException" in error["reason"]


def test_browsers_also_get_json_for_a_backend_failure(make_app):
    response = make_app(COUNTER=BrokenCounter()).test_client().get("/", headers={"Accept": BROWSER_ACCEPT})

    assert response.status_code == 503
    assert response.mimetype == "application/json"


def test_an_unexpected_error_is_a_json_500_with_the_traceback_only_in_the_log(make_app, log_lines):
    client = make_app(COUNTER=ExplodingCounter()).test_client()

    response = client.get("/", headers={"X-Request-Id": "boom-1"})

    assert response.status_code == 500
    assert response.get_json()["error"] == "internal_error"
    assert "Traceback" not in response.get_data(as_text=True)
    [error] = [line for line in log_lines() if line["level"] == "ERROR"]
    assert error["request_id"] == "boom-1"
    assert "KeyError" in error["exception"]


def test_unknown_path_is_a_json_404(make_app):
    response = make_app().test_client().get("/nope")

    assert response.status_code == 404
    assert response.mimetype == "application/json"
    assert response.get_json()["error"] == "not_found"


def test_wrong_method_is_a_json_405_that_says_what_is_allowed(make_app):
    response = make_app().test_client().post("/")

    assert response.status_code == 405
    assert response.get_json()["error"] == "method_not_allowed"
    assert "GET" in response.headers["Allow"]


def test_incoming_request_id_is_echoed(make_app):
    response = make_app().test_client().get("/health", headers={"X-Request-Id": "req-123"})

    assert response.headers["X-Request-Id"] == "req-123"


def test_alb_trace_id_is_used_when_there_is_no_request_id(make_app):
    trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"

    response = make_app().test_client().get("/health", headers={"X-Amzn-Trace-Id": trace})

    assert response.headers["X-Request-Id"] == trace


def test_request_id_wins_over_the_trace_id(make_app):
    headers = {"X-Request-Id": "mine", "X-Amzn-Trace-Id": "Root=1-5759e988-bd862e3fe1be46a994272793"}

    response = make_app().test_client().get("/health", headers=headers)

    assert response.headers["X-Request-Id"] == "mine"


@pytest.mark.parametrize("bad", ["has space", 'quote"d', "x" * 201, "{json}"])
def test_a_request_id_that_could_forge_log_lines_is_replaced(make_app, bad):
    response = make_app().test_client().get("/health", headers={"X-Request-Id": bad})

    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-Id"])


def test_each_request_without_an_id_gets_a_new_one(make_app):
    client = make_app().test_client()

    ids = {client.get("/health").headers["X-Request-Id"] for _ in range(3)}

    assert len(ids) == 3
    assert all(re.fullmatch(r"[0-9a-f]{32}", request_id) for request_id in ids)


def test_slow_endpoint_does_not_exist_by_default(make_app):
    assert make_app().test_client().get("/slow?seconds=0").status_code == 404


def test_slow_endpoint_sleeps_when_enabled(make_app, monkeypatch):
    monkeypatch.setenv("SLOW_ENDPOINT_ENABLED", "true")

    response = make_app().test_client().get("/slow?seconds=0.01")

    assert response.status_code == 200
    assert response.get_json() == {"slept": 0.01}


@pytest.mark.parametrize("seconds", ["abc", "-1", "31", "nan"])
def test_slow_endpoint_refuses_bad_durations(make_app, seconds):
    response = make_app(SLOW_ENDPOINT_ENABLED=True).test_client().get(f"/slow?seconds={seconds}")

    assert response.status_code == 400
    assert seconds in response.get_json()["message"]


def test_app_with_a_table_uses_dynamodb_without_network_until_a_request_needs_it(make_app):
    app = make_app(COUNTER_TABLE="visits", AWS_REGION="eu-west-1")

    # /health stays dependency-free even with a table configured (nothing listens for DynamoDB here).
    assert app.test_client().get("/health").status_code == 200
    assert app.config["SETTINGS"].counter_table == "visits"


def test_importing_the_package_reads_no_settings():
    # A broken environment must only fail create_app(), never the import (the server, tests, tools import it).
    environment = {**os.environ, "LOG_LEVEL": "LOUD", "COUNTER_TABLE": "visits"}
    code = "import visits, visits.factory, visits.counters, visits.logs; print('imported')"

    result = subprocess.run(
        [sys.executable, "-c", code], cwd=APP_DIR, env=environment, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "imported"
