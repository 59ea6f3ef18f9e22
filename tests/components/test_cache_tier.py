"""CacheTier: declared resources, resilient inputs, options, knobs and invalid combinations."""

import pytest

from reliability_stack.components.cache_tier import (
    CacheSecondaryRegion,
    CacheTier,
    CacheTierArgs,
    node_placement,
)
from reliability_stack.errors import ComponentArgsError
from reliability_stack.preview.capture import capture_program
from reliability_stack.preview.mocks import RealisticMocks
from reliability_stack.resource_tags import SERVICE_TAG, STACK_TAG
from tests.assertions import find, one, props_like

RG = "aws:elasticache/replicationGroup:ReplicationGroup"
GLOBAL = "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup"
ZONES = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
TOKEN = "correct-horse-battery-staple"


class GlobalDatastoreMocks(RealisticMocks):
    """Adds the global datastore id AWS derives from the suffix (not in the shared mocks yet)."""

    def new_resource(self, args):
        resource_id, state = super().new_resource(args)
        if args.typ == GLOBAL:
            state["globalReplicationGroupId"] = f"ldgnf-{args.inputs['globalReplicationGroupIdSuffix']}"
        return resource_id, state


def cache_args(**overrides) -> CacheTierArgs:
    values = dict(service="orders", region="eu-west-1", vpc_id="vpc-1", subnet_ids=["subnet-a", "subnet-b", "subnet-c"],
                  availability_zones=ZONES, client_security_group_ids=["sg-app"])
    values.update(overrides)
    return CacheTierArgs(**values)


def capture(args: CacheTierArgs, name: str = "orders-cache"):
    return capture_program(lambda: CacheTier(name, args), stack="prod", mocks=GlobalDatastoreMocks("eu-west-1")).resources


def global_args(**overrides) -> CacheTierArgs:
    values = dict(auth_mode="auth-token", auth_token=TOKEN, global_datastore=True, secondary_regions=[
        CacheSecondaryRegion(region="us-east-1", vpc_id="vpc-2", subnet_ids=["subnet-x", "subnet-y"],
                             availability_zones=["us-east-1a", "us-east-1b"], client_security_group_ids=["sg-us"])])
    values.update(overrides)
    return cache_args(**values)


@pytest.fixture(scope="module")
def default_resources():
    return capture(cache_args())


@pytest.fixture(scope="module")
def global_resources():
    return capture(global_args())


def test_declares_the_cache_tier_resource_types(default_resources):
    types = {r.type for r in default_resources}
    assert types == {
        "reliability-stack:cache_tier:CacheTier", RG, "aws:elasticache/parameterGroup:ParameterGroup",
        "aws:elasticache/subnetGroup:SubnetGroup", "aws:ec2/securityGroup:SecurityGroup",
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "aws:cloudwatch/logGroup:LogGroup",
        "aws:elasticache/user:User", "aws:elasticache/userGroup:UserGroup",
    }
    component = one(default_resources, "reliability-stack:cache_tier:CacheTier")
    assert all(r.parent == component.urn for r in default_resources if r is not component)


def test_replication_group_is_multi_az_encrypted_and_backed_up(default_resources):
    group = one(default_resources, RG, engine="valkey", multiAzEnabled=True, automaticFailoverEnabled=True,
                atRestEncryptionEnabled=True, transitEncryptionEnabled=True, transitEncryptionMode="required",
                snapshotRetentionLimit=7, finalSnapshotIdentifier="orders-cache-final", clusterMode="disabled",
                numCacheClusters=3, preferredCacheClusterAzs=ZONES, region="eu-west-1")
    assert group.props["tags"] == {STACK_TAG: "prod", SERVICE_TAG: "orders"}
    assert group.props["logDeliveryConfigurations"] == [{
        "destination": one(default_resources, "aws:cloudwatch/logGroup:LogGroup").outputs["name"],
        "destinationType": "cloudwatch-logs", "logFormat": "json", "logType": "slow-log"}]
    assert group.options["protect"] is True
    assert group.options["ignoreChanges"] == ["engineVersion"]


