"""Cross-resource AWS rules: SLO paging, alarm routing, timeout ordering, failover, zonal redundancy, buckets.

Resources are linked by dependencies (the engine's implicit ones from Output inputs), by
reference values (ARNs, ids, names, DNS names) and by component parentage. When a link or
a value cannot be resolved, the rule passes for that resource: unknown never fails.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from pulumi_policy.proxy import UnknownValueError

from reliability_stack.policies.compute import ASG, ESM, LAMBDA
from reliability_stack.policies.data import BUCKET, RDS_CLUSTER, RDS_CLUSTER_INSTANCE, TABLE
from reliability_stack.policies.edge import DISTRIBUTION, HEALTH_CHECK, LOAD_BALANCERS, RECORD, TARGET_GROUPS
from reliability_stack.policies.kubernetes_stack import INGRESS
from reliability_stack.policies.kubernetes_stack import SERVICE as K8S_SERVICE
from reliability_stack.policies.observability import METRIC_ALARM
from reliability_stack.policies.registry import Violations, stack_rule
from reliability_stack.policies.security import SECRET_NAME
from reliability_stack.policies.view import (
    REPLICATED_TYPES,
    ResourceView,
    StackView,
    dig,
    fmt,
    grace_period_seconds,
    ingress_backend_names,
    is_false,
    is_true,
    items,
    json_prop,
    k8s_name,
    k8s_namespace,
    matching,
    number,
    selector_matches,
    tags_of,
    template_labels,
    unknown_skips,
)

COMPOSITE_ALARM = "aws:cloudwatch/compositeAlarm:CompositeAlarm"
ALARMS = (METRIC_ALARM, COMPOSITE_ALARM)
TOPIC = "aws:sns/topic:Topic"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
PROMETHEUS_RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
SLO_COMPONENT_PREFIX = "reliability-stack:slo_alarms:"
QUEUE = "aws:sqs/queue:Queue"
REDRIVE_POLICY = "aws:sqs/redrivePolicy:RedrivePolicy"
SUBNET = "aws:ec2/subnet:Subnet"
NAT = "aws:ec2/natGateway:NatGateway"
BUCKET_VERSIONING = ("aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2")
BUCKET_PUBLIC_ACCESS = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
BUCKET_SSE = ("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
              "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2")
BUCKET_REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
BUCKET_ACLS = ("aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2")
SCALING_TARGET = "aws:appautoscaling/target:Target"
CONSUMER_TIMEOUT_TAG = "reliability-stack:consumer-timeout-seconds"
_ALARM_REF = re.compile(r'ALARM\(\s*"?([^")]+?)"?\s*\)')


def _alarm_name(alarm: ResourceView) -> str | None:
    name = alarm.get("alarmName") if alarm.type == COMPOSITE_ALARM else alarm.get("name")
    return str(name) if name is not None else None


def _composed_names(stack: StackView) -> tuple[dict[str, ResourceView], bool]:
    """Alarm name -> the composite alarm whose rule references it; and whether some rule was unknown."""
    composed: dict[str, ResourceView] = {}
    readable, unsure = matching(stack.of_type(COMPOSITE_ALARM), lambda c: c.get("alarmRule") is not None)
    for composite in readable:
        for name in _ALARM_REF.findall(str(composite.get("alarmRule", default=""))):
            composed.setdefault(name.strip(), composite)
    return composed, unsure


def _has_actions(alarm: ResourceView) -> bool:
    return not is_false(alarm.get("actionsEnabled")) and bool(items(alarm.get("alarmActions")))


@stack_rule(
    id="aws-alarm-actions",
    description="Every CloudWatch alarm notifies someone, directly or through a composite alarm that does.",
    remediation="Set alarmActions to an alert-routing SNS topic (and keep actionsEnabled), or reference the alarm "
                "from a composite alarm that has actions.",
    anchors=["A38", "CKV_AWS_319", "CloudWatchAlarmAction", "G3"],
    techniques=["MON"],
)
def alarm_actions(stack: StackView, config: Mapping[str, Any]) -> Violations:
    composed, unsure = _composed_names(stack)
    for alarm in stack.of_type(*ALARMS):
        with unknown_skips():
            if _has_actions(alarm):
                continue
            parent = composed.get(_alarm_name(alarm) or "")
            if parent is not None and _has_actions(parent):
                continue
            if unsure and alarm.type == METRIC_ALARM:
                continue  # a composite whose rule is unknown may use it
            reason = "actionsEnabled is false" if is_false(alarm.get("actionsEnabled")) else "no alarmActions"
            yield f"alarm '{_alarm_name(alarm) or alarm.name}': {reason}, and no composite alarm with actions uses it", alarm.urn


def _topic_for(stack: StackView, arn: Any) -> ResourceView | None:
    return stack.resolve(arn, stack.of_type(TOPIC), owner=None) if isinstance(arn, str) else None


@stack_rule(
    id="aws-alarm-topic-subscribed",
    description="SNS topics that alarms notify have at least one subscription, so an alert reaches a person.",
    remediation="Subscribe the on-call endpoint (email, HTTPS pager integration) to every topic alarms notify.",
    anchors=["G3"],
    techniques=["MON"],
)
def alarm_topic_subscribed(stack: StackView, config: Mapping[str, Any]) -> Violations:
    topics = stack.of_type(TOPIC)
    if not topics:
        return
    subscribed: set[str] = set()
    readable, unsure = matching(stack.of_type(SUBSCRIPTION), lambda sub: sub.get("topic") is not None)
    if unsure:
        return  # an unknown subscription may be the one a topic needs
    for sub in readable:
        topic = stack.resolve(sub.get("topic"), topics, owner=sub)
        if topic is not None:
            subscribed.add(topic.urn)
    reported: set[str] = set()
    for alarm in stack.of_type(*ALARMS):
        with unknown_skips():
            for arn in items(alarm.get("alarmActions")):
                topic = _topic_for(stack, arn)
                if topic is not None and topic.urn not in subscribed and topic.urn not in reported:
                    reported.add(topic.urn)
                    yield f"topic '{topic.name}' receives alarms but has no subscription: nobody is notified", topic.urn


def _is_paging(stack: StackView, arn: Any, pattern: re.Pattern[str]) -> bool:
    if not isinstance(arn, str):
        return False
    topic = stack.resolve(arn, stack.of_type(TOPIC))
    if topic is not None:
        tags = tags_of(topic.props)
        if tags.get("severity") == "page":
            return True
        names = [topic.name, str(topic.get("name", default="")), str(topic.get("displayName", default="")),
                 *tags.values()]
        return any(pattern.search(n) for n in names)
    return bool(pattern.search(arn.rsplit(":", 1)[-1]))


@stack_rule(
    id="slo-burn-rate-alarms",
    description="Every declared SLO has multi-window burn-rate alerting whose page tier reaches a paging target.",
    remediation="Declare SloAlarms for the SLO (CloudWatch: composite alarms AND-ing a long and a short window, "
                "alarmActions on the page topic of AlertRouting) or a PrometheusRule with severity=page alerts "
                "labelled with the SLO; list required SLO ids in declaredSlos.",
    anchors=["G1"],
    techniques=["MON"],
    config={"declaredSlos": {"type": "array", "items": {"type": "string"}, "default": [],
                             "description": "SLO ids that must be alerted on even if no alarm mentions them."},
            "pagingPattern": {"type": "string", "default": "(^|[^a-z])(page|paging|pager|oncall)([^a-z]|$)",
                              "description": "Regex on topic name/tags/ARN that marks a paging target."}},
)
def slo_burn_rate_alarms(stack: StackView, config: Mapping[str, Any]) -> Violations:
    pattern = re.compile(str(config["pagingPattern"]), re.IGNORECASE)
    slos: dict[str, str | None] = {str(s): None for s in config["declaredSlos"]}  # slo -> urn to blame
    paged: set[str] = set()
    problems: dict[str, list[str]] = {}
    unsure: set[str] = set()  # SLOs some of whose alarms could not be read: no conclusion
    named, unknown_names = matching(stack.of_type(METRIC_ALARM), lambda a: _alarm_name(a) is not None)
    names = {_alarm_name(a) for a in named}
    tagged, unknown_tags = matching(stack.of_type(*ALARMS), lambda a: "slo" in tags_of(a.props))
    if unknown_tags:
        return
    for alarm in tagged:
        slo = tags_of(alarm.props)["slo"]
        try:
            if not slo:
                continue
            slos.setdefault(slo, alarm.urn)
            if alarm.type != COMPOSITE_ALARM or tags_of(alarm.props).get("severity") != "page":
                continue
            referenced = [n.strip() for n in _ALARM_REF.findall(str(alarm.get("alarmRule", default="")))]
            if " AND " not in str(alarm.get("alarmRule", default="")) or len(referenced) < 2:
                problems.setdefault(slo, []).append(f"'{_alarm_name(alarm)}' does not AND a long and a short window")
            elif not unknown_names and not all(n in names for n in referenced):
                problems.setdefault(slo, []).append(f"'{_alarm_name(alarm)}' references undeclared alarms")
            if _has_actions(alarm) and any(_is_paging(stack, arn, pattern) for arn in items(alarm.get("alarmActions"))):
                paged.add(slo)
            else:
                problems.setdefault(slo, []).append(f"'{_alarm_name(alarm)}' does not notify a paging topic")
        except UnknownValueError:
            unsure.add(slo)
    for rule in stack.of_type(PROMETHEUS_RULE):
        try:
            for group in items(rule.get("spec", "groups")):
                for alert in items(dig(group, "rules")):
                    slo = dig(alert, "labels", "slo")
                    if dig(alert, "alert") is None or slo is None:
                        continue
                    slos.setdefault(str(slo), rule.urn)
                    expr = str(dig(alert, "expr", default=""))
                    # Alertmanager routes severity=page to the pager; MWMBR = two windows ANDed.
                    if dig(alert, "labels", "severity") == "page" and " and" in expr.replace("\n", " "):
                        paged.add(str(slo))
        except UnknownValueError:
            return  # an unknown rule may be the one that pages
    for slo, urn in sorted(slos.items()):
        if (slo in paged and not problems.get(slo)) or slo in unsure:
            continue
        detail = "; ".join(problems.get(slo, [])) or "no page-severity burn-rate alert"
        yield f"SLO '{slo}' is not paged on fast budget burn: {detail}", urn
    for component in stack.resources:
        if component.type.startswith(SLO_COMPONENT_PREFIX) and not any(
                r.type in ALARMS for r in stack.descendants(component)):
            yield f"SLO alarms component '{component.name}' declares no alarms", component.urn


def _workloads_behind(stack: StackView) -> Callable[[ResourceView], list[ResourceView]]:
    """For a target group, the Kubernetes workloads it feeds: same component, or linked by dependency.

    The workloads are indexed once; looking each target group up in all of them made the
    stack policy quadratic in the number of services.
    """
    workloads = stack.of_type(*REPLICATED_TYPES)
    position = {w.urn: i for i, w in enumerate(workloads)}
    by_parent: dict[str, list[ResourceView]] = {}
    depending_on: dict[str, list[ResourceView]] = {}
    for workload in workloads:
        if workload.parent is not None:
            by_parent.setdefault(workload.parent, []).append(workload)
        for urn in workload.dependencies:
            depending_on.setdefault(urn, []).append(workload)

    def behind(target_group: ResourceView) -> list[ResourceView]:
        found = {w.urn: w for w in by_parent.get(target_group.parent, ())}  # no parent: no siblings indexed
        found.update((w.urn, w) for w in depending_on.get(target_group.urn, ()))
        found.update((urn, workloads[position[urn]]) for urn in target_group.dependencies if urn in position)
        return sorted(found.values(), key=lambda w: position[w.urn])

    return behind


def _origin_load_balancer(stack: StackView, domain: Any, load_balancers: list[ResourceView]) -> ResourceView | None:
    """The load balancer behind a CDN origin: named directly, or through an alias record of that name."""
    direct = stack.resolve(domain, load_balancers)
    if direct is not None or not isinstance(domain, str):
        return direct
    for record in stack.of_type(RECORD):
        with unknown_skips():
            if str(record.get("name", default="")).rstrip(".") != domain.rstrip("."):
                continue
            for alias in items(record.get("aliases")):
                lb = stack.resolve(dig(alias, "name"), load_balancers)
                if lb is not None:
                    return lb
    return None


@stack_rule(
    id="timeout-ordering",
    description="Timeouts are ordered at every hop: the CDN gives up on a connection before the load balancer "
                "closes it, targets drain within the pod grace period, queue visibility outlasts the consumer.",
    remediation="Keep CloudFront originKeepaliveTimeout < ALB idleTimeout and originReadTimeout <= idleTimeout; "
                "deregistrationDelay (target group, or the ALB ingress annotation deregistration_delay.timeout_seconds) "
                "<= terminationGracePeriodSeconds; SQS visibilityTimeoutSeconds >= "
                "visibilityFactor x the consumer timeout (Lambda timeout or the queue's consumer-timeout tag).",
    anchors=["G4", "A34", "LambdaEventSourceSQSVisibilityTimeout"],
    techniques=["RES"],
    config={"visibilityFactor": {"type": "number", "default": 6, "minimum": 1}},
)
def timeout_ordering(stack: StackView, config: Mapping[str, Any]) -> Violations:
    load_balancers = stack.of_type(*LOAD_BALANCERS)
    for dist in stack.of_type(DISTRIBUTION):
        with unknown_skips():
            for origin in items(dist.get("origins")):
                custom = dig(origin, "customOriginConfig")
                if custom is None:
                    continue
                lb = _origin_load_balancer(stack, dig(origin, "domainName"), load_balancers)
                if lb is None:
                    continue
                idle = number(lb.get("idleTimeout", default=60)) or 60.0
                keepalive = number(dig(custom, "originKeepaliveTimeout", default=5)) or 5.0
                read = number(dig(custom, "originReadTimeout", default=30)) or 30.0
                if keepalive >= idle:
                    yield (f"origin '{dig(origin, 'originId')}': CloudFront keepalive {fmt(keepalive)} s >= load balancer "
                           f"'{lb.name}' idle timeout {fmt(idle)} s: reused connections hit closed sockets (502s)",
                           dist.urn)
                if read > idle:
                    yield (f"origin '{dig(origin, 'originId')}': CloudFront read timeout {fmt(read)} s > load balancer "
                           f"'{lb.name}' idle timeout {fmt(idle)} s: the load balancer cuts slow responses first",
                           dist.urn)
    workloads_behind = _workloads_behind(stack)
    for tg in stack.of_type(*TARGET_GROUPS):
        with unknown_skips():
            delay = number(tg.get("deregistrationDelay", default=300)) or 0.0
            yield from _drain_outlasts_grace(f"target group '{tg.name}' drains", delay, workloads_behind(tg), tg.urn)
    yield from _ingress_drain_ordering(stack)
    queues, functions = stack.of_type(QUEUE), stack.of_type(LAMBDA)
    factor = float(config["visibilityFactor"])
    for queue in queues:
        with unknown_skips():
            visibility = _visibility_seconds(queue)
            consumer = number(tags_of(queue.props).get(CONSUMER_TIMEOUT_TAG))
            if consumer is not None and visibility < factor * consumer:
                yield (f"queue '{queue.name}' visibility {fmt(visibility)} s < {fmt(factor)} x consumer timeout "
                       f"{fmt(consumer)} s: messages are redelivered while still being processed", queue.urn)
    for mapping in stack.of_type(ESM):
        with unknown_skips():
            queue = stack.resolve(mapping.get("eventSourceArn"), queues, owner=mapping)
            function = stack.resolve(mapping.get("functionName"), functions, owner=mapping)
            if queue is None or function is None:
                continue
            visibility = _visibility_seconds(queue)
            timeout = number(function.get("timeout", default=3)) or 3.0
            if visibility < factor * timeout:
                yield (f"queue '{queue.name}' visibility {fmt(visibility)} s < {fmt(factor)} x Lambda '{function.name}' "
                       f"timeout {fmt(timeout)} s", queue.urn)


def _visibility_seconds(queue: ResourceView) -> float:
    """How long a received message stays hidden from other consumers (SQS default 30 s)."""
    return number(queue.get("visibilityTimeoutSeconds", default=30)) or 30.0


_ALB_DELAY = re.compile(r"deregistration_delay\.timeout_seconds=(\d+)")
ALB_ANNOTATION_PREFIX = "alb.ingress.kubernetes.io/"


def _ingress_drain_ordering(stack: StackView) -> Violations:
    """AWS Load Balancer Controller ingresses: target deregistration delay <= backend pods' grace period."""
    services, workloads = stack.of_type(K8S_SERVICE), stack.of_type(*REPLICATED_TYPES)
    for ingress in stack.of_type(INGRESS):
        with unknown_skips():
            annotations = ingress.get("metadata", "annotations", default={})
            if ingress.get("spec", "ingressClassName") != "alb" and not any(
                    str(key).startswith(ALB_ANNOTATION_PREFIX) for key in annotations):
                continue
            match = _ALB_DELAY.search(str(annotations.get(ALB_ANNOTATION_PREFIX + "target-group-attributes", "")))
            delay = float(match.group(1)) if match else 300.0  # the controller's (and ELB's) default
            namespace = k8s_namespace(ingress)
            names = {str(name) for name in ingress_backend_names(ingress)}
            backends = stack.closest(ingress, [svc for svc in services if k8s_namespace(svc) == namespace
                                               and k8s_name(svc) in names], services)
            for svc in backends:
                selector = {"matchLabels": svc.get("spec", "selector", default={})}
                pods = stack.closest(svc, [w for w in workloads if k8s_namespace(w) == namespace
                                           and selector_matches(selector, template_labels(w))], workloads)
                yield from _drain_outlasts_grace(f"ingress '{k8s_name(ingress)}' drains targets", delay, pods,
                                                 ingress.urn)


