"""WAFv2 web ACL that sheds abusive load at the edge before it reaches the service.

A rate-based rule blocks an IP that sends more than `rate_limit` requests in a
`rate_limit_window_seconds` window and answers 429 with `Retry-After` (clients back off
instead of retrying hot). AWS managed rule groups drop known-bad sources and inputs. Every
rule emits CloudWatch metrics and sampled requests; full logs go to a CloudWatch log group
(`aws-waf-logs-*`, retention set, Authorization header redacted).

Scope REGIONAL protects an ALB (associated when `load_balancer_arn` is given); scope
CLOUDFRONT is declared in us-east-1, as CloudFront requires, for `Cdn(web_acl_arn=...)`.

Usage::

    from reliability_stack.components.edge_protection import EdgeProtection, EdgeProtectionArgs

    regional = EdgeProtection("checkout-waf-use1", EdgeProtectionArgs(
        service="checkout", region="us-east-1", load_balancer_arn=alb.arn, rate_limit=2000))
    edge = EdgeProtection("checkout-waf-cdn", EdgeProtectionArgs(service="checkout", scope="CLOUDFRONT"))
    cdn = Cdn("checkout-cdn", CdnArgs(..., web_acl_arn=edge.web_acl_arn))
"""

# No `from __future__ import annotations`: the component provider reads these annotations
# at runtime to build the package schema.
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from reliability_stack.components.args_validation import LOG_RETENTION_DAYS
from reliability_stack.errors import ComponentArgsError
from reliability_stack.resource_tags import standard_tags

TYPE_TOKEN = "reliability-stack:edge_protection:EdgeProtection"
COMPONENT = "EdgeProtection"

CLOUDFRONT_REGION = "us-east-1"
SCOPES = ("REGIONAL", "CLOUDFRONT")
RATE_WINDOWS = (60, 120, 300, 600)
RATE_LIMIT_ACTIONS = ("block", "count")
DEFAULT_MANAGED_RULE_GROUPS = (
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
)


@dataclass
class EdgeProtectionArgs:
    """Arguments of `EdgeProtection`. Defaults are the resilient choice; each knob says what it turns down."""

    service: str
    """Service protected by the ACL (tag `reliability-stack:service`)."""

    scope: str = "REGIONAL"
    """REGIONAL (ALB, API Gateway) or CLOUDFRONT (declared in us-east-1)."""

    region: str | None = None
    """Region of a REGIONAL ACL; None means the provider's region. Must be us-east-1 or None for CLOUDFRONT."""

    rate_limit: int = 2000
    """Requests per IP per window before the IP is blocked (10 - 2,000,000,000)."""

    rate_limit_window_seconds: int = 300
    """Evaluation window of the rate rule: 60, 120, 300 or 600 seconds."""

    rate_limit_action: str = "block"
    """`block` answers 429; knob `count` only measures (use while tuning the limit)."""

    retry_after_seconds: int = 60
    """Value of the Retry-After header on rate-limited responses."""

    managed_rule_groups: list[str] = field(default_factory=lambda: list(DEFAULT_MANAGED_RULE_GROUPS))
    """AWS managed rule groups (vendor AWS), evaluated after the rate rule in this order."""

    managed_rules_count_only: bool = False
    """Knob: managed groups only count matches (rollout of new groups) instead of blocking."""

    load_balancer_arn: pulumi.Input[str] | None = None
    """ALB to associate with a REGIONAL ACL."""

    logging: bool = True
    """Knob: full request logs to a CloudWatch log group."""

    log_retention_days: int = 90
    """Retention of the WAF log group (a CloudWatch Logs retention value)."""

    protect: bool = True
    """Pulumi `protect` on the log group (stateful). Turn off only for throwaway stacks."""

    tags: dict[str, str] = field(default_factory=dict)
    """Extra tags; `reliability-stack:stack` and `reliability-stack:service` are always added."""

    def resource_region(self) -> str | None:
        return CLOUDFRONT_REGION if self.scope == "CLOUDFRONT" else self.region

    def validate(self) -> None:
        """Raise ComponentArgsError, naming the argument, on an impossible or unsafe combination."""
        if not self.service:
            raise ComponentArgsError(COMPONENT, "service", "must name the owning service")
        if self.scope not in SCOPES:
            raise ComponentArgsError(COMPONENT, "scope", f"must be one of {', '.join(SCOPES)}")
        if self.scope == "CLOUDFRONT":
            if self.region not in (None, CLOUDFRONT_REGION):
                raise ComponentArgsError(COMPONENT, "region", "a CLOUDFRONT web ACL must be declared in us-east-1")
            if self.load_balancer_arn is not None:
                raise ComponentArgsError(COMPONENT, "load_balancer_arn",
                                         "a CLOUDFRONT web ACL cannot be associated with a load balancer; use scope REGIONAL")
        if not 10 <= self.rate_limit <= 2_000_000_000:
            raise ComponentArgsError(COMPONENT, "rate_limit", "must be between 10 and 2,000,000,000")
        if self.rate_limit_window_seconds not in RATE_WINDOWS:
            raise ComponentArgsError(COMPONENT, "rate_limit_window_seconds",
                                     f"must be one of {', '.join(map(str, RATE_WINDOWS))}")
        if self.rate_limit_action not in RATE_LIMIT_ACTIONS:
            raise ComponentArgsError(COMPONENT, "rate_limit_action", f"must be one of {', '.join(RATE_LIMIT_ACTIONS)}")
        if not 1 <= self.retry_after_seconds <= 3600:
            raise ComponentArgsError(COMPONENT, "retry_after_seconds", "must be 1-3600 s")
        if len(set(self.managed_rule_groups)) != len(self.managed_rule_groups):
            raise ComponentArgsError(COMPONENT, "managed_rule_groups", "must not repeat a group")
        if self.log_retention_days not in LOG_RETENTION_DAYS:
            raise ComponentArgsError(COMPONENT, "log_retention_days",
                                     f"must be a CloudWatch Logs retention value ({', '.join(map(str, LOG_RETENTION_DAYS))})")


