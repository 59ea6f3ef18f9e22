"""Post-deploy verification: do the live resources carry the stack's reliability intent?

Each check compares one live setting, found by the stack's tags, with what the stack
config and the SLO specs ask for, and yields an `IntentCheck` (pass or mismatch) that
names the resource, the expectation and what was found. A missing resource is a mismatch
too: a stack whose alarms were never created must not verify clean.

Covered: SLO alarms (exist, notify someone), Auto Scaling groups (min size, AZ spread,
ELB health checks), target groups (health check on the service's path), Aurora clusters
(deletion protection, backup retention), DynamoDB tables (point-in-time recovery,
deletion protection), ElastiCache replication groups (automatic failover, Multi-AZ).
Kubernetes workloads are outside boto3's reach and are not checked here.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from reliability_stack.config import ServiceConfig, StackConfig
from reliability_stack.runtime import tagged_resources as tagged
from reliability_stack.runtime.aws_clients import AwsClients
from reliability_stack.slo.budget import is_reachable
from reliability_stack.slo.model import SLO


@dataclass(frozen=True)
class IntentCheck:
    """One comparison of a live setting with the intent."""

    service: str
    region: str
    resource: str
    check: str
    expected: str
    actual: str
    ok: bool


def _check(service: str, resource: tagged.TaggedResource | str, region: str, check: str,
           expected: object, actual: object, ok: bool) -> IntentCheck:
    label = resource if isinstance(resource, str) else f"{resource.kind} {resource.name}"
    return IntentCheck(service, region, label, check, str(expected), str(actual), ok)


def _missing(service: str, region: str, kind: str, stack: str) -> IntentCheck:
    return IntentCheck(service, region, kind, "exists", f"tagged {tagged.TAG_STACK}={stack}, {tagged.TAG_SERVICE}={service}",
                       "not found", False)


def verify_stack(clients: AwsClients, config: StackConfig, slos: Sequence[SLO]) -> list[IntentCheck]:
    """Every check for every service of the stack, in config order."""
    checks: list[IntentCheck] = []
    for service in config.services:
        service_slos = [slo for slo in slos if slo.service == service.name]
        checks += _alarm_checks(clients, config, service, service_slos)
        for index, region in enumerate(config.regions):
            if service.platform == "ec2":
                checks += _compute_checks(clients, config, service, region)
            checks += _database_checks(clients, config, service, region, primary=index == 0)
            if service.cache.enabled:
                checks += _cache_checks(clients, config, service, region)
    return checks


def _compute_checks(clients: AwsClients, config: StackConfig, service: ServiceConfig,
                    region: str) -> Iterator[IntentCheck]:
    groups = tagged.auto_scaling_groups(clients, region, config.stack, service.name)
    if not groups:
        yield _missing(service.name, region, "auto-scaling-group", config.stack)
    wanted_azs = config.availability_zones
    for group in groups:
        spec = group.description
        yield _check(service.name, group, region, "min size", f">= {service.scaling.min_size}",
                     spec.get("MinSize"), spec.get("MinSize", 0) >= service.scaling.min_size)
        zones = sorted(spec.get("AvailabilityZones", []))
        yield _check(service.name, group, region, "AZ spread", f">= {wanted_azs} AZs",
                     f"{len(zones)} ({', '.join(zones) or 'none'})", len(zones) >= wanted_azs)
        yield _check(service.name, group, region, "health check type", "ELB", spec.get("HealthCheckType"),
                     spec.get("HealthCheckType") == "ELB")
    target_groups = tagged.target_groups(clients, region, config.stack, service.name)
    if not target_groups:
        yield _missing(service.name, region, "target-group", config.stack)
    for group in target_groups:
        spec = group.description
        enabled = spec.get("HealthCheckEnabled", True)
        yield _check(service.name, group, region, "health check enabled", True, enabled, enabled is True)
        path = spec.get("HealthCheckPath")
        yield _check(service.name, group, region, "health check path", service.health_check_path, path,
                     path == service.health_check_path)


def _database_checks(clients: AwsClients, config: StackConfig, service: ServiceConfig, region: str, *,
                     primary: bool) -> Iterator[IntentCheck]:
    database = service.database
    if database.engine == "aurora-postgresql":
        clusters = tagged.db_clusters(clients, region, config.stack, service.name)
        if not clusters and primary:
            yield _missing(service.name, region, "db-cluster", config.stack)
        for cluster in clusters:
            spec = cluster.description
            protected = bool(spec.get("DeletionProtection"))
            yield _check(service.name, cluster, region, "deletion protection", True, protected, protected)
            retention = int(spec.get("BackupRetentionPeriod", 0))
            yield _check(service.name, cluster, region, "backup retention", f">= {database.backup_retention_days} days",
                         f"{retention} days", retention >= database.backup_retention_days)
    elif database.engine == "dynamodb":
        tables = tagged.dynamodb_tables(clients, region, config.stack, service.name)
        if not tables and primary:
            yield _missing(service.name, region, "dynamodb-table", config.stack)
        for table in tables:
            backups = clients.call("dynamodb", "describe_continuous_backups", region=region, TableName=table.name)
            pitr = (backups.get("ContinuousBackupsDescription", {})
                    .get("PointInTimeRecoveryDescription", {}).get("PointInTimeRecoveryStatus", "DISABLED"))
            yield _check(service.name, table, region, "point-in-time recovery", "ENABLED", pitr, pitr == "ENABLED")
            protected = bool(table.description.get("DeletionProtectionEnabled"))
            yield _check(service.name, table, region, "deletion protection", True, protected, protected)


def _cache_checks(clients: AwsClients, config: StackConfig, service: ServiceConfig,
                  region: str) -> Iterator[IntentCheck]:
    groups = tagged.cache_replication_groups(clients, region, config.stack, service.name)
    if not groups:
        yield _missing(service.name, region, "cache-replication-group", config.stack)
    for group in groups:
        spec = group.description
        wants_failover = service.cache.replicas_per_shard > 0
        expected = "enabled" if wants_failover else "any"
        failover = spec.get("AutomaticFailover", "disabled")
        yield _check(service.name, group, region, "automatic failover", expected, failover,
                     not wants_failover or failover == "enabled")
        multi_az = spec.get("MultiAZ", "disabled")
        yield _check(service.name, group, region, "Multi-AZ", expected, multi_az,
                     not wants_failover or multi_az == "enabled")


def _alarm_checks(clients: AwsClients, config: StackConfig, service: ServiceConfig,
                  slos: Sequence[SLO]) -> Iterator[IntentCheck]:
    """Each CloudWatch SLO has alarms, and at least one per severity it pages or tickets on notifies someone."""
    measured = [slo for slo in slos if slo.sli.cloudwatch is not None]
    if not measured:
        return
    regions = list(dict.fromkeys([*config.regions, config.control_plane_region]))
    found = [alarm for region in regions for alarm in tagged.alarms(clients, region, config.stack, service.name)]
    for slo in measured:
        mine = [a for a in found if a.tags.get(tagged.TAG_SLO) == slo.id or
                (tagged.TAG_SLO not in a.tags and slo.id in a.name)]
        where = ", ".join(regions)
        if not mine:
            yield IntentCheck(service.name, where, f"slo {slo.id}", "alarms exist",
                              f"alarms tagged {tagged.TAG_SLO}={slo.id}", "none", False)
            continue
        yield _check(service.name, f"slo {slo.id}", where, "alarms exist", ">= 1", len(mine), True)
        # Tiers that can never fire at this objective get no alarms (the compiler warns instead).
        for severity in sorted({tier.severity for tier in slo.tiers if is_reachable(tier, slo.objective)}):
            candidates = [a for a in mine if a.tags.get(tagged.TAG_SEVERITY, severity) == severity]
            notifying = [a.name for a in candidates
                         if a.description.get("ActionsEnabled", True) and a.description.get("AlarmActions")]
            yield _check(service.name, f"slo {slo.id}", where, f"{severity} alarm notifies",
                         "actions enabled with an alarm action", ", ".join(notifying) or "no alarm with actions",
                         bool(notifying))
