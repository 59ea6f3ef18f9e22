"""Load balancer: a hardened Application Load Balancer with blue/green target groups.

On by default: subnets in two or more AZs, deletion protection, invalid headers dropped,
an explicit idle timeout, access logs to a versioned, encrypted, private S3 bucket, an
HTTPS listener with a TLS 1.3 policy and an HTTP→HTTPS redirect, an ACM certificate
validated through DNS, two target groups (blue, green) with real health checks and an
explicit deregistration delay, least-outstanding-requests balancing, cross-zone on,
weighted forwarding between blue and green (canary and blue/green releases), zonal shift
and zonal autoshift, and alarms on target errors and unhealthy hosts that other
components use as rollback signals.

Usage::

    from reliability_stack.components.load_balancer import LoadBalancer, LoadBalancerArgs, TrafficSplit

    lb = LoadBalancer("orders-euw1", LoadBalancerArgs(
        service="orders", region="eu-west-1", vpc_id=network.vpc_id, vpc_cidr=network.vpc_cidr,
        subnet_ids=network.public_subnet_ids, domain_name="orders.example.com", hosted_zone_id=zone.zone_id,
        traffic_split=TrafficSplit(blue=90, green=10)))   # a 10 % canary on the green group
    lb.blue_target_group_arn, lb.alarm_names               # for the live Auto Scaling group

Knobs that turn resilience down: `deletion_protection=False`, `access_logs=False`,
`zonal_shift=False`, `zonal_autoshift=False`, `slow_start_seconds` (round robin instead
of least outstanding requests), `protect=False`.
"""

# No `from __future__ import annotations`: the component provider reads these annotations
# at runtime to build the package schema.
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from reliability_stack.components.args_validation import argument_failure
from reliability_stack.components.name_tags import NameTags

COMPONENT = "LoadBalancer"
DEFAULT_SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
# Regions older than August 2022 deliver ALB access logs from a regional ELB account; newer
# regions use the log-delivery service principal instead.
ELB_LOG_ACCOUNTS = {
    "us-east-1": "127311923021", "us-east-2": "033677994240", "us-west-1": "027434742980",
    "us-west-2": "797873946194", "ca-central-1": "985666609251", "eu-west-1": "156460612806",
    "eu-west-2": "652711504416", "eu-west-3": "009996457667", "eu-central-1": "054676820928",
    "eu-north-1": "897822967062", "ap-northeast-1": "582318560864", "ap-northeast-2": "600734575887",
    "ap-southeast-1": "114774131450", "ap-southeast-2": "783225319266", "ap-south-1": "718504428378",
    "sa-east-1": "507241528517",
}
LOG_DELIVERY_PRINCIPAL = "logdelivery.elasticloadbalancing.amazonaws.com"


@dataclass(frozen=True)
class TrafficSplit:
    """Listener weights between the blue and the green target group (0..999 each)."""

    blue: int = 100
    green: int = 0


@dataclass(frozen=True)
class HealthCheck:
    """Target-group health check. Defaults detect a dead target in 30 s and admit it back in 20 s."""

    path: str = "/healthz"
    matcher: str = "200-399"
    interval_seconds: int = 10
    timeout_seconds: int = 5
    healthy_threshold: int = 2
    unhealthy_threshold: int = 3


