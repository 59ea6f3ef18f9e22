"""`relstack verify`: live resources (moto) against the stack's reliability intent."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from reliability_stack.cli.main import app
from reliability_stack.config import load_stack_config
from reliability_stack.runtime.deployed_intent import IntentCheck, verify_stack
from reliability_stack.runtime.tagged_resources import TAG_SERVICE, TAG_SEVERITY, TAG_SLO, TAG_STACK
from reliability_stack.service_slos import load_stack_slos

from .conftest import REGION, SERVICE, STACK, Network, clients, network, seeding_client, tags, write_project

pytestmark = pytest.mark.usefixtures("aws")

TOPIC = f"arn:aws:sns:{REGION}:123456789012:shop-page"


def deploy(net: Network, *, resilient: bool = True, alarms: bool = True) -> None:
    """What the components would have created for the `shop` service (or a drifted copy)."""
    ec2 = seeding_client("ec2")
    template = ec2.create_launch_template(LaunchTemplateName="shop",
                                          LaunchTemplateData={"ImageId": "ami-12c6146b", "InstanceType": "t4g.small"})
    zones = net.subnet_ids if resilient else net.subnet_ids[:1]
    seeding_client("autoscaling").create_auto_scaling_group(
        AutoScalingGroupName="shop-asg",
        LaunchTemplate={"LaunchTemplateId": template["LaunchTemplate"]["LaunchTemplateId"]},
        MinSize=2 if resilient else 1, MaxSize=6, DesiredCapacity=0,
        VPCZoneIdentifier=",".join(zones), HealthCheckType="ELB" if resilient else "EC2",
        Tags=[{**tag, "PropagateAtLaunch": True} for tag in tags()])
    seeding_client("elbv2").create_target_group(
        Name="shop-tg", Protocol="HTTP", Port=8080, VpcId=net.vpc_id, HealthCheckEnabled=True,
        HealthCheckPath="/healthz" if resilient else "/", Tags=tags())
    seeding_client("rds").create_db_cluster(
        DBClusterIdentifier="shop-db", Engine="aurora-postgresql", MasterUsername="app",
        MasterUserPassword="not-a-real-password", DeletionProtection=resilient,
        BackupRetentionPeriod=14 if resilient else 1, Tags=tags())
    seeding_client("elasticache").create_replication_group(
        ReplicationGroupId="shop-cache", ReplicationGroupDescription="shop", Engine="valkey",
        CacheNodeType="cache.t4g.small", NumCacheClusters=2, AutomaticFailoverEnabled=resilient,
        MultiAZEnabled=resilient, Tags=tags())
    if alarms:
        cloudwatch = seeding_client("cloudwatch")
        for severity, actions in (("page", [TOPIC] if resilient else []), ("ticket", [TOPIC])):
            cloudwatch.put_metric_alarm(
                AlarmName=f"shop-availability-{severity}", Namespace="AWS/ApplicationELB",
                MetricName="HTTPCode_Target_5XX_Count", Statistic="Sum", Period=300, EvaluationPeriods=1,
                Threshold=1.0, ComparisonOperator="GreaterThanThreshold", AlarmActions=actions,
                Tags=tags(**{TAG_SLO: "shop-availability", TAG_SEVERITY: severity}))


def run_verify(project: Path, stack: str = STACK) -> list[IntentCheck]:
    config = load_stack_config(project, stack)
    return verify_stack(clients(), config, load_stack_slos(project, config).slos)


def mismatches(checks: list[IntentCheck]) -> set[tuple[str, str]]:
    return {(c.resource, c.check) for c in checks if not c.ok}


def test_resilient_deployment_verifies_clean(project: Path) -> None:
    deploy(network())
    checks = run_verify(project)
    assert not mismatches(checks), [c for c in checks if not c.ok]
    names = {(c.resource, c.check) for c in checks}
    assert {("auto-scaling-group shop-asg", "min size"), ("auto-scaling-group shop-asg", "AZ spread"),
            ("target-group shop-tg", "health check path"), ("db-cluster shop-db", "deletion protection"),
            ("db-cluster shop-db", "backup retention"), ("cache-replication-group shop-cache", "automatic failover"),
            ("slo shop-availability", "page alarm notifies")} <= names
    result = CliRunner().invoke(app, ["verify", "--stack", STACK, "--project-dir", str(project)])
    assert result.exit_code == 0, result.output
    assert f"{len(checks)} checks passed, 0 mismatch(es)" in result.output


def test_drift_is_reported_per_resource(project: Path) -> None:
    deploy(network(), resilient=False)
    checks = run_verify(project)
    assert mismatches(checks) == {
        ("auto-scaling-group shop-asg", "min size"),
        ("auto-scaling-group shop-asg", "AZ spread"),
        ("auto-scaling-group shop-asg", "health check type"),
        ("target-group shop-tg", "health check path"),
        ("db-cluster shop-db", "deletion protection"),
        ("db-cluster shop-db", "backup retention"),
        ("cache-replication-group shop-cache", "automatic failover"),
        ("cache-replication-group shop-cache", "Multi-AZ"),
        ("slo shop-availability", "page alarm notifies"),
    }
    by_check = {(c.resource, c.check): c for c in checks}
    assert by_check[("auto-scaling-group shop-asg", "min size")].actual == "1"
    assert by_check[("db-cluster shop-db", "backup retention")].expected == ">= 7 days"


def test_missing_resources_are_mismatches(project: Path) -> None:
    checks = run_verify(project)  # nothing deployed
    assert {c.check for c in checks if not c.ok} == {"exists", "alarms exist"}
    assert {c.resource for c in checks if not c.ok} >= {"auto-scaling-group", "target-group", "db-cluster",
                                                        "cache-replication-group", "slo shop-availability"}


def test_resources_of_other_stacks_are_ignored(project: Path) -> None:
    deploy(network())
    seeding_client("rds").create_db_cluster(
        DBClusterIdentifier="other-db", Engine="aurora-postgresql", MasterUsername="app",
        MasterUserPassword="not-a-real-password", DeletionProtection=False,
        Tags=[{"Key": TAG_STACK, "Value": "someone-else"}, {"Key": TAG_SERVICE, "Value": SERVICE}])
    assert not mismatches(run_verify(project))


def test_dynamodb_backups_and_protection(tmp_path: Path) -> None:
    project = write_project(tmp_path / "ddb", database="dynamodb")
    deploy(network())
    dynamodb = seeding_client("dynamodb")
    for table, pitr, protected in (("shop-orders", True, True), ("shop-carts", False, False)):
        dynamodb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                              AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                              KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                              DeletionProtectionEnabled=protected, Tags=tags())
        if pitr:
            dynamodb.update_continuous_backups(
                TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    assert mismatches(run_verify(project)) == {("dynamodb-table shop-carts", "point-in-time recovery"),
                                               ("dynamodb-table shop-carts", "deletion protection")}


def test_cli_verify_reports_mismatches_and_exits_1(project: Path) -> None:
    deploy(network(), resilient=False, alarms=False)
    result = CliRunner().invoke(app, ["verify", "--stack", STACK, "--project-dir", str(project)])
    assert result.exit_code == 1, result.output
    assert "MISMATCH" in result.output and "1 checks passed, 9 mismatch(es)" in result.output
    assert "deletion protection" in result.output
