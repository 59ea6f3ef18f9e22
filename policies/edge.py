"""Load balancers, target groups, CloudFront, Route 53, WAF and API throttling (A3, A17-A20, A27-A29, G4, G7, G12, G16, G18, G19)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from reliability_stack.policies.registry import resource_rule
from reliability_stack.policies.view import (
    ResourceView,
    cache_behaviours,
    dig,
    fmt,
    is_false,
    is_true,
    items,
    number,
)

LB = "aws:lb/loadBalancer:LoadBalancer"
ALB_ALIAS = "aws:alb/loadBalancer:LoadBalancer"
CLB = "aws:elb/loadBalancer:LoadBalancer"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
TARGET_GROUP_ALIAS = "aws:alb/targetGroup:TargetGroup"
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
RECORD = "aws:route53/record:Record"
HEALTH_CHECK = "aws:route53/healthCheck:HealthCheck"
WEB_ACL = "aws:wafv2/webAcl:WebAcl"
METHOD_SETTINGS = "aws:apigateway/methodSettings:MethodSettings"
API_STAGE = "aws:apigateway/stage:Stage"
HTTP_API_STAGE = "aws:apigatewayv2/stage:Stage"

LOAD_BALANCERS = (LB, ALB_ALIAS)
TARGET_GROUPS = (TARGET_GROUP, TARGET_GROUP_ALIAS)


def _lb_type(r: ResourceView) -> str:
    return str(r.get("loadBalancerType", default="application"))


@resource_rule(
    id="aws-lb-deletion-protection",
    description="Load balancers have deletion protection on.",
    remediation="Set enableDeletionProtection: true.",
    anchors=["A3", "CKV_AWS_150", "elb-deletion-protection-enabled"],
    techniques=["RES", "IMM"],
    types=LOAD_BALANCERS,
)
def lb_deletion_protection(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    if not is_true(r.get("enableDeletionProtection")):
        yield "enableDeletionProtection is off: deleting the load balancer changes its DNS name for every client"


@resource_rule(
    id="aws-lb-zonal-redundancy",
    description="Load balancers span >= 2 AZs and balance across zones.",
    remediation="Attach one subnet per AZ (>= minZones); on NLBs set enableCrossZoneLoadBalancing: true; on classic "
                "ELBs set crossZoneLoadBalancing, a healthCheck and connectionDraining.",
    anchors=["A17", "A18", "A19", "CKV_AWS_138", "CKV_AWS_152", "ELB3", "ELB4"],
    techniques=["RES", "LR"],
    types=(*LOAD_BALANCERS, CLB),
    config={"minZones": {"type": "number", "default": 2, "minimum": 1}},
)
def lb_zonal_redundancy(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    zones = max(len(items(r.get("subnets"))), len(items(r.get("subnetMappings"))),
                len(items(r.get("availabilityZones"))))
    if zones < config["minZones"]:
        yield f"spans {zones} subnet(s)/zone(s), fewer than {fmt(config['minZones'])}"
    if r.type == CLB:
        if is_false(r.get("crossZoneLoadBalancing")):
            yield "crossZoneLoadBalancing is off"
        if r.get("healthCheck") is None:
            yield "no healthCheck"
        if not is_true(r.get("connectionDraining")):
            yield "connectionDraining is off: deregistered instances drop in-flight requests"
    elif _lb_type(r) == "network" and not is_true(r.get("enableCrossZoneLoadBalancing")):
        yield "cross-zone load balancing is off on a network load balancer: a zone with fewer targets overloads"


@resource_rule(
    id="aws-alb-hardening",
    description="Application load balancers drop invalid headers, log access and state their idle timeout.",
    remediation="Set dropInvalidHeaderFields: true, accessLogs {enabled: true, bucket}, and an explicit idleTimeout.",
    anchors=["CKV_AWS_131", "CKV_AWS_91", "elb-logging-enabled", "G19"],
    techniques=["SEC", "MON", "RES"],
    types=LOAD_BALANCERS,
)
def alb_hardening(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    if _lb_type(r) != "application":
        return
    if not is_true(r.get("dropInvalidHeaderFields")):
        yield "dropInvalidHeaderFields is off (request smuggling)"
    if not is_true(r.get("accessLogs", "enabled")):
        yield "access logs are off: no record to debug a failed request"
    if r.get("idleTimeout") is None:
        yield "no explicit idleTimeout: the 60 s default is not ordered against the CDN and the backends"


@resource_rule(
    id="aws-target-group-health-check",
    description="HTTP(S) target groups check a dedicated health path with a strict matcher and detect failure quickly.",
    remediation="Set healthCheck {path: '/healthz' (not '/'), matcher: '200' or '200-399', interval x "
                "unhealthyThreshold <= maxDetectionSeconds}.",
    anchors=["A20", "CKV_AWS_261", "G18"],
    techniques=["RES"],
    types=TARGET_GROUPS,
    config={"maxDetectionSeconds": {"type": "number", "default": 90, "minimum": 1},
            "forbidRootPath": {"type": "boolean", "default": True}},
)
def target_group_health_check(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    if str(r.get("protocol", default="HTTP")).upper() not in ("HTTP", "HTTPS") or r.get("targetType") == "lambda":
        return
    check = r.get("healthCheck")
    if check is None or is_false(dig(check, "enabled")):
        yield "no health check: traffic keeps flowing to dead targets"
        return
    path = dig(check, "path")
    if path is None:
        yield "health check has no path (defaults to '/')"
    elif path == "/" and config["forbidRootPath"]:
        yield "health check path '/' tests the landing page, not the service's readiness"
    if dig(check, "matcher") is None:
        yield "health check has no explicit matcher"
    interval = number(dig(check, "interval", default=30)) or 30.0
    threshold = number(dig(check, "unhealthyThreshold", default=3)) or 3.0
    if interval * threshold > config["maxDetectionSeconds"]:
        yield (f"a dead target is detected after {fmt(interval * threshold)} s (interval x unhealthyThreshold), more "
               f"than {fmt(config['maxDetectionSeconds'])} s")


@resource_rule(
    id="aws-target-group-drain",
    description="Target groups drain deregistered targets for an explicit, bounded time.",
    remediation="Set deregistrationDelay explicitly (30-60 s is typical) and below maxDeregistrationDelaySeconds.",
    anchors=["G19", "ELB3"],
    techniques=["RES"],
    types=TARGET_GROUPS,
    config={"maxDeregistrationDelaySeconds": {"type": "number", "default": 120, "minimum": 0}},
)
def target_group_drain(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    if r.get("targetType") == "lambda":
        return
    delay = number(r.get("deregistrationDelay"))
    if delay is None:
        yield "no explicit deregistrationDelay: the 300 s default slows every deploy and scale-in"
    elif delay > config["maxDeregistrationDelaySeconds"]:
        yield f"deregistrationDelay {fmt(delay)} s exceeds {fmt(config['maxDeregistrationDelaySeconds'])} s"


def _origin_group_members(group: Any) -> list[str]:
    return [str(dig(m, "originId")) for m in items(dig(group, "members"))]


@resource_rule(
    id="aws-cloudfront-origin-failover",
    description="CloudFront distributions fail over between two origins (origin group) on 5xx.",
    remediation="Declare an origin group with two members and failoverCriteria.statusCodes (500, 502, 503, 504), "
                "and point the read-only cache behaviours at it.",
    anchors=["A27", "CKV_AWS_310", "G12"],
    techniques=["RES"],
    types=(DISTRIBUTION,),
)
def cloudfront_origin_failover(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    groups = items(r.get("originGroups"))
    if not groups:
        yield "no origin group: an origin outage is a CDN outage"
        return
    group_ids = set()
    for group in groups:
        group_ids.add(str(dig(group, "originId")))
        if len(_origin_group_members(group)) < 2:
            yield f"origin group '{dig(group, 'originId')}' has fewer than 2 members"
        if not items(dig(group, "failoverCriteria", "statusCodes")):
            yield f"origin group '{dig(group, 'originId')}' has no failover status codes"
    if not any(str(dig(b, "targetOriginId")) in group_ids for b in cache_behaviours(r)):
        yield "no cache behaviour targets the origin group"


@resource_rule(
    id="aws-cloudfront-origin-timeouts",
    description="CloudFront reaches a failed origin's secondary within a bounded time.",
    remediation="Keep connectionAttempts x connectionTimeout within maxFailoverSeconds (e.g. 3 x 5 s) and "
                "responseCompletionTimeout (when set) >= originReadTimeout.",
    anchors=["G4"],
    techniques=["RES"],
    types=(DISTRIBUTION,),
    config={"maxFailoverSeconds": {"type": "number", "default": 15, "minimum": 1}},
)
def cloudfront_origin_timeouts(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    for origin in items(r.get("origins")):
        origin_id = dig(origin, "originId")
        attempts = number(dig(origin, "connectionAttempts", default=3)) or 3.0
        timeout = number(dig(origin, "connectionTimeout", default=10)) or 10.0
        if attempts * timeout > config["maxFailoverSeconds"]:
            yield (f"origin '{origin_id}': {fmt(attempts)} attempts x {fmt(timeout)} s connect timeout = "
                   f"{fmt(attempts * timeout)} s before failover (max {fmt(config['maxFailoverSeconds'])} s)")
        read = number(dig(origin, "customOriginConfig", "originReadTimeout", default=30))
        completion = number(dig(origin, "responseCompletionTimeout"))
        if completion is not None and read is not None and completion < read:
            yield f"origin '{origin_id}': responseCompletionTimeout {fmt(completion)} s is below the read timeout {fmt(read)} s"


@resource_rule(
    id="aws-cloudfront-error-caching",
    description="CloudFront caches 5xx errors only briefly, so an origin blip does not outlive itself.",
    remediation="Add customErrorResponses for 500/502/503/504 with errorCachingMinTtl <= maxErrorCachingSeconds.",
    anchors=["G7"],
    techniques=["LAT", "RES"],
    types=(DISTRIBUTION,),
    config={"maxErrorCachingSeconds": {"type": "number", "default": 10, "minimum": 0}},
    enforcement="advisory",
    severity="medium",
)
def cloudfront_error_caching(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    for response in items(r.get("customErrorResponses")):
        code, ttl = number(dig(response, "errorCode")), number(dig(response, "errorCachingMinTtl"))
        if code is not None and code >= 500 and ttl is not None and ttl > config["maxErrorCachingSeconds"]:
            yield f"{fmt(code)} responses are cached {fmt(ttl)} s, extending outages"


@resource_rule(
    id="aws-edge-protection",
    description="Public entry points shed abusive load: WAF rate-based rules, API stage throttling, CDN logs.",
    remediation="Attach a WAFv2 web ACL (webAclId) with a rate-based rule to public distributions; give web ACLs a "
                "rateBasedStatement rule; set API Gateway throttlingBurstLimit/RateLimit on stages and method "
                "settings.",
    anchors=["G16", "A29", "APIGWDefaultThrottling", "CKV_AWS_68", "CKV_AWS_86"],
    techniques=["LR", "SEC"],
    types=(DISTRIBUTION, WEB_ACL, METHOD_SETTINGS, HTTP_API_STAGE),
    config={"requireWaf": {"type": "boolean", "default": True}},
)
def edge_protection(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    if r.type == DISTRIBUTION:
        if config["requireWaf"] and not r.get("webAclId"):
            yield "no WAF web ACL: nothing sheds abusive load before it reaches the origins"
        if r.get("loggingConfig") is None:
            yield "no access logging"
    elif r.type == WEB_ACL:
        if not any(dig(rule, "statement", "rateBasedStatement") is not None for rule in items(r.get("rules"))):
            yield "the web ACL has no rate-based rule"
    elif r.type == METHOD_SETTINGS:
        for key in ("throttlingBurstLimit", "throttlingRateLimit"):
            value = number(r.get("settings", key))
            if value is None or value < 0:
                yield f"settings.{key} is not set: the account-wide default applies to this API"
    else:
        for key in ("throttlingBurstLimit", "throttlingRateLimit"):
            if r.get("defaultRouteSettings", key) is None:
                yield f"defaultRouteSettings.{key} is not set"


@resource_rule(
    id="aws-apigateway-stage",
    description="REST API stages trace requests and log access.",
    remediation="Set xrayTracingEnabled: true and accessLogSettings on the stage; consider cacheClusterEnabled.",
    anchors=["A28", "A37", "CKV_AWS_73", "CKV_AWS_120", "CKV_AWS_76"],
    techniques=["MON", "LAT"],
    types=(API_STAGE,),
    enforcement="advisory",
    severity="low",
)
def apigateway_stage(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    if not is_true(r.get("xrayTracingEnabled")):
        yield "X-Ray tracing is off"
    if r.get("accessLogSettings") is None:
        yield "no access logs"


@resource_rule(
    id="aws-route53-failover-health",
    description="Failover, latency and weighted DNS records are health-checked, so DNS steers away from failures.",
    remediation="Give PRIMARY and latency/weighted records a healthCheckId, and set evaluateTargetHealth: true on "
                "alias records; a SECONDARY alias should evaluate target health too.",
    anchors=["G12"],
    techniques=["CPDP", "RES"],
    types=(RECORD,),
    config={"requireHealthCheck": {"type": "boolean", "default": True}},
)
def route53_failover_health(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    failover = [str(dig(p, "type")) for p in items(r.get("failoverRoutingPolicies"))]
    routed = failover or items(r.get("latencyRoutingPolicies")) or items(r.get("weightedRoutingPolicies"))
    if not routed:
        return
    aliases = items(r.get("aliases"))
    if aliases and not any(is_true(dig(a, "evaluateTargetHealth")) for a in aliases):
        yield "alias record does not evaluate target health: DNS keeps answering with a failed target"
    kind = failover[0] if failover else "latency/weighted"
    if kind != "SECONDARY" and r.get("healthCheckId") is None and config["requireHealthCheck"]:
        yield f"{kind} record has no healthCheckId: DNS fails over only when every target is gone, not when the service is"


@resource_rule(
    id="aws-route53-health-check-quality",
    description="Route 53 health checks probe a deep path from >= 3 regions and detect failure quickly.",
    remediation="Use HTTPS with resourcePath (not '/'), failureThreshold <= 3, requestInterval 10 or 30, and >= 3 "
                "regions (or all, the default).",
    anchors=["G18", "G12"],
    techniques=["RES", "CPDP"],
    types=(HEALTH_CHECK,),
    config={"maxFailureThreshold": {"type": "number", "default": 3, "minimum": 1}},
)
def route53_health_check_quality(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    kind = str(r.get("type", default=""))
    if not kind.startswith(("HTTP", "TCP")):
        return  # CALCULATED, CLOUDWATCH_METRIC and RECOVERY_CONTROL checks have no probe settings
    if kind.startswith("HTTP"):
        path = r.get("resourcePath")
        if path in (None, "", "/"):
            yield "health check probes '/' rather than a dependency-aware health path"
    threshold = number(r.get("failureThreshold", default=3)) or 3.0
    if threshold > config["maxFailureThreshold"]:
        yield f"failureThreshold {fmt(threshold)} delays failover"
    regions = items(r.get("regions"))
    if regions and len(regions) < 3:
        yield f"only {len(regions)} checker region(s): one regional network problem flips the check"
