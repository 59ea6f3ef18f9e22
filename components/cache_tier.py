"""Cache tier: an ElastiCache Valkey (or Redis OSS) replication group that survives an AZ.

Resilient by default: Multi-AZ with automatic failover, at least one replica per shard
spread over two or more AZs, encryption at rest and in transit (`required`), RBAC with
IAM-authenticated users, daily snapshots kept 7 days plus a final snapshot, an own
parameter group whose eviction policy can never be `noeviction` (a full cache must evict,
not fail writes), slow-log delivery to CloudWatch Logs, and `protect=True` on the data.
An optional global datastore adds read-only secondaries in up to two other regions.

Usage::

    from reliability_stack.components.cache_tier import CacheTier, CacheTierArgs

    cache = CacheTier("orders-cache", CacheTierArgs(
        service="orders",
        region="eu-west-1",
        vpc_id=network.vpc_id,
        subnet_ids=network.private_subnet_ids,
        availability_zones=["eu-west-1a", "eu-west-1b", "eu-west-1c"],
        client_security_group_ids=[app_security_group.id],
    ))
    pulumi.export("cacheEndpoint", cache.primary_endpoint)

Knobs that turn resilience down are explicit: `multi_az=False`, `replicas_per_shard=0`
(only together with `multi_az=False`), `snapshot_retention_days=0`,
`transit_encryption_mode="preferred"` (only while migrating clients), `protect=False`.
"""

# No `from __future__ import annotations`: the component provider reads these annotations
# at runtime to build the package schema.
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

import pulumi
from pulumi_aws import cloudwatch, ec2, elasticache, vpc

from reliability_stack.components.args_validation import (
    LOG_RETENTION_DAYS,
    argument_failure,
    check_identifier_prefix,
)
from reliability_stack.resource_tags import standard_tags

COMPONENT = "CacheTier"
TYPE_TOKEN = "reliability-stack:cache_tier:CacheTier"
_EVICTION_POLICIES = ("volatile-lru", "allkeys-lru", "volatile-lfu", "allkeys-lfu", "volatile-random",
                      "allkeys-random", "volatile-ttl")
# Global datastores need a current-generation node of size large or above (ElastiCache docs).
_GLOBAL_NODE_FAMILIES = ("m5", "m6g", "m7g", "r5", "r6g", "r6gd", "r7g", "c7gn")
_SMALL_SIZES = ("micro", "small", "medium")
PORT = 6379


class CacheEngine(StrEnum):
    """Cache engine of the replication group."""

    VALKEY = "valkey"
    REDIS = "redis"


class CacheAuthMode(StrEnum):
    """How clients authenticate."""

    RBAC = "rbac"
    """A user group with an IAM-authenticated application user; the `default` user is disabled."""
    AUTH_TOKEN = "auth-token"
    """A shared AUTH token (`auth_token`); the only mode global datastores support."""


class CacheTransitEncryptionMode(StrEnum):
    """In-transit encryption mode. `preferred` accepts plaintext clients: a migration step only."""

    REQUIRED = "required"
    PREFERRED = "preferred"


@dataclass(frozen=True)
class CacheSecondaryRegion:
    """A region that holds a read-only secondary of the global datastore."""

    region: str
    """AWS region of the secondary replication group."""
    vpc_id: pulumi.Input[str]
    """VPC of the secondary, in that region."""
    subnet_ids: list[pulumi.Input[str]]
    """Private subnets of the secondary, in two or more AZs."""
    availability_zones: list[str]
    """AZs the secondary's nodes are placed in (two or more, distinct)."""
    client_security_group_ids: list[pulumi.Input[str]] = field(default_factory=list)
    """Security groups of the clients allowed to reach the secondary on the cache port."""