def _drain_outlasts_grace(drainer: str, delay: float, workloads: list[ResourceView], urn: str) -> Violations:
    """Workloads whose pods are killed (grace period) before their load balancer stops sending (drain delay)."""
    for w in workloads:
        grace = grace_period_seconds(w)
        if delay > grace:
            yield (f"{drainer} for {fmt(delay)} s but '{k8s_name(w)}' pods are killed after {fmt(grace)} s: "
                   "in-flight requests fail during rollouts", urn)


def _redrive_policy_resources(stack: StackView, queues: list[ResourceView]
                              ) -> tuple[dict[str, ResourceView], UnknownValueError | None]:
    """Queue URN -> the first `RedrivePolicy` resource that targets the queue.

    Resolved once for all queues (a scan per queue was quadratic in the number of services).
    The scan stops at a resource whose queue is unknown during preview, and returns that
    error too: it stands for every queue not matched before it.
    """
    targeting: dict[str, ResourceView] = {}
    for resource in stack.of_type(REDRIVE_POLICY):
        try:
            queue = stack.resolve(resource.get("queueUrl"), queues, owner=resource)
        except UnknownValueError as unknown:
            return targeting, unknown
        if queue is not None:
            targeting.setdefault(queue.urn, resource)
    return targeting, None


def _redrive(queue: ResourceView, separate: tuple[dict[str, ResourceView], UnknownValueError | None]) -> Any:
    """A queue's redrive policy: its own input, else the first `RedrivePolicy` resource's for it."""
    policy = json_prop(queue.get("redrivePolicy"))
    if policy:
        return policy
    targeting, unknown = separate
    resource = targeting.get(queue.urn)
    if resource is None:
        if unknown is not None:
            raise unknown
        return None
    return json_prop(resource.get("redrivePolicy"))


