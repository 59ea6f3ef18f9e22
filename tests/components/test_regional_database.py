"""RegionalDatabase: Aurora global database resources, resilient inputs, options, knobs, errors."""

import pytest

from reliability_stack.components.regional_database import (
    DatabaseRegion,
    RegionalDatabase,
    RegionalDatabaseArgs,
    instance_layout,
)
from reliability_stack.errors import ComponentArgsError
from reliability_stack.preview.capture import capture_program
from reliability_stack.resource_tags import SERVICE_TAG, STACK_TAG
from tests.assertions import find, one

CLUSTER = "aws:rds/cluster:Cluster"
INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
GLOBAL = "aws:rds/globalCluster:GlobalCluster"
KEY = "aws:kms/key:Key"
EU = DatabaseRegion(region="eu-west-1", vpc_id="vpc-eu", subnet_ids=["subnet-1", "subnet-2", "subnet-3"],
                    availability_zones=["eu-west-1a", "eu-west-1b", "eu-west-1c"], client_security_group_ids=["sg-app"])
US = DatabaseRegion(region="us-east-1", vpc_id="vpc-us", subnet_ids=["subnet-4", "subnet-5"],
                    availability_zones=["us-east-1a", "us-east-1b"])
STATEFUL = {CLUSTER, INSTANCE, GLOBAL, KEY}


def db_args(**overrides) -> RegionalDatabaseArgs:
    values = dict(service="orders", primary=EU, secondaries=[US], master_password="s3cret-pa55word")
    values.update(overrides)
    return RegionalDatabaseArgs(**values)


def capture(args: RegionalDatabaseArgs, name: str = "orders-db"):
    return capture_program(lambda: RegionalDatabase(name, args), stack="prod").resources


@pytest.fixture(scope="module")
def global_db():
    return capture(db_args())


@pytest.fixture(scope="module")
def single_region_db():
    return capture(db_args(secondaries=[], master_password=None))


def test_global_database_declares_a_global_cluster_and_one_cluster_per_region(global_db):
    global_cluster = one(global_db, GLOBAL, engine="aurora-postgresql", deletionProtection=True,
                         storageEncrypted=True, region="eu-west-1", globalClusterIdentifier="orders-db")
    clusters = find(global_db, CLUSTER)
    assert sorted(c.props["region"] for c in clusters) == ["eu-west-1", "us-east-1"]
    assert global_cluster.props["databaseName"] == "app"
    # Both clusters reference the global cluster's id (mock ids derive from the resource name).
    assert all(c.props["globalClusterIdentifier"].startswith("orders-db-global-") for c in clusters)


def test_every_regional_cluster_is_encrypted_with_its_own_key_and_backed_up(global_db):
    keys = {k.props["region"]: k for k in find(global_db, KEY, enableKeyRotation=True, deletionWindowInDays=30)}
    assert set(keys) == {"eu-west-1", "us-east-1"}
    for cluster in find(global_db, CLUSTER):
        region = cluster.props["region"]
        assert cluster.props["kmsKeyId"] == keys[region].outputs["arn"]
        one([cluster], CLUSTER, storageEncrypted=True, backupRetentionPeriod=14, copyTagsToSnapshot=True,
            deletionProtection=True, skipFinalSnapshot=False, finalSnapshotIdentifier=f"orders-db-{region}-final",
            iamDatabaseAuthenticationEnabled=True, enabledCloudwatchLogsExports=["postgresql"])


def test_primary_holds_credentials_and_secondary_joins_after_the_writer(global_db):
    primary = one(global_db, CLUSTER, region="eu-west-1", databaseName="app", masterUsername="app_admin")
    assert "manageMasterUserPassword" not in primary.props  # not supported on global databases
    assert primary.props["masterPassword"]
    secondary = one(global_db, CLUSTER, region="us-east-1", sourceRegion="eu-west-1")
    assert "masterUsername" not in secondary.props and "masterPassword" not in secondary.props
    writer = one(global_db, INSTANCE, region="eu-west-1", promotionTier=0)
    assert writer.urn in secondary.options["dependsOn"]


def test_secondary_ignores_what_replication_rewrites(global_db):
    secondary = one(global_db, CLUSTER, region="us-east-1")
    assert set(secondary.options["ignoreChanges"]) == {
        "replicationSourceIdentifier", "globalClusterIdentifier", "engineVersion"}
    primary = one(global_db, CLUSTER, region="eu-west-1")
    assert set(primary.options["ignoreChanges"]) == {"globalClusterIdentifier", "engineVersion"}
    assert one(global_db, GLOBAL).options["ignoreChanges"] == ["engineVersion"]


