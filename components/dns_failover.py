"""Route 53 regional failover with health checks and ARC routing controls as a manual lever.

Each region's endpoint gets an HTTPS health check on a deep path (threshold 3, 10 s
interval, checkers in every Route 53 checker region, latency measured, SNI on). Records
are failover PRIMARY/SECONDARY (or latency) aliases with `evaluate_target_health=True`,
and every record carries a health check, so DNS stops answering with a dead region.

Route 53 Application Recovery Controller adds a control plane that does not depend on the
failing region: a cluster (five regional data-plane endpoints), a control panel, one
routing control per region, and a safety rule that asserts at least one region stays ON.
Each record's health check is then CALCULATED: healthy only when the endpoint check *and*
the region's RECOVERY_CONTROL check are healthy, so an operator drains a region by turning
its routing control OFF through the cluster endpoints (runbook; never through this stack).
ARC's configuration API lives in us-west-2, so its resources use a provider for the
control-plane region. Routing controls are created OFF: turn them ON after the first
deployment, or Route 53 answers "all unhealthy" and fails open to the primary.

Usage::

    from reliability_stack.components.dns_failover import DnsFailover, DnsFailoverArgs, RegionalEndpoint

    dns = DnsFailover("checkout-dns", DnsFailoverArgs(
        service="checkout",
        zone_id=zone.zone_id,
        record_name="api.checkout.example.com",
        endpoints=[
            RegionalEndpoint("us-east-1", alias_name=alb_use1.dns_name, alias_zone_id=alb_use1.zone_id),
            RegionalEndpoint("us-west-2", alias_name=alb_usw2.dns_name, alias_zone_id=alb_usw2.zone_id),
        ],
        health_check_path="/healthz/deep",
        alarm_topic_arn=page_topic.arn,
    ))
"""

# No `from __future__ import annotations`: the component provider reads these annotations
# at runtime to build the package schema.
import re
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from reliability_stack.errors import ComponentArgsError
from reliability_stack.resource_tags import standard_tags

TYPE_TOKEN = "reliability-stack:dns_failover:DnsFailover"
COMPONENT = "DnsFailover"

# Every region that runs Route 53 health checkers (the provider default, stated explicitly).
HEALTH_CHECKER_REGIONS = (
    "ap-northeast-1", "ap-southeast-1", "ap-southeast-2", "eu-west-1",
    "sa-east-1", "us-east-1", "us-west-1", "us-west-2",
)
ROUTING_POLICIES = ("failover", "latency")
RECORD_TYPES = ("A", "AAAA")
# Route 53 publishes health-check metrics only in us-east-1.
HEALTH_CHECK_METRICS_REGION = "us-east-1"


@dataclass
class RegionalEndpoint:
    """The entry point of one region: an alias target (ALB, CloudFront) or a plain host name."""

    region: str
    """AWS region of the endpoint; names the record's set identifier and routing control."""

    alias_name: pulumi.Input[str]
    """DNS name of the target, e.g. the regional ALB's `dns_name`."""

    alias_zone_id: pulumi.Input[str] | None = None
    """Hosted zone of the alias target (ALB `zone_id`). None makes a CNAME record with `ttl` instead."""

    health_check_fqdn: pulumi.Input[str] | None = None
    """Host the health checkers call; defaults to `alias_name`."""