@stack_rule(
    id="aws-sqs-dead-letter",
    description="Work queues move poison messages to a dead-letter queue after a bounded number of receives; the "
                "DLQ keeps them at least as long as the source.",
    remediation="Give each source queue a redrivePolicy {deadLetterTargetArn, maxReceiveCount in [2, "
                "maxReceiveCount]} and a DLQ with messageRetentionSeconds >= the source's (14 days).",
    anchors=["A35", "G5", "G17", "SQS3", "SQSRedrivePolicy"],
    techniques=["LR", "RES"],
    config={"maxReceiveCount": {"type": "number", "default": 10, "minimum": 1}},
)
def sqs_dead_letter(stack: StackView, config: Mapping[str, Any]) -> Violations:
    queues = stack.of_type(QUEUE)
    policies: dict[str, Any] = {}
    separate = _redrive_policy_resources(stack, queues)
    dead_letter: set[str] = set()
    for queue in queues:
        try:
            policy = _redrive(queue, separate)
            policies[queue.urn] = policy
            dlq = stack.resolve(dig(policy, "deadLetterTargetArn"), queues) if policy else None
            if dlq is not None:
                dead_letter.add(dlq.urn)
        except UnknownValueError:
            return  # an unknown redrive policy may make any queue a dead-letter queue
    for queue in queues:
        with unknown_skips():
            if queue.urn in dead_letter or queue.get("redriveAllowPolicy") is not None:
                continue
            if any(pattern in queue.name.lower() for pattern in ("dlq", "dead-letter", "deadletter",
                                                                  "failed-deliveries")):
                continue  # a dead-letter queue of something outside this stack
            policy = policies.get(queue.urn)
            if not policy:
                yield f"queue '{queue.name}' has no dead-letter queue: a poison message is retried forever", queue.urn
                continue
            count = number(dig(policy, "maxReceiveCount"))
            if count is None or not 2 <= count <= config["maxReceiveCount"]:
                yield (f"queue '{queue.name}' maxReceiveCount {fmt(count)} is outside [2, "
                       f"{fmt(config['maxReceiveCount'])}]", queue.urn)
            dlq = stack.resolve(dig(policy, "deadLetterTargetArn"), queues)
            if dlq is not None:
                source_keep = number(queue.get("messageRetentionSeconds", default=345600)) or 0.0
                dlq_keep = number(dlq.get("messageRetentionSeconds", default=345600)) or 0.0
                if dlq_keep < source_keep:
                    yield (f"dead-letter queue '{dlq.name}' keeps messages {fmt(dlq_keep)} s, less than its source "
                           f"'{queue.name}' ({fmt(source_keep)} s)", dlq.urn)


