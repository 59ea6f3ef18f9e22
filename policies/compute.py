"""EC2 Auto Scaling, launch templates, instances, ECS, EKS node groups and Lambda (A21-A26, A30-A33, G5-G11)."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from typing import Any

from reliability_stack.policies.registry import resource_rule
from reliability_stack.policies.view import (
    ResourceView,
    dig,
    ecs_container_definitions,
    fmt,
    is_true,
    items,
    number,
    pinned_by_digest,
    tags_of,
)

ASG = "aws:autoscaling/group:Group"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
INSTANCE = "aws:ec2/instance:Instance"
ECS_SERVICE = "aws:ecs/service:Service"
TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
LAMBDA = "aws:lambda/function:Function"
ESM = "aws:lambda/eventSourceMapping:EventSourceMapping"
INVOKE_CONFIG = "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
EKS_CLUSTER = "aws:eks/cluster:Cluster"
ECS_CLUSTER = "aws:ecs/cluster:Cluster"
ECR_REPOSITORY = "aws:ecr/repository:Repository"

REQUIRED_CAPACITY_TAG = "reliability-stack:required-capacity"


def _zones(r: ResourceView) -> int:
    return len(items(r.get("vpcZoneIdentifiers"))) or len(items(r.get("availabilityZones")))


@resource_rule(
    id="aws-asg-elb-health-check",
    description="Auto Scaling groups behind a load balancer replace instances the load balancer finds unhealthy.",
    remediation="Set healthCheckType 'ELB' and a healthCheckGracePeriod (>= minGracePeriodSeconds) on groups with "
                "targetGroupArns or trafficSources.",
    anchors=["A21", "A22", "CKV2_AWS_15", "AS2"],
    techniques=["RES"],
    types=(ASG,),
    config={"minGracePeriodSeconds": {"type": "number", "default": 60, "minimum": 0}},
)
def asg_elb_health_check(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    if not items(r.get("targetGroupArns")) and not items(r.get("trafficSources")):
        return
    if str(r.get("healthCheckType", default="EC2")).upper() != "ELB":
        yield "healthCheckType is EC2 although the group serves a load balancer: unhealthy instances keep running"
    grace = number(r.get("healthCheckGracePeriod", default=300)) or 0.0
    if grace < config["minGracePeriodSeconds"]:
        yield f"healthCheckGracePeriod {fmt(grace)}s: booting instances are killed before they can pass"


@resource_rule(
    id="aws-asg-launch-template",
    description="Auto Scaling groups launch from a launch template at a pinned version.",
    remediation="Use launchTemplate {id, version: <template>.latestVersion} (or a mixedInstancesPolicy); not a "
                "launch configuration and not '$Latest', which stops instance refresh from triggering.",
    anchors=["A24", "CKV_AWS_315", "G9"],
    techniques=["IMM"],
    types=(ASG,),
)
def asg_launch_template(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    template = r.get("launchTemplate") or r.get("mixedInstancesPolicy", "launchTemplate",
                                                 "launchTemplateSpecification")
    if template is None:
        yield "no launch template: launch configurations are deprecated and cannot be refreshed"
        return
    if str(dig(template, "version", default="$Default")) in ("$Latest", "$Default"):
        yield (f"launch template version '{dig(template, 'version', default='$Default')}': template changes do not "
               "start an instance refresh; pin the version number")


@resource_rule(
    id="aws-asg-instance-refresh",
    description="Auto Scaling groups replace instances by a rolling instance refresh that keeps capacity.",
    remediation="Add instanceRefresh {strategy: 'Rolling', preferences: {minHealthyPercentage >= "
                "minHealthyPercentage, autoRollback: true}}.",
    anchors=["G9"],
    techniques=["IMM", "RES"],
    types=(ASG,),
    config={"minHealthyPercentage": {"type": "number", "default": 90, "minimum": 0},
            "requireAutoRollback": {"type": "boolean", "default": False}},
)
def asg_instance_refresh(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    refresh = r.get("instanceRefresh")
    if refresh is None:
        yield "no instanceRefresh: a new AMI or template never reaches running instances"
        return
    if dig(refresh, "strategy") != "Rolling":
        yield f"instanceRefresh strategy {dig(refresh, 'strategy')!r} is not 'Rolling'"
    healthy = number(dig(refresh, "preferences", "minHealthyPercentage", default=90))
    if healthy is None or healthy < config["minHealthyPercentage"]:
        yield f"instance refresh minHealthyPercentage {fmt(healthy)} is below {fmt(config['minHealthyPercentage'])}"
    if config["requireAutoRollback"] and not is_true(dig(refresh, "preferences", "autoRollback")):
        yield "instance refresh does not roll back automatically"


@resource_rule(
    id="aws-asg-zonal-redundancy",
    description="Auto Scaling groups span >= 2 Availability Zones with >= 2 instances.",
    remediation="Give vpcZoneIdentifiers one subnet per AZ (>= minZones) and minSize >= minInstances.",
    anchors=["G10", "A18"],
    techniques=["RES", "LA"],
    types=(ASG,),
    config={"minZones": {"type": "number", "default": 2, "minimum": 1},
            "minInstances": {"type": "number", "default": 2, "minimum": 1}},
)
def asg_zonal_redundancy(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    zones = _zones(r)
    if zones < config["minZones"]:
        yield f"the group spans {zones} subnet(s)/zone(s), fewer than {fmt(config['minZones'])}: one AZ outage is an outage"
    min_size = number(r.get("minSize")) or 0.0
    if min_size < config["minInstances"]:
        yield f"minSize {fmt(min_size)} is below {fmt(config['minInstances'])}: one instance failure is an outage"


@resource_rule(
    id="aws-asg-static-stability",
    description="Auto Scaling groups keep the required capacity after losing one AZ, without scaling (static stability).",
    remediation="Set minSize >= ceil(required x AZs / (AZs - 1)) (required from the 'reliability-stack:required-"
                "capacity' tag or requiredCapacity) and maxSize >= headroomFactor x minSize.",
    anchors=["G11"],
    techniques=["LA", "CPDP"],
    types=(ASG,),
    config={"requiredCapacity": {"type": "number", "default": 2, "minimum": 0,
                                 "description": "Instances needed to serve peak when no tag says otherwise."},
            "headroomFactor": {"type": "number", "default": 1.5, "minimum": 1}},
)
def asg_static_stability(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    zones = _zones(r)
    required = number(tags_of(r.props).get(REQUIRED_CAPACITY_TAG)) or float(config["requiredCapacity"])
    min_size, max_size = number(r.get("minSize")) or 0.0, number(r.get("maxSize")) or 0.0
    if zones >= 2 and required > 0:
        needed = math.ceil(required * zones / (zones - 1))
        if min_size < needed:
            yield (f"minSize {fmt(min_size)} cannot carry {fmt(required)} instance(s) of load after losing one of "
                   f"{zones} AZs without scaling (needs >= {needed})")
    if max_size < min_size * config["headroomFactor"]:
        yield f"maxSize {fmt(max_size)} leaves less than {fmt(config['headroomFactor'])} x minSize of headroom"


@resource_rule(
    id="aws-asg-scaling-hygiene",
    description="Auto Scaling groups declare instance warm-up and publish group metrics.",
    remediation="Set defaultInstanceWarmup (or defaultCooldown) and enabledMetrics (GroupInServiceInstances, ...).",
    anchors=["A23", "AS1"],
    techniques=["LA", "MON"],
    types=(ASG,),
    enforcement="advisory",
    severity="low",
)
def asg_scaling_hygiene(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    if r.get("defaultInstanceWarmup") is None and r.get("defaultCooldown") is None:
        yield "no defaultInstanceWarmup or defaultCooldown: scaling reacts to metrics of booting instances"
    if not items(r.get("enabledMetrics")):
        yield "no enabledMetrics: capacity changes are invisible in CloudWatch"


@resource_rule(
    id="aws-instance-metadata-v2",
    description="EC2 instances and launch templates require IMDSv2 with a small hop limit.",
    remediation="Set metadataOptions {httpTokens: 'required', httpPutResponseHopLimit: 1 (2 for containers)}.",
    anchors=["CKV_AWS_79", "EC2 IMDSv2"],
    techniques=["SEC"],
    types=(LAUNCH_TEMPLATE, INSTANCE),
    config={"maxHopLimit": {"type": "number", "default": 2, "minimum": 1}},
)
def instance_metadata_v2(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    if r.get("metadataOptions", "httpEndpoint") == "disabled":
        return
    if r.get("metadataOptions", "httpTokens") != "required":
        yield "metadataOptions.httpTokens is not 'required': IMDSv1 credentials are reachable by SSRF"
    hops = number(r.get("metadataOptions", "httpPutResponseHopLimit", default=1)) or 1.0
    if hops > config["maxHopLimit"]:
        yield f"httpPutResponseHopLimit {fmt(hops)} exceeds {fmt(config['maxHopLimit'])}"


_AMI = re.compile(r"^ami-[0-9a-f]{8,17}$")


@resource_rule(
    id="aws-image-immutable",
    description="AWS compute starts from immutable images: literal AMI ids and container images by digest.",
    remediation="Resolve the AMI at build time and pass its ami-... id (not resolve:ssm:.../latest); reference ECS "
                "and Lambda container images as repo@sha256:<digest>; make ECR tags IMMUTABLE.",
    anchors=["G8", "A41", "CKV_AWS_51"],
    techniques=["IMM"],
    types=(LAUNCH_TEMPLATE, INSTANCE, TASK_DEFINITION, LAMBDA, ECR_REPOSITORY),
)
def image_immutable(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    if r.type == ECR_REPOSITORY:
        if r.get("imageTagMutability", default="MUTABLE") != "IMMUTABLE":
            yield "imageTagMutability is MUTABLE: a pushed tag can change what every deployment runs"
    elif r.type in (LAUNCH_TEMPLATE, INSTANCE):
        image = r.get("imageId") if r.type == LAUNCH_TEMPLATE else r.get("ami")
        if image is None and r.type == LAUNCH_TEMPLATE:
            return  # a template without an image defers to the group's mixed instances policy
        if not _AMI.match(str(image)):
            yield f"image '{image}' is not a literal AMI id: instances launched later may run a different image"
    elif r.type == LAMBDA:
        if r.get("packageType") == "Image" and not pinned_by_digest(str(r.get("imageUri", default=""))):
            yield f"imageUri '{r.get('imageUri')}' is not pinned by digest"
    else:
        for container in ecs_container_definitions(r):
            image = str(container.get("image", ""))
            if not pinned_by_digest(image):
                yield f"container '{container.get('name', '?')}' image '{image}' is not pinned by digest"


@resource_rule(
    id="aws-detailed-monitoring",
    description="Instances publish 1-minute metrics, so alarms and scaling react within minutes.",
    remediation="Set monitoring {enabled: true} on launch templates and monitoring: true on instances.",
    anchors=["A26", "CKV_AWS_126", "EC28"],
    techniques=["MON"],
    types=(LAUNCH_TEMPLATE, INSTANCE),
    enforcement="advisory",
    severity="low",
)
def detailed_monitoring(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    enabled = r.get("monitoring", "enabled") if r.type == LAUNCH_TEMPLATE else r.get("monitoring")
    if not is_true(enabled):
        yield "detailed monitoring is off: metrics arrive every 5 minutes"


@resource_rule(
    id="aws-instance-termination-protection",
    description="Stand-alone EC2 instances (not in an Auto Scaling group) are protected from termination.",
    remediation="Prefer an Auto Scaling group; for a pet instance set disableApiTermination: true.",
    anchors=["A25", "EC29"],
    techniques=["RES", "IMM"],
    types=(INSTANCE,),
    enforcement="advisory",
    severity="medium",
)
def instance_termination_protection(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    if not is_true(r.get("disableApiTermination")):
        yield "a stand-alone instance without termination protection is one API call from an outage"


@resource_rule(
    id="aws-ecs-service-resilience",
    description="ECS services run >= 2 tasks, deploy without losing capacity and roll back failed deployments.",
    remediation="Set desiredCount >= minTasks, deploymentMinimumHealthyPercent >= 100, deploymentMaximumPercent >= "
                "200 and deploymentCircuitBreaker {enable: true, rollback: true}.",
    anchors=["G6", "G9", "G10"],
    techniques=["RES", "IMM"],
    types=(ECS_SERVICE,),
    config={"minTasks": {"type": "number", "default": 2, "minimum": 1}},
)
def ecs_service_resilience(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    if r.get("schedulingStrategy") == "DAEMON":
        return
    desired = number(r.get("desiredCount", default=1)) or 0.0
    if desired < config["minTasks"]:
        yield f"desiredCount {fmt(desired)} is below {fmt(config['minTasks'])}"
    breaker = r.get("deploymentCircuitBreaker", default={})
    if not (is_true(dig(breaker, "enable")) and is_true(dig(breaker, "rollback"))):
        yield "deploymentCircuitBreaker with rollback is off: a bad deployment keeps replacing healthy tasks"
    if (number(r.get("deploymentMinimumHealthyPercent", default=100)) or 0.0) < 100:
        yield "deploymentMinimumHealthyPercent below 100 drops capacity during deployments"
    if (number(r.get("deploymentMaximumPercent", default=200)) or 0.0) < 200:
        yield "deploymentMaximumPercent below 200 slows replacement (new tasks cannot start before old ones stop)"


@resource_rule(
    id="aws-container-insights",
    description="ECS clusters publish Container Insights; EKS clusters ship control-plane logs.",
    remediation="ECS: setting containerInsights 'enabled'. EKS: enabledClusterLogTypes including api, audit.",
    anchors=["A40", "A47", "CKV_AWS_65", "CKV_AWS_37"],
    techniques=["MON"],
    types=(ECS_CLUSTER, EKS_CLUSTER),
    enforcement="advisory",
    severity="low",
)
def container_insights(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    if r.type == ECS_CLUSTER:
        values = {str(dig(s, "name")): str(dig(s, "value")) for s in items(r.get("settings"))}
        if values.get("containerInsights") not in ("enabled", "enhanced"):
            yield "Container Insights is off"
    else:
        missing = {"api", "audit"} - {str(t) for t in items(r.get("enabledClusterLogTypes"))}
        if missing:
            yield f"control-plane log types {', '.join(sorted(missing))} are not enabled"


@resource_rule(
    id="aws-eks-nodegroup-zonal",
    description="EKS node groups span >= 2 subnets (AZs) and keep >= 2 nodes.",
    remediation="Give subnetIds one subnet per AZ and scalingConfig.minSize >= minNodes.",
    anchors=["G10"],
    techniques=["RES", "LA"],
    types=(NODE_GROUP,),
    config={"minNodes": {"type": "number", "default": 2, "minimum": 1}},
)
def eks_nodegroup_zonal(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    if len(items(r.get("subnetIds"))) < 2:
        yield "the node group spans fewer than 2 subnets: one AZ outage removes every node"
    min_size = number(r.get("scalingConfig", "minSize")) or 0.0
    if min_size < config["minNodes"]:
        yield f"scalingConfig.minSize {fmt(min_size)} is below {fmt(config['minNodes'])}"


@resource_rule(
    id="aws-lambda-resilience",
    description="Lambda functions have an explicit timeout, reserved concurrency, a dead-letter target and tracing.",
    remediation="Set timeout (not the 3 s default), reservedConcurrentExecutions, deadLetterConfig.targetArn (or an "
                "on-failure destination) and tracingConfig.mode 'Active'.",
    anchors=["A30", "A31", "A33", "A37", "CKV_AWS_115", "CKV_AWS_116", "CKV_AWS_50"],
    techniques=["RES", "LR", "MON"],
    types=(LAMBDA,),
    enforcement="advisory",
    severity="medium",
)
def lambda_resilience(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    if r.get("timeout") is None:
        yield "no explicit timeout: the 3 s default rarely matches the callee's timeouts"
    if r.get("reservedConcurrentExecutions") is None or number(r.get("reservedConcurrentExecutions")) == -1:
        yield "no reservedConcurrentExecutions: one function can starve the account's concurrency"
    if r.get("deadLetterConfig", "targetArn") is None:
        yield "no deadLetterConfig: failed async events are dropped"
    if r.get("tracingConfig", "mode") != "Active":
        yield "X-Ray tracing is not active"


@resource_rule(
    id="aws-lambda-bounded-retries",
    description="Event source mappings and async invocations retry a bounded number of times and keep failures.",
    remediation="Event source mappings (streams): maximumRetryAttempts in [0, maxRetryAttempts], "
                "bisectBatchOnFunctionError, destinationConfig.onFailure; SQS mappings: "
                "functionResponseTypes ['ReportBatchItemFailures'] and scalingConfig.maximumConcurrency. Async "
                "invoke configs: maximumRetryAttempts <= 2, maximumEventAgeInSeconds and an on-failure destination.",
    anchors=["A32", "G5", "G17"],
    techniques=["RES"],
    types=(ESM, INVOKE_CONFIG),
    config={"maxRetryAttempts": {"type": "number", "default": 10, "minimum": 0}},
)
def lambda_bounded_retries(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    if r.type == INVOKE_CONFIG:
        if r.get("maximumEventAgeInSeconds") is None:
            yield "no maximumEventAgeInSeconds: stale events are retried for up to 6 hours"
        if r.get("destinationConfig", "onFailure", "destination") is None:
            yield "no on-failure destination: events that exhaust their retries are lost"
        return
    source = str(r.get("eventSourceArn", default=""))
    if ":sqs:" in source:
        if "ReportBatchItemFailures" not in [str(t) for t in items(r.get("functionResponseTypes"))]:
            yield "SQS mapping without ReportBatchItemFailures: one bad message retries the whole batch"
        if r.get("scalingConfig", "maximumConcurrency") is None:
            yield "SQS mapping without scalingConfig.maximumConcurrency: a backlog can exhaust downstream capacity"
        return
    retries = number(r.get("maximumRetryAttempts", default=-1))
    if retries is None or retries < 0 or retries > config["maxRetryAttempts"]:
        yield f"maximumRetryAttempts {fmt(retries)}: a poison record blocks its shard until it expires"
    if not is_true(r.get("bisectBatchOnFunctionError")):
        yield "bisectBatchOnFunctionError is off: a poison record fails its whole batch"
    if r.get("destinationConfig", "onFailure", "destinationArn") is None:
        yield "no on-failure destination: records that exhaust their retries are lost"



SERVING_TYPES = ("aws:lb/loadBalancer:LoadBalancer", "aws:lb/targetGroup:TargetGroup", "aws:lb/listener:Listener",
                 ASG, LAUNCH_TEMPLATE, ECS_SERVICE, "aws:cloudfront/distribution:Distribution",
                 "kubernetes:apps/v1:Deployment", "kubernetes:core/v1:Service")


@resource_rule(
    id="create-before-destroy",
    description="Serving resources are replaced create-first, so a replacement never leaves a gap.",
    remediation="Drop deleteBeforeReplace from load balancers, target groups, groups, templates, services and "
                "distributions; use name prefixes (autonaming) so old and new can coexist.",
    anchors=["A42", "CKV_AWS_217", "CKV_AWS_233", "CKV_AWS_237"],
    techniques=["IMM", "RES"],
    types=SERVING_TYPES,
    enforcement="advisory",
    severity="medium",
)
def create_before_destroy(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    if r.delete_before_replace:
        yield "deleteBeforeReplace: a replacement deletes the serving resource before its successor exists"
