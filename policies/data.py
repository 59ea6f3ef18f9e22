"""Databases, caches, tables and queues: redundancy, backups, protection (A1-A13, A43-A45, G7, G23)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from reliability_stack.policies.registry import resource_rule
from reliability_stack.policies.view import ResourceView, dig, fmt, is_false, is_true, items, number

RDS_INSTANCE = "aws:rds/instance:Instance"
RDS_CLUSTER = "aws:rds/cluster:Cluster"
RDS_CLUSTER_INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
GLOBAL_CLUSTER = "aws:rds/globalCluster:GlobalCluster"
DOCDB_CLUSTER = "aws:docdb/cluster:Cluster"
NEPTUNE_CLUSTER = "aws:neptune/cluster:Cluster"
REPLICATION_GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
GLOBAL_REPLICATION_GROUP = "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup"
CACHE_PARAMETER_GROUP = "aws:elasticache/parameterGroup:ParameterGroup"
TABLE = "aws:dynamodb/table:Table"
BUCKET = "aws:s3/bucket:Bucket"
EFS = "aws:efs/fileSystem:FileSystem"
OPENSEARCH = "aws:opensearch/domain:Domain"
EBS_VOLUME = "aws:ebs/volume:Volume"
KMS_KEY = "aws:kms/key:Key"

STATEFUL_TYPES = (RDS_INSTANCE, RDS_CLUSTER, RDS_CLUSTER_INSTANCE, GLOBAL_CLUSTER, DOCDB_CLUSTER, NEPTUNE_CLUSTER,
                  REPLICATION_GROUP, GLOBAL_REPLICATION_GROUP, TABLE, BUCKET, EFS, OPENSEARCH, EBS_VOLUME, KMS_KEY,
                  "kubernetes:core/v1:PersistentVolumeClaim")


@resource_rule(
    id="aws-rds-multi-az",
    description="RDS instances run Multi-AZ, with a synchronous standby in another AZ.",
    remediation="Set multiAz: true (or move to an Aurora cluster with >= 2 instances).",
    anchors=["A1", "CKV_AWS_157", "RDS3", "rds-instance-multi-az-enabled"],
    techniques=["RES"],
    types=(RDS_INSTANCE,),
)
def rds_multi_az(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    if not is_true(r.get("multiAz")):
        yield "multiAz is off: an AZ or host failure takes the database down until it is rebuilt"


@resource_rule(
    id="aws-database-deletion-protection",
    description="Databases and tables have deletion protection on, including each table replica.",
    remediation="Set deletionProtection (RDS, Aurora, global clusters, DocumentDB, Neptune) or "
                "deletionProtectionEnabled (DynamoDB tables and replicas) to true.",
    anchors=["A3", "CKV_AWS_293", "CKV_AWS_139", "RDS10", "G23"],
    techniques=["RES", "IMM"],
    types=(RDS_INSTANCE, RDS_CLUSTER, GLOBAL_CLUSTER, DOCDB_CLUSTER, NEPTUNE_CLUSTER, TABLE),
)
def database_deletion_protection(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    if r.type == TABLE:
        if not is_true(r.get("deletionProtectionEnabled")):
            yield "deletionProtectionEnabled is off"
        for replica in items(r.get("replicas")):
            if is_false(dig(replica, "deletionProtectionEnabled")):
                yield f"replica in {dig(replica, 'regionName')} has deletion protection off"
    elif not is_true(r.get("deletionProtection")):
        yield "deletionProtection is off: one mistaken delete destroys the data"


@resource_rule(
    id="aws-database-backups",
    description="Databases keep automated backups for >= minRetentionDays and take a final snapshot.",
    remediation="Set backupRetentionPeriod >= minRetentionDays, skipFinalSnapshot: false with a "
                "finalSnapshotIdentifier, and copyTagsToSnapshot: true.",
    anchors=["A4", "A44", "CKV_AWS_133", "CKV_AWS_360", "RDS13", "rds-instance-backup-enabled"],
    techniques=["DR"],
    types=(RDS_INSTANCE, RDS_CLUSTER, DOCDB_CLUSTER, NEPTUNE_CLUSTER),
    config={"minRetentionDays": {"type": "number", "default": 7, "minimum": 1}},
)
def database_backups(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    default = 0 if r.type == RDS_INSTANCE else 1
    if r.type == RDS_INSTANCE and r.get("replicateSourceDb") is not None:
        return  # read replicas inherit the source's backups
    retention = number(r.get("backupRetentionPeriod", default=default)) or 0.0
    if retention < config["minRetentionDays"]:
        yield f"backupRetentionPeriod {fmt(retention)} day(s) is below {fmt(config['minRetentionDays'])}"
    if is_true(r.get("skipFinalSnapshot")):
        yield "skipFinalSnapshot is on: deleting the database loses its last state"


@resource_rule(
    id="aws-aurora-backtrack",
    description="Aurora MySQL clusters keep a backtrack window to undo bad writes without a restore.",
    remediation="Set backtrackWindow (seconds, e.g. 86400) on aurora-mysql clusters.",
    anchors=["A6", "CKV_AWS_326", "RDS14"],
    techniques=["DR"],
    types=(RDS_CLUSTER,),
    enforcement="advisory",
    severity="low",
)
def aurora_backtrack(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    if str(r.get("engine", default="")) in ("aurora", "aurora-mysql") and not number(r.get("backtrackWindow")):
        yield "no backtrackWindow on an Aurora MySQL cluster"


@resource_rule(
    id="aws-rds-monitoring",
    description="Database instances have Enhanced Monitoring and Performance Insights.",
    remediation="Set monitoringInterval (e.g. 15 or 60 s, with monitoringRoleArn) and performanceInsightsEnabled.",
    anchors=["A8", "CKV_AWS_118", "CKV_AWS_353"],
    techniques=["MON"],
    types=(RDS_INSTANCE, RDS_CLUSTER_INSTANCE),
    enforcement="advisory",
    severity="low",
)
def rds_monitoring(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    if not number(r.get("monitoringInterval")):
        yield "Enhanced Monitoring is off (monitoringInterval 0)"
    if not is_true(r.get("performanceInsightsEnabled")):
        yield "Performance Insights is off"


@resource_rule(
    id="aws-auto-minor-upgrades",
    description="Managed data stores take minor-version (security and bug-fix) upgrades automatically.",
    remediation="Leave autoMinorVersionUpgrade at true.",
    anchors=["A7", "CKV_AWS_226", "N2"],
    techniques=["IMM"],
    types=(RDS_INSTANCE, RDS_CLUSTER_INSTANCE, REPLICATION_GROUP),
    enforcement="advisory",
    severity="low",
)
def auto_minor_upgrades(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    if is_false(r.get("autoMinorVersionUpgrade")):
        yield "autoMinorVersionUpgrade is off"


@resource_rule(
    id="aws-elasticache-failover",
    description="ElastiCache replication groups fail over automatically to a replica in another AZ.",
    remediation="Set automaticFailoverEnabled and multiAzEnabled to true with numCacheClusters >= 2 (or "
                "replicasPerNodeGroup >= 1 in cluster mode).",
    anchors=["A9", "A10", "CKV2_AWS_50", "AEC4", "G7"],
    techniques=["RES", "LAT"],
    types=(REPLICATION_GROUP,),
)
def elasticache_failover(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    if not is_true(r.get("automaticFailoverEnabled")):
        yield "automaticFailoverEnabled is off: a primary failure stops writes until someone acts"
    if not is_true(r.get("multiAzEnabled")):
        yield "multiAzEnabled is off: replicas may share the primary's AZ"
    nodes = number(r.get("numCacheClusters"))
    replicas = number(r.get("replicasPerNodeGroup"))
    groups = r.get("nodeGroupConfigurations")
    has_replica = ((nodes is not None and nodes >= 2) or (replicas is not None and replicas >= 1)
                   or any((number(dig(g, "replicaCount")) or 0) >= 1 for g in items(groups)))
    if not has_replica:
        yield "no replica: numCacheClusters < 2 and no replicasPerNodeGroup"


@resource_rule(
    id="aws-elasticache-backups",
    description="ElastiCache replication groups keep daily snapshots.",
    remediation="Set snapshotRetentionLimit >= minRetentionDays (0 disables backups).",
    anchors=["A11", "CKV_AWS_134"],
    techniques=["DR"],
    types=(REPLICATION_GROUP,),
    config={"minRetentionDays": {"type": "number", "default": 7, "minimum": 1}},
)
def elasticache_backups(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    retention = number(r.get("snapshotRetentionLimit", default=0)) or 0.0
    if retention < config["minRetentionDays"]:
        yield f"snapshotRetentionLimit {fmt(retention)} day(s) is below {fmt(config['minRetentionDays'])}"


_EVICTING = {"allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru", "volatile-lfu", "volatile-random",
             "volatile-ttl"}


@resource_rule(
    id="aws-cache-eviction-policy",
    description="Caches evict under memory pressure instead of failing writes, through their own parameter group.",
    remediation="Give the replication group its own parameter group (not default.*) with maxmemory-policy "
                "allkeys-lru/allkeys-lfu (never noeviction).",
    anchors=["G7"],
    techniques=["LAT", "RES"],
    types=(CACHE_PARAMETER_GROUP, REPLICATION_GROUP),
)
def cache_eviction_policy(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    if r.type == REPLICATION_GROUP:
        if r.get("globalReplicationGroupId") is not None:
            return  # members of a global datastore take parameters from the datastore
        group = r.get("parameterGroupName")
        if group is None or str(group).startswith("default."):
            yield f"parameter group {group or '(engine default)'}: the eviction policy is not under the stack's control"
        return
    if not str(r.get("family", default="")).startswith(("redis", "valkey")):
        return
    parameters = {str(dig(p, "name")): str(dig(p, "value")) for p in items(r.get("parameters"))}
    policy = parameters.get("maxmemory-policy")
    if policy is None:
        yield "maxmemory-policy is not set explicitly"
    elif policy not in _EVICTING:
        yield f"maxmemory-policy {policy}: a full cache rejects writes instead of evicting"


@resource_rule(
    id="aws-dynamodb-pitr",
    description="DynamoDB tables and their replicas have point-in-time recovery.",
    remediation="Set pointInTimeRecovery {enabled: true} on the table and on each replica.",
    anchors=["A12", "CKV_AWS_28", "DDB3"],
    techniques=["DR"],
    types=(TABLE,),
)
def dynamodb_pitr(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    if not is_true(r.get("pointInTimeRecovery", "enabled")):
        yield "point-in-time recovery is off"
    for replica in items(r.get("replicas")):
        if not is_true(dig(replica, "pointInTimeRecovery")):
            yield f"replica in {dig(replica, 'regionName')} has no point-in-time recovery"


@resource_rule(
    id="aws-efs-multi-az",
    description="EFS file systems are regional (Multi-AZ), not One Zone.",
    remediation="Omit availabilityZoneName so the file system stores data across AZs.",
    anchors=["A45"],
    techniques=["RES"],
    types=(EFS,),
)
def efs_multi_az(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    if r.get("availabilityZoneName") is not None:
        yield f"One Zone file system in {r.get('availabilityZoneName')}: lost with its AZ"


@resource_rule(
    id="aws-opensearch-fault-tolerance",
    description="OpenSearch domains use zone awareness and dedicated masters.",
    remediation="Set clusterConfig.zoneAwarenessEnabled and dedicatedMasterEnabled (3 masters), with instanceCount "
                "a multiple of the AZ count.",
    anchors=["A43", "CKV_AWS_318", "CKV2_AWS_59", "OS4", "OS7"],
    techniques=["RES"],
    types=(OPENSEARCH,),
)
def opensearch_fault_tolerance(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    if not is_true(r.get("clusterConfig", "zoneAwarenessEnabled")):
        yield "zone awareness is off"
    if not is_true(r.get("clusterConfig", "dedicatedMasterEnabled")):
        yield "no dedicated master nodes"


@resource_rule(
    id="aws-broker-multi-az",
    description="Message brokers survive an AZ: MQ runs active/standby or clustered across AZs, MSK brokers "
                "spread evenly over >= 3 AZs.",
    remediation="MQ: deploymentMode ACTIVE_STANDBY_MULTI_AZ (or CLUSTER_MULTI_AZ). MSK: clientSubnets in >= 3 AZs "
                "and numberOfBrokerNodes a multiple of the subnet count.",
    anchors=["G14"],
    techniques=["RES"],
    types=("aws:mq/broker:Broker", "aws:msk/cluster:Cluster"),
)
def broker_multi_az(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    if r.type == "aws:mq/broker:Broker":
        mode = r.get("deploymentMode", default="SINGLE_INSTANCE")
        if mode not in ("ACTIVE_STANDBY_MULTI_AZ", "CLUSTER_MULTI_AZ"):
            yield f"deploymentMode {mode}: the broker is lost with its AZ"
        return
    subnets = len(items(r.get("brokerNodeGroupInfo", "clientSubnets")))
    brokers = number(r.get("numberOfBrokerNodes")) or 0.0
    if subnets < 3:
        yield f"brokers span {subnets} subnet(s): fewer than 3 AZs cannot keep a quorum through an AZ loss"
    elif brokers % subnets:
        yield f"{fmt(brokers)} brokers over {subnets} AZs: uneven spread"


@resource_rule(
    id="stateful-resources-protected",
    description="Stateful resources carry Pulumi `protect`, so no program change or destroy deletes them by accident.",
    remediation="Pass opts=ResourceOptions(protect=True) on databases, caches, tables, buckets, file systems, keys "
                "and persistent volume claims (the components do by default; protect=False is the knob).",
    anchors=["G23"],
    techniques=["IMM", "RES"],
    types=STATEFUL_TYPES,
)
def stateful_resources_protected(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    if not r.protect:
        yield f"{r.kind} '{r.name}' is not protected: `pulumi destroy` or a rename deletes its data"
