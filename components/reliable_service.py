"""ReliableService: one service, wired for reliability in one or more regions.

Per region: a multi-AZ network; alert routing (SNS page and ticket topics: alarms publish
only within their region); either an ALB + autoscaled EC2 fleet (platform `ec2`), with the
regional name `<region>.<domain>`, SLO burn-rate alarms and a dashboard, or the Kubernetes
workload with its PrometheusRule (platform `kubernetes`); a load-levelling queue with a
DLQ; log groups, saved queries and tracing; AppConfig feature flags rolled back by alarms.
Across regions: the cache tier (optionally a global datastore), the database (Aurora global
database or DynamoDB global table), the CDN with cross-region origin failover behind a
WAF, and DNS failover records with health checks and ARC routing controls.

Outputs (`endpoint`, `regional_endpoints`, topic ARNs, dashboard names, ...) are gathered in
`stack_outputs`, which the stack program exports for `StackReference` consumers.

Usage::

    from reliability_stack.components import ReliableService, ReliableServiceArgs
    from reliability_stack.config import AlertRouting

    orders = ReliableService("orders", ReliableServiceArgs(
        service="orders", regions=["us-east-1"], domain="orders.example.com", hosted_zone="example.com",
        runbook_url="https://runbooks.example.com/orders", ami_ids={"us-east-1": "ami-0123456789abcdef0"},
        alerting=AlertRouting.model_validate({"page": [{"protocol": "email", "endpoint": "oncall@example.com"}],
                                              "ticket": [{"protocol": "email", "endpoint": "sre@example.com"}]})))

Knobs that turn resilience down are explicit: `cdn`, `waf`, `queue`, `feature_flags`,
`observability`, `dns_failover`, `cache` = False, `database_engine="none"`, `protect=False`.
"""

# No `from __future__ import annotations`: the component provider reads these annotations
# at runtime to build the package schema.
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from reliability_stack.components.alert_routing import AlertRouting, AlertRoutingArgs
from reliability_stack.components.args_validation import argument_failure
from reliability_stack.components.autoscaling import Autoscaling, AutoscalingArgs
from reliability_stack.components.cache_tier import CacheSecondaryRegion, CacheTier, CacheTierArgs
from reliability_stack.components.cdn import Cdn, CdnArgs, CdnOrigin
from reliability_stack.components.dns_failover import DnsFailover, DnsFailoverArgs, RegionalEndpoint
from reliability_stack.components.dynamodb_global import (
    DynamoDbAttribute,
    DynamoDbGlobalTable,
    DynamoDbGlobalTableArgs,
)
from reliability_stack.components.edge_protection import EdgeProtection, EdgeProtectionArgs
from reliability_stack.components.kube_service import HttpProbe, KubeIngress, KubeService, KubeServiceArgs
from reliability_stack.components.load_balancer import (
    HealthCheck,
    LoadBalancer,
    LoadBalancerArgs,
    TrafficSplit,
    dns_validated_certificate,
)
from reliability_stack.components.network import Network, NetworkArgs
from reliability_stack.components.observability import Observability, ObservabilityArgs
from reliability_stack.components.queue import Queue, QueueArgs
from reliability_stack.components.regional_database import (
    DatabaseRegion,
    RegionalDatabase,
    RegionalDatabaseArgs,
)
from reliability_stack.components.release_safety import MAX_MONITORS, ReleaseSafety, ReleaseSafetyArgs
from reliability_stack.components.service_dashboard import ServiceDashboard, ServiceDashboardArgs
from reliability_stack.components.slo_alarms import SloAlarms, SloAlarmsArgs
from reliability_stack.config import AlertRouting as AlertRoutingConfig
from reliability_stack.errors import ComponentArgsError
from reliability_stack.resource_tags import standard_tags
from reliability_stack.slo.cloudwatch_dashboard import dashboard_url
from reliability_stack.slo.model import SLO
from reliability_stack.slo.prometheus import prometheus_rule_object, prometheus_slos