@dataclass(frozen=True)
class LoadBalancerArgs:
    """Inputs of `LoadBalancer`. Defaults are the resilient choice; the knobs turn it down."""

    service: str
    """Service behind the load balancer (tagged on every resource)."""
    region: str
    """AWS region (pulumi-aws 7 per-resource `region`)."""
    vpc_id: pulumi.Input[str]
    vpc_cidr: pulumi.Input[str]
    """CIDR of the VPC: the load balancer may reach targets only inside it."""
    subnet_ids: list[pulumi.Input[str]]
    """One subnet per AZ; at least two."""
    domain_name: str
    """Name the HTTPS listener serves; the certificate covers it and `*.<domain_name>`."""
    hosted_zone_id: pulumi.Input[str] | None = None
    """Route 53 zone for DNS validation of a new ACM certificate. Only one of this and `certificate_arn`."""
    certificate_arn: pulumi.Input[str] | None = None
    """An existing ACM certificate in the same region. Only one of this and `hosted_zone_id`."""
    target_port: int = 8080
    health_check: HealthCheck = field(default_factory=HealthCheck)
    deregistration_delay_seconds: int = 45
    """Connection draining; explicit and short so deployments and scale-in stay quick but safe."""
    idle_timeout_seconds: int = 60
    slow_start_seconds: int = 0
    """Warm-up ramp for new targets; > 0 switches the algorithm to round robin (AWS requires it)."""
    traffic_split: TrafficSplit = field(default_factory=TrafficSplit)
    internal: bool = False
    ingress_cidrs: list[str] = field(default_factory=lambda: ["0.0.0.0/0"])
    ssl_policy: str = DEFAULT_SSL_POLICY
    deletion_protection: bool = True
    """Knob: False lets the ALB be deleted by a replacement or a destroy."""
    access_logs: bool = True
    """Knob: False turns off access logs (and the log bucket)."""
    access_log_retention_days: int = 90
    zonal_shift: bool = True
    """Knob: False disables ARC zonal shift on the ALB (and autoshift with it)."""
    zonal_autoshift: bool = True
    """Let AWS shift traffic away from an impaired AZ (weekly practice runs watch the 5xx alarm)."""
    alarm_actions: list[pulumi.Input[str]] = field(default_factory=list)
    """SNS topic ARNs notified by the load balancer's own alarms."""
    target_error_rate_percent: float = 5.0
    """Target 5xx share of requests that trips the errors alarm (the rollback signal)."""
    protect: bool = True
    """Knob: False drops Pulumi `protect` from the access-log bucket."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Extra tags; the stack and service tags are always added."""

    def validate(self) -> None:
        fail = argument_failure(COMPONENT)

        if len(self.subnet_ids) < 2:
            fail("subnet_ids", "an ALB needs subnets in at least 2 AZs")
        if (self.hosted_zone_id is None) == (self.certificate_arn is None):
            fail("certificate_arn", "give only one of hosted_zone_id (a new ACM certificate) and certificate_arn")
        if not 1 <= self.target_port <= 65535:
            fail("target_port", "must be a TCP port (1-65535)")
        check = self.health_check
        if not check.path.startswith("/") or check.path == "/":
            fail("health_check.path", "use a dedicated health path (not '/'), starting with '/'")
        if not re.fullmatch(r"\d{3}(-\d{3})?(,\d{3}(-\d{3})?)*", check.matcher):
            fail("health_check.matcher", "expected HTTP codes like '200' or '200-399'")
        if not 5 <= check.interval_seconds <= 300:
            fail("health_check.interval_seconds", "must be 5..300 s")
        if not 2 <= check.timeout_seconds < check.interval_seconds:
            fail("health_check.timeout_seconds", "must be at least 2 s and shorter than the interval")
        for attr in ("healthy_threshold", "unhealthy_threshold"):
            if not 2 <= getattr(check, attr) <= 10:
                fail(f"health_check.{attr}", "must be 2..10")
        if not 0 <= self.deregistration_delay_seconds <= 3600:
            fail("deregistration_delay_seconds", "must be 0..3600 s")
        if not 1 <= self.idle_timeout_seconds <= 4000:
            fail("idle_timeout_seconds", "must be 1..4000 s")
        if self.slow_start_seconds and not 30 <= self.slow_start_seconds <= 900:
            fail("slow_start_seconds", "must be 0 (off) or 30..900 s")
        split = self.traffic_split
        if not (0 <= split.blue <= 999 and 0 <= split.green <= 999):
            fail("traffic_split", "weights must be 0..999")
        if split.blue + split.green == 0:
            fail("traffic_split", "at least one target group needs a positive weight")
        if not self.ssl_policy.startswith("ELBSecurityPolicy-TLS13-"):
            fail("ssl_policy", "use a TLS 1.3 policy (ELBSecurityPolicy-TLS13-*)")
        if not self.ingress_cidrs:
            fail("ingress_cidrs", "at least one client CIDR must reach the listener")
        if self.zonal_autoshift and not self.zonal_shift:
            fail("zonal_autoshift", "zonal autoshift needs zonal_shift enabled")
        if self.access_log_retention_days < 1:
            fail("access_log_retention_days", "must be at least 1 day")
        if not 0 < self.target_error_rate_percent < 100:
            fail("target_error_rate_percent", "must be between 0 and 100")


def access_log_bucket_policy(bucket_arn: str, region: str, prefix: str) -> str:
    """Bucket policy letting the regional ELB log delivery write, and refusing non-TLS access."""
    account = ELB_LOG_ACCOUNTS.get(region)
    principal = {"AWS": f"arn:aws:iam::{account}:root"} if account else {"Service": LOG_DELIVERY_PRINCIPAL}
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "ElbLogDelivery", "Effect": "Allow", "Principal": principal, "Action": "s3:PutObject",
             "Resource": f"{bucket_arn}/{prefix}/AWSLogs/*"},
            {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
             "Resource": [bucket_arn, f"{bucket_arn}/*"],
             "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        ],
    }, sort_keys=True)


