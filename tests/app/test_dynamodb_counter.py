"""The DynamoDB counter over real HTTP: a real moto server process, with a fault injector in front of it
that holds answers past botocore's read timeout (DynamoDB stalling after it has written).

moto does not implement TransactWriteItems' ClientRequestToken (moto/dynamodb has no trace of it), so a
retried transaction reaches moto as a new one. The tests check both halves: the token the app sends is the
same on every retry (what DynamoDB dedupes on), and the count stays exact on moto because the marker's
condition refuses the repeat."""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest
from botocore.config import Config

from tests.app.conftest import REGION, stored_count
from tests.app.stall_proxy import StallProxy
from visits.counters import CounterUnavailable, DynamoDBCounter

pytestmark = pytest.mark.slow

READ_TIMEOUT = 2  # the app's botocore read timeout (visits/counters.py); stalls are longer than this


@pytest.fixture
def proxy(moto_server) -> Iterator[StallProxy]:
    proxy = StallProxy(upstream_port=moto_server.port, stall_seconds=READ_TIMEOUT + 1.5).start()
    yield proxy
    proxy.stop()


def _counter(endpoint: str, table: str, key: str = "visits") -> DynamoDBCounter:
    return DynamoDBCounter(table=table, key=key, region=REGION, endpoint_url=endpoint)


def test_a_visit_is_one_transaction_with_its_id_as_token_then_a_consistent_read(proxy, counter_table):
    total = _counter(proxy.endpoint, counter_table).increment("0123456789abcdef0123456789abcdef")

    assert total == 1
    assert [call.operation for call in proxy.calls] == ["TransactWriteItems", "GetItem"]
    sent = proxy.calls[0].params
    assert sent["ClientRequestToken"] == "0123456789abcdef0123456789abcdef"
    marker, count = (action["Update"] for action in sent["TransactItems"])
    # 1: the marker, created only if this visit was never written.
    assert marker["Key"] == {"pk": {"S": "visits#visit#0123456789abcdef0123456789abcdef"}}
    assert marker["ConditionExpression"] == "attribute_not_exists(#pk)"
    assert marker["ExpressionAttributeNames"]["#pk"] == "pk"
    assert marker["UpdateExpression"] == "SET #expires = :expires"
    assert int(marker["ExpressionAttributeValues"][":expires"]["N"]) > time.time() + 3000
    # 2: a server-side ADD on the counter item: atomic in DynamoDB, no read-modify-write in the app.
    assert count == {
        "TableName": counter_table,
        "Key": {"pk": {"S": "visits"}},
        "UpdateExpression": "ADD #count :one",
        "ExpressionAttributeNames": {"#count": "visits"},
        "ExpressionAttributeValues": {":one": {"N": "1"}},
    }
    assert proxy.calls[1].params["ConsistentRead"] is True


def test_the_stall_double_counts_a_plain_update_item(proxy, counter_table):
    # The defect this counter exists to avoid, reproduced with the app's client settings: the first answer
    # is held past the read timeout, botocore sends the non-idempotent ADD again, moto applies both.
    proxy.stall = lambda operation, nth: operation == "UpdateItem" and nth == 1
    client = boto3.client(
        "dynamodb",
        region_name=REGION,
        endpoint_url=proxy.endpoint,
        config=Config(
            connect_timeout=1, read_timeout=READ_TIMEOUT, retries={"total_max_attempts": 4, "mode": "standard"}
        ),
    )

    client.update_item(
        TableName=counter_table,
        Key={"pk": {"S": "visits"}},
        UpdateExpression="ADD #count :one",
        ExpressionAttributeNames={"#count": "visits"},
        ExpressionAttributeValues={":one": {"N": "1"}},
    )

    assert len(proxy.of("UpdateItem")) == 2
    assert stored_count(proxy.endpoint, counter_table) == 2


@pytest.mark.parametrize("stalled_answers", [1, 3], ids=["first-answer-late", "all-but-the-last-answer-late"])
def test_a_stalled_transaction_is_retried_with_the_same_token_and_counted_once(proxy, counter_table, stalled_answers):
    proxy.stall = lambda operation, nth: operation == "TransactWriteItems" and nth <= stalled_answers

    total = _counter(proxy.endpoint, counter_table).increment("visit-1")

    first, *retries = proxy.of("TransactWriteItems")
    assert len(retries) == stalled_answers  # one more attempt than answers held back
    assert first.stalled and first.status == 200  # moto wrote it; the answer came too late
    assert all(retry.body == first.body for retry in retries)  # byte for byte: the same ClientRequestToken
    assert first.params["ClientRequestToken"] == "visit-1"
    # moto ignores the token, so each repeat reached the table: the marker's condition cancelled it.
    for retry in retries:
        assert retry.status == 400
        assert [reason["Code"] for reason in json.loads(retry.answer)["CancellationReasons"]] == [
            "ConditionalCheckFailed",
            "None",
        ]
    assert total == 1
    assert stored_count(proxy.endpoint, counter_table) == 1


