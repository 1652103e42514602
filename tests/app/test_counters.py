"""Behaviours both counter backends share, one parametrized test each: the in-process counter, and the
DynamoDB counter against a real moto server process."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from tests.app.conftest import REGION, stored_count
from visits.counters import Counter, DynamoDBCounter, InProcessCounter, new_visit_id


@pytest.fixture(params=["in-process", pytest.param("dynamodb", marks=pytest.mark.slow)])
def backend(request) -> tuple[Counter, Callable[[], int]]:
    """(counter, read the total it stored) for each backend."""
    if request.param == "in-process":
        counter = InProcessCounter()
        return counter, lambda: counter.total
    moto_server = request.getfixturevalue("moto_server")
    table = request.getfixturevalue("counter_table")
    counter = DynamoDBCounter(table=table, key="visits", region=REGION, endpoint_url=moto_server.endpoint)
    return counter, lambda: stored_count(moto_server.endpoint, table)


def test_each_visit_adds_one_and_returns_the_new_total(backend):
    counter, stored = backend

    totals = [counter.increment(new_visit_id()) for _ in range(3)]

    assert totals == [1, 2, 3]
    assert stored() == 3


def test_the_backend_answers_its_readiness_check(backend):
    counter, _ = backend

    assert counter.check() is None


def test_visit_ids_are_fresh_valid_client_request_tokens():
    ids = {new_visit_id() for _ in range(1000)}

    assert len(ids) == 1000
    # TransactWriteItems' ClientRequestToken: 1-36 characters (botocore's DynamoDB model).
    assert all(len(visit_id) == 32 for visit_id in ids)


def test_in_process_counting_is_atomic_under_threads():
    # Atomicity is real here (a lock in this process). For DynamoDB it is the service's (a server-side
    # ADD inside one transaction); test_dynamodb_counter.py checks that this is what the app sends,
    # not moto's thread safety.
    counter = InProcessCounter()
    seen: list[int] = []
    lock = threading.Lock()

    def visit_many() -> None:
        mine = [counter.increment(new_visit_id()) for _ in range(250)]
        with lock:
            seen.extend(mine)

    threads = [threading.Thread(target=visit_many) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(seen) == list(range(1, 2001))


def test_the_table_the_program_creates_has_the_keys_the_app_writes():
    from components import counter_table
    from visits import counters

    assert counters.PARTITION_KEY == counter_table.PARTITION_KEY
    # The marker items expire through the table's TTL on this attribute.
    assert counters.EXPIRES_ATTRIBUTE == counter_table.EXPIRES_ATTRIBUTE