COMPONENT = "ReliableService"
CLOUDFRONT_REGION = "us-east-1"
PLATFORMS = ("ec2", "kubernetes")
DATABASE_ENGINES = ("aurora-postgresql", "dynamodb", "none")


@dataclass(frozen=True)
class KubernetesWorkload:
    """How a `kubernetes` service runs: one KubeService per region, in that region's cluster."""

    namespace: str = "default"
    min_replicas: int = 3
    max_replicas: int = 10
    cpu_request: str = "250m"
    memory_request: str = "256Mi"
    priority_class: str = "service-critical"
    ingress_host: str | None = None
    """Host of the Ingress (AWS Load Balancer Controller); default: the service's domain."""
    contexts: dict[str, str] = field(default_factory=dict)
    """Region -> kubeconfig context of that region's cluster: required for every region of a
    multi-region service; a single-region service uses the ambient context when absent."""


@dataclass(frozen=True)
class ReliableServiceArgs:
    """Inputs of `ReliableService`. Defaults are the resilient choice; knobs turn it down explicitly."""

    service: str
    """Service name (DNS label); every resource is tagged with it."""
    regions: list[str]
    """Regions to run in; the first is the primary (database writer, cache primary)."""
    domain: str
    """Public name of the service, e.g. checkout.example.com."""
    hosted_zone: str
    """Route 53 public hosted zone holding `domain` (looked up by name unless `hosted_zone_id` is given)."""
    runbook_url: str
    """Runbook linked from every alarm."""
    alerting: AlertRoutingConfig
    """Who gets pages and tickets (stack config `alerting`); every region gets its own topics."""
    slos: list[SLO] = field(default_factory=list)
    """The service's SLOs (loaded by the stack program); compiled into burn-rate alarms per region."""
    platform: str = "ec2"
    """`ec2` (ALB + Auto Scaling group) or `kubernetes` (KubeService)."""
    ami_ids: dict[str, str] = field(default_factory=dict)
    """Region -> AMI id of the live (blue) fleet (platform ec2), resolved from the images lock."""
    green_ami_ids: dict[str, str] = field(default_factory=dict)
    """Region -> AMI id of a green fleet behind the green target group, during a blue/green release."""
    container_image: str | None = None
    """Digest-pinned container reference (platform kubernetes)."""
    kubernetes: KubernetesWorkload = field(default_factory=KubernetesWorkload)
    port: int = 8080
    health_check_path: str = "/healthz"
    hosted_zone_id: pulumi.Input[str] | None = None
    """Id of `hosted_zone`; skips the lookup."""
    availability_zones: int = 3
    """AZs per region (≥ 2)."""
    availability_zone_names: dict[str, list[str]] = field(default_factory=dict)
    """Region -> AZ names to use; other regions use their first available AZs (looked up)."""
    vpc_cidrs: dict[str, str] = field(default_factory=dict)
    """Region -> VPC CIDR; default 10.<index>.0.0/16 so regional VPCs never overlap."""
    control_plane_region: str = "us-west-2"
    """Region of the ARC control plane (routing controls)."""
    instance_type: str = "t4g.small"
    min_size: int = 3
    max_size: int = 9
    target_cpu_percent: float = 50.0
    traffic_split: TrafficSplit = field(default_factory=TrafficSplit)
    """Blue/green weights of the ALB listeners (canary: e.g. 90/10)."""
    cache: bool = True
    cache_node_type: str = "cache.t4g.small"
    cache_shards: int = 1
    cache_replicas_per_shard: int = 1
    cache_global_datastore: bool = False
    database_engine: str = "aurora-postgresql"
    database_instance_class: str = "db.r6g.large"
    database_instances_per_region: int = 2
    database_backup_retention_days: int = 14
    database_master_password: pulumi.Input[str] | None = None
    """Master password of a multi-region Aurora database (a secret); single-region ones use Secrets Manager."""
    queue: bool = True
    """A load-levelling SQS queue with a DLQ per region."""
    queue_consumer_timeout_seconds: int = 30
    """Timeout of one queue consumer; the queue's visibility timeout is derived from it."""
    feature_flags: bool = True
    """AppConfig feature flags per region, rolled out gradually, rolled back by alarms."""
    flags: dict[str, bool] = field(default_factory=dict)
    """Initial feature-flag values."""
    observability: bool = True
    """Log groups, saved Logs Insights queries and X-Ray tracing per region."""
    cdn: bool = True
    """CloudFront in front; with two or more regions, reads fail over between the first two."""
    waf: bool = True
    """WAFv2 web ACLs with a rate-based rule: on CloudFront and on every load balancer."""
    dns_failover: bool = True
    """Multi-region only: health-checked failover records and ARC routing controls."""
    protect: bool = True
    """Pulumi `protect` on every stateful child. Knob for throwaway stacks only."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Extra tags; the stack and service tags are always added."""

    @property
    def primary_region(self) -> str:
        return self.regions[0]

    @property
    def multi_region(self) -> bool:
        return len(self.regions) > 1

    def vpc_cidr(self, region: str) -> str:
        return self.vpc_cidrs.get(region) or f"10.{self.regions.index(region)}.0.0/16"

    def validate(self) -> None:
        fail = argument_failure(COMPONENT)

        if not self.service:
            fail("service", "a service name is required")
        if not self.regions:
            fail("regions", "at least one region")
        if len(set(self.regions)) != len(self.regions):
            fail("regions", "regions must be distinct")
        if self.platform not in PLATFORMS:
            fail("platform", f"must be one of {', '.join(PLATFORMS)}")
        if self.platform == "ec2":
            missing = [r for r in self.regions if r not in self.ami_ids]
            if missing:
                fail("ami_ids", f"no AMI id for region(s) {', '.join(missing)}")
            if self.green_ami_ids and set(self.green_ami_ids) != set(self.regions):
                fail("green_ami_ids", "a green fleet needs an AMI id for every region")
            # A weight on an empty target group answers 503 for that share of requests.
            if self.traffic_split.green and not self.green_ami_ids:
                fail("traffic_split", "green traffic needs a green fleet: give green_ami_ids")
        elif not self.container_image:
            fail("container_image", "platform kubernetes needs a digest-pinned container image")
        if self.platform == "kubernetes" and self.multi_region:
            missing = [r for r in self.regions if r not in self.kubernetes.contexts]
            if missing:
                fail("kubernetes.contexts", f"a multi-region Kubernetes service needs a cluster per region; "
                     f"no kubeconfig context for {', '.join(missing)}")
            contexts = [self.kubernetes.contexts[r] for r in self.regions]
            if len(set(contexts)) != len(contexts):
                fail("kubernetes.contexts", "each region needs its own cluster (distinct contexts)")
        if self.database_engine not in DATABASE_ENGINES:
            fail("database_engine", f"must be one of {', '.join(DATABASE_ENGINES)}")
        if (self.database_engine == "aurora-postgresql" and self.multi_region
                and self.database_master_password is None):
            fail("database_master_password", "a multi-region Aurora database needs a master password (secret)")
        if self.cache_global_datastore and not self.multi_region:
            fail("cache_global_datastore", "a global datastore needs two or more regions")
        cidrs = [ipaddress.ip_network(self.vpc_cidr(r)) for r in self.regions]
        for i, a in enumerate(cidrs):
            if any(a.overlaps(b) for b in cidrs[i + 1:]):
                fail("vpc_cidrs", f"VPC CIDR {a} of {self.regions[i]} overlaps another region's")
        if self.cdn and self.domain.count(".") < 1:
            fail("domain", "expected a DNS name such as checkout.example.com")
        for region, zones in self.availability_zone_names.items():
            if region not in self.regions:
                fail("availability_zone_names", f"{region} is not one of the regions")
            if len(zones) != self.availability_zones or len(set(zones)) != len(zones):
                fail("availability_zone_names", f"{region}: expected {self.availability_zones} distinct AZ names")
        if self.availability_zones < 2:
            fail("availability_zones", "a resilient service spans at least 2 AZs per region")