@dataclass
class DnsFailoverArgs:
    """Arguments of `DnsFailover`. Defaults are the resilient choice; each knob says what it turns down."""

    service: str
    """Service behind the records (tag `reliability-stack:service`)."""

    zone_id: pulumi.Input[str]
    """Route 53 hosted zone of `record_name`."""

    record_name: str
    """Fully qualified name that clients resolve."""

    endpoints: list[RegionalEndpoint]
    """Regional endpoints; with `failover` routing exactly two, the first is PRIMARY."""

    routing_policy: str = "failover"
    """`failover` (active/passive) or `latency` (active/active, each record health-checked)."""

    health_check_path: str = "/healthz"
    """Deep health path that exercises dependencies; "/" is rejected."""

    health_check_port: int = 443
    """HTTPS port the checkers call."""

    health_check_search_string: str | None = None
    """Also require this string in the first 5,120 bytes of the body (HTTPS_STR_MATCH)."""

    failure_threshold: int = 3
    """Consecutive failures before an endpoint is unhealthy (1-10)."""

    request_interval: int = 10
    """Seconds between checks per checker: 10 (fast) or 30."""

    checker_regions: list[str] = field(default_factory=lambda: list(HEALTH_CHECKER_REGIONS))
    """Route 53 checker regions (at least 3)."""

    record_types: list[str] = field(default_factory=lambda: ["A"])
    """Alias record types; add AAAA for dual-stack targets."""

    ttl: int = 60
    """TTL of non-alias (CNAME) records, 1-120 s: longer answers outlive a failover."""

    recovery_control: bool = True
    """Route 53 ARC routing controls (cluster billed hourly). Knob: off for dev and review stacks."""

    control_plane_region: str = "us-west-2"
    """Region of the ARC configuration API."""

    control_plane_provider: aws.Provider | None = None
    """AWS provider for the control-plane region; one is declared when omitted."""

    alarm_topic_arn: pulumi.Input[str] | None = None
    """SNS topic for `HealthCheckStatus` alarms (declared in us-east-1) on each endpoint check."""

    tags: dict[str, str] = field(default_factory=dict)
    """Extra tags; `reliability-stack:stack` and `reliability-stack:service` are always added."""

    def validate(self) -> None:
        """Raise ComponentArgsError, naming the argument, on an impossible or unsafe combination."""
        if not self.service:
            raise ComponentArgsError(COMPONENT, "service", "must name the owning service")
        if not self.record_name:
            raise ComponentArgsError(COMPONENT, "record_name", "must not be empty")
        if self.routing_policy not in ROUTING_POLICIES:
            raise ComponentArgsError(COMPONENT, "routing_policy", f"must be one of {', '.join(ROUTING_POLICIES)}")
        if self.routing_policy == "failover" and len(self.endpoints) != 2:
            raise ComponentArgsError(COMPONENT, "endpoints",
                                     f"failover routing needs exactly two endpoints (PRIMARY, SECONDARY); got {len(self.endpoints)}")
        if self.routing_policy == "latency" and not self.endpoints:
            raise ComponentArgsError(COMPONENT, "endpoints", "latency routing needs at least one endpoint")
        regions = [endpoint.region for endpoint in self.endpoints]
        if len(set(regions)) != len(regions):
            raise ComponentArgsError(COMPONENT, "endpoints", "each endpoint must be in a distinct region")
        for region in regions:
            if not re.fullmatch(r"[a-z]{2}(-gov)?-[a-z]+-\d", region):
                raise ComponentArgsError(COMPONENT, "endpoints", f"{region!r} is not an AWS region name")
        if not self.health_check_path.startswith("/") or self.health_check_path == "/":
            raise ComponentArgsError(COMPONENT, "health_check_path",
                                     "must be a deep path such as /healthz, not '/' (a static page hides dead dependencies)")
        if not 1 <= self.health_check_port <= 65535:
            raise ComponentArgsError(COMPONENT, "health_check_port", "must be a TCP port")
        if not 1 <= self.failure_threshold <= 10:
            raise ComponentArgsError(COMPONENT, "failure_threshold", "must be 1-10")
        if self.request_interval not in (10, 30):
            raise ComponentArgsError(COMPONENT, "request_interval", "must be 10 or 30 seconds")
        unknown = sorted(set(self.checker_regions) - set(HEALTH_CHECKER_REGIONS))
        if unknown:
            raise ComponentArgsError(COMPONENT, "checker_regions", f"{unknown} host no Route 53 health checkers")
        if len(set(self.checker_regions)) < 3:
            raise ComponentArgsError(COMPONENT, "checker_regions", "Route 53 needs at least 3 checker regions")
        if not self.record_types or set(self.record_types) - set(RECORD_TYPES):
            raise ComponentArgsError(COMPONENT, "record_types", "must be a non-empty subset of A, AAAA")
        cname_endpoints = [e.region for e in self.endpoints if e.alias_zone_id is None]
        if cname_endpoints and len(cname_endpoints) != len(self.endpoints):
            raise ComponentArgsError(COMPONENT, "endpoints",
                                     "either every endpoint is an alias (alias_zone_id) or none is")
        if not 1 <= self.ttl <= 120:
            raise ComponentArgsError(COMPONENT, "ttl", "must be 1-120 s: resolvers keep longer answers after a failover")
        if self.recovery_control and not re.fullmatch(r"[a-z]{2}(-gov)?-[a-z]+-\d", self.control_plane_region):
            raise ComponentArgsError(COMPONENT, "control_plane_region", "is not an AWS region name")