GLOBAL_SERVICES = ("aws:cloudfront/", "aws:route53/", "aws:iam/", "aws:wafv2/", "aws:organizations/",
                   "aws:route53recoverycontrol/", "aws:globalaccelerator/")


def _stack_regions(stack: StackView) -> set[str]:
    """Regions the stack's regional AWS resources live in; no `region` input = the provider's region."""
    return {_region(r, "(provider region)") for r in stack.resources
            if r.type.startswith("aws:") and not r.type.startswith(GLOBAL_SERVICES)}


def _multi_region(stack: StackView) -> bool:
    """Whether the stack's regional resources span two or more regions."""
    return len(_stack_regions(stack)) >= 2


def _safe_get(resource: ResourceView, key: str, default: Any) -> Any:
    """A top-level input, or `default` when it is absent or unknown during preview."""
    with unknown_skips():
        return resource.get(key, default=default)
    return default


def _region(resource: ResourceView, default: str = "") -> str:
    return str(_safe_get(resource, "region", default))


@stack_rule(
    id="aws-nat-per-az",
    description="Each Availability Zone of a VPC has its own NAT gateway (no single-NAT point of failure).",
    remediation="Create one NAT gateway per AZ in that AZ's public subnet and route each private subnet to its own "
                "AZ's NAT (awsx NatGatewayStrategy.OnePerAz).",
    anchors=["G10"],
    techniques=["RES"],
)
def nat_per_az(stack: StackView, config: Mapping[str, Any]) -> Violations:
    subnets, nats, vpcs = stack.of_type(SUBNET), stack.of_type(NAT), stack.of_type("aws:ec2/vpc:Vpc")
    if not nats:
        return
    try:
        # Group by VPC when subnets name theirs, else by region.
        def network_of(subnet: ResourceView) -> str:
            vpc = stack.resolve(subnet.get("vpcId"), vpcs, owner=subnet) if vpcs else None
            return vpc.urn if vpc is not None else f"region {_region(subnet, '(provider region)')}"

        zones: dict[str, set[str]] = {}
        network: dict[str, str] = {}
        for subnet in subnets:
            network[subnet.urn] = network_of(subnet)
            zone = subnet.get("availabilityZone") or subnet.get("availabilityZoneId")
            if zone:
                zones.setdefault(network[subnet.urn], set()).add(str(zone))
        nat_zones: dict[str, set[str]] = {}
        first_nat: dict[str, ResourceView] = {}
        for nat in nats:
            if nat.get("connectivityType") == "private":
                continue
            subnet = stack.resolve(nat.get("subnetId"), subnets, owner=nat)
            if subnet is None or not subnet.get("availabilityZone"):
                return  # cannot place this NAT: no conclusion
            key = network[subnet.urn]
            first_nat.setdefault(key, nat)
            nat_zones.setdefault(key, set()).add(str(subnet.get("availabilityZone")))
    except UnknownValueError:
        return
    for key, nat in first_nat.items():
        expected, have = zones.get(key, set()), nat_zones[key]
        if len(expected) >= 2 and have < expected:
            where = stack.by_urn[key].name if key in stack.by_urn else key
            yield (f"{where}: AZs {', '.join(sorted(expected - have))} have no NAT gateway of their own; losing "
                   f"the AZ of {', '.join(sorted(have))} cuts their egress", nat.urn)


