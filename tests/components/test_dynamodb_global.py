"""DynamoDbGlobalTable: replicas, PITR, deletion protection, KMS, streams, autoscaling, errors."""

import pytest

from reliability_stack.components.dynamodb_global import (
    DynamoDbAttribute,
    DynamoDbCapacity,
    DynamoDbGlobalTable,
    DynamoDbGlobalTableArgs,
)
from reliability_stack.errors import ComponentArgsError
from reliability_stack.preview.capture import capture_program
from reliability_stack.resource_tags import SERVICE_TAG, STACK_TAG
from tests.assertions import find, one

TABLE = "aws:dynamodb/table:Table"
KEY = "aws:kms/key:Key"
TARGET = "aws:appautoscaling/target:Target"
POLICY = "aws:appautoscaling/policy:Policy"
KEYS = [DynamoDbAttribute(name="pk", type="S"), DynamoDbAttribute(name="sk", type="S")]


def table_args(**overrides) -> DynamoDbGlobalTableArgs:
    values = dict(service="orders", region="eu-west-1", replica_regions=["us-east-1", "ap-southeast-2"],
                  hash_key="pk", range_key="sk", attributes=KEYS)
    values.update(overrides)
    return DynamoDbGlobalTableArgs(**values)


def capture(args: DynamoDbGlobalTableArgs):
    return capture_program(lambda: DynamoDbGlobalTable("sessions", args), stack="prod").resources


@pytest.fixture(scope="module")
def global_table():
    return capture(table_args())


def test_declares_a_protected_table_and_a_protected_key_per_region(global_table):
    assert {r.type for r in global_table} == {"reliability-stack:dynamodb_global:DynamoDbGlobalTable", TABLE, KEY}
    keys = find(global_table, KEY, enableKeyRotation=True)
    assert sorted(k.props["region"] for k in keys) == ["ap-southeast-2", "eu-west-1", "us-east-1"]
    assert all(r.options["protect"] for r in global_table if r.custom)


def test_table_is_on_demand_recoverable_protected_encrypted_and_streamed(global_table):
    table = one(global_table, TABLE, billingMode="PAY_PER_REQUEST", hashKey="pk", rangeKey="sk",
                deletionProtectionEnabled=True, streamEnabled=True, streamViewType="NEW_AND_OLD_IMAGES",
                pointInTimeRecovery={"enabled": True, "recoveryPeriodInDays": 35}, region="eu-west-1")
    home_key = one(global_table, KEY, region="eu-west-1")
    assert table.props["serverSideEncryption"] == {"enabled": True, "kmsKeyArn": home_key.outputs["arn"]}
    assert table.props["tags"] == {STACK_TAG: "prod", SERVICE_TAG: "orders"}
    assert "readCapacity" not in table.props and table.options["ignoreChanges"] == []


def test_every_replica_has_pitr_deletion_protection_and_its_regional_key(global_table):
    table = one(global_table, TABLE)
    replicas = {r["regionName"]: r for r in table.props["replicas"]}
    assert set(replicas) == {"us-east-1", "ap-southeast-2"}
    for region, replica in replicas.items():
        assert replica == {"regionName": region, "pointInTimeRecovery": True, "deletionProtectionEnabled": True,
                           "propagateTags": True, "kmsKeyArn": one(global_table, KEY, region=region).outputs["arn"]}


def test_provisioned_mode_autoscales_reads_and_writes_in_every_region():
    resources = capture(table_args(billing_mode="PROVISIONED", read_capacity=DynamoDbCapacity(min=5, max=50),
                                   write_capacity=DynamoDbCapacity(min=2, max=20, target_utilization_percent=60)))
    table = one(resources, TABLE, billingMode="PROVISIONED", readCapacity=5, writeCapacity=2)
    assert set(table.options["ignoreChanges"]) == {"readCapacity", "writeCapacity"}
    targets = find(resources, TARGET, serviceNamespace="dynamodb")
    assert sorted((t.props["region"], t.props["scalableDimension"]) for t in targets) == sorted(
        (region, f"dynamodb:table:{d}CapacityUnits")
        for region in ("eu-west-1", "us-east-1", "ap-southeast-2") for d in ("Read", "Write"))
    assert all(t.props["resourceId"].startswith("table/") for t in targets)
    writes = find(resources, POLICY, policyType="TargetTrackingScaling", region="us-east-1",
                  scalableDimension="dynamodb:table:WriteCapacityUnits")
    assert len(writes) == 1
    config = writes[0].props["targetTrackingScalingPolicyConfiguration"]
    assert config["targetValue"] == 60
    assert config["predefinedMetricSpecification"] == {"predefinedMetricType": "DynamoDBWriteCapacityUtilization"}


def test_ttl_is_declared_when_asked():
    one(capture(table_args(ttl_attribute="expires_at", replica_regions=[])), TABLE,
        ttl={"attributeName": "expires_at", "enabled": True}, replicas=[])


@pytest.mark.parametrize(("overrides", "expected"), [
    ({"point_in_time_recovery": False}, {"pointInTimeRecovery": {"enabled": False},
                                         "replicas": [{"pointInTimeRecovery": False}]}),
    ({"deletion_protection": False}, {"deletionProtectionEnabled": False,
                                      "replicas": [{"deletionProtectionEnabled": False}]}),
])
def test_knobs_turn_resilience_down_on_table_and_replicas(overrides, expected):
    one(capture(table_args(replica_regions=["us-east-1"], **overrides)), TABLE, **expected)


def test_protect_knob():
    resources = capture(table_args(protect=False))
    assert not any(r.options["protect"] for r in resources)


@pytest.mark.parametrize(("overrides", "argument"), [
    ({"hash_key": "id"}, "hash_key"),
    ({"range_key": "ts"}, "range_key"),
    ({"attributes": [*KEYS, DynamoDbAttribute(name="email")]}, "attributes"),
    ({"attributes": [KEYS[0], KEYS[0], KEYS[1]]}, "attributes"),
    ({"attributes": [DynamoDbAttribute(name="pk", type="X"), KEYS[1]]}, "attributes[0].type"),
    ({"replica_regions": ["eu-west-1"]}, "replica_regions"),
    ({"replica_regions": ["us-east-1", "us-east-1"]}, "replica_regions"),
    ({"recovery_period_days": 36}, "recovery_period_days"),
    ({"billing_mode": "PROVISIONED"}, "read_capacity"),
    ({"billing_mode": "PROVISIONED", "read_capacity": DynamoDbCapacity(min=10, max=5),
      "write_capacity": DynamoDbCapacity()}, "read_capacity"),
    ({"billing_mode": "PROVISIONED", "read_capacity": DynamoDbCapacity(),
      "write_capacity": DynamoDbCapacity(target_utilization_percent=99)}, "write_capacity"),
    ({"read_capacity": DynamoDbCapacity()}, "billing_mode"),
])
def test_invalid_combinations_raise_naming_the_argument(overrides, argument):
    with pytest.raises(ComponentArgsError) as error:
        capture(table_args(**overrides))
    assert error.value.field == f"DynamoDbGlobalTable.{argument}"
