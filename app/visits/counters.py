"""Counter backends: one DynamoDB item for real deployments, an in-process count for local runs."""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from typing import Any, Protocol

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

_LOG = logging.getLogger("visits.counters")

PARTITION_KEY = "pk"
COUNT_ATTRIBUTE = "visits"
# Marker items expire through the table's TTL on this attribute (epoch seconds). They only need to
# outlive the retries of one request (seconds); an hour leaves room for clock skew and slow retries.
EXPIRES_ATTRIBUTE = "expires_at"
MARKER_LIFETIME_SECONDS = 3600
# TransactWriteItems' ClientRequestToken is 1-36 characters (botocore's DynamoDB model, shape
# ClientRequestToken, botocore/data/dynamodb/2012-08-10/service-2.json).
_TOKEN_MAX = 36
# Concurrent transactions on the hot counter item cancel each other with TransactionConflict
# (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html, "Transaction
# conflict handling"); botocore does not retry a cancellation, so the counter does, a few times.
_CONFLICT_ATTEMPTS = 5

# Bounded so a slow or unreachable DynamoDB costs a request seconds, well inside the ALB's 60 s idle
# timeout, instead of botocore's 60 s socket default. Four attempts: AWS's advice for
# TransactionInProgressException is to let at least one retry start 5 s after the first attempt
# (shape TransactionInProgressException in botocore's DynamoDB model); 2 s reads plus standard-mode
# backoff reach that on the fourth attempt.
_CLIENT_CONFIG = Config(
    connect_timeout=1,
    read_timeout=2,
    # total_max_attempts counts the first try; botocore's older max_attempts counts only the retries
    # (botocore/config.py, Config's `retries`).
    retries={"total_max_attempts": 4, "mode": "standard"},
    # At least the number of threads per worker, so threads never queue for a connection.
    max_pool_connections=32,
)


class CounterUnavailable(RuntimeError):
    """The counter backend could not be reached or refused the request; the message says why."""


class Counter(Protocol):
    """What the views need from a counter backend."""

    name: str

    def increment(self, visit_id: str) -> int | None:
        """Count the visit `visit_id` once, however often it is retried, and return the total.

        None: the visit was counted, but the total could not be read. Raises CounterUnavailable when the
        visit was not counted (or the backend cannot tell).
        """
        ...

    def check(self) -> None:
        """Prove the backend answers. Raises CounterUnavailable."""
        ...


def new_visit_id() -> str:
    """A fresh id for one visit: 128 random bits in hex (32 characters, a valid ClientRequestToken)."""
    return os.urandom(16).hex()


class InProcessCounter:
    """A thread-safe count kept in this process; each server worker has its own, so only for local runs.

    Nothing retries between the view and this counter, so `visit_id` needs no bookkeeping here.
    """

    name = "in-process"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = 0

    def increment(self, visit_id: str) -> int:
        with self._lock:
            self._count += 1
            return self._count

    def check(self) -> None:
        return None

    @property
    def total(self) -> int:
        """The visits counted so far in this process."""
        return self._count