@stack_rule(
    id="aws-aurora-cluster-instances",
    description="Aurora clusters that serve traffic have >= 2 instances in distinct AZs (a reader to promote).",
    remediation="Declare >= minInstances aws.rds.ClusterInstance per cluster with distinct availabilityZone "
                "values and promotion tiers.",
    anchors=["A2", "G13", "RDS_CLUSTER_MULTI_AZ_ENABLED"],
    techniques=["RES"],
    config={"minInstances": {"type": "number", "default": 2, "minimum": 1}},
)
def aurora_cluster_instances(stack: StackView, config: Mapping[str, Any]) -> Violations:
    clusters = [c for c in stack.of_type(RDS_CLUSTER) if str(_safe_get(c, "engine", "")).startswith("aurora")]
    members: dict[str, list[ResourceView]] = {c.urn: [] for c in clusters}
    readable, unsure = matching(stack.of_type(RDS_CLUSTER_INSTANCE), lambda i: i.get("clusterIdentifier") is not None)
    if unsure:
        return
    for instance in readable:
        with unknown_skips():
            cluster = stack.resolve(instance.get("clusterIdentifier"), clusters, owner=instance)
            if cluster is not None:
                members[cluster.urn].append(instance)
    for cluster in clusters:
        with unknown_skips():
            if cluster.get("engineMode") == "serverless":
                continue
            instances = members[cluster.urn]
            if len(instances) < config["minInstances"]:
                yield (f"cluster '{cluster.name}' has {len(instances)} instance(s): a writer failure waits for a new "
                       f"instance instead of promoting a reader", cluster.urn)
                continue
            zones = [dig(i.props, "availabilityZone") for i in instances]
            if all(zones) and len(set(zones)) < 2:
                yield f"cluster '{cluster.name}' instances all sit in {zones[0]}", cluster.urn