def _visibility(metric_name: str) -> Any:
    return {"cloudwatch_metrics_enabled": True, "metric_name": metric_name, "sampled_requests_enabled": True}


def web_acl_rules(name: str, args: EdgeProtectionArgs) -> list[Any]:
    """The ACL's rules: the rate rule first (cheapest way to shed), then the managed groups."""
    rate_action: dict[str, Any] = (
        {"block": {"custom_response": {
            "response_code": 429,
            "response_headers": [{"name": "Retry-After", "value": str(args.retry_after_seconds)}]}}}
        if args.rate_limit_action == "block" else {"count": {}})
    rules: list[dict[str, Any]] = [{
        "name": "rate-limit-per-ip",
        "priority": 0,
        "action": rate_action,
        "statement": {"rate_based_statement": {
            "limit": args.rate_limit,
            "aggregate_key_type": "IP",
            "evaluation_window_sec": args.rate_limit_window_seconds,
        }},
        "visibility_config": _visibility(f"{name}-rate-limit-per-ip"),
    }]
    override: dict[str, Any] = {"count": {}} if args.managed_rules_count_only else {"none": {}}
    for index, group in enumerate(args.managed_rule_groups, start=1):
        rules.append({
            "name": group,
            "priority": index * 10,
            "override_action": override,
            "statement": {"managed_rule_group_statement": {"name": group, "vendor_name": "AWS"}},
            "visibility_config": _visibility(f"{name}-{group}"),
        })
    return rules


class EdgeProtection(pulumi.ComponentResource):
    """WAFv2 web ACL with a per-IP rate rule, managed rule groups, logging and optional ALB association."""

    web_acl_arn: pulumi.Output[str]
    web_acl_id: pulumi.Output[str]
    log_group_name: pulumi.Output[str] | None

    def __init__(self, name: str, args: EdgeProtectionArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        args.validate()
        super().__init__(TYPE_TOKEN, name, {}, opts)
        tags = standard_tags(pulumi.get_stack(), args.service, args.tags)
        child = pulumi.ResourceOptions(parent=self)
        region = args.resource_region()

        web_acl = aws.wafv2.WebAcl(
            name,
            description=f"{args.service}: per-IP rate limit and AWS managed rules",
            scope=args.scope,
            default_action=aws.wafv2.WebAclDefaultActionArgs(allow=aws.wafv2.WebAclDefaultActionAllowArgs()),
            rules=web_acl_rules(name, args),
            visibility_config=_visibility(name),
            region=region, tags=tags, opts=child)

        self.log_group_name = None
        if args.logging:
            # WAF only delivers to log groups whose name starts with aws-waf-logs-.
            log_group = aws.cloudwatch.LogGroup(
                f"{name}-waf-logs", name_prefix=f"aws-waf-logs-{name}-", retention_in_days=args.log_retention_days,
                region=region, tags=tags, opts=pulumi.ResourceOptions(parent=self, protect=args.protect))
            aws.wafv2.WebAclLoggingConfiguration(
                f"{name}-logging",
                resource_arn=web_acl.arn,
                log_destination_configs=[log_group.arn],
                redacted_fields=[{"single_header": {"name": "authorization"}}],
                region=region, opts=child)
            self.log_group_name = log_group.name

        if args.load_balancer_arn is not None:
            aws.wafv2.WebAclAssociation(
                f"{name}-alb", resource_arn=args.load_balancer_arn, web_acl_arn=web_acl.arn,
                region=region, opts=child)

        self.web_acl_arn = web_acl.arn
        self.web_acl_id = web_acl.id
        self.register_outputs({"web_acl_arn": web_acl.arn, "web_acl_id": web_acl.id,
                               "log_group_name": self.log_group_name})