@dataclass
class RegionalFootprint:
    """What ReliableService declared in one region."""

    region: str
    network: Network
    alerts: AlertRouting
    load_balancer: LoadBalancer | None = None
    fleet: Autoscaling | None = None
    green_fleet: Autoscaling | None = None
    kube: KubeService | None = None
    slo_alarms: SloAlarms | None = None
    dashboard: ServiceDashboard | None = None
    queue: Queue | None = None
    observability: Observability | None = None
    release_safety: ReleaseSafety | None = None


class ReliableService(pulumi.ComponentResource):
    """The whole reliable footprint of one service, in one or more regions."""

    endpoint: pulumi.Output[str]
    """https:// URL clients use (the CDN, the DNS-failover name or the primary load balancer)."""
    regional_endpoints: pulumi.Output[dict[str, str]]
    """Region -> https:// URL of that region's load balancer name."""
    load_balancer_dns_names: pulumi.Output[dict[str, str]]
    page_topic_arns: pulumi.Output[dict[str, str]]
    """Region -> SNS topic of page-severity alerts."""
    ticket_topic_arns: pulumi.Output[dict[str, str]]
    """Region -> SNS topic of ticket-severity alerts."""
    queue_urls: pulumi.Output[dict[str, str]]
    slo_alarm_names: pulumi.Output[dict[str, list[str]]]
    """Region -> names of the page-severity SLO alarms."""
    log_group_names: pulumi.Output[dict[str, dict[str, str]]]
    dashboard_names: pulumi.Output[dict[str, str]]
    """Region -> CloudWatch dashboard of the service."""

    def __init__(self, name: str, args: ReliableServiceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        args.validate()
        super().__init__("reliability-stack:reliable_service:ReliableService", name, {}, opts)
        self.args = args
        self._name = name
        self._tags = standard_tags(pulumi.get_stack(), args.service, args.tags)
        self._zone_id = args.hosted_zone_id or aws.route53.get_zone_output(
            name=args.hosted_zone, private_zone=False, opts=pulumi.InvokeOutputOptions(parent=self)).zone_id

        self.regions: dict[str, RegionalFootprint] = {}
        zones_by_region: dict[str, list[str]] = {}
        for region in args.regions:
            zones_by_region[region] = self._zones(region)
            self.regions[region] = self._region(region, zones_by_region[region])

        client_groups = {r: [fleet.security_group_id for fleet in (f.fleet, f.green_fleet) if fleet]
                         for r, f in self.regions.items() if f.fleet}
        self.cache = self._cache(zones_by_region, client_groups) if args.cache else None
        self.database = self._database(zones_by_region, client_groups)
        self.load_balancers = {r: f.load_balancer for r, f in self.regions.items() if f.load_balancer}
        self.cdn = self._cdn() if args.cdn and self.load_balancers else None
        self.dns = (self._dns_failover() if args.dns_failover and args.multi_region and self.load_balancers
                    else None)
        if self.cdn is None and self.dns is None and self.load_balancers:
            lb = self.load_balancers[args.primary_region]
            self._alias_record(f"{name}-endpoint", args.domain, lb.dns_name, lb.zone_id)

        self._set_outputs()

    # -- per region -------------------------------------------------------------------

    def _zones(self, region: str) -> list[str]:
        if region in self.args.availability_zone_names:
            return list(self.args.availability_zone_names[region])
        # The names are needed as plain strings (cache and database placement), hence the
        # synchronous lookup, made once per region.
        result = aws.get_availability_zones(state="available", region=region,
                                            opts=pulumi.InvokeOptions(parent=self))
        names = list(result.names or [])
        if len(names) < self.args.availability_zones:
            raise ComponentArgsError(COMPONENT, "availability_zones",
                                     f"{region} offers {len(names)} available AZs, fewer than "
                                     f"the {self.args.availability_zones} asked")
        return names[: self.args.availability_zones]

    def _region(self, region: str, zones: list[str]) -> RegionalFootprint:
        args = self.args
        child = pulumi.ResourceOptions(parent=self)
        prefix = f"{self._name}-{region}"
        extra_tags = dict(args.tags)
        network = Network(prefix, NetworkArgs(
            service=args.service, region=region, availability_zones=args.availability_zones,
            availability_zone_names=zones, cidr_block=args.vpc_cidr(region), protect=args.protect,
            tags=extra_tags), opts=child)
        # CloudWatch alarms publish only to topics of their own region.
        alerts = AlertRouting(f"{prefix}-alerts", AlertRoutingArgs(
            routing=args.alerting, service=args.service, region=region, protect=args.protect, tags=extra_tags),
            opts=child)
        footprint = RegionalFootprint(region=region, network=network, alerts=alerts)
        if args.platform == "ec2":
            self._ec2_fleet(footprint)
        else:
            self._kube_workload(footprint)
        if args.queue:
            footprint.queue = Queue(f"{prefix}-queue", QueueArgs(
                service=args.service, consumer_timeout_seconds=args.queue_consumer_timeout_seconds,
                alarm_topic_arn=alerts.ticket_topic_arn, region=region, protect=args.protect, tags=extra_tags),
                opts=child)
        if args.observability:
            footprint.observability = Observability(f"{prefix}-obs", ObservabilityArgs(
                service=args.service, region=region, protect=args.protect, tags=extra_tags), opts=child)
        if args.feature_flags:
            footprint.release_safety = ReleaseSafety(f"{prefix}-flags", ReleaseSafetyArgs(
                service=args.service, rollback_alarm_arns=self._rollback_alarm_arns(footprint),
                flags=dict(args.flags), allow_without_rollback_alarms=footprint.load_balancer is None,
                region=region, tags=extra_tags), opts=child)
        return footprint

    def _ec2_fleet(self, footprint: RegionalFootprint) -> None:
        args = self.args
        region = footprint.region
        network = footprint.network
        child = pulumi.ResourceOptions(parent=self)
        prefix = f"{self._name}-{region}"
        lb = LoadBalancer(prefix, LoadBalancerArgs(
            service=args.service, region=region, vpc_id=network.vpc_id, vpc_cidr=network.vpc_cidr,
            subnet_ids=network.public_subnet_ids, domain_name=args.domain, hosted_zone_id=self._zone_id,
            target_port=args.port, health_check=HealthCheck(path=args.health_check_path),
            traffic_split=args.traffic_split, alarm_actions=[footprint.alerts.ticket_topic_arn],
            protect=args.protect, tags=dict(args.tags)), opts=child)
        footprint.load_balancer = lb
        # Blue/green: the live (blue) fleet serves the blue target group; a release brings up a
        # green fleet on the new AMI behind the green group, and the listener weights move
        # traffic between them (canary first, then all, then the old fleet goes).
        def fleet(name: str, ami_id: str, target_group_arn: pulumi.Output[str]) -> Autoscaling:
            return Autoscaling(name, AutoscalingArgs(
                service=args.service, region=region, ami_id=ami_id, vpc_id=network.vpc_id,
                subnet_ids=network.private_subnet_ids, target_group_arns=[target_group_arn],
                load_balancer_security_group_id=lb.security_group_id, rollback_alarm_names=lb.alarm_names,
                instance_type=args.instance_type, port=args.port, min_size=args.min_size,
                max_size=args.max_size, target_cpu_percent=args.target_cpu_percent, tags=dict(args.tags)),
                opts=child)

        footprint.fleet = fleet(prefix, args.ami_ids[region], lb.blue_target_group_arn)
        if region in args.green_ami_ids:
            footprint.green_fleet = fleet(f"{prefix}-green", args.green_ami_ids[region], lb.green_target_group_arn)
        # <region>.<domain> always names this region's load balancer: CDN origins and health
        # checks use it, and operators can reach one region directly.
        self._alias_record(prefix, f"{region}.{args.domain}", lb.dns_name, lb.zone_id)
        # Metrics are regional, so each region gets its own dashboard; alarms link to it.
        dashboard_name = f"{pulumi.get_stack()}-{args.service}-{region}"
        alarm_arns: list[pulumi.Input[str]] = list(lb.alarm_arns)
        if args.slos:
            footprint.slo_alarms = SloAlarms(f"{prefix}-slo", SloAlarmsArgs(
                slos=list(args.slos), page_topic_arn=footprint.alerts.page_topic_arn,
                ticket_topic_arn=footprint.alerts.ticket_topic_arn, load_balancer_arn_suffix=lb.arn_suffix,
                target_group_arn_suffix=lb.blue_target_group_arn_suffix, runbook_url=args.runbook_url,
                dashboard_url=dashboard_url(dashboard_name, region),
                alarm_name_prefix=f"{pulumi.get_stack()}-{region}-", region=region, tags=dict(args.tags)),
                opts=child)
            alarm_arns.extend(footprint.slo_alarms.composite_alarm_arns)
        footprint.dashboard = ServiceDashboard(f"{prefix}-dashboard", ServiceDashboardArgs(
            service=args.service, region=region, slos=list(args.slos), load_balancer_arn_suffix=lb.arn_suffix,
            target_group_arn_suffix=lb.blue_target_group_arn_suffix,
            autoscaling_group_name=footprint.fleet.group_name, alarm_arns=alarm_arns,
            dashboard_name=dashboard_name), opts=child)
        # The regional names (and the DNS-failover name) reach the ALB without passing the
        # CDN, so the ALB gets its own web ACL even when CloudFront has one.
        if args.waf:
            EdgeProtection(f"{prefix}-waf", EdgeProtectionArgs(
                service=args.service, scope="REGIONAL", region=region, load_balancer_arn=lb.arn,
                protect=args.protect, tags=dict(args.tags)), opts=child)

    def _kube_workload(self, footprint: RegionalFootprint) -> None:
        args = self.args
        kube = args.kubernetes
        region = footprint.region
        prefix = f"{self._name}-{region}"
        opts = pulumi.ResourceOptions(parent=self)
        context = kube.contexts.get(region)
        if context:
            import pulumi_kubernetes as k8s  # only kubernetes services pay for the import

            provider = k8s.Provider(f"{prefix}-k8s", context=context, opts=pulumi.ResourceOptions(parent=self))
            opts = pulumi.ResourceOptions(parent=self, providers={"kubernetes": provider})
        host = kube.ingress_host or args.domain
        certificate_arn = dns_validated_certificate(
            f"{prefix}-ingress-cert", domain_name=host, zone_id=self._zone_id, region=region,
            tags={"Name": f"{prefix}-ingress-cert", **self._tags}, parent=self)
        rule = None
        if prometheus_slos(args.slos):
            rule = prometheus_rule_object(args.slos, name=f"{args.service}-slos", namespace=kube.namespace)
        footprint.kube = KubeService(f"{prefix}-kube", KubeServiceArgs(
            image=args.container_image, namespace=kube.namespace, object_name=args.service, port=args.port,
            readiness=HttpProbe.readiness(args.health_check_path), min_replicas=kube.min_replicas,
            max_replicas=kube.max_replicas, cpu_request=kube.cpu_request, memory_request=kube.memory_request,
            priority_class=kube.priority_class,
            ingress=KubeIngress(host=host, certificate_arn=certificate_arn), prometheus_rule=rule,
            labels={"reliability-stack/stack": pulumi.get_stack()}), opts=opts)

    @staticmethod
    def _rollback_alarm_arns(footprint: RegionalFootprint) -> list[pulumi.Input[str]]:
        """Alarms that roll a flag deployment back: the ALB's target errors, then the SLO pages."""
        arns: list[pulumi.Input[str]] = []
        if footprint.load_balancer is not None:
            arns.append(footprint.load_balancer.alarm_arns[0])
        if footprint.slo_alarms is not None:
            arns.extend(footprint.slo_alarms.composite_alarm_arns)
        return arns[:MAX_MONITORS]

    def _alias_record(self, resource_name: str, record_name: str, target: pulumi.Input[str],
                      target_zone: pulumi.Input[str]) -> None:
        for record_type in ("A", "AAAA"):
            aws.route53.Record(
                f"{resource_name}-{record_type.lower()}", zone_id=self._zone_id, name=record_name, type=record_type,
                aliases=[aws.route53.RecordAliasArgs(name=target, zone_id=target_zone, evaluate_target_health=True)],
                opts=pulumi.ResourceOptions(parent=self))

    # -- across regions ----------------------------------------------------------------

    def _cache(self, zones: dict[str, list[str]], client_groups: dict[str, list]) -> CacheTier:
        args = self.args
        primary = args.primary_region
        network = self.regions[primary].network
        secondaries = [
            CacheSecondaryRegion(region=r, vpc_id=self.regions[r].network.vpc_id,
                                 subnet_ids=self.regions[r].network.private_subnet_ids,
                                 availability_zones=zones[r], client_security_group_ids=client_groups.get(r, []))
            for r in args.regions[1:]] if args.cache_global_datastore else []
        return CacheTier(f"{self._name}-cache", CacheTierArgs(
            service=args.service, region=primary, vpc_id=network.vpc_id, subnet_ids=network.private_subnet_ids,
            availability_zones=zones[primary], client_security_group_ids=client_groups.get(primary, []),
            node_type=args.cache_node_type, shards=args.cache_shards,
            replicas_per_shard=args.cache_replicas_per_shard, global_datastore=args.cache_global_datastore,
            secondary_regions=secondaries, notification_topic_arn=self.regions[primary].alerts.ticket_topic_arn,
            protect=args.protect, tags=dict(args.tags)), opts=pulumi.ResourceOptions(parent=self))

    def _database(self, zones: dict[str, list[str]], client_groups: dict[str, list]):
        args = self.args
        child = pulumi.ResourceOptions(parent=self)
        if args.database_engine == "aurora-postgresql":
            regions = [DatabaseRegion(region=r, vpc_id=self.regions[r].network.vpc_id,
                                      subnet_ids=self.regions[r].network.private_subnet_ids,
                                      availability_zones=zones[r], client_security_group_ids=client_groups.get(r, []))
                       for r in args.regions]
            return RegionalDatabase(f"{self._name}-db", RegionalDatabaseArgs(
                service=args.service, primary=regions[0], secondaries=regions[1:],
                instance_class=args.database_instance_class, instances_per_region=args.database_instances_per_region,
                backup_retention_days=args.database_backup_retention_days,
                master_password=args.database_master_password, protect=args.protect, tags=dict(args.tags)),
                opts=child)
        if args.database_engine == "dynamodb":
            return DynamoDbGlobalTable(f"{self._name}-table", DynamoDbGlobalTableArgs(
                service=args.service, region=args.primary_region, replica_regions=args.regions[1:],
                hash_key="pk", range_key="sk",
                attributes=[DynamoDbAttribute(name="pk", type="S"), DynamoDbAttribute(name="sk", type="S")],
                protect=args.protect, tags=dict(args.tags)), opts=child)
        return None

    def _cdn(self) -> Cdn:
        args = self.args
        child = pulumi.ResourceOptions(parent=self)
        # CloudFront only takes certificates from us-east-1: reuse the ALB's when it lives there.
        if CLOUDFRONT_REGION in self.load_balancers:
            certificate_arn = self.load_balancers[CLOUDFRONT_REGION].certificate_arn
        else:
            certificate_arn = dns_validated_certificate(
                f"{self._name}-cdn-cert", domain_name=args.domain, zone_id=self._zone_id, region=CLOUDFRONT_REGION,
                tags={"Name": f"{self._name}-cdn-cert", **self._tags}, parent=self)
        web_acl_arn = None
        if args.waf:
            web_acl_arn = EdgeProtection(f"{self._name}-edge-waf", EdgeProtectionArgs(
                service=args.service, scope="CLOUDFRONT", protect=args.protect, tags=dict(args.tags)),
                opts=child).web_acl_arn
        # Two origins make an origin group: reads fail over to the second region on 5xx.
        origins = [CdnOrigin(origin_id=region, domain_name=f"{region}.{args.domain}")
                   for region in list(self.load_balancers)[:2]]
        cdn = Cdn(f"{self._name}-cdn", CdnArgs(
            service=args.service, origins=origins, aliases=[args.domain], certificate_arn=certificate_arn,
            web_acl_arn=web_acl_arn, log_bucket_region=args.primary_region, protect=args.protect,
            tags=dict(args.tags)), opts=child)
        self._alias_record(f"{self._name}-endpoint", args.domain, cdn.domain_name, cdn.hosted_zone_id)
        return cdn

    def _dns_failover(self) -> DnsFailover:
        args = self.args
        regions = list(self.load_balancers)
        endpoints = [RegionalEndpoint(region=r, alias_name=self.load_balancers[r].dns_name,
                                      alias_zone_id=self.load_balancers[r].zone_id,
                                      health_check_fqdn=f"{r}.{args.domain}") for r in regions]
        # With a CDN in front, the failover name serves what the CDN cannot fail over (writes)
        # and clients that bypass the edge; without one it is the service's own name.
        record_name = f"api.{args.domain}" if self.cdn is not None else args.domain
        return DnsFailover(f"{self._name}-dns", DnsFailoverArgs(
            service=args.service, zone_id=self._zone_id, record_name=record_name, endpoints=endpoints,
            routing_policy="failover" if len(endpoints) == 2 else "latency",
            health_check_path=args.health_check_path, control_plane_region=args.control_plane_region,
            alarm_topic_arn=self.regions[CLOUDFRONT_REGION].alerts.page_topic_arn
            if CLOUDFRONT_REGION in self.regions else None,
            tags=dict(args.tags)), opts=pulumi.ResourceOptions(parent=self))

    # -- outputs -----------------------------------------------------------------------

    def _set_outputs(self) -> None:
        args = self.args
        footprints = self.regions.values()
        self.endpoint = pulumi.Output.from_input(f"https://{args.domain}")
        self.regional_endpoints = pulumi.Output.from_input(
            {region: f"https://{region}.{args.domain}" for region in self.load_balancers})
        self.load_balancer_dns_names = pulumi.Output.all(
            **{region: lb.dns_name for region, lb in self.load_balancers.items()})
        self.page_topic_arns = pulumi.Output.all(**{f.region: f.alerts.page_topic_arn for f in footprints})
        self.ticket_topic_arns = pulumi.Output.all(**{f.region: f.alerts.ticket_topic_arn for f in footprints})
        self.queue_urls = pulumi.Output.all(**{f.region: f.queue.queue_url for f in footprints if f.queue})
        self.slo_alarm_names = pulumi.Output.from_input(
            {f.region: list(f.slo_alarms.page_alarm_names) for f in footprints if f.slo_alarms})
        self.log_group_names = pulumi.Output.all(**{
            f.region: pulumi.Output.all(**f.observability.log_group_names) for f in footprints if f.observability})
        self.dashboard_names = pulumi.Output.from_input(
            {f.region: f.dashboard.dashboard_name for f in footprints if f.dashboard})
        # Everything a consumer stack reads through a StackReference, under camelCase keys.
        self.stack_outputs = {
            "endpoint": self.endpoint,
            "regionalEndpoints": self.regional_endpoints,
            "loadBalancerDnsNames": self.load_balancer_dns_names,
            "pageTopicArns": self.page_topic_arns,
            "ticketTopicArns": self.ticket_topic_arns,
            "queueUrls": self.queue_urls,
            "sloAlarmNames": self.slo_alarm_names,
            "logGroupNames": self.log_group_names,
            "dashboardNames": self.dashboard_names,
        }
        self.register_outputs(self.stack_outputs)
