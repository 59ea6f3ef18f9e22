"""DynamoDB global table: one table with replicas in the other regions (global tables 2019.11.21).

Resilient by default: point-in-time recovery on the table and on every replica, deletion
protection on both, server-side encryption with a customer-managed KMS key per region,
a NEW_AND_OLD_IMAGES stream (which replication needs), on-demand billing (no throttling
from a forgotten capacity number) or, when provisioned, target-tracking autoscaling of
reads and writes in every region, and Pulumi `protect` on the table and the keys.

Usage::

    from reliability_stack.components.dynamodb_global import (
        DynamoDbAttribute, DynamoDbGlobalTable, DynamoDbGlobalTableArgs)

    sessions = DynamoDbGlobalTable("sessions", DynamoDbGlobalTableArgs(
        service="orders",
        region="eu-west-1",
        replica_regions=["us-east-1"],
        hash_key="pk",
        range_key="sk",
        attributes=[DynamoDbAttribute(name="pk", type="S"), DynamoDbAttribute(name="sk", type="S")],
    ))
    pulumi.export("sessionsTable", sessions.table_name)

Knobs that turn resilience down: `point_in_time_recovery=False`, `deletion_protection=False`,
`protect=False`.
"""

# No `from __future__ import annotations`: the component provider reads these annotations
# at runtime to build the package schema.
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

import pulumi
from pulumi_aws import appautoscaling, dynamodb, kms

from reliability_stack.components.args_validation import argument_failure, check_identifier_prefix
from reliability_stack.resource_tags import standard_tags

COMPONENT = "DynamoDbGlobalTable"
TYPE_TOKEN = "reliability-stack:dynamodb_global:DynamoDbGlobalTable"
STREAM_VIEW = "NEW_AND_OLD_IMAGES"


class DynamoDbBillingMode(StrEnum):
    """Capacity mode of the table."""

    PAY_PER_REQUEST = "PAY_PER_REQUEST"
    PROVISIONED = "PROVISIONED"


@dataclass(frozen=True)
class DynamoDbAttribute:
    """A key attribute of the table."""

    name: str
    """Attribute name."""
    type: str = "S"
    """S (string), N (number) or B (binary)."""


@dataclass(frozen=True)
class DynamoDbCapacity:
    """Autoscaled capacity of one dimension (reads or writes) in provisioned mode."""

    min: int = 5
    """Lowest capacity units."""
    max: int = 100
    """Highest capacity units."""
    target_utilization_percent: float = 70.0
    """Utilisation the target-tracking policy keeps (20..90 %)."""


@dataclass(frozen=True)
class DynamoDbGlobalTableArgs:
    """Inputs of `DynamoDbGlobalTable`. Defaults are the resilient choice; the knobs turn it down."""

    service: str
    """Service that owns the table (tag `reliability-stack:service`)."""
    hash_key: str
    """Partition key attribute."""
    attributes: list[DynamoDbAttribute]
    """Key attributes (every declared attribute must be a key)."""
    range_key: str | None = None
    """Sort key attribute."""
    region: str | None = None
    """Home region of the table; the provider's region when unset."""
    replica_regions: list[str] = field(default_factory=list)
    """Regions holding replicas (multi-region, multi-active)."""
    billing_mode: DynamoDbBillingMode = DynamoDbBillingMode.PAY_PER_REQUEST
    """On-demand (default) or provisioned with autoscaling."""
    read_capacity: DynamoDbCapacity | None = None
    """Read capacity autoscaling (provisioned mode)."""
    write_capacity: DynamoDbCapacity | None = None
    """Write capacity autoscaling (provisioned mode)."""
    point_in_time_recovery: bool = True
    """Point-in-time recovery on the table and every replica."""
    recovery_period_days: int = 35
    """PITR window (1..35 days)."""
    deletion_protection: bool = True
    """Deletion protection on the table and every replica."""
    ttl_attribute: str | None = None
    """Attribute holding an expiry epoch, if items expire."""
    protect: bool = True
    """Pulumi `protect` on the table and the KMS keys."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Extra tags; the stack and service tags are always added (and propagated to replicas)."""

    @property
    def provisioned(self) -> bool:
        return DynamoDbBillingMode(self.billing_mode) is DynamoDbBillingMode.PROVISIONED

    def validate(self) -> None:
        """Raise ComponentArgsError for an impossible or unsafe combination."""
        fail = argument_failure(COMPONENT)

        if not self.service:
            fail("service", "a service name is required")
        names = [a.name for a in self.attributes]
        if len(set(names)) != len(names):
            fail("attributes", "attribute names must be distinct")
        for i, attribute in enumerate(self.attributes):
            if attribute.type not in ("S", "N", "B"):
                fail(f"attributes[{i}].type", "expected S, N or B")
        if self.hash_key not in names:
            fail("hash_key", f"{self.hash_key!r} is not among the attributes")
        if self.range_key is not None and self.range_key not in names:
            fail("range_key", f"{self.range_key!r} is not among the attributes")
        keys = {self.hash_key, self.range_key}
        unused = [n for n in names if n not in keys]
        if unused:
            fail("attributes", f"{unused[0]!r} is not a key; DynamoDB only accepts key attributes here")
        if len(set(self.replica_regions)) != len(self.replica_regions):
            fail("replica_regions", "replica regions must be distinct")
        if self.region is not None and self.region in self.replica_regions:
            fail("replica_regions", f"{self.region} is the table's home region, not a replica")
        if not 1 <= self.recovery_period_days <= 35:
            fail("recovery_period_days", "expected 1..35 days")
        if self.provisioned:
            for argument, capacity in (("read_capacity", self.read_capacity), ("write_capacity", self.write_capacity)):
                if capacity is None:
                    fail(argument, "provisioned billing needs autoscaled capacity (min, max, target)")
                elif not 1 <= capacity.min < capacity.max:
                    fail(argument, "expected 1 <= min < max")
                elif not 20 <= capacity.target_utilization_percent <= 90:
                    fail(argument, "target utilisation must be 20..90 %")
        elif self.read_capacity is not None or self.write_capacity is not None:
            fail("billing_mode", "read_capacity/write_capacity need billing_mode=PROVISIONED")


