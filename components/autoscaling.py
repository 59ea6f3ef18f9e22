"""Autoscaling: an immutable EC2 fleet behind the load balancer that survives losing an AZ.

On by default: an AMI pinned by id (never `$Latest`, never an SSM alias), IMDSv2 only with
hop limit 1, encrypted root volumes, detailed monitoring, a launch template whose
`latest_version` the group uses (so template changes start an instance refresh), ELB health
checks with a 300 s grace period, subnets in two or more AZs balanced best-effort, a minimum
size that keeps the surviving capacity after one AZ is lost, target tracking on CPU,
rolling instance refresh (min healthy 100 %, max 200 %, checkpoints, auto-rollback on
alarms), waiting for ELB capacity, group metrics, and `ignore_changes` on the desired
capacity so a deployment never fights the scaling policy.

Usage::

    from reliability_stack.components.autoscaling import Autoscaling, AutoscalingArgs

    fleet = Autoscaling("orders-euw1", AutoscalingArgs(
        service="orders", region="eu-west-1", ami_id=lock.resolve_ami("orders", "eu-west-1"),
        vpc_id=network.vpc_id, subnet_ids=network.private_subnet_ids, target_group_arns=[lb.blue_target_group_arn],
        load_balancer_security_group_id=lb.security_group_id, rollback_alarm_names=lb.alarm_names,
        min_size=3, max_size=9))

Knobs that turn resilience down: `instance_refresh=InstanceRefresh(auto_rollback=False)`,
`required_capacity=1`, lower `min_healthy_percentage` (≥ 90).
"""

# No `from __future__ import annotations`: the component provider reads these annotations
# at runtime to build the package schema.
import base64
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from reliability_stack.components.args_validation import argument_failure
from reliability_stack.components.name_tags import NameTags
from reliability_stack.errors import ComponentArgsError

COMPONENT = "Autoscaling"
AMI_ID = re.compile(r"ami-[0-9a-f]{8,17}")
# The group's own metrics; the warm-pool ones stay off, as this component declares no warm pool.
GROUP_METRICS = tuple(m for m in aws.autoscaling.Metric if m.value.startswith("Group") and "WarmPool" not in m.value)
INSTANCE_POLICIES = (
    "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
    "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy",
)


def surviving_capacity(min_size: int, availability_zones: int) -> int:
    """Instances left when the AZ holding the most of a balanced group of `min_size` is lost."""
    return min_size - math.ceil(min_size / availability_zones)


def validate_ami_id(ami_id: str) -> None:
    """An AMI must be pinned by id: no SSM parameter alias, no name, no `$Latest`."""
    if ami_id.startswith("resolve:ssm:"):
        raise ComponentArgsError(COMPONENT, "ami_id", f"{ami_id!r} is an SSM alias that moves under you; "
                                 "pin an AMI id from images/ (ami-...)")
    if not AMI_ID.fullmatch(ami_id):
        raise ComponentArgsError(COMPONENT, "ami_id", f"{ami_id!r} is not an AMI id (ami- and 8 to 17 hex digits)")


@dataclass(frozen=True)
class InstanceRefresh:
    """Rolling replacement when the launch template changes."""

    min_healthy_percentage: int = 100
    max_healthy_percentage: int = 200
    checkpoint_percentages: list[int] = field(default_factory=lambda: [33, 66, 100])
    checkpoint_delay_seconds: int = 300
    auto_rollback: bool = True
    """Knob: False keeps half-replaced fleets when an alarm fires or the refresh fails."""