@dataclass(frozen=True)
class CacheTierArgs:
    """Inputs of `CacheTier`. Defaults are the resilient choice; the knobs turn it down."""

    service: str
    """Service that owns the cache (tag `reliability-stack:service`)."""
    vpc_id: pulumi.Input[str]
    """VPC of the cache."""
    subnet_ids: list[pulumi.Input[str]]
    """Private subnets for the subnet group, in two or more AZs."""
    availability_zones: list[str]
    """AZs the nodes are placed in, round-robin: primary in the first, replicas in the next ones."""
    region: str | None = None
    """AWS region (pulumi-aws 7 per-resource `region`); the provider's region when unset."""
    client_security_group_ids: list[pulumi.Input[str]] = field(default_factory=list)
    """Security groups of the clients allowed to reach the cache on port 6379."""
    engine: CacheEngine = CacheEngine.VALKEY
    """Valkey (default) or Redis OSS."""
    engine_version: str = "8.0"
    """Engine version; its major version selects the parameter-group family."""
    node_type: str = "cache.r7g.large"
    """Node type. Global datastores need size large or above of a current family."""
    shards: int = 1
    """Number of shards; more than one turns cluster mode on."""
    replicas_per_shard: int = 2
    """Read replicas per shard (0..5). At least one is needed for automatic failover."""
    multi_az: bool = True
    """Multi-AZ with automatic failover. False leaves a primary failure to manual repair."""
    transit_encryption_mode: CacheTransitEncryptionMode = CacheTransitEncryptionMode.REQUIRED
    """`required` (default) or `preferred` while migrating clients to TLS."""
    auth_mode: CacheAuthMode = CacheAuthMode.RBAC
    """RBAC with IAM users (default) or a shared AUTH token."""
    auth_token: pulumi.Input[str] | None = None
    """AUTH token (16..128 characters), required with `auth_mode="auth-token"`; stored as a secret."""
    snapshot_retention_days: int = 7
    """Days of automatic snapshots (0..35). 0 turns backups off."""
    snapshot_window: str = "03:00-05:00"
    """Daily UTC snapshot window, outside the maintenance window."""
    maintenance_window: str = "sun:05:30-sun:06:30"
    """Weekly UTC maintenance window."""
    maxmemory_policy: str = "volatile-lru"
    """Eviction policy; `noeviction` is refused (a full cache would fail writes)."""
    reserved_memory_percent: int = 25
    """Memory reserved for replication buffers and snapshots (10..60 %)."""
    slow_log_retention_days: int = 30
    """Retention of the slow-log log group."""
    global_datastore: bool = False
    """Create a global datastore with this group as primary and `secondary_regions` as secondaries."""
    secondary_regions: list[CacheSecondaryRegion] = field(default_factory=list)
    """Secondary regions of the global datastore (one or two)."""
    notification_topic_arn: pulumi.Input[str] | None = None
    """SNS topic for ElastiCache events (failovers, snapshots)."""
    protect: bool = True
    """Pulumi `protect` on the replication groups and the global datastore."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Extra tags; the stack and service tags are always added."""

    def validate(self) -> None:
        """Raise ComponentArgsError for an impossible or unsafe combination."""
        fail = argument_failure(COMPONENT)

        if not self.service:
            fail("service", "a service name is required")
        _check_placement(fail, "availability_zones", "subnet_ids", self.availability_zones, self.subnet_ids)
        if not 1 <= self.shards <= 500:
            fail("shards", "expected 1..500 shards")
        if not 0 <= self.replicas_per_shard <= 5:
            fail("replicas_per_shard", "expected 0..5 replicas per shard")
        if self.replicas_per_shard == 0 and self.multi_az:
            fail("replicas_per_shard", "Multi-AZ failover needs at least one replica per shard; "
                 "set multi_az=False to run without replicas")
        if self.replicas_per_shard == 0 and self.shards > 1:
            fail("replicas_per_shard", "cluster mode (shards > 1) needs at least one replica per shard")
        if self.maxmemory_policy == "noeviction":
            fail("maxmemory_policy", "noeviction makes a full cache reject writes; use an eviction policy "
                 f"such as {', '.join(_EVICTION_POLICIES[:2])}")
        if self.maxmemory_policy not in _EVICTION_POLICIES:
            fail("maxmemory_policy", f"expected one of {', '.join(_EVICTION_POLICIES)}")
        if not 10 <= self.reserved_memory_percent <= 60:
            fail("reserved_memory_percent", "expected 10..60 (AWS default 25) so replication and snapshots "
                 "cannot starve the node")
        if not 0 <= self.snapshot_retention_days <= 35:
            fail("snapshot_retention_days", "expected 0..35 days")
        if self.slow_log_retention_days not in LOG_RETENTION_DAYS:
            fail("slow_log_retention_days", f"{self.slow_log_retention_days} is not a CloudWatch Logs retention")
        _check_engine_version(fail, self.engine_version)
        if CacheAuthMode(self.auth_mode) is CacheAuthMode.AUTH_TOKEN and self.auth_token is None:
            fail("auth_token", 'auth_mode="auth-token" needs an auth_token')
        if isinstance(self.auth_token, str) and not 16 <= len(self.auth_token) <= 128:
            fail("auth_token", "an AUTH token has 16..128 characters")
        if CacheAuthMode(self.auth_mode) is CacheAuthMode.RBAC and self.auth_token is not None:
            fail("auth_token", 'only one of auth_mode="rbac" and auth_token may be given')
        self._validate_global(fail)

    def _validate_global(self, fail) -> None:
        if not self.global_datastore:
            if self.secondary_regions:
                fail("secondary_regions", "secondary regions need global_datastore=True")
            return
        if not 1 <= len(self.secondary_regions) <= 2:
            fail("secondary_regions", "a global datastore has one or two secondary regions")
        if CacheAuthMode(self.auth_mode) is not CacheAuthMode.AUTH_TOKEN:
            fail("auth_mode", 'global datastores support AUTH tokens, not RBAC: use auth_mode="auth-token"')
        if not self.multi_az:
            fail("multi_az", "secondaries inherit Multi-AZ from the primary; a global datastore keeps it on")
        family, _, size = self.node_type.removeprefix("cache.").partition(".")
        if family not in _GLOBAL_NODE_FAMILIES or size in _SMALL_SIZES:
            fail("node_type", f"global datastores need a large or bigger node of {', '.join(_GLOBAL_NODE_FAMILIES)}")
        regions = [s.region for s in self.secondary_regions]
        if len(set(regions)) != len(regions) or (self.region is not None and self.region in regions):
            fail("secondary_regions", "secondary regions must be distinct and differ from the primary region")
        for i, secondary in enumerate(self.secondary_regions):
            _check_placement(fail, f"secondary_regions[{i}].availability_zones",
                             f"secondary_regions[{i}].subnet_ids", secondary.availability_zones,
                             secondary.subnet_ids)

    @property
    def cluster_mode(self) -> bool:
        return self.shards > 1

    @property
    def parameter_group_family(self) -> str:
        major = self.engine_version.split(".", 1)[0]
        return f"{CacheEngine(self.engine).value}{major}"