@stack_rule(
    id="aws-dns-failover-pairs",
    description="DNS failover is pre-provisioned: each PRIMARY record has a SECONDARY, and health checks exist.",
    remediation="Declare a SECONDARY failover record (same name and type) next to each PRIMARY, pointing at a "
                "standby that already runs, and declare the health checks the records reference.",
    anchors=["G12"],
    techniques=["CPDP", "RES"],
)
def dns_failover_pairs(stack: StackView, config: Mapping[str, Any]) -> Violations:
    roles: dict[tuple[str, str, str], dict[str, ResourceView]] = {}
    checks = stack.of_type(HEALTH_CHECK)
    unsure = False
    for record in stack.of_type(RECORD):
        try:
            for policy in items(record.get("failoverRoutingPolicies")):
                key = (str(record.get("zoneId", default="")), str(record.get("name")), str(record.get("type")))
                roles.setdefault(key, {})[str(dig(policy, "type"))] = record
            check_id = record.get("healthCheckId")
            if check_id is not None and checks and stack.resolve(check_id, checks, owner=record) is None:
                yield f"record '{record.name}' references health check {check_id} that this stack does not declare", record.urn
        except UnknownValueError:
            unsure = True
    for (_, name, kind), by_role in roles.items():
        if "PRIMARY" in by_role and "SECONDARY" not in by_role and not unsure:
            yield f"{kind} {name} has a PRIMARY failover record but no SECONDARY: failover has nowhere to go", by_role[
                "PRIMARY"].urn
    for group in stack.of_type(ASG):
        with unknown_skips():
            if (number(group.get("minSize")) or 0.0) == 0 and (number(group.get("maxSize")) or 0.0) > 0:
                yield (f"group '{group.name}' keeps no instances (minSize 0): failing over to it needs the control "
                       "plane to launch capacity", group.urn)


def _bucket_links(stack: StackView, types: tuple[str, ...]) -> dict[str, list[ResourceView]]:
    """Bucket URN -> its sub-resources of `types`; empty when some link is unknown (no conclusion)."""
    buckets = stack.of_type(BUCKET)
    linked: dict[str, list[ResourceView]] = {b.urn: [] for b in buckets}
    readable, unsure = matching(stack.of_type(*types), lambda r: r.get("bucket") is not None)
    if unsure:
        return {}
    for resource in readable:
        bucket = stack.resolve(resource.get("bucket"), buckets, owner=resource)
        if bucket is not None:
            linked[bucket.urn].append(resource)
    return linked


def _buckets_lacking(stack: StackView, types: tuple[str, ...],
                     good: Callable[[ResourceView], bool] = lambda _: True) -> Iterator[ResourceView]:
    """Buckets none of whose sub-resources of `types` is `good` (any one will do by default).

    A bucket whose sub-resources cannot be read is skipped, as is every bucket when a link is unknown.
    """
    for urn, linked in _bucket_links(stack, types).items():
        with unknown_skips():
            if not any(good(resource) for resource in linked):
                yield stack.by_urn[urn]


