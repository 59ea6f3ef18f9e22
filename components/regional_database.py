"""Regional database: Aurora PostgreSQL, one cluster per region, joined as a global database.

Resilient by default, in every region: a writer and at least one reader in different AZs
(promotion tiers decide who takes over), storage encrypted with that region's own KMS key,
backups kept 14 days, a final snapshot, tags copied to snapshots, deletion protection on
the clusters and the global cluster, Performance Insights and enhanced monitoring, and
Pulumi `protect` on every stateful resource (keys, clusters, instances, global cluster).
Secondaries `ignore_changes` the fields the global database rewrites after a failover
(`replication_source_identifier`, `global_cluster_identifier`) and, under automatic minor
upgrades, the engine version, so a `pulumi up` never fights replication.

Without `secondaries` it is a single-region (dev) database: still a writer plus a reader in
different AZs, and the master password is managed in Secrets Manager. Aurora does not
manage passwords for global databases, so a global one takes `master_password` (a secret).

Usage::

    from reliability_stack.components.regional_database import (
        DatabaseRegion, RegionalDatabase, RegionalDatabaseArgs)

    db = RegionalDatabase("orders-db", RegionalDatabaseArgs(
        service="orders",
        primary=DatabaseRegion(region="eu-west-1", vpc_id=eu.vpc_id, subnet_ids=eu.private_subnet_ids,
                               availability_zones=["eu-west-1a", "eu-west-1b", "eu-west-1c"]),
        secondaries=[DatabaseRegion(region="us-east-1", vpc_id=us.vpc_id, subnet_ids=us.private_subnet_ids,
                                    availability_zones=["us-east-1a", "us-east-1b", "us-east-1c"])],
        master_password=config.require_secret("dbPassword"),
    ))
    pulumi.export("dbWriter", db.writer_endpoint)

Knobs that turn resilience down: `deletion_protection=False`, `performance_insights=False`,
`monitoring_interval_seconds=0`, `protect=False`.
"""

# No `from __future__ import annotations`: the component provider reads these annotations
# at runtime to build the package schema.
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
from pulumi_aws import ec2, iam, kms, rds, vpc

from reliability_stack.components.args_validation import argument_failure, check_identifier_prefix
from reliability_stack.resource_tags import standard_tags

COMPONENT = "RegionalDatabase"
TYPE_TOKEN = "reliability-stack:regional_database:RegionalDatabase"
ENGINE = "aurora-postgresql"
PORT = 5432
MONITORING_INTERVALS = (0, 1, 5, 10, 15, 30, 60)
MONITORING_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
MIN_BACKUP_RETENTION_DAYS = 7


@dataclass(frozen=True)
class DatabaseRegion:
    """Where one regional cluster of the database lives."""

    region: str
    """AWS region of the cluster."""
    vpc_id: pulumi.Input[str]
    """VPC of the cluster, in that region."""
    subnet_ids: list[pulumi.Input[str]]
    """Private subnets for the DB subnet group, in two or more AZs."""
    availability_zones: list[str]
    """AZs the instances are spread over (writer in the first, readers in the next ones)."""
    client_security_group_ids: list[pulumi.Input[str]] = field(default_factory=list)
    """Security groups of the clients allowed to reach the cluster on port 5432."""


