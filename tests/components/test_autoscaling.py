"""Autoscaling: pinned AMI, IMDSv2, latest_version, ELB checks, AZ headroom, rolling refresh."""

import base64

import pytest

from reliability_stack.components.autoscaling import (
    Autoscaling,
    AutoscalingArgs,
    InstanceRefresh,
    minimum_size_for,
    surviving_capacity,
    validate_ami_id,
)
from reliability_stack.errors import ComponentArgsError
from reliability_stack.preview.capture import capture_program
from tests.assertions import one

GROUP = "aws:autoscaling/group:Group"
TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
AMI = "ami-0123456789abcdef0"
SUBNETS = ["subnet-0a", "subnet-0b", "subnet-0c"]
TARGET_GROUPS = ["arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/blue/1",
                 "arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/green/2"]


def asg_args(**overrides) -> AutoscalingArgs:
    values = dict(service="orders", region="eu-west-1", ami_id=AMI, vpc_id="vpc-0123", subnet_ids=SUBNETS,
                  target_group_arns=TARGET_GROUPS, load_balancer_security_group_id="sg-0alb",
                  rollback_alarm_names=["orders-target-errors", "orders-unhealthy-hosts"])
    values.update(overrides)
    return AutoscalingArgs(**values)


def capture(args: AutoscalingArgs):
    return capture_program(lambda: Autoscaling("orders-euw1", args), stack="prod").resources


@pytest.fixture(scope="module")
def resources():
    return capture(asg_args())


def test_launch_template_pins_the_ami_and_requires_imdsv2(resources):
    template = one(resources, TEMPLATE, imageId=AMI, updateDefaultVersion=True,
                   metadataOptions={"httpTokens": "required", "httpPutResponseHopLimit": 1},
                   monitoring={"enabled": True})
    volume = template.props["blockDeviceMappings"][0]["ebs"]
    assert volume["encrypted"] == "true"


def test_group_uses_the_templates_latest_version_never_latest_alias(resources):
    template = one(resources, TEMPLATE)
    group = one(resources, GROUP)
    assert group.props["launchTemplate"]["version"] == str(template.outputs["latestVersion"])
    assert group.props["launchTemplate"]["version"] != "$Latest"


def test_group_spans_the_azs_with_elb_health_checks_and_waits_for_capacity(resources):
    one(resources, GROUP, minSize=3, maxSize=9, vpcZoneIdentifiers=SUBNETS, targetGroupArns=TARGET_GROUPS,
        healthCheckType="ELB", healthCheckGracePeriod=300, waitForElbCapacity=3,
        availabilityZoneDistribution={"capacityDistributionStrategy": "balanced-best-effort"})


def test_desired_capacity_belongs_to_the_scaling_policy(resources):
    group = one(resources, GROUP)
    assert group.options["ignoreChanges"] == ["desiredCapacity"]
    one(resources, "aws:autoscaling/policy:Policy", policyType="TargetTrackingScaling",
        autoscalingGroupName=group.outputs["name"],
        targetTrackingConfiguration={"targetValue": 50,
                                     "predefinedMetricSpecification": {"predefinedMetricType": "ASGAverageCPUUtilization"}})


def test_instance_refresh_is_rolling_with_checkpoints_and_alarm_rollback(resources):
    group = one(resources, GROUP)
    refresh = group.props["instanceRefresh"]
    assert refresh["strategy"] == "Rolling"
    preferences = refresh["preferences"]
    assert preferences["minHealthyPercentage"] == 100 and preferences["maxHealthyPercentage"] == 200
    assert preferences["checkpointPercentages"][-1] == 100 and len(preferences["checkpointPercentages"]) >= 2
    assert preferences["autoRollback"] is True
    assert preferences["alarmSpecification"] == {"alarms": ["orders-target-errors", "orders-unhealthy-hosts"]}
    assert "GroupInServiceInstances" in group.props["enabledMetrics"]


def test_group_collects_every_group_metric_and_no_warm_pool_metric(resources):
    metrics = one(resources, GROUP).props["enabledMetrics"]
    # The group metrics of the EnableMetricsCollection API; warm-pool metrics need a warm pool.
    assert {"GroupMinSize", "GroupMaxSize", "GroupDesiredCapacity", "GroupInServiceInstances", "GroupPendingInstances",
            "GroupStandbyInstances", "GroupTerminatingInstances", "GroupTotalInstances", "GroupInServiceCapacity",
            "GroupPendingCapacity", "GroupStandbyCapacity", "GroupTerminatingCapacity",
            "GroupTotalCapacity"} <= set(metrics)
    assert len(metrics) == len(set(metrics))
    assert not [m for m in metrics if "WarmPool" in m]