@stack_rule(
    id="aws-s3-versioning",
    description="S3 buckets keep object versions, so overwrites and deletes can be undone.",
    remediation="Declare aws.s3.BucketVersioning(bucket=..., versioning_configuration={status: 'Enabled'}).",
    anchors=["A14", "CKV_AWS_21"],
    techniques=["DR", "IMM"],
)
def s3_versioning(stack: StackView, config: Mapping[str, Any]) -> Violations:
    for bucket in _buckets_lacking(stack, BUCKET_VERSIONING,
                                   lambda c: dig(c.props, "versioningConfiguration", "status") == "Enabled"):
        yield f"bucket '{bucket.name}' has no enabled versioning", bucket.urn


@stack_rule(
    id="aws-s3-no-public-access",
    description="S3 buckets block public access and grant no public ACLs.",
    remediation="Declare aws.s3.BucketPublicAccessBlock with all four flags true; never use public-read ACLs.",
    anchors=["CKV2_AWS_6", "CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56", "CKV_AWS_20"],
    techniques=["SEC"],
)
def s3_no_public_access(stack: StackView, config: Mapping[str, Any]) -> Violations:
    flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    for bucket in _buckets_lacking(stack, (BUCKET_PUBLIC_ACCESS,),
                                   lambda block: all(is_true(dig(block.props, f)) for f in flags)):
        yield f"bucket '{bucket.name}' does not block public access (all four flags)", bucket.urn
    for acl in stack.of_type(*BUCKET_ACLS):
        with unknown_skips():
            if str(acl.get("acl", default="")).startswith("public-"):
                yield f"ACL '{acl.name}' is {acl.get('acl')}", acl.urn
    for bucket in stack.of_type(BUCKET):
        with unknown_skips():
            if str(bucket.get("acl", default="")).startswith("public-"):
                yield f"bucket '{bucket.name}' has a {bucket.get('acl')} ACL", bucket.urn


@stack_rule(
    id="aws-s3-encryption",
    description="S3 buckets declare default server-side encryption (KMS preferred).",
    remediation="Declare aws.s3.BucketServerSideEncryptionConfiguration with sseAlgorithm aws:kms (or AES256).",
    anchors=["A50", "CKV_AWS_19", "CKV_AWS_145"],
    techniques=["SEC"],
)
def s3_encryption(stack: StackView, config: Mapping[str, Any]) -> Violations:
    for bucket in _buckets_lacking(stack, BUCKET_SSE):
        yield f"bucket '{bucket.name}' declares no default encryption", bucket.urn


@stack_rule(
    id="aws-s3-replication",
    description="In multi-region stacks, data buckets replicate to another region.",
    remediation="Declare aws.s3.BucketReplicationConfig (after versioning) with a destination in another region; "
                "log buckets may opt out with the tag reliability-stack:replication=none.",
    anchors=["A15", "CKV_AWS_144", "G15"],
    techniques=["DR", "LAT"],
    enforcement="advisory",
    severity="medium",
)
def s3_replication(stack: StackView, config: Mapping[str, Any]) -> Violations:
    if not _multi_region(stack):
        return
    for bucket in _buckets_lacking(stack, (BUCKET_REPLICATION,)):
        with unknown_skips():
            if tags_of(bucket.props).get("reliability-stack:replication") != "none":
                yield f"bucket '{bucket.name}' is not replicated to another region", bucket.urn


@stack_rule(
    id="aws-data-multi-region",
    description="In multi-region stacks, stateful stores replicate across regions (global tables, Aurora Global).",
    remediation="Give DynamoDB tables replicas in the other regions and put Aurora clusters in a GlobalCluster "
                "(globalClusterIdentifier).",
    anchors=["G15"],
    techniques=["DR", "LAT"],
    enforcement="advisory",
    severity="medium",
)
def data_multi_region(stack: StackView, config: Mapping[str, Any]) -> Violations:
    if not _multi_region(stack):
        return
    for table in stack.of_type(TABLE):
        with unknown_skips():
            if not items(table.get("replicas")):
                yield f"table '{table.name}' has no replica in another region", table.urn
    for cluster in stack.of_type(RDS_CLUSTER):
        with unknown_skips():
            if cluster.get("globalClusterIdentifier") is None and cluster.get("replicationSourceIdentifier") is None:
                yield f"cluster '{cluster.name}' is not part of a global database", cluster.urn