@dataclass(frozen=True)
class AutoscalingArgs:
    """Inputs of `Autoscaling`. Defaults are the resilient choice; the knobs turn it down."""

    service: str
    """Service the fleet belongs to (tagged on every resource)."""
    region: str
    ami_id: str
    """AMI id resolved from the images lock (ami-[0-9a-f]{8,17})."""
    vpc_id: pulumi.Input[str]
    subnet_ids: list[pulumi.Input[str]]
    """Private subnets, one per AZ; at least two."""
    target_group_arns: list[pulumi.Input[str]]
    """Target groups the instances register with (blue and green)."""
    load_balancer_security_group_id: pulumi.Input[str]
    """Only the load balancer may reach the instances' port."""
    rollback_alarm_names: list[pulumi.Input[str]] = field(default_factory=list)
    """CloudWatch alarms that stop and roll back an instance refresh."""
    instance_type: str = "t4g.small"
    port: int = 8080
    min_size: int = 3
    max_size: int = 9
    required_capacity: int = 2
    """Instances the service needs: min_size must keep this many after losing one AZ."""
    target_cpu_percent: float = 50.0
    health_check_grace_period_seconds: int = 300
    instance_refresh: InstanceRefresh = field(default_factory=InstanceRefresh)
    root_volume_gib: int = 20
    user_data: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    """Extra tags; the stack and service tags are always added."""

    def validate(self) -> None:
        fail = argument_failure(COMPONENT)

        validate_ami_id(self.ami_id)
        zones = len(self.subnet_ids)
        if zones < 2:
            fail("subnet_ids", "instances need subnets in at least 2 AZs")
        if not self.target_group_arns:
            fail("target_group_arns", "the group must register with a target group (ELB health checks)")
        if self.min_size < 2:
            fail("min_size", "at least 2 instances, or one failure is an outage")
        if self.max_size <= self.min_size:
            fail("max_size", "must be greater than min_size, or the group can never scale out")
        if self.required_capacity < 1:
            fail("required_capacity", "must be at least 1")
        left = surviving_capacity(self.min_size, zones)
        if left < self.required_capacity:
            fail("min_size", f"{self.min_size} instances over {zones} AZs leave {left} after losing one AZ, "
                 f"below required_capacity {self.required_capacity}; raise min_size to "
                 f"{minimum_size_for(self.required_capacity, zones)}")
        if not 0 < self.target_cpu_percent <= 90:
            fail("target_cpu_percent", "must be in (0, 90]: above that there is no room to absorb a lost AZ")
        if self.health_check_grace_period_seconds < 60:
            fail("health_check_grace_period_seconds", "at least 60 s, or booting instances are killed as unhealthy")
        refresh = self.instance_refresh
        if not 90 <= refresh.min_healthy_percentage <= 100:
            fail("instance_refresh.min_healthy_percentage", "must be 90..100")
        if not refresh.min_healthy_percentage < refresh.max_healthy_percentage <= 200:
            fail("instance_refresh.max_healthy_percentage", "must be above min_healthy_percentage and at most 200")
        checkpoints = list(refresh.checkpoint_percentages)
        if not checkpoints or checkpoints[-1] != 100 or checkpoints != sorted(set(checkpoints)) or checkpoints[0] < 1:
            fail("instance_refresh.checkpoint_percentages", "strictly increasing percentages ending with 100")
        if refresh.auto_rollback and not self.rollback_alarm_names:
            fail("rollback_alarm_names", "auto-rollback needs at least one alarm to watch")
        if not 1 <= self.port <= 65535:
            fail("port", "must be a TCP port (1-65535)")


def minimum_size_for(required_capacity: int, availability_zones: int) -> int:
    """Smallest balanced group that keeps `required_capacity` instances after losing one AZ."""
    size = required_capacity
    while surviving_capacity(size, availability_zones) < required_capacity:
        size += 1
    return size