class DnsFailover(pulumi.ComponentResource):
    """Health-checked failover (or latency) records, gated by ARC routing controls."""

    record_fqdn: pulumi.Output[str]
    health_check_ids: dict[str, pulumi.Output[str]]
    routing_control_arns: dict[str, pulumi.Output[str]]
    cluster_arn: pulumi.Output[str] | None
    control_panel_arn: pulumi.Output[str] | None

    def __init__(self, name: str, args: DnsFailoverArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        args.validate()
        super().__init__(TYPE_TOKEN, name, {}, opts)
        tags = standard_tags(pulumi.get_stack(), args.service, args.tags)
        child = pulumi.ResourceOptions(parent=self)

        endpoint_checks = {
            endpoint.region: self._endpoint_health_check(name, endpoint, args, tags) for endpoint in args.endpoints}
        self.health_check_ids = {region: check.id for region, check in endpoint_checks.items()}
        if args.alarm_topic_arn is not None:
            for region, check in endpoint_checks.items():
                aws.cloudwatch.MetricAlarm(
                    f"{name}-{region}-health",
                    alarm_description=f"{args.service}: Route 53 health check of {region} reports unhealthy; "
                                      "DNS has moved traffic away from this region",
                    namespace="AWS/Route53", metric_name="HealthCheckStatus",
                    dimensions={"HealthCheckId": check.id},
                    statistic="Minimum", period=60, evaluation_periods=1, datapoints_to_alarm=1,
                    comparison_operator="LessThanThreshold", threshold=1,
                    treat_missing_data="breaching",
                    alarm_actions=[args.alarm_topic_arn], ok_actions=[args.alarm_topic_arn],
                    region=HEALTH_CHECK_METRICS_REGION, tags=tags, opts=child)

        record_checks: dict[str, pulumi.Output[str]] = dict(self.health_check_ids)
        self.routing_control_arns = {}
        self.cluster_arn = None
        self.control_panel_arn = None
        if args.recovery_control:
            record_checks = self._recovery_controls(name, args, tags, self.health_check_ids)

        for index, endpoint in enumerate(args.endpoints):
            routing: dict[str, Any]
            if args.routing_policy == "failover":
                role = "PRIMARY" if index == 0 else "SECONDARY"
                routing = {"failover_routing_policies": [{"type": role}], "set_identifier": f"{endpoint.region}-{role.lower()}"}
            else:
                routing = {"latency_routing_policies": [{"region": endpoint.region}], "set_identifier": endpoint.region}
            if endpoint.alias_zone_id is None:
                aws.route53.Record(
                    f"{name}-{endpoint.region}-cname", zone_id=args.zone_id, name=args.record_name, type="CNAME",
                    ttl=args.ttl, records=[endpoint.alias_name], health_check_id=record_checks[endpoint.region],
                    opts=child, **routing)
                continue
            for record_type in args.record_types:
                aws.route53.Record(
                    f"{name}-{endpoint.region}-{record_type.lower()}", zone_id=args.zone_id, name=args.record_name,
                    type=record_type,
                    aliases=[{"name": endpoint.alias_name, "zone_id": endpoint.alias_zone_id,
                              "evaluate_target_health": True}],
                    health_check_id=record_checks[endpoint.region], opts=child, **routing)

        self.record_fqdn = pulumi.Output.from_input(args.record_name)
        self.register_outputs({
            "record_fqdn": self.record_fqdn,
            "health_check_ids": self.health_check_ids,
            "routing_control_arns": self.routing_control_arns,
            "cluster_arn": self.cluster_arn,
            "control_panel_arn": self.control_panel_arn,
        })

    def _endpoint_health_check(self, name: str, endpoint: RegionalEndpoint, args: DnsFailoverArgs,
                               tags: dict[str, str]) -> aws.route53.HealthCheck:
        check_type = "HTTPS_STR_MATCH" if args.health_check_search_string else "HTTPS"
        return aws.route53.HealthCheck(
            f"{name}-{endpoint.region}",
            type=check_type,
            fqdn=endpoint.health_check_fqdn if endpoint.health_check_fqdn is not None else endpoint.alias_name,
            port=args.health_check_port,
            resource_path=args.health_check_path,
            search_string=args.health_check_search_string,
            failure_threshold=args.failure_threshold,
            request_interval=args.request_interval,
            regions=sorted(set(args.checker_regions)),
            measure_latency=True,
            enable_sni=True,
            tags={**tags, "Name": f"{args.service}-{endpoint.region}"},
            opts=pulumi.ResourceOptions(parent=self))

    def _recovery_controls(self, name: str, args: DnsFailoverArgs, tags: dict[str, str],
                           endpoint_check_ids: dict[str, pulumi.Output[str]]) -> dict[str, pulumi.Output[str]]:
        """ARC cluster, panel, controls and safety rule; returns the gated health check id per region."""
        provider = args.control_plane_provider or aws.Provider(
            f"{name}-control-plane", region=args.control_plane_region, opts=pulumi.ResourceOptions(parent=self))
        arc = pulumi.ResourceOptions(parent=self, provider=provider)
        cluster = aws.route53recoverycontrol.Cluster(f"{name}-arc", name=f"{name}-arc", tags=tags, opts=arc)
        panel = aws.route53recoverycontrol.ControlPanel(
            f"{name}-arc", name=f"{name}-panel", cluster_arn=cluster.arn, tags=tags, opts=arc)
        controls = {
            endpoint.region: aws.route53recoverycontrol.RoutingControl(
                f"{name}-{endpoint.region}", name=f"{name}-{endpoint.region}",
                cluster_arn=cluster.arn, control_panel_arn=panel.arn, opts=arc)
            for endpoint in args.endpoints}
        # The "never all off" guard: ARC refuses a state change that leaves no region ON.
        aws.route53recoverycontrol.SafetyRule(
            f"{name}-at-least-one-on", name=f"{name}-at-least-one-on",
            control_panel_arn=panel.arn,
            asserted_controls=[control.arn for control in controls.values()],
            rule_config={"inverted": False, "threshold": 1, "type": "ATLEAST"},
            wait_period_ms=5000, tags=tags, opts=arc)

        gated: dict[str, pulumi.Output[str]] = {}
        child = pulumi.ResourceOptions(parent=self)
        for region, control in controls.items():
            control_check = aws.route53.HealthCheck(
                f"{name}-{region}-routing-control", type="RECOVERY_CONTROL", routing_control_arn=control.arn,
                tags={**tags, "Name": f"{args.service}-{region}-routing-control"}, opts=child)
            gate = aws.route53.HealthCheck(
                f"{name}-{region}-gate", type="CALCULATED",
                child_healthchecks=[endpoint_check_ids[region], control_check.id], child_health_threshold=2,
                tags={**tags, "Name": f"{args.service}-{region}-gate"}, opts=child)
            gated[region] = gate.id
        self.routing_control_arns = {region: control.arn for region, control in controls.items()}
        self.cluster_arn = cluster.arn
        self.control_panel_arn = panel.arn
        return gated