def _check_placement(fail, az_argument: str, subnet_argument: str, zones: list[str], subnets: list) -> None:
    if len(set(zones)) != len(zones):
        fail(az_argument, "availability zones must be distinct")
    if len(zones) < 2:
        fail(az_argument, "replicas must span at least 2 availability zones")
    if len(subnets) < 2:
        fail(subnet_argument, "the subnet group needs subnets in at least 2 availability zones")


def _check_engine_version(fail, version: str) -> None:
    if not re.fullmatch(r"\d+\.\d+", version):
        fail("engine_version", "expected MAJOR.MINOR, e.g. 8.0")


def node_placement(zones: list[str], replicas: int) -> tuple[str, list[str]]:
    """Primary AZ and replica AZs for one shard: round-robin so no two neighbours share an AZ."""
    return zones[0], [zones[(1 + i) % len(zones)] for i in range(replicas)]


class CacheTier(pulumi.ComponentResource):
    """ElastiCache Valkey/Redis replication group, Multi-AZ, encrypted, backed up, optionally global."""

    primary_endpoint: pulumi.Output[str]
    """Primary (or configuration, in cluster mode) endpoint address."""
    reader_endpoint: pulumi.Output[str]
    """Reader endpoint address (cluster mode disabled)."""
    replication_group_id: pulumi.Output[str]
    """Id of the primary replication group."""
    security_group_id: pulumi.Output[str]
    """Security group of the cache nodes."""
    global_datastore_id: pulumi.Output[str]
    """Id of the global datastore (empty without one)."""

    def __init__(self, name: str, args: CacheTierArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        check_identifier_prefix(COMPONENT, name, "ElastiCache")
        args.validate()
        super().__init__(TYPE_TOKEN, name, {}, opts)
        self._name = name
        self._args = args
        self._tags = standard_tags(pulumi.get_stack(), args.service, args.tags)

        self._parameter_group = elasticache.ParameterGroup(
            f"{name}-params", family=args.parameter_group_family, region=args.region,
            description=f"{name}: eviction and reserved memory for {args.service}",
            parameters=self._parameters(), tags=self._tags, opts=pulumi.ResourceOptions(parent=self))
        auth = self._auth(args.region, "")
        primary, primary_security_group = self._replication_group(
            "", args.region, args.vpc_id, args.subnet_ids, args.availability_zones,
            args.client_security_group_ids, auth, global_id=None)
        global_id: pulumi.Output[str] = pulumi.Output.from_input("")
        if args.global_datastore:
            global_group = elasticache.GlobalReplicationGroup(
                f"{name}-global", global_replication_group_id_suffix=name,
                primary_replication_group_id=primary.id, automatic_failover_enabled=True,
                global_replication_group_description=f"{name}: global datastore for {args.service}",
                region=args.region, opts=pulumi.ResourceOptions(parent=self, protect=args.protect))
            global_id = global_group.global_replication_group_id
            for secondary in args.secondary_regions:
                self._replication_group(
                    f"-{secondary.region}", secondary.region, secondary.vpc_id, secondary.subnet_ids,
                    secondary.availability_zones, secondary.client_security_group_ids,
                    self._auth(secondary.region, f"-{secondary.region}"), global_id=global_id)

        self.primary_endpoint = (primary.configuration_endpoint_address if args.cluster_mode
                                 else primary.primary_endpoint_address)
        self.reader_endpoint = primary.reader_endpoint_address
        self.replication_group_id = primary.id
        self.security_group_id = primary_security_group.id
        self.global_datastore_id = global_id
        self.register_outputs({
            "primaryEndpoint": self.primary_endpoint,
            "readerEndpoint": self.reader_endpoint,
            "replicationGroupId": self.replication_group_id,
            "securityGroupId": self.security_group_id,
            "globalDatastoreId": self.global_datastore_id,
        })

    def _parameters(self) -> list[elasticache.ParameterGroupParameterArgs]:
        values = {
            "maxmemory-policy": self._args.maxmemory_policy,
            "reserved-memory-percent": str(self._args.reserved_memory_percent),
        }
        if self._args.cluster_mode:
            values["cluster-enabled"] = "yes"
        return [elasticache.ParameterGroupParameterArgs(name=key, value=value) for key, value in values.items()]

    def _auth(self, region: str | None, suffix: str) -> dict:
        """Replication-group arguments for authentication (RBAC user group or AUTH token)."""
        args = self._args
        if CacheAuthMode(args.auth_mode) is CacheAuthMode.AUTH_TOKEN:
            return {"auth_token": pulumi.Output.secret(args.auth_token), "auth_token_update_strategy": "ROTATE"}
        engine = CacheEngine(args.engine).value
        child = pulumi.ResourceOptions(parent=self)
        # Every user group must hold a user named "default": keep it, switched off.
        default_user = elasticache.User(
            f"{self._name}{suffix}-default-user", user_id=f"{self._name}{suffix}-default", user_name="default",
            engine=engine, access_string="off -@all", authentication_mode={"type": "no-password-required"},
            region=region, tags=self._tags, opts=child)
        app_user_id = f"{self._name}{suffix}-app"
        # IAM authentication requires user_name == user_id.
        app_user = elasticache.User(
            f"{self._name}{suffix}-app-user", user_id=app_user_id, user_name=app_user_id, engine=engine,
            access_string="on ~* +@all -@dangerous", authentication_mode={"type": "iam"},
            region=region, tags=self._tags, opts=child)
        group = elasticache.UserGroup(
            f"{self._name}{suffix}-users", user_group_id=f"{self._name}{suffix}-users", engine=engine,
            user_ids=[default_user.user_id, app_user.user_id], region=region, tags=self._tags, opts=child)
        return {"user_group_ids": [group.user_group_id]}

    def _replication_group(self, suffix: str, region: str | None, vpc_id: pulumi.Input[str],
                           subnet_ids: list[pulumi.Input[str]], zones: list[str],
                           client_security_groups: list[pulumi.Input[str]], auth: dict,
                           global_id: pulumi.Output[str] | None,
                           ) -> tuple[elasticache.ReplicationGroup, ec2.SecurityGroup]:
        args, name = self._args, f"{self._name}{suffix}"
        child = pulumi.ResourceOptions(parent=self)
        subnet_group = elasticache.SubnetGroup(
            f"{name}-subnets", subnet_ids=subnet_ids, region=region,
            description=f"{name}: cache subnets in {len(zones)} AZs", tags=self._tags, opts=child)
        security_group = ec2.SecurityGroup(
            f"{name}-sg", vpc_id=vpc_id, description=f"{name}: cache nodes", revoke_rules_on_delete=True,
            region=region, tags=self._tags, opts=child)
        for i, client in enumerate(client_security_groups):
            vpc.SecurityGroupIngressRule(
                f"{name}-from-client-{i}", security_group_id=security_group.id,
                referenced_security_group_id=client, ip_protocol="tcp", from_port=PORT, to_port=PORT,
                description="cache clients", region=region, tags=self._tags, opts=child)
        slow_log = cloudwatch.LogGroup(
            f"{name}-slow-log", retention_in_days=args.slow_log_retention_days, region=region,
            tags=self._tags, opts=child)

        placement: dict = {}
        if args.cluster_mode:
            placement["cluster_mode"] = "enabled"
            placement["replicas_per_node_group"] = args.replicas_per_shard
            shard_zones = [zones[i % len(zones):] + zones[:i % len(zones)] for i in range(args.shards)]
            placement["node_group_configurations"] = [
                elasticache.ReplicationGroupNodeGroupConfigurationArgs(
                    node_group_id=f"{i + 1:04d}", primary_availability_zone=node_placement(rotated, 0)[0],
                    replica_availability_zones=node_placement(rotated, args.replicas_per_shard)[1],
                    replica_count=args.replicas_per_shard)
                for i, rotated in enumerate(shard_zones)]
            if global_id is None:
                # Members of a global datastore take the shard count from the global group.
                placement["num_node_groups"] = args.shards
        else:
            placement["cluster_mode"] = "disabled"
            placement["num_cache_clusters"] = 1 + args.replicas_per_shard
            primary_zone, replica_zones = node_placement(zones, args.replicas_per_shard)
            placement["preferred_cache_cluster_azs"] = [primary_zone, *replica_zones]

        failover = args.multi_az and args.replicas_per_shard > 0
        common = dict(
            description=f"{name}: {CacheEngine(args.engine).value} cache of {args.service}",
            subnet_group_name=subnet_group.name, security_group_ids=[security_group.id],
            multi_az_enabled=args.multi_az, automatic_failover_enabled=failover,
            transit_encryption_enabled=True,
            transit_encryption_mode=CacheTransitEncryptionMode(args.transit_encryption_mode).value,
            snapshot_retention_limit=args.snapshot_retention_days, snapshot_window=args.snapshot_window,
            final_snapshot_identifier=f"{name}-final", maintenance_window=args.maintenance_window,
            auto_minor_version_upgrade=True, notification_topic_arn=args.notification_topic_arn,
            log_delivery_configurations=[elasticache.ReplicationGroupLogDeliveryConfigurationArgs(
                destination=slow_log.name, destination_type="cloudwatch-logs", log_format="json",
                log_type="slow-log")],
            region=region, tags=self._tags, **placement, **auth)
        if global_id is None:
            # The engine applies minor upgrades itself: do not fight it over the version.
            ignore = ["engine_version"]
            if args.global_datastore:
                # Once global, node type and parameters are managed through the global datastore.
                ignore += ["node_type", "parameter_group_name"]
            primary = elasticache.ReplicationGroup(
                f"{name}-rg", engine=CacheEngine(args.engine).value, engine_version=args.engine_version,
                node_type=args.node_type, parameter_group_name=self._parameter_group.name,
                at_rest_encryption_enabled=True, port=PORT, **common,
                opts=pulumi.ResourceOptions(parent=self, protect=args.protect, ignore_changes=ignore))
            return primary, security_group
        # A secondary inherits engine, version, node type, parameters and encryption from the
        # global datastore; declaring them would fight the replication.
        secondary = elasticache.ReplicationGroup(
            f"{name}-rg", global_replication_group_id=global_id, **common,
            opts=pulumi.ResourceOptions(
                parent=self, protect=args.protect,
                ignore_changes=["engine", "engine_version", "node_type", "parameter_group_name",
                                "at_rest_encryption_enabled", "num_node_groups"]))
        return secondary, security_group