def test_instances_accept_traffic_only_from_the_load_balancer(resources):
    one(resources, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        referencedSecurityGroupId="sg-0alb", fromPort=8080, toPort=8080)


def test_user_data_is_base64_encoded():
    resources = capture(asg_args(user_data="#!/bin/sh\necho ok\n"))
    encoded = one(resources, TEMPLATE).props["userData"]
    assert base64.b64decode(encoded).decode() == "#!/bin/sh\necho ok\n"


def test_auto_rollback_knob_allows_a_refresh_without_alarms():
    resources = capture(asg_args(rollback_alarm_names=[], instance_refresh=InstanceRefresh(auto_rollback=False)))
    preferences = one(resources, GROUP).props["instanceRefresh"]["preferences"]
    assert preferences["autoRollback"] is False and "alarmSpecification" not in preferences


@pytest.mark.parametrize(("min_size", "zones", "left"), [(3, 3, 2), (2, 2, 1), (4, 2, 2), (6, 3, 4), (4, 3, 2)])
def test_surviving_capacity_after_losing_the_fullest_az(min_size, zones, left):
    assert surviving_capacity(min_size, zones) == left


@pytest.mark.parametrize(("required", "zones", "size"), [(2, 3, 3), (2, 2, 4), (4, 3, 6), (1, 2, 2)])
def test_minimum_size_keeps_the_required_capacity(required, zones, size):
    assert minimum_size_for(required, zones) == size
    assert surviving_capacity(size, zones) >= required > surviving_capacity(size - 1, zones)


@pytest.mark.parametrize("ami_id", ["resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
                                    "$Latest", "ami-XYZ", "ami-0123", "ami-0123456789abcdef01"])
def test_ami_must_be_pinned_by_id(ami_id):
    with pytest.raises(ComponentArgsError) as error:
        validate_ami_id(ami_id)
    assert error.value.field == "Autoscaling.ami_id"


def test_ssm_alias_is_named_in_the_message():
    with pytest.raises(ComponentArgsError, match="SSM alias"):
        validate_ami_id("resolve:ssm:/my/ami")


@pytest.mark.parametrize(("overrides", "argument"), [
    ({"subnet_ids": ["subnet-0a"]}, "subnet_ids"),
    ({"target_group_arns": []}, "target_group_arns"),
    ({"min_size": 1, "max_size": 4}, "min_size"),
    ({"min_size": 2, "max_size": 6}, "min_size"),  # 2 over 3 AZs leaves 1 after losing an AZ
    ({"min_size": 4, "max_size": 4}, "max_size"),
    ({"target_cpu_percent": 95}, "target_cpu_percent"),
    ({"health_check_grace_period_seconds": 30}, "health_check_grace_period_seconds"),
    ({"rollback_alarm_names": []}, "rollback_alarm_names"),
    ({"instance_refresh": InstanceRefresh(min_healthy_percentage=50)}, "instance_refresh.min_healthy_percentage"),
    ({"instance_refresh": InstanceRefresh(max_healthy_percentage=250)}, "instance_refresh.max_healthy_percentage"),
    ({"instance_refresh": InstanceRefresh(checkpoint_percentages=[50, 90])},
     "instance_refresh.checkpoint_percentages"),
    ({"ami_id": "resolve:ssm:/aws/service/latest"}, "ami_id"),
])
def test_invalid_arguments_are_rejected_by_name(overrides, argument):
    with pytest.raises(ComponentArgsError) as error:
        asg_args(**overrides).validate()
    assert error.value.field == f"Autoscaling.{argument}"


def test_lower_headroom_and_refresh_floor_are_explicit_knobs():
    # Two instances over two AZs keep one after an AZ loss: allowed only by asking for it.
    asg_args(subnet_ids=SUBNETS[:2], min_size=2, max_size=4, required_capacity=1,
             instance_refresh=InstanceRefresh(min_healthy_percentage=90)).validate()
    with pytest.raises(ComponentArgsError):
        asg_args(subnet_ids=SUBNETS[:2], min_size=2, max_size=4).validate()


def test_headroom_message_says_what_min_size_would_do():
    with pytest.raises(ComponentArgsError, match="raise min_size to 3"):
        asg_args(min_size=2, max_size=6).validate()
