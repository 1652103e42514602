"""The visit-counter table: DynamoDB on demand, encrypted, with point-in-time recovery and deletion protection."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

# The app's item key attribute (app/visits: one item per counter, `pk` = counter name).
PARTITION_KEY = "pk"
# The app also writes one short-lived marker item per visit, so a retried write counts once
# (app/visits/counters.py); DynamoDB's TTL deletes each marker after the epoch second it holds here.
EXPIRES_ATTRIBUTE = "expires_at"


@dataclass(frozen=True, kw_only=True)
class CounterTableArgs:
    point_in_time_recovery: pulumi.Input[bool] = True
    """Continuous backups, restorable to any second of the last 35 days. Default True."""
    deletion_protection: pulumi.Input[bool] = True
    """Refuse deletes of the table until this is turned off. Default True."""
    tags: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Extra tags; stack-wide tags come from the provider's default_tags. Default: none."""


class CounterTable(pulumi.ComponentResource):
    """One table, one item per counter, updated with an atomic ADD."""

    name: pulumi.Output[str]
    """The table's name, for the app's COUNTER_TABLE."""
    arn: pulumi.Output[str]
    """The table's ARN, for the roles that may use it."""

    def __init__(
        self, name: str, args: CounterTableArgs | None = None, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("shipshape:counter_table:CounterTable", name, None, opts)
        args = args or CounterTableArgs()
        # On demand: a visit counter has no steady load to provision for.
        table = aws.dynamodb.Table(
            f"{name}-table",
            billing_mode="PAY_PER_REQUEST",
            hash_key=PARTITION_KEY,
            attributes=[aws.dynamodb.TableAttributeArgs(name=PARTITION_KEY, type="S")],
            server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(enabled=True),
            point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=args.point_in_time_recovery),
            deletion_protection_enabled=args.deletion_protection,
            ttl=aws.dynamodb.TableTtlArgs(attribute_name=EXPIRES_ATTRIBUTE, enabled=True),
            tags=dict(args.tags) or None,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.name = table.name
        self.arn = table.arn
        self.register_outputs({"name": self.name, "arn": self.arn})