def test_each_region_has_a_writer_and_a_reader_in_different_azs(global_db):
    for region in ("eu-west-1", "us-east-1"):
        instances = find(global_db, INSTANCE, region=region)
        assert len(instances) == 2
        assert len({i.props["availabilityZone"] for i in instances}) == 2
        assert sorted(i.props["promotionTier"] for i in instances) == [0, 1]
        for instance in instances:
            one([instance], INSTANCE, publiclyAccessible=False, performanceInsightsEnabled=True,
                performanceInsightsRetentionPeriod=7, monitoringInterval=60, autoMinorVersionUpgrade=True)
            assert instance.props["monitoringRoleArn"]
            assert instance.props["performanceInsightsKmsKeyId"] == one(global_db, KEY, region=region).outputs["arn"]


def test_protect_is_set_on_every_stateful_resource(global_db):
    stateful = [r for r in global_db if r.type in STATEFUL]
    assert len(stateful) == 1 + 2 + 4 + 2  # global cluster, clusters, instances, keys
    assert [r.name for r in stateful if not r.options["protect"]] == []


def test_every_taggable_resource_carries_stack_and_service_tags(global_db):
    untagged = [r.name for r in global_db if r.custom and r.type != "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
                and r.props.get("tags", {}).get(STACK_TAG) != "prod"]
    assert untagged == []
    assert {r.props["tags"][SERVICE_TAG] for r in global_db if "tags" in r.props} == {"orders"}


def test_security_group_admits_clients_on_the_postgres_port(global_db):
    rule = one(global_db, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
               referencedSecurityGroupId="sg-app", fromPort=5432, toPort=5432, region="eu-west-1")
    assert rule.props["ipProtocol"] == "tcp"


def test_single_region_mode_keeps_writer_reader_and_managed_password(single_region_db):
    assert not find(single_region_db, GLOBAL)
    cluster = one(single_region_db, CLUSTER, manageMasterUserPassword=True, region="eu-west-1")
    assert cluster.props["masterUserSecretKmsKeyId"] == one(single_region_db, KEY).outputs["arn"]
    assert "globalClusterIdentifier" not in cluster.props
    assert cluster.options["ignoreChanges"] == ["engineVersion"]
    instances = find(single_region_db, INSTANCE)
    assert [i.props["availabilityZone"] for i in instances] == ["eu-west-1a", "eu-west-1b"]


def test_deletion_protection_knob_covers_the_global_cluster():
    resources = capture(db_args(deletion_protection=False))
    assert len(find(resources, CLUSTER, deletionProtection=False)) == 2
    one(resources, GLOBAL, deletionProtection=False)


def test_instance_layout_rotates_azs_and_tiers():
    assert instance_layout(["a", "b"], 3) == [("a", 0), ("b", 1), ("a", 2)]


@pytest.mark.parametrize(("overrides", "check"), [
    ({"deletion_protection": False}, lambda rs: one(rs, CLUSTER, deletionProtection=False)),
    ({"performance_insights": False}, lambda rs: all(
        not i.props["performanceInsightsEnabled"] and "performanceInsightsKmsKeyId" not in i.props
        for i in find(rs, INSTANCE))),
    ({"monitoring_interval_seconds": 0}, lambda rs: not find(rs, "aws:iam/role:Role") and all(
        i.props["monitoringInterval"] == 0 and "monitoringRoleArn" not in i.props for i in find(rs, INSTANCE))),
    ({"protect": False}, lambda rs: not any(r.options["protect"] for r in rs)),
    ({"auto_minor_version_upgrade": False}, lambda rs: one(rs, CLUSTER).options["ignoreChanges"] == []),
    ({"instances_per_region": 3}, lambda rs: sorted(i.props["availabilityZone"] for i in find(rs, INSTANCE))
     == ["eu-west-1a", "eu-west-1b", "eu-west-1c"]),
])
def test_knobs(overrides, check):
    resources = capture(db_args(secondaries=[], master_password=None, **overrides))
    assert check(resources)


@pytest.mark.parametrize(("overrides", "argument"), [
    ({"instances_per_region": 1}, "instances_per_region"),
    ({"backup_retention_days": 6}, "backup_retention_days"),
    ({"backup_retention_days": 36}, "backup_retention_days"),
    ({"monitoring_interval_seconds": 45}, "monitoring_interval_seconds"),
    ({"performance_insights_retention_days": 30}, "performance_insights_retention_days"),
    ({"engine_version": "16"}, "engine_version"),
    ({"database_name": "1app"}, "database_name"),
    ({"master_password": None}, "master_password"),
    ({"secondaries": [EU]}, "secondaries"),
    ({"secondaries": [US] * 6}, "secondaries"),
    ({"primary": DatabaseRegion(region="eu-west-1", vpc_id="v", subnet_ids=["a", "b"],
                                availability_zones=["eu-west-1a"])}, "primary.availability_zones"),
    ({"secondaries": [DatabaseRegion(region="us-east-1", vpc_id="v", subnet_ids=["a"],
                                     availability_zones=["us-east-1a", "us-east-1b"])]}, "secondaries[0].subnet_ids"),
])
def test_invalid_combinations_raise_naming_the_argument(overrides, argument):
    with pytest.raises(ComponentArgsError) as error:
        capture(db_args(**overrides))
    assert error.value.field == f"RegionalDatabase.{argument}"