def dns_validated_certificate(name: str, *, domain_name: str, zone_id: pulumi.Input[str], region: str,
                              tags: Mapping[str, str], parent: pulumi.Resource) -> pulumi.Output[str]:
    """An ACM certificate for `domain_name` and `*.<domain_name>`, validated through Route 53.

    Returns the ARN once validation completed, so listeners never use a pending certificate.
    """
    certificate = aws.acm.Certificate(
        name, domain_name=domain_name, subject_alternative_names=[f"*.{domain_name}"], validation_method="DNS",
        key_algorithm="EC_prime256v1", region=region, tags=dict(tags),
        opts=pulumi.ResourceOptions(parent=parent))
    # The apex and the wildcard share one validation record, and so do the certificates of
    # other regions for the same name: hence allow_overwrite.
    option = certificate.domain_validation_options[0]
    record = aws.route53.Record(
        f"{name}-validation", zone_id=zone_id, name=option.resource_record_name, type=option.resource_record_type,
        records=[option.resource_record_value], ttl=60, allow_overwrite=True,
        opts=pulumi.ResourceOptions(parent=parent))
    validation = aws.acm.CertificateValidation(
        name, certificate_arn=certificate.arn, validation_record_fqdns=[record.fqdn], region=region,
        opts=pulumi.ResourceOptions(parent=parent))
    return validation.certificate_arn


