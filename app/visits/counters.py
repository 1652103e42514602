"""Counter backends: one atomic DynamoDB item for real deployments, an in-process count for local runs."""

from __future__ import annotations

import threading
from typing import Protocol

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

PARTITION_KEY = "pk"
COUNT_ATTRIBUTE = "visits"

# Bounded so a slow or unreachable DynamoDB costs a request a few seconds, well inside the ALB's
# 60 s idle timeout and gunicorn's worker timeout, instead of botocore's 60 s socket default.
_CLIENT_CONFIG = Config(
    connect_timeout=1,
    read_timeout=2,
    retries={"max_attempts": 3, "mode": "standard"},
    # At least the number of gthread threads per worker, so threads never queue for a connection.
    max_pool_connections=32,
)


class CounterUnavailable(RuntimeError):
    """The counter backend could not be reached or refused the request; the message says why."""


class Counter(Protocol):
    """What the views need from a counter backend."""

    name: str

    def increment(self) -> int:
        """Count one visit and return the new total. Raises CounterUnavailable."""
        ...

    def check(self) -> None:
        """Prove the backend answers. Raises CounterUnavailable."""
        ...


class InProcessCounter:
    """A thread-safe count kept in this process; each gunicorn worker has its own, so only for local runs."""

    name = "in-process"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = 0

    def increment(self) -> int:
        with self._lock:
            self._count += 1
            return self._count

    def check(self) -> None:
        return None


class DynamoDBCounter:
    """One item in a DynamoDB table, incremented with an atomic `UpdateItem ADD` per visit.

    The table's partition key is the string attribute `pk`; the item `pk = key` holds the number in
    `visits`. Needs dynamodb:UpdateItem (visits) and dynamodb:GetItem (readiness) on the table.
    """

    name = "dynamodb"

    def __init__(self, *, table: str, key: str, region: str, endpoint_url: str | None = None) -> None:
        self.table = table
        self.key = key
        # A session per counter: boto3's default session is not thread-safe, its clients are.
        self._client = boto3.session.Session().client(
            "dynamodb", region_name=region, endpoint_url=endpoint_url, config=_CLIENT_CONFIG
        )

    def increment(self) -> int:
        try:
            response = self._client.update_item(
                TableName=self.table,
                Key={PARTITION_KEY: {"S": self.key}},
                UpdateExpression="ADD #count :one",
                ExpressionAttributeNames={"#count": COUNT_ATTRIBUTE},
                ExpressionAttributeValues={":one": {"N": "1"}},
                ReturnValues="UPDATED_NEW",
            )
        except (BotoCoreError, ClientError) as error:
            raise CounterUnavailable(self._describe("UpdateItem", error)) from error
        return int(response["Attributes"][COUNT_ATTRIBUTE]["N"])

    def check(self) -> None:
        try:
            self._client.get_item(
                TableName=self.table,
                Key={PARTITION_KEY: {"S": self.key}},
                ProjectionExpression="#pk",
                ExpressionAttributeNames={"#pk": PARTITION_KEY},
            )
        except (BotoCoreError, ClientError) as error:
            raise CounterUnavailable(self._describe("GetItem", error)) from error

    def _describe(self, operation: str, error: Exception) -> str:
        if isinstance(error, ClientError):
            details = error.response.get("Error", {})
            reason = f"{details.get('Code', 'Unknown')}: {details.get('Message', '')}".rstrip(": ")
        else:
            reason = f"{type(error).__name__}: {error}"
        return f"DynamoDB {operation} on table {self.table!r} failed: {reason}"