class DynamoDBCounter:
    """One item in a DynamoDB table, incremented once per visit even when botocore retries the write.

    botocore retries a request whose answer did not arrive (read timeout, 5xx). A plain `UpdateItem ADD`
    sent twice counts twice, so each visit is one `TransactWriteItems` of two actions:

    1. Create a marker item `pk = "<key>#visit#<visit id>"` on condition that it does not exist yet;
    2. Update the counter item `pk = <key>`: `ADD visits 1`.

    The transaction carries the visit id as its `ClientRequestToken`, and botocore re-sends the same
    request body on every retry. DynamoDB answers a repeated token within 10 minutes with success and
    changes nothing (TransactWriteItems, ClientRequestToken: "multiple identical calls have the same
    effect as one single call", botocore's DynamoDB model and
    https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html). The
    marker makes the same guarantee without relying on the token: a repeat fails the marker's condition,
    the whole transaction is cancelled (ConditionalCheckFailed on action 1), and the visit is known to
    be counted already. Markers carry `expires_at` for the table's TTL.

    The total is then read with a strongly consistent GetItem (transactions return no attributes), so
    it includes visits that landed in between. IAM: dynamodb:UpdateItem (both actions are Updates) and
    dynamodb:GetItem on the table; transactions need no action of their own
    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html).
    """

    name = "dynamodb"

    def __init__(
        self,
        *,
        table: str,
        key: str,
        region: str,
        endpoint_url: str | None = None,
        config: Config | None = None,
    ) -> None:
        self.table = table
        self.key = key
        # A session per counter: boto3's default session is not thread-safe, its clients are.
        self._client = boto3.session.Session().client(
            "dynamodb", region_name=region, endpoint_url=endpoint_url, config=config or _CLIENT_CONFIG
        )

    def increment(self, visit_id: str) -> int | None:
        if not 1 <= len(visit_id) <= _TOKEN_MAX:
            raise ValueError(f"visit_id must be 1-{_TOKEN_MAX} characters (a ClientRequestToken), got {visit_id!r}")
        # Built once: every attempt must be byte-identical, or DynamoDB answers a reused token with
        # IdempotentParameterMismatchException instead of deduplicating it.
        request = self._transaction(visit_id)
        for attempt in range(1, _CONFLICT_ATTEMPTS + 1):
            try:
                self._client.transact_write_items(**request)
                break
            except ClientError as error:
                reasons = _cancellation_codes(error)
                if reasons[:1] == ["ConditionalCheckFailed"]:
                    break  # the marker exists: an earlier attempt of this visit was counted
                if "TransactionConflict" in reasons and attempt < _CONFLICT_ATTEMPTS:
                    time.sleep(random.uniform(0, 0.02 * 2**attempt))  # noqa: S311 - jitter, not a secret
                    continue
                raise CounterUnavailable(self._describe("TransactWriteItems", error)) from error
            except BotoCoreError as error:
                raise CounterUnavailable(self._describe("TransactWriteItems", error)) from error
        try:
            return self._read_total()
        except CounterUnavailable as error:
            # The visit is in the table: answering 503 now would count a visit the client saw fail.
            _LOG.warning("visit counted, total unavailable", extra={"fields": {"reason": str(error)}})
            return None

    def check(self) -> None:
        self._get_counter_item("GetItem", ProjectionExpression="#pk", ExpressionAttributeNames={"#pk": PARTITION_KEY})

    def _transaction(self, visit_id: str) -> dict[str, Any]:
        expires = int(time.time()) + MARKER_LIFETIME_SECONDS
        return {
            "ClientRequestToken": visit_id,
            "TransactItems": [
                {
                    "Update": {
                        "TableName": self.table,
                        "Key": {PARTITION_KEY: {"S": f"{self.key}#visit#{visit_id}"}},
                        "UpdateExpression": "SET #expires = :expires",
                        "ConditionExpression": "attribute_not_exists(#pk)",
                        "ExpressionAttributeNames": {"#pk": PARTITION_KEY, "#expires": EXPIRES_ATTRIBUTE},
                        "ExpressionAttributeValues": {":expires": {"N": str(expires)}},
                    }
                },
                {
                    "Update": {
                        "TableName": self.table,
                        "Key": {PARTITION_KEY: {"S": self.key}},
                        "UpdateExpression": "ADD #count :one",
                        "ExpressionAttributeNames": {"#count": COUNT_ATTRIBUTE},
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                },
            ],
        }

    def _read_total(self) -> int:
        item = self._get_counter_item("GetItem", ConsistentRead=True)
        try:
            return int(item[COUNT_ATTRIBUTE]["N"])
        except (KeyError, TypeError, ValueError) as error:
            raise CounterUnavailable(
                f"DynamoDB item pk={self.key!r} in table {self.table!r} has no number in {COUNT_ATTRIBUTE!r}"
            ) from error

    def _get_counter_item(self, operation: str, **options: Any) -> dict[str, Any]:
        try:
            response = self._client.get_item(TableName=self.table, Key={PARTITION_KEY: {"S": self.key}}, **options)
        except (BotoCoreError, ClientError) as error:
            raise CounterUnavailable(self._describe(operation, error)) from error
        return response.get("Item", {})

    def _describe(self, operation: str, error: Exception) -> str:
        if isinstance(error, ClientError):
            details = error.response.get("Error", {})
            reason = f"{details.get('Code', 'Unknown')}: {details.get('Message', '')}".rstrip(": ")
        else:
            reason = f"{type(error).__name__}: {error}"
        return f"DynamoDB {operation} on table {self.table!r} failed: {reason}"


def _cancellation_codes(error: ClientError) -> list[str]:
    """The per-action codes of a TransactionCanceledException, in request order ([] for other errors).

    CancellationReasons lists one entry per action, "None" where that action was fine (botocore's
    DynamoDB model, shape CancellationReason).
    """
    if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
        return []
    return [str(reason.get("Code")) for reason in error.response.get("CancellationReasons", [])]