class LoadBalancer(pulumi.ComponentResource):
    """A hardened ALB with HTTPS, blue/green target groups and rollback alarms."""

    arn: pulumi.Output[str]
    arn_suffix: pulumi.Output[str]
    dns_name: pulumi.Output[str]
    zone_id: pulumi.Output[str]
    security_group_id: pulumi.Output[str]
    blue_target_group_arn: pulumi.Output[str]
    blue_target_group_arn_suffix: pulumi.Output[str]
    green_target_group_arn: pulumi.Output[str]
    target_group_arns: list[pulumi.Output[str]]
    """Blue, then green: the live fleet serves blue, a release's new fleet green; weights split traffic."""
    https_listener_arn: pulumi.Output[str]
    certificate_arn: pulumi.Output[str]
    alarm_names: list[pulumi.Output[str]]
    """Target errors, then unhealthy hosts of blue and of green: rollback signals for releases."""
    alarm_arns: list[pulumi.Output[str]]

    def __init__(self, name: str, args: LoadBalancerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        args.validate()
        super().__init__("reliability-stack:load_balancer:LoadBalancer", name, {}, opts)
        self.args = args
        region = args.region
        child = pulumi.ResourceOptions(parent=self)

        tags = NameTags(name, args.service, args.tags)

        security_group = self._security_group(name, args, tags)
        certificate_arn: pulumi.Input[str]
        if args.certificate_arn is not None:
            certificate_arn = args.certificate_arn
        else:
            assert args.hosted_zone_id is not None  # validate(): exactly one of the two is given
            certificate_arn = dns_validated_certificate(
                f"{name}-cert", domain_name=args.domain_name, zone_id=args.hosted_zone_id, region=region,
                tags=tags("cert"), parent=self)

        lb_depends: list[pulumi.Resource] = []
        access_logs = None
        if args.access_logs:
            bucket, policy = self._access_log_bucket(name, args, tags)
            lb_depends.append(policy)
            access_logs = aws.lb.LoadBalancerAccessLogsArgs(bucket=bucket.id, enabled=True, prefix=name)

        alb = aws.lb.LoadBalancer(
            f"{name}-alb", load_balancer_type="application", internal=args.internal,
            subnets=list(args.subnet_ids), security_groups=[security_group.id],
            enable_deletion_protection=args.deletion_protection, drop_invalid_header_fields=True,
            desync_mitigation_mode="defensive", idle_timeout=args.idle_timeout_seconds,
            enable_cross_zone_load_balancing=True, enable_http2=True, enable_zonal_shift=args.zonal_shift,
            access_logs=access_logs, ip_address_type="ipv4", region=region, tags=tags("alb"),
            opts=pulumi.ResourceOptions(parent=self, depends_on=lb_depends))

        blue = self._target_group(name, "blue", args, tags)
        green = self._target_group(name, "green", args, tags)

        https = aws.lb.Listener(
            f"{name}-https", load_balancer_arn=alb.arn, port=443, protocol="HTTPS", ssl_policy=args.ssl_policy,
            certificate_arn=certificate_arn, region=region, tags=tags("https"), opts=child,
            default_actions=[aws.lb.ListenerDefaultActionArgs(
                type="forward",
                forward=aws.lb.ListenerDefaultActionForwardArgs(target_groups=[
                    aws.lb.ListenerDefaultActionForwardTargetGroupArgs(arn=blue.arn, weight=args.traffic_split.blue),
                    aws.lb.ListenerDefaultActionForwardTargetGroupArgs(arn=green.arn,
                                                                       weight=args.traffic_split.green),
                ]),
            )])
        aws.lb.Listener(
            f"{name}-http", load_balancer_arn=alb.arn, port=80, protocol="HTTP", region=region,
            tags=tags("http"), opts=child,
            default_actions=[aws.lb.ListenerDefaultActionArgs(
                type="redirect",
                redirect=aws.lb.ListenerDefaultActionRedirectArgs(protocol="HTTPS", port="443",
                                                                  status_code="HTTP_301"),
            )])

        alarms = self._alarms(name, args, alb, {"blue": blue, "green": green}, tags)
        if args.zonal_autoshift:
            aws.arczonalshift.ZonalAutoshiftConfiguration(
                f"{name}-autoshift", resource_arn=alb.arn, zonal_autoshift_status="ENABLED", region=region,
                outcome_alarms=[aws.arczonalshift.ZonalAutoshiftConfigurationOutcomeAlarmArgs(
                    alarm_identifier=alarms[0].arn, type="CLOUDWATCH")],
                opts=child)

        self.arn = alb.arn
        self.arn_suffix = alb.arn_suffix
        self.dns_name = alb.dns_name
        self.zone_id = alb.zone_id
        self.security_group_id = security_group.id
        self.blue_target_group_arn = blue.arn
        self.blue_target_group_arn_suffix = blue.arn_suffix
        self.green_target_group_arn = green.arn
        self.target_group_arns = [blue.arn, green.arn]
        self.https_listener_arn = https.arn
        self.certificate_arn = pulumi.Output.from_input(certificate_arn)
        self.alarm_names = [a.name for a in alarms]
        self.alarm_arns = [a.arn for a in alarms]
        self.register_outputs({
            "arn": self.arn, "dnsName": self.dns_name, "zoneId": self.zone_id,
            "blueTargetGroupArn": self.blue_target_group_arn, "greenTargetGroupArn": self.green_target_group_arn,
            "alarmNames": pulumi.Output.all(*self.alarm_names),
        })

    def _security_group(self, name: str, args: LoadBalancerArgs, tags: NameTags) -> aws.ec2.SecurityGroup:
        child = pulumi.ResourceOptions(parent=self)
        group = aws.ec2.SecurityGroup(f"{name}-alb", vpc_id=args.vpc_id, description=f"ALB of {name}",
                                      region=args.region, tags=tags("alb"), opts=child)
        for port in (443, 80):
            for i, cidr in enumerate(args.ingress_cidrs):
                aws.vpc.SecurityGroupIngressRule(
                    f"{name}-alb-in-{port}-{i}", security_group_id=group.id, ip_protocol="tcp", from_port=port,
                    to_port=port, cidr_ipv4=cidr, description=f"clients on {port}", region=args.region,
                    tags=tags(f"alb-in-{port}-{i}"), opts=child)
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-alb-to-targets", security_group_id=group.id, ip_protocol="tcp", from_port=args.target_port,
            to_port=args.target_port, cidr_ipv4=args.vpc_cidr, description="targets and health checks",
            region=args.region, tags=tags("alb-to-targets"), opts=child)
        return group

    def _access_log_bucket(self, name: str, args: LoadBalancerArgs, tags: NameTags):
        region = args.region
        child = pulumi.ResourceOptions(parent=self)
        bucket = aws.s3.Bucket(f"{name}-access-logs", force_destroy=False, region=region,
                               tags=tags("access-logs"), opts=pulumi.ResourceOptions(parent=self, protect=args.protect))
        ownership = aws.s3.BucketOwnershipControls(
            f"{name}-access-logs", bucket=bucket.id, region=region, opts=child,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"))
        public_block = aws.s3.BucketPublicAccessBlock(
            f"{name}-access-logs", bucket=bucket.id, block_public_acls=True, block_public_policy=True,
            ignore_public_acls=True, restrict_public_buckets=True, region=region, opts=child)
        aws.s3.BucketVersioning(
            f"{name}-access-logs", bucket=bucket.id, region=region, opts=child,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"))
        # ALB log delivery supports SSE-S3 only.
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-access-logs", bucket=bucket.id, region=region, opts=child,
            rules=[aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=aws.s3.
                BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="AES256"))])
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-access-logs", bucket=bucket.id, region=region, opts=child,
            rules=[aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="expire-access-logs", status="Enabled",
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=f"{name}/"),
                expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=args.access_log_retention_days),
                noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                    noncurrent_days=30),
                abort_incomplete_multipart_upload=aws.s3.
                BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(days_after_initiation=7),
            )])
        policy = aws.s3.BucketPolicy(
            f"{name}-access-logs", bucket=bucket.id, region=region,
            policy=bucket.arn.apply(lambda arn: access_log_bucket_policy(arn, region, name)),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[ownership, public_block]))
        return bucket, policy

    def _target_group(self, name: str, color: str, args: LoadBalancerArgs, tags: NameTags) -> aws.lb.TargetGroup:
        check = args.health_check
        # Least outstanding requests and slow start exclude each other.
        algorithm = "round_robin" if args.slow_start_seconds else "least_outstanding_requests"
        return aws.lb.TargetGroup(
            f"{name}-{color}", port=args.target_port, protocol="HTTP", target_type="instance", vpc_id=args.vpc_id,
            deregistration_delay=args.deregistration_delay_seconds, slow_start=args.slow_start_seconds,
            load_balancing_algorithm_type=algorithm, load_balancing_cross_zone_enabled="true",
            health_check=aws.lb.TargetGroupHealthCheckArgs(
                enabled=True, path=check.path, protocol="HTTP", port="traffic-port", matcher=check.matcher,
                interval=check.interval_seconds, timeout=check.timeout_seconds,
                healthy_threshold=check.healthy_threshold, unhealthy_threshold=check.unhealthy_threshold),
            region=args.region, tags={**tags(color), "reliability-stack:color": color},
            # Target groups are replaced create-first (Pulumi's default), so names stay auto-generated.
            opts=pulumi.ResourceOptions(parent=self))

    def _alarms(self, name: str, args: LoadBalancerArgs, alb: aws.lb.LoadBalancer,
                groups: dict[str, aws.lb.TargetGroup], tags: NameTags) -> list[aws.cloudwatch.MetricAlarm]:
        child = pulumi.ResourceOptions(parent=self)
        actions = list(args.alarm_actions)

        def metric(metric_id: str, metric_name: str) -> aws.cloudwatch.MetricAlarmMetricQueryArgs:
            return aws.cloudwatch.MetricAlarmMetricQueryArgs(
                id=metric_id, return_data=False,
                metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                    namespace="AWS/ApplicationELB", metric_name=metric_name, period=60, stat="Sum",
                    dimensions={"LoadBalancer": alb.arn_suffix}))

        errors = aws.cloudwatch.MetricAlarm(
            f"{name}-target-errors", alarm_description=f"{name}: target 5xx above {args.target_error_rate_percent}%"
            " of requests (release rollback and zonal-autoshift outcome signal)",
            comparison_operator="GreaterThanThreshold", threshold=args.target_error_rate_percent,
            evaluation_periods=3, datapoints_to_alarm=2, treat_missing_data="notBreaching",
            metric_queries=[
                metric("errors", "HTTPCode_Target_5XX_Count"),
                metric("requests", "RequestCount"),
                aws.cloudwatch.MetricAlarmMetricQueryArgs(
                    id="rate", expression="100 * errors / MAX([requests, 1])", label="target 5xx %",
                    return_data=True),
            ],
            alarm_actions=actions, ok_actions=actions, region=args.region, tags=tags("target-errors"), opts=child)
        # One per group: an empty (idle) group reports no data, which is not breaching.
        unhealthy = [aws.cloudwatch.MetricAlarm(
            f"{name}-unhealthy-{color}", alarm_description=f"{name}: unhealthy targets in the {color} group",
            namespace="AWS/ApplicationELB", metric_name="UnHealthyHostCount", statistic="Maximum", period=60,
            evaluation_periods=3, datapoints_to_alarm=3, threshold=0, comparison_operator="GreaterThanThreshold",
            treat_missing_data="notBreaching",
            dimensions={"LoadBalancer": alb.arn_suffix, "TargetGroup": group.arn_suffix},
            alarm_actions=actions, ok_actions=actions, region=args.region, tags=tags(f"unhealthy-{color}"),
            opts=child) for color, group in groups.items()]
        return [errors, *unhealthy]