class Autoscaling(pulumi.ComponentResource):
    """Launch template + Auto Scaling group + target tracking, replaced by rolling refresh."""

    group_name: pulumi.Output[str]
    group_arn: pulumi.Output[str]
    launch_template_id: pulumi.Output[str]
    security_group_id: pulumi.Output[str]
    """Security group of the instances: data tiers admit it."""

    def __init__(self, name: str, args: AutoscalingArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        args.validate()
        super().__init__("reliability-stack:autoscaling:Autoscaling", name, {}, opts)
        self.args = args
        region = args.region
        child = pulumi.ResourceOptions(parent=self)

        tags = NameTags(name, args.service, args.tags)

        security_group = aws.ec2.SecurityGroup(f"{name}-instances", vpc_id=args.vpc_id,
                                               description=f"instances of {name}", region=region,
                                               tags=tags("instances"), opts=child)
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-from-alb", security_group_id=security_group.id, ip_protocol="tcp", from_port=args.port,
            to_port=args.port, referenced_security_group_id=args.load_balancer_security_group_id,
            description="load balancer traffic and health checks", region=region, tags=tags("from-alb"), opts=child)
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-egress", security_group_id=security_group.id, ip_protocol="-1", cidr_ipv4="0.0.0.0/0",
            description="dependencies through the NAT gateways", region=region, tags=tags("egress"), opts=child)

        profile = self._instance_profile(name, tags)
        launch_template = aws.ec2.LaunchTemplate(
            f"{name}-lt", image_id=args.ami_id, instance_type=args.instance_type, update_default_version=True,
            vpc_security_group_ids=[security_group.id], ebs_optimized="true",
            iam_instance_profile=aws.ec2.LaunchTemplateIamInstanceProfileArgs(arn=profile.arn),
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled", http_tokens="required", http_put_response_hop_limit=1,
                instance_metadata_tags="enabled"),
            monitoring=aws.ec2.LaunchTemplateMonitoringArgs(enabled=True),
            block_device_mappings=[aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                device_name="/dev/xvda",
                ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                    volume_size=args.root_volume_gib, volume_type="gp3", encrypted="true",
                    delete_on_termination="true"))],
            user_data=base64.b64encode(args.user_data.encode()).decode() if args.user_data else None,
            tag_specifications=[aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type=kind, tags=tags(kind))
                                for kind in ("instance", "volume")],
            region=region, tags=tags("lt"), opts=child)

        refresh = args.instance_refresh
        group = aws.autoscaling.Group(
            f"{name}-asg", min_size=args.min_size, max_size=args.max_size, desired_capacity=args.min_size,
            vpc_zone_identifiers=list(args.subnet_ids),
            availability_zone_distribution=aws.autoscaling.GroupAvailabilityZoneDistributionArgs(
                capacity_distribution_strategy="balanced-best-effort"),
            # latest_version (a number), not "$Latest": a new version is a diff, and a diff starts a refresh.
            launch_template=aws.autoscaling.GroupLaunchTemplateArgs(
                id=launch_template.id, version=launch_template.latest_version.apply(str)),
            target_group_arns=list(args.target_group_arns),
            health_check_type="ELB", health_check_grace_period=args.health_check_grace_period_seconds,
            default_instance_warmup=args.health_check_grace_period_seconds,
            wait_for_capacity_timeout="15m", wait_for_elb_capacity=args.min_size,
            enabled_metrics=list(GROUP_METRICS), metrics_granularity="1Minute",
            instance_maintenance_policy=aws.autoscaling.GroupInstanceMaintenancePolicyArgs(
                min_healthy_percentage=refresh.min_healthy_percentage,
                max_healthy_percentage=refresh.max_healthy_percentage),
            instance_refresh=aws.autoscaling.GroupInstanceRefreshArgs(
                strategy="Rolling",
                preferences=aws.autoscaling.GroupInstanceRefreshPreferencesArgs(
                    min_healthy_percentage=refresh.min_healthy_percentage,
                    max_healthy_percentage=refresh.max_healthy_percentage,
                    checkpoint_percentages=list(refresh.checkpoint_percentages),
                    checkpoint_delay=str(refresh.checkpoint_delay_seconds),
                    instance_warmup=str(args.health_check_grace_period_seconds),
                    skip_matching=True,
                    auto_rollback=refresh.auto_rollback,
                    alarm_specification=aws.autoscaling.GroupInstanceRefreshPreferencesAlarmSpecificationArgs(
                        alarms=list(args.rollback_alarm_names)) if args.rollback_alarm_names else None,
                )),
            termination_policies=["OldestLaunchTemplate", "OldestInstance"],
            tags=[aws.autoscaling.GroupTagArgs(key=k, value=v, propagate_at_launch=True)
                  for k, v in sorted(tags("asg").items())],
            region=region,
            # The scaling policy owns the desired capacity after creation.
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["desiredCapacity"]))

        aws.autoscaling.Policy(
            f"{name}-cpu-target", autoscaling_group_name=group.name, policy_type="TargetTrackingScaling",
            estimated_instance_warmup=args.health_check_grace_period_seconds, region=region, opts=child,
            target_tracking_configuration=aws.autoscaling.PolicyTargetTrackingConfigurationArgs(
                target_value=args.target_cpu_percent,
                predefined_metric_specification=aws.autoscaling.
                PolicyTargetTrackingConfigurationPredefinedMetricSpecificationArgs(
                    predefined_metric_type="ASGAverageCPUUtilization")))

        self.group_name = group.name
        self.group_arn = group.arn
        self.launch_template_id = launch_template.id
        self.security_group_id = security_group.id
        self.register_outputs({"groupName": self.group_name, "launchTemplateId": self.launch_template_id})

    def _instance_profile(self, name: str, tags: NameTags) -> aws.iam.InstanceProfile:
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(f"{name}-instance", tags=tags("instance"), opts=child, assume_role_policy=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                           "Principal": {"Service": "ec2.amazonaws.com"}}],
        }))
        for i, policy_arn in enumerate(INSTANCE_POLICIES):
            aws.iam.RolePolicyAttachment(f"{name}-instance-{i}", role=role.name, policy_arn=policy_arn, opts=child)
        return aws.iam.InstanceProfile(f"{name}-instance", role=role.name, tags=tags("instance"), opts=child)