@dataclass(frozen=True)
class RegionalDatabaseArgs:
    """Inputs of `RegionalDatabase`. Defaults are the resilient choice; the knobs turn it down."""

    service: str
    """Service that owns the database (tag `reliability-stack:service`)."""
    primary: DatabaseRegion
    """The region that takes writes."""
    secondaries: list[DatabaseRegion] = field(default_factory=list)
    """Read-only secondary regions; any makes this an Aurora global database."""
    engine_version: str = "16.6"
    """Aurora PostgreSQL version (MAJOR.MINOR)."""
    instance_class: str = "db.r6g.large"
    """Instance class of every instance."""
    instances_per_region: int = 2
    """Instances per regional cluster: one writer plus readers (2..16)."""
    database_name: str = "app"
    """Name of the initial database."""
    master_username: str = "app_admin"
    """Master user name."""
    master_password: pulumi.Input[str] | None = None
    """Master password (secret). Required for a global database; otherwise Secrets Manager manages it."""
    backup_retention_days: int = 14
    """Days of continuous backups (7..35)."""
    preferred_backup_window: str = "02:00-03:00"
    """Daily UTC backup window."""
    preferred_maintenance_window: str = "sun:04:00-sun:05:00"
    """Weekly UTC maintenance window, after the backup window."""
    deletion_protection: bool = True
    """Deletion protection on each cluster and on the global cluster."""
    performance_insights: bool = True
    """Performance Insights on every instance, encrypted with the region's key."""
    performance_insights_retention_days: int = 7
    """Performance Insights retention (7, or a multiple of 31 up to 731)."""
    monitoring_interval_seconds: int = 60
    """Enhanced monitoring interval (0 turns it off; 1, 5, 10, 15, 30 or 60)."""
    auto_minor_version_upgrade: bool = True
    """Let AWS apply minor versions; the engine version is then ignored on update."""
    protect: bool = True
    """Pulumi `protect` on keys, clusters, instances and the global cluster."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Extra tags; the stack and service tags are always added."""

    @property
    def is_global(self) -> bool:
        return bool(self.secondaries)

    @property
    def regions(self) -> list[DatabaseRegion]:
        return [self.primary, *self.secondaries]

    def validate(self) -> None:
        """Raise ComponentArgsError for an impossible or unsafe combination."""
        fail = argument_failure(COMPONENT)

        if not self.service:
            fail("service", "a service name is required")
        if not 2 <= self.instances_per_region <= 16:
            fail("instances_per_region", "each region needs a writer and at least one reader in another AZ "
                 "(2..16 instances)")
        if not MIN_BACKUP_RETENTION_DAYS <= self.backup_retention_days <= 35:
            fail("backup_retention_days", f"expected {MIN_BACKUP_RETENTION_DAYS}..35 days of backups")
        if self.monitoring_interval_seconds not in MONITORING_INTERVALS:
            fail("monitoring_interval_seconds", f"expected one of {MONITORING_INTERVALS}")
        days = self.performance_insights_retention_days
        if not (days == 7 or (days % 31 == 0 and 31 <= days <= 731)):
            fail("performance_insights_retention_days", "expected 7, or a multiple of 31 up to 731")
        if not re.fullmatch(r"\d+\.\d+", self.engine_version):
            fail("engine_version", "expected MAJOR.MINOR, e.g. 16.6")
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,62}", self.database_name):
            fail("database_name", "expected a letter then letters, digits or underscores (max 63)")
        if self.is_global and self.master_password is None:
            fail("master_password", "Aurora cannot manage the master password of a global database "
                 "in Secrets Manager: pass master_password as a secret")
        if len(self.secondaries) > 5:
            fail("secondaries", "an Aurora global database has at most 5 secondary regions")
        names = [r.region for r in self.regions]
        if len(set(names)) != len(names):
            fail("secondaries", "regions must be distinct and differ from the primary region")
        for label, region in [("primary", self.primary),
                              *[(f"secondaries[{i}]", r) for i, r in enumerate(self.secondaries)]]:
            zones = region.availability_zones
            if len(set(zones)) != len(zones) or len(zones) < 2:
                fail(f"{label}.availability_zones", "instances need at least 2 distinct availability zones")
            if len(region.subnet_ids) < 2:
                fail(f"{label}.subnet_ids", "the DB subnet group needs subnets in at least 2 availability zones")


def instance_layout(zones: list[str], count: int) -> list[tuple[str, int]]:
    """(AZ, promotion tier) per instance: the writer (tier 0) first, readers round-robin over the AZs.

    The first reader gets tier 1 so that failover prefers it, in a different AZ from the writer.
    """
    return [(zones[i % len(zones)], min(i, 15)) for i in range(count)]


