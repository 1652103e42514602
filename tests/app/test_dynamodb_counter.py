"""The DynamoDB counter over real HTTP against a moto server on 127.0.0.1."""

from __future__ import annotations

import threading
import time
import urllib.request
from collections.abc import Iterator

import boto3
import pytest
from moto.server import ThreadedMotoServer

from visits.counters import CounterUnavailable, DynamoDBCounter

pytestmark = pytest.mark.slow

REGION = "eu-west-1"


@pytest.fixture(scope="module")
def moto_endpoint(free_port) -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def dynamodb_endpoint(moto_endpoint) -> Iterator[str]:
    yield moto_endpoint
    # moto keeps its backends per process, across servers: forget this test's tables.
    urllib.request.urlopen(urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST"), timeout=10)


@pytest.fixture
def table(dynamodb_endpoint) -> str:
    client = boto3.client("dynamodb", region_name=REGION, endpoint_url=dynamodb_endpoint)
    client.create_table(
        TableName="visits",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return "visits"


def _stored_count(endpoint: str, table: str, key: str) -> int:
    client = boto3.client("dynamodb", region_name=REGION, endpoint_url=endpoint)
    item = client.get_item(TableName=table, Key={"pk": {"S": key}}, ConsistentRead=True)["Item"]
    return int(item["visits"]["N"])


def test_concurrent_visits_are_counted_exactly(dynamodb_endpoint, table):
    counter = DynamoDBCounter(table=table, key="visits", region=REGION, endpoint_url=dynamodb_endpoint)
    returned: list[int] = []
    lock = threading.Lock()

    def visit_many() -> None:
        mine = [counter.increment() for _ in range(250)]
        with lock:
            returned.extend(mine)

    threads = [threading.Thread(target=visit_many) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert _stored_count(dynamodb_endpoint, table, "visits") == 2000
    # Atomic ADD: every visit saw a distinct total, none lost or doubled.
    assert sorted(returned) == list(range(1, 2001))


def test_counter_key_selects_the_item(dynamodb_endpoint, table):
    home = DynamoDBCounter(table=table, key="home", region=REGION, endpoint_url=dynamodb_endpoint)
    other = DynamoDBCounter(table=table, key="other", region=REGION, endpoint_url=dynamodb_endpoint)

    home.increment()
    home.increment()
    other.increment()

    assert _stored_count(dynamodb_endpoint, table, "home") == 2
    assert _stored_count(dynamodb_endpoint, table, "other") == 1


def test_app_counts_in_the_table_and_is_ready(make_app, dynamodb_endpoint, table):
    client = make_app(COUNTER_TABLE=table, AWS_REGION=REGION, DYNAMODB_ENDPOINT_URL=dynamodb_endpoint).test_client()

    assert [client.get("/").get_json()["visits"] for _ in range(3)] == [1, 2, 3]
    assert client.get("/ready").get_json() == {"status": "ready", "counter": "dynamodb"}
    assert _stored_count(dynamodb_endpoint, table, "visits") == 3


def test_missing_table_is_a_503_and_a_log_line(make_app, log_lines, dynamodb_endpoint):
    client = make_app(
        COUNTER_TABLE="no-such-table", AWS_REGION=REGION, DYNAMODB_ENDPOINT_URL=dynamodb_endpoint
    ).test_client()

    visit = client.get("/")
    ready = client.get("/ready")

    assert (visit.status_code, ready.status_code) == (503, 503)
    assert visit.get_json()["error"] == "counter_unavailable"
    reasons = [line["reason"] for line in log_lines() if line["level"] == "ERROR"]
    assert len(reasons) == 2
    assert all("ResourceNotFoundException" in reason and "no-such-table" in reason for reason in reasons)


def test_unreachable_endpoint_fails_fast_with_counter_unavailable(free_port):
    counter = DynamoDBCounter(
        table="visits", key="visits", region=REGION, endpoint_url=f"http://127.0.0.1:{free_port()}"
    )

    started = time.monotonic()
    with pytest.raises(CounterUnavailable, match="UpdateItem on table 'visits' failed"):
        counter.increment()

    # Bounded timeouts and retries: seconds, not botocore's default minute per attempt.
    assert time.monotonic() - started < 10