def test_a_transaction_conflict_is_retried_until_it_lands(proxy, counter_table):
    # DynamoDB cancels concurrent transactions on one item with TransactionConflict, and botocore does
    # not retry a cancellation. The body is the documented shape: one CancellationReason per action, in
    # request order (botocore's DynamoDB model, shapes TransactionCanceledException, CancellationReason).
    conflict = {
        "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
        "Message": "Transaction cancelled, please refer cancellation reasons for specific reasons "
        "[None, TransactionConflict]",
        "CancellationReasons": [
            {"Code": "None"},
            {"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"},
        ],
    }
    proxy.inject = lambda operation, nth: (400, conflict) if operation == "TransactWriteItems" and nth <= 2 else None

    total = _counter(proxy.endpoint, counter_table).increment("visit-2")

    attempts = proxy.of("TransactWriteItems")
    assert [call.injected for call in attempts] == [True, True, False]
    assert {call.params["ClientRequestToken"] for call in attempts} == {"visit-2"}
    assert total == 1
    assert stored_count(proxy.endpoint, counter_table) == 1


def test_a_counted_visit_whose_total_cannot_be_read_is_still_a_success(
    make_app, log_lines, moto_server, proxy, counter_table
):
    # Every GetItem fails with a 500 (documented: shape InternalServerError in botocore's DynamoDB model);
    # botocore retries it and gives up. The transaction has landed, so the visit is a success.
    server_error = {"__type": "com.amazonaws.dynamodb.v20120810#InternalServerError", "message": "Internal error"}
    proxy.inject = lambda operation, nth: (500, server_error) if operation == "GetItem" else None
    client = make_app(
        COUNTER_TABLE=counter_table, AWS_REGION=REGION, DYNAMODB_ENDPOINT_URL=proxy.endpoint
    ).test_client()

    response = client.get("/")

    assert response.status_code == 200
    assert response.get_json()["visits"] is None
    assert len(proxy.of("GetItem")) == 4  # the app's four attempts
    assert stored_count(moto_server.endpoint, counter_table) == 1
    [warning] = [line for line in log_lines() if line["level"] == "WARNING"]
    assert warning["message"] == "visit counted, total unavailable"
    assert "InternalServerError" in warning["reason"]


def _visit(port: int) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", "/")
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def test_the_served_app_counts_exactly_while_dynamodb_stalls(start_server, proxy, counter_table):
    # Every fifth transaction's answer is held past the read timeout, under concurrent visits.
    proxy.stall = lambda operation, nth: operation == "TransactWriteItems" and nth % 5 == 1
    server = start_server(
        WEB_CONCURRENCY="2",
        WEB_THREADS="4",
        COUNTER_TABLE=counter_table,
        AWS_REGION=REGION,
        DYNAMODB_ENDPOINT_URL=proxy.endpoint,
    )

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(_visit, [server.port] * 40))

    stalled = [call for call in proxy.of("TransactWriteItems") if call.stalled]
    assert len(stalled) >= 8  # the stalls really happened, each followed by a retry
    assert len(proxy.of("TransactWriteItems")) >= 40 + len(stalled)
    successes = statuses.count(200)
    assert successes == 40
    assert stored_count(proxy.endpoint, counter_table) == successes


def test_counter_key_selects_the_item(moto_server, counter_table):
    home = _counter(moto_server.endpoint, counter_table, key="home")
    other = _counter(moto_server.endpoint, counter_table, key="other")

    home.increment("a")
    home.increment("b")
    other.increment("c")

    assert stored_count(moto_server.endpoint, counter_table, "home") == 2
    assert stored_count(moto_server.endpoint, counter_table, "other") == 1


def test_a_visit_id_that_is_no_client_request_token_is_refused(moto_server, counter_table):
    with pytest.raises(ValueError, match="1-36 characters"):
        _counter(moto_server.endpoint, counter_table).increment("x" * 37)


def test_app_counts_in_the_table_and_is_ready(make_app, moto_server, counter_table):
    client = make_app(
        COUNTER_TABLE=counter_table, AWS_REGION=REGION, DYNAMODB_ENDPOINT_URL=moto_server.endpoint
    ).test_client()

    assert [client.get("/").get_json()["visits"] for _ in range(3)] == [1, 2, 3]
    assert client.head("/").status_code == 200  # HEAD counts nothing
    assert client.get("/ready").get_json() == {"status": "ready", "counter": "dynamodb"}
    assert stored_count(moto_server.endpoint, counter_table) == 3


def test_missing_table_is_a_503_and_a_log_line(make_app, log_lines, moto_server):
    client = make_app(
        COUNTER_TABLE="no-such-table", AWS_REGION=REGION, DYNAMODB_ENDPOINT_URL=moto_server.endpoint
    ).test_client()

    visit = client.get("/")
    ready = client.get("/ready")

    assert (visit.status_code, ready.status_code) == (503, 503)
    assert visit.get_json()["error"] == "counter_unavailable"
    reasons = [line["reason"] for line in log_lines() if line["level"] == "ERROR"]
    assert len(reasons) == 2
    assert all("ResourceNotFoundException" in reason and "no-such-table" in reason for reason in reasons)


def test_unreachable_endpoint_fails_with_counter_unavailable(free_port):
    counter = _counter(f"http://127.0.0.1:{free_port()}", "visits")

    with pytest.raises(CounterUnavailable, match="TransactWriteItems on table 'visits' failed"):
        counter.increment("visit-3")