class RegionalDatabase(pulumi.ComponentResource):
    """Aurora PostgreSQL global (or single-region) database, encrypted, protected and backed up."""

    writer_endpoint: pulumi.Output[str]
    """Writer endpoint of the primary cluster."""
    reader_endpoint: pulumi.Output[str]
    """Reader endpoint of the primary cluster."""
    regional_reader_endpoints: pulumi.Output[dict[str, str]]
    """Reader endpoint per region."""
    global_cluster_id: pulumi.Output[str]
    """Global cluster identifier (empty for a single-region database)."""

    def __init__(self, name: str, args: RegionalDatabaseArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        check_identifier_prefix(COMPONENT, name, "RDS")
        args.validate()
        super().__init__(TYPE_TOKEN, name, {}, opts)
        self._name = name
        self._args = args
        self._tags = standard_tags(pulumi.get_stack(), args.service, args.tags)
        self._monitoring_role = self._monitoring() if args.monitoring_interval_seconds else None

        global_id: pulumi.Output[str] = pulumi.Output.from_input("")
        global_cluster = None
        if args.is_global:
            global_cluster = rds.GlobalCluster(
                f"{name}-global", global_cluster_identifier=name, engine=ENGINE,
                engine_version=args.engine_version, database_name=args.database_name,
                deletion_protection=args.deletion_protection, storage_encrypted=True,
                region=args.primary.region, tags=self._tags,
                opts=pulumi.ResourceOptions(parent=self, protect=args.protect,
                                            ignore_changes=self._version_ignored()))
            global_id = global_cluster.id

        primary, primary_instances = self._regional_cluster(args.primary, global_cluster, depends_on=[])
        readers = {args.primary.region: primary.reader_endpoint}
        for secondary in args.secondaries:
            # A secondary can only join once the primary has a writer instance.
            cluster, _ = self._regional_cluster(secondary, global_cluster, depends_on=primary_instances)
            readers[secondary.region] = cluster.reader_endpoint

        self.writer_endpoint = primary.endpoint
        self.reader_endpoint = primary.reader_endpoint
        self.regional_reader_endpoints = pulumi.Output.all(**readers)
        self.global_cluster_id = global_id
        self.register_outputs({
            "writerEndpoint": self.writer_endpoint,
            "readerEndpoint": self.reader_endpoint,
            "regionalReaderEndpoints": self.regional_reader_endpoints,
            "globalClusterId": self.global_cluster_id,
        })

    def _version_ignored(self) -> list[str]:
        # Under automatic minor upgrades AWS moves the version; declaring it again would downgrade-fight.
        return ["engine_version"] if self._args.auto_minor_version_upgrade else []

    def _monitoring(self) -> iam.Role:
        role = iam.Role(
            f"{self._name}-monitoring", tags=self._tags, opts=pulumi.ResourceOptions(parent=self),
            assume_role_policy=json.dumps({
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                               "Principal": {"Service": "monitoring.rds.amazonaws.com"}}],
            }))
        iam.RolePolicyAttachment(f"{self._name}-monitoring", role=role.name, policy_arn=MONITORING_POLICY_ARN,
                                 opts=pulumi.ResourceOptions(parent=self))
        return role

    def _regional_cluster(self, where: DatabaseRegion, global_cluster: rds.GlobalCluster | None,
                          depends_on: Sequence[pulumi.Resource]) -> tuple[rds.Cluster, list[rds.ClusterInstance]]:
        args = self._args
        region = where.region
        name = f"{self._name}-{region}"
        child = pulumi.ResourceOptions(parent=self)
        is_primary = where is args.primary
        key = kms.Key(
            f"{name}-key", description=f"{name}: storage, Performance Insights and secrets of {args.service}",
            enable_key_rotation=True, deletion_window_in_days=30, region=region, tags=self._tags,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect))
        subnet_group = rds.SubnetGroup(
            f"{name}-subnets", subnet_ids=where.subnet_ids, description=f"{name}: database subnets",
            region=region, tags=self._tags, opts=child)
        security_group = ec2.SecurityGroup(
            f"{name}-sg", vpc_id=where.vpc_id, description=f"{name}: database", revoke_rules_on_delete=True,
            region=region, tags=self._tags, opts=child)
        for i, client in enumerate(where.client_security_group_ids):
            vpc.SecurityGroupIngressRule(
                f"{name}-from-client-{i}", security_group_id=security_group.id, referenced_security_group_id=client,
                ip_protocol="tcp", from_port=PORT, to_port=PORT, description="database clients", region=region,
                tags=self._tags, opts=child)

        cluster_args: dict = dict(
            engine=ENGINE, engine_version=args.engine_version, db_subnet_group_name=subnet_group.name,
            vpc_security_group_ids=[security_group.id], port=PORT, storage_encrypted=True, kms_key_id=key.arn,
            backup_retention_period=args.backup_retention_days, preferred_backup_window=args.preferred_backup_window,
            preferred_maintenance_window=args.preferred_maintenance_window, copy_tags_to_snapshot=True,
            deletion_protection=args.deletion_protection, skip_final_snapshot=False,
            final_snapshot_identifier=f"{name}-final", enabled_cloudwatch_logs_exports=["postgresql"],
            iam_database_authentication_enabled=True, region=region, tags=self._tags)
        if global_cluster is not None:
            cluster_args["global_cluster_identifier"] = global_cluster.id
        ignore = self._version_ignored()
        if is_primary:
            cluster_args.update(database_name=args.database_name, master_username=args.master_username)
            if args.master_password is not None:
                cluster_args["master_password"] = pulumi.Output.secret(args.master_password)
            else:
                cluster_args.update(manage_master_user_password=True, master_user_secret_kms_key_id=key.arn)
            if global_cluster is not None:
                # After a managed failover the roles swap; the program must not undo that.
                ignore = [*ignore, "global_cluster_identifier"]
        else:
            cluster_args["source_region"] = args.primary.region
            ignore = [*ignore, "replication_source_identifier", "global_cluster_identifier"]
        cluster = rds.Cluster(
            f"{name}-cluster", **cluster_args,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, ignore_changes=ignore,
                                        depends_on=list(depends_on)))

        instances = []
        for i, (zone, tier) in enumerate(instance_layout(where.availability_zones, args.instances_per_region)):
            instance_args: dict = dict(
                cluster_identifier=cluster.id, engine=ENGINE, instance_class=args.instance_class,
                availability_zone=zone, promotion_tier=tier, db_subnet_group_name=subnet_group.name,
                publicly_accessible=False, auto_minor_version_upgrade=args.auto_minor_version_upgrade,
                performance_insights_enabled=args.performance_insights,
                monitoring_interval=args.monitoring_interval_seconds, copy_tags_to_snapshot=True,
                region=region, tags=self._tags)
            if args.performance_insights:
                instance_args.update(performance_insights_kms_key_id=key.arn,
                                     performance_insights_retention_period=args.performance_insights_retention_days)
            if self._monitoring_role is not None:
                instance_args["monitoring_role_arn"] = self._monitoring_role.arn
            instances.append(rds.ClusterInstance(
                f"{name}-{i}", **instance_args,
                opts=pulumi.ResourceOptions(parent=self, protect=args.protect)))
        return cluster, instances