class DynamoDbGlobalTable(pulumi.ComponentResource):
    """DynamoDB table with replicas in other regions: PITR, deletion protection, KMS, streams."""

    table_name: pulumi.Output[str]
    """Name of the table (the same in every region)."""
    table_arn: pulumi.Output[str]
    """ARN of the table in its home region."""
    stream_arn: pulumi.Output[str]
    """ARN of the table's stream in its home region."""

    def __init__(self, name: str, args: DynamoDbGlobalTableArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        check_identifier_prefix(COMPONENT, name)
        args.validate()
        super().__init__(TYPE_TOKEN, name, {}, opts)
        self._tags = tags = standard_tags(pulumi.get_stack(), args.service, args.tags)
        keys = {region: kms.Key(
            f"{name}-{region or 'home'}-key", description=f"{name}: DynamoDB table of {args.service}",
            enable_key_rotation=True, deletion_window_in_days=30, region=region, tags=tags,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect))
            for region in [args.region, *args.replica_regions]}
        pitr = dynamodb.TablePointInTimeRecoveryArgs(
            enabled=args.point_in_time_recovery,
            recovery_period_in_days=args.recovery_period_days if args.point_in_time_recovery else None)
        capacity: dict = {}
        ignore: list[str] = []
        if args.provisioned:
            assert args.read_capacity is not None and args.write_capacity is not None  # validated
            capacity = {"read_capacity": args.read_capacity.min, "write_capacity": args.write_capacity.min}
            # Autoscaling owns the numbers after creation.
            ignore = ["read_capacity", "write_capacity"]
        table = dynamodb.Table(
            f"{name}-table",
            billing_mode=DynamoDbBillingMode(args.billing_mode).value,
            hash_key=args.hash_key, range_key=args.range_key,
            attributes=[dynamodb.TableAttributeArgs(name=a.name, type=a.type) for a in args.attributes],
            point_in_time_recovery=pitr,
            deletion_protection_enabled=args.deletion_protection,
            server_side_encryption=dynamodb.TableServerSideEncryptionArgs(
                enabled=True, kms_key_arn=keys[args.region].arn),
            stream_enabled=True, stream_view_type=STREAM_VIEW,
            ttl=(dynamodb.TableTtlArgs(attribute_name=args.ttl_attribute, enabled=True)
                 if args.ttl_attribute else None),
            replicas=[dynamodb.TableReplicaArgs(
                region_name=region, kms_key_arn=keys[region].arn, point_in_time_recovery=args.point_in_time_recovery,
                deletion_protection_enabled=args.deletion_protection, propagate_tags=True)
                for region in args.replica_regions],
            region=args.region, tags=tags, **capacity,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, ignore_changes=ignore))
        if args.provisioned:
            for region in [args.region, *args.replica_regions]:
                self._autoscaling(name, table, region, args)

        self.table_name = table.name
        self.table_arn = table.arn
        self.stream_arn = table.stream_arn
        self.register_outputs({"tableName": self.table_name, "tableArn": self.table_arn,
                               "streamArn": self.stream_arn})

    def _autoscaling(self, name: str, table: dynamodb.Table, region: str | None,
                     args: DynamoDbGlobalTableArgs) -> None:
        for dimension, capacity, metric in (
                ("read", args.read_capacity, "DynamoDBReadCapacityUtilization"),
                ("write", args.write_capacity, "DynamoDBWriteCapacityUtilization")):
            assert capacity is not None
            label = f"{name}-{region or 'home'}-{dimension}"
            target = appautoscaling.Target(
                label, service_namespace="dynamodb", resource_id=table.name.apply(lambda n: f"table/{n}"),
                scalable_dimension=f"dynamodb:table:{dimension.capitalize()}CapacityUnits",
                min_capacity=capacity.min, max_capacity=capacity.max, region=region, tags=self._tags,
                opts=pulumi.ResourceOptions(parent=self))
            appautoscaling.Policy(
                label, policy_type="TargetTrackingScaling", service_namespace=target.service_namespace,
                resource_id=target.resource_id, scalable_dimension=target.scalable_dimension, region=region,
                target_tracking_scaling_policy_configuration=appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgs(
                    target_value=capacity.target_utilization_percent,
                    predefined_metric_specification=appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs(
                        predefined_metric_type=metric)),
                opts=pulumi.ResourceOptions(parent=self))