@stack_rule(
    id="aws-dynamodb-autoscaling",
    description="Provisioned-capacity DynamoDB tables scale with an application autoscaling target.",
    remediation="Use billingMode PAY_PER_REQUEST, or declare appautoscaling Targets (table/<name>, read and write) "
                "with target-tracking policies.",
    anchors=["A13", "CKV2_AWS_16"],
    techniques=["LA"],
)
def dynamodb_autoscaling(stack: StackView, config: Mapping[str, Any]) -> Violations:
    readable, unsure = matching(stack.of_type(SCALING_TARGET), lambda t: t.get("resourceId") is not None)
    if unsure:
        return
    targets = [str(t.get("resourceId")) for t in readable]
    for table in stack.of_type(TABLE):
        with unknown_skips():
            if table.get("billingMode", default="PROVISIONED") != "PROVISIONED":
                continue
            name = str(table.get("name", default=table.name))
            if not any(t == f"table/{name}" or t.startswith(f"table/{name}") for t in targets):
                yield f"provisioned table '{table.name}' has no autoscaling target", table.urn


_ELB_METRICS = {"HTTPCode_Target_5XX_Count", "HTTPCode_ELB_5XX_Count", "UnHealthyHostCount", "TargetResponseTime",
                "HealthyHostCount"}


def _alarm_metrics(alarm: ResourceView) -> list[tuple[str, str]]:
    """(metricName, dimension values joined) of an alarm, including metric-math queries."""
    found = []
    metrics = [alarm.props] + [dig(q, "metric") for q in items(alarm.get("metricQueries"))]
    for m in metrics:
        name = dig(m, "metricName")
        if name is not None:
            dims = dig(m, "dimensions", default={})
            found.append((str(name), " ".join(str(dims[k]) for k in dims)))
    return found


@stack_rule(
    id="aws-component-alarms",
    description="Load balancers and queues carry their own alarms (5xx/unhealthy hosts; oldest message age).",
    remediation="Alarm on HTTPCode_Target_5XX_Count or UnHealthyHostCount per load balancer and on "
                "ApproximateAgeOfOldestMessage per work queue.",
    anchors=["G2"],
    techniques=["MON"],
    enforcement="advisory",
    severity="medium",
)
def component_alarms(stack: StackView, config: Mapping[str, Any]) -> Violations:
    observed: list[tuple[str, str]] = []
    for alarm in stack.of_type(METRIC_ALARM):
        try:
            observed.extend(_alarm_metrics(alarm))
        except UnknownValueError:
            return
    for lb in stack.of_type(*LOAD_BALANCERS):
        if not any(metric in _ELB_METRICS and lb.name in dims for metric, dims in observed):
            yield f"load balancer '{lb.name}' has no 5xx or unhealthy-host alarm", lb.urn
    for queue in stack.of_type(QUEUE):
        if "dlq" in queue.name or "dead" in queue.name or "failed" in queue.name:
            continue
        if not any(metric == "ApproximateAgeOfOldestMessage" and queue.name in dims for metric, dims in observed):
            yield f"queue '{queue.name}' has no ApproximateAgeOfOldestMessage alarm", queue.urn


@stack_rule(
    id="no-plaintext-secrets-in-config",
    description="Stack config values that look like secrets are stored encrypted (`pulumi config set --secret`).",
    remediation="Re-set the key with `pulumi config set --secret <key> <value>` (stacks/Pulumi.<stack>.yaml then "
                "holds `secure:` ciphertext).",
    anchors=["CKV_SECRET_6"],
    techniques=["SEC"],
)
def no_plaintext_secrets_in_config(stack: StackView, config: Mapping[str, Any]) -> Violations:
    # The engine hands the analyzer the stack config in PULUMI_CONFIG and names the secret
    # keys in PULUMI_CONFIG_SECRET_KEYS; a key that looks secret but is not listed is plaintext.
    raw, secret_raw = os.environ.get("PULUMI_CONFIG"), os.environ.get("PULUMI_CONFIG_SECRET_KEYS")
    if not raw:
        return
    try:
        values = json.loads(raw)
        secret_keys = set(json.loads(secret_raw)) if secret_raw else set()
    except ValueError:
        return
    for key, value in sorted(values.items()):
        if key in secret_keys or not isinstance(value, str) or not value:
            continue
        bare = key.split(":", 1)[-1]
        if SECRET_NAME.search(bare) or re.search(r"AKIA[0-9A-Z]{16}|-----BEGIN [A-Z ]*PRIVATE KEY", value):
            yield f"config key {key} holds a plaintext secret", None



@stack_rule(
    id="aws-vpc-cidr-overlap",
    description="VPC CIDR blocks do not overlap, so regions can be peered or joined by a transit gateway for failover.",
    remediation="Give each VPC (and region) its own non-overlapping CIDR block, e.g. 10.<region index>.0.0/16.",
    anchors=["G25"],
    techniques=["RES"],
    enforcement="advisory",
    severity="medium",
)
def vpc_cidr_overlap(stack: StackView, config: Mapping[str, Any]) -> Violations:
    networks: list[tuple[ResourceView, Any]] = []
    for vpc in stack.of_type("aws:ec2/vpc:Vpc"):
        with unknown_skips():
            try:
                networks.append((vpc, ipaddress.ip_network(str(vpc.get("cidrBlock")), strict=False)))
            except ValueError:
                continue
    for index, (vpc, network) in enumerate(networks):
        for other, other_network in networks[index + 1:]:
            if network.overlaps(other_network):
                yield f"VPC '{vpc.name}' {network} overlaps VPC '{other.name}' {other_network}", vpc.urn
