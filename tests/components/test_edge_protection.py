"""EdgeProtection: WAFv2 rate rule, managed groups, logging, ALB association; knobs and errors."""

import pytest

from reliability_stack.components.edge_protection import EdgeProtection, EdgeProtectionArgs
from reliability_stack.errors import ComponentArgsError
from reliability_stack.preview.capture import capture_program
from reliability_stack.resource_tags import SERVICE_TAG, STACK_TAG
from tests.assertions import find, one, props_like

WEB_ACL = "aws:wafv2/webAcl:WebAcl"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
LOGGING = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"
ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation"
ALB = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/shop/50dc6c495c0c9188"


def waf_args(**overrides) -> EdgeProtectionArgs:
    values = dict(service="shop", region="eu-west-1", load_balancer_arn=ALB)
    values.update(overrides)
    return EdgeProtectionArgs(**values)


def capture(args: EdgeProtectionArgs):
    return capture_program(lambda: EdgeProtection("shop-waf", args), stack="prod").resources


@pytest.fixture(scope="module")
def resources():
    return capture(waf_args())


def test_regional_acl_with_rate_rule_first(resources):
    acl = one(resources, WEB_ACL, scope="REGIONAL", region="eu-west-1")
    assert acl.props["defaultAction"] == {"allow": {}}
    rate = acl.props["rules"][0]
    assert rate["priority"] == 0
    assert rate["statement"] == {"rateBasedStatement": {
        "limit": 2000, "aggregateKeyType": "IP", "evaluationWindowSec": 300}}
    assert rate["action"]["block"]["customResponse"]["responseCode"] == 429
    assert {"name": "Retry-After", "value": "60"} in rate["action"]["block"]["customResponse"]["responseHeaders"]
    assert acl.props["tags"][STACK_TAG] == "prod" and acl.props["tags"][SERVICE_TAG] == "shop"


def test_managed_rule_groups_block_and_every_rule_is_visible(resources):
    acl = one(resources, WEB_ACL)
    managed = acl.props["rules"][1:]
    assert [r["statement"]["managedRuleGroupStatement"] for r in managed] == [
        {"name": "AWSManagedRulesAmazonIpReputationList", "vendorName": "AWS"},
        {"name": "AWSManagedRulesCommonRuleSet", "vendorName": "AWS"},
        {"name": "AWSManagedRulesKnownBadInputsRuleSet", "vendorName": "AWS"},
    ]
    assert all(r["overrideAction"] == {"none": {}} for r in managed)
    priorities = [r["priority"] for r in acl.props["rules"]]
    assert len(set(priorities)) == len(priorities)
    for visibility in [acl.props["visibilityConfig"]] + [r["visibilityConfig"] for r in acl.props["rules"]]:
        assert visibility["cloudwatchMetricsEnabled"] is True and visibility["sampledRequestsEnabled"] is True


def test_logging_to_a_retained_protected_waf_log_group(resources):
    group = one(resources, LOG_GROUP)
    assert group.props["namePrefix"].startswith("aws-waf-logs-")
    assert group.props["retentionInDays"] == 90
    assert group.options["protect"] is True
    logging = one(resources, LOGGING)
    acl = one(resources, WEB_ACL)
    assert logging.props["resourceArn"] == acl.outputs["arn"]
    assert logging.props["logDestinationConfigs"] == [group.outputs["arn"]]
    assert logging.props["redactedFields"] == [{"singleHeader": {"name": "authorization"}}]


def test_associated_with_the_load_balancer(resources):
    association = one(resources, ASSOCIATION)
    assert association.props["resourceArn"] == ALB
    assert association.props["webAclArn"] == one(resources, WEB_ACL).outputs["arn"]
    assert association.props["region"] == "eu-west-1"


def test_cloudfront_scope_lives_in_us_east_1_without_association():
    resources = capture(waf_args(scope="CLOUDFRONT", region=None, load_balancer_arn=None))
    one(resources, WEB_ACL, scope="CLOUDFRONT", region="us-east-1")
    assert one(resources, LOG_GROUP).props["region"] == "us-east-1"
    assert one(resources, LOGGING).props["region"] == "us-east-1"
    assert not find(resources, ASSOCIATION)


def test_knobs_count_mode_custom_limits_and_no_logging():
    resources = capture(waf_args(rate_limit_action="count", managed_rules_count_only=True, rate_limit=500,
                                 rate_limit_window_seconds=60, logging=False, load_balancer_arn=None,
                                 managed_rule_groups=["AWSManagedRulesCommonRuleSet"]))
    acl = one(resources, WEB_ACL)
    assert acl.props["rules"][0]["action"] == {"count": {}}
    assert props_like(acl.props["rules"][0]["statement"]["rateBasedStatement"],
                      {"limit": 500, "evaluationWindowSec": 60})
    assert len(acl.props["rules"]) == 2 and acl.props["rules"][1]["overrideAction"] == {"count": {}}
    assert not find(resources, LOG_GROUP) and not find(resources, LOGGING) and not find(resources, ASSOCIATION)


@pytest.mark.parametrize(("overrides", "argument"), [
    (dict(scope="GLOBAL"), "scope"),
    (dict(scope="CLOUDFRONT", load_balancer_arn=None, region="eu-west-1"), "region"),
    (dict(scope="CLOUDFRONT", region=None), "load_balancer_arn"),
    (dict(rate_limit=5), "rate_limit"),
    (dict(rate_limit_window_seconds=30), "rate_limit_window_seconds"),
    (dict(rate_limit_action="captcha"), "rate_limit_action"),
    (dict(retry_after_seconds=0), "retry_after_seconds"),
    (dict(managed_rule_groups=["AWSManagedRulesCommonRuleSet"] * 2), "managed_rule_groups"),
    (dict(log_retention_days=100), "log_retention_days"),
])
def test_invalid_combinations_name_the_argument(overrides, argument):
    with pytest.raises(ComponentArgsError) as error:
        capture(waf_args(**overrides))
    assert error.value.field == f"EdgeProtection.{argument}"