def test_parameter_group_evicts_and_reserves_memory(default_resources):
    params = one(default_resources, "aws:elasticache/parameterGroup:ParameterGroup", family="valkey8")
    values = {p["name"]: p["value"] for p in params.props["parameters"]}
    assert values == {"maxmemory-policy": "volatile-lru", "reserved-memory-percent": "25"}
    group = one(default_resources, RG)
    assert group.props["parameterGroupName"] == params.outputs["name"]


def test_rbac_user_group_disables_default_user_and_uses_iam(default_resources):
    users = {u.props["userName"]: u.props for u in find(default_resources, "aws:elasticache/user:User")}
    assert users["default"]["accessString"].startswith("off")
    app = users["orders-cache-app"]
    assert app["authenticationMode"] == {"type": "iam"} and app["userId"] == "orders-cache-app"
    group = one(default_resources, "aws:elasticache/userGroup:UserGroup")
    assert sorted(group.props["userIds"]) == ["orders-cache-app", "orders-cache-default"]
    assert one(default_resources, RG).props["userGroupIds"] == [group.props["userGroupId"]]
    assert "authToken" not in one(default_resources, RG).props


def test_security_group_admits_only_the_clients_on_the_cache_port(default_resources):
    rule = one(default_resources, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert props_like(rule.props, {"referencedSecurityGroupId": "sg-app", "fromPort": 6379, "toPort": 6379,
                                   "ipProtocol": "tcp"})
    assert [rule.props["securityGroupId"]] == one(default_resources, RG).props["securityGroupIds"]
    assert "cidrIpv4" not in rule.props


def test_every_taggable_resource_carries_stack_and_service_tags(default_resources):
    untagged = [r.name for r in default_resources if r.custom and "tags" not in r.props]
    assert untagged == []
    assert all(r.props["tags"][SERVICE_TAG] == "orders" for r in default_resources if r.custom)


def test_cluster_mode_spreads_each_shard_over_other_azs():
    resources = capture(cache_args(shards=3, replicas_per_shard=1, maxmemory_policy="allkeys-lru"))
    group = one(resources, RG, clusterMode="enabled", numNodeGroups=3, replicasPerNodeGroup=1)
    for shard in group.props["nodeGroupConfigurations"]:
        assert shard["primaryAvailabilityZone"] not in shard["replicaAvailabilityZones"]
    primaries = [s["primaryAvailabilityZone"] for s in group.props["nodeGroupConfigurations"]]
    assert sorted(primaries) == ZONES  # one primary per AZ
    values = {p["name"]: p["value"] for p in one(resources, "aws:elasticache/parameterGroup:ParameterGroup").props["parameters"]}
    assert values["cluster-enabled"] == "yes" and values["maxmemory-policy"] == "allkeys-lru"


def test_node_placement_puts_replicas_outside_the_primary_az():
    assert node_placement(["a", "b"], 3) == ("a", ["b", "a", "b"])
    assert node_placement(["a", "b", "c"], 2) == ("a", ["b", "c"])


def test_global_datastore_links_a_protected_secondary_that_inherits_settings(global_resources):
    global_group = one(global_resources, GLOBAL, globalReplicationGroupIdSuffix="orders-cache",
                       automaticFailoverEnabled=True, region="eu-west-1")
    primary = one(global_resources, RG, region="eu-west-1")
    assert global_group.options["protect"] is True
    secondary = one(global_resources, RG, region="us-east-1", globalReplicationGroupId="ldgnf-orders-cache",
                    multiAzEnabled=True, automaticFailoverEnabled=True, numCacheClusters=3,
                    preferredCacheClusterAzs=["us-east-1a", "us-east-1b", "us-east-1a"])
    for inherited in ("engine", "engineVersion", "nodeType", "parameterGroupName", "atRestEncryptionEnabled"):
        assert inherited not in secondary.props
    assert secondary.options["protect"] is True
    assert {"engineVersion", "nodeType", "parameterGroupName"} <= set(secondary.options["ignoreChanges"])
    assert set(primary.options["ignoreChanges"]) == {"engineVersion", "nodeType", "parameterGroupName"}
    assert secondary.props["authToken"]  # AUTH works across the datastore; RBAC does not
    assert not find(global_resources, "aws:elasticache/userGroup:UserGroup")


def test_global_primary_id_is_wired_from_the_primary_group(global_resources):
    primary = one(global_resources, RG, region="eu-west-1")
    global_group = one(global_resources, GLOBAL)
    assert global_group.props["primaryReplicationGroupId"].startswith("orders-cache-rg-")
    assert primary.name == "orders-cache-rg"


@pytest.mark.parametrize(("overrides", "expected"), [
    ({"multi_az": False}, {"multiAzEnabled": False, "automaticFailoverEnabled": False, "numCacheClusters": 3}),
    ({"multi_az": False, "replicas_per_shard": 0}, {"multiAzEnabled": False, "automaticFailoverEnabled": False,
                                                    "numCacheClusters": 1}),
    ({"snapshot_retention_days": 0}, {"snapshotRetentionLimit": 0}),
    ({"transit_encryption_mode": "preferred"}, {"transitEncryptionMode": "preferred"}),
    ({"engine": "redis", "engine_version": "7.1"}, {"engine": "redis", "engineVersion": "7.1"}),
])
def test_knobs_turn_resilience_down_explicitly(overrides, expected):
    resources = capture(cache_args(**overrides))
    one(resources, RG, **expected)
    if "engine" in overrides:
        one(resources, "aws:elasticache/parameterGroup:ParameterGroup", family="redis7")


def test_protect_knob_unprotects_the_data():
    resources = capture(cache_args(protect=False))
    assert one(resources, RG).options["protect"] is False


@pytest.mark.parametrize(("overrides", "argument"), [
    ({"maxmemory_policy": "noeviction"}, "maxmemory_policy"),
    ({"maxmemory_policy": "lru-please"}, "maxmemory_policy"),
    ({"replicas_per_shard": 0}, "replicas_per_shard"),
    ({"replicas_per_shard": 6}, "replicas_per_shard"),
    ({"shards": 2, "replicas_per_shard": 0, "multi_az": False}, "replicas_per_shard"),
    ({"availability_zones": ["eu-west-1a"]}, "availability_zones"),
    ({"availability_zones": ["eu-west-1a", "eu-west-1a"]}, "availability_zones"),
    ({"subnet_ids": ["subnet-a"]}, "subnet_ids"),
    ({"reserved_memory_percent": 0}, "reserved_memory_percent"),
    ({"snapshot_retention_days": 36}, "snapshot_retention_days"),
    ({"slow_log_retention_days": 2}, "slow_log_retention_days"),
    ({"engine_version": "latest"}, "engine_version"),
    ({"auth_mode": "auth-token"}, "auth_token"),
    ({"auth_mode": "auth-token", "auth_token": "short"}, "auth_token"),
    ({"auth_token": TOKEN}, "auth_token"),
    ({"secondary_regions": global_args().secondary_regions}, "secondary_regions"),
])
def test_invalid_combinations_raise_naming_the_argument(overrides, argument):
    with pytest.raises(ComponentArgsError) as error:
        capture(cache_args(**overrides))
    assert error.value.field == f"CacheTier.{argument}"


@pytest.mark.parametrize(("overrides", "argument"), [
    ({"auth_mode": "rbac", "auth_token": None}, "auth_mode"),
    ({"node_type": "cache.t4g.small"}, "node_type"),
    ({"node_type": "cache.r7g.medium"}, "node_type"),
    ({"multi_az": False}, "multi_az"),
    ({"secondary_regions": []}, "secondary_regions"),
    ({"secondary_regions": [CacheSecondaryRegion(region="eu-west-1", vpc_id="v", subnet_ids=["a", "b"],
                                                 availability_zones=["a", "b"])]}, "secondary_regions"),
    ({"secondary_regions": [CacheSecondaryRegion(region="us-east-1", vpc_id="v", subnet_ids=["a", "b"],
                                                 availability_zones=["a"])]},
     "secondary_regions[0].availability_zones"),
])
def test_invalid_global_datastore_combinations(overrides, argument):
    with pytest.raises(ComponentArgsError) as error:
        capture(global_args(**overrides))
    assert error.value.field == f"CacheTier.{argument}"


def test_component_name_must_fit_elasticache_identifiers():
    with pytest.raises(ComponentArgsError, match="lowercase"):
        capture(cache_args(), name="Orders_Cache")
