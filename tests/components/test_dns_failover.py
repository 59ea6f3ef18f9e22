"""DnsFailover: health checks, failover/latency alias records, ARC control plane; knobs and errors."""

import pytest

from reliability_stack.components.dns_failover import (
    HEALTH_CHECKER_REGIONS,
    DnsFailover,
    DnsFailoverArgs,
    RegionalEndpoint,
)
from reliability_stack.errors import ComponentArgsError
from reliability_stack.preview.capture import capture_program
from reliability_stack.resource_tags import SERVICE_TAG, STACK_TAG
from tests.assertions import find, one

HEALTH_CHECK = "aws:route53/healthCheck:HealthCheck"
RECORD = "aws:route53/record:Record"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
ARC = "aws:route53recoverycontrol"
TOPIC = "arn:aws:sns:us-east-1:123456789012:shop-page"


def endpoints() -> list[RegionalEndpoint]:
    return [
        RegionalEndpoint("us-east-1", alias_name="shop-use1.us-east-1.elb.amazonaws.com",
                         alias_zone_id="Z35SXDOTRQ7X7K", health_check_fqdn="us-east-1.shop.example.com"),
        RegionalEndpoint("eu-west-1", alias_name="shop-euw1.eu-west-1.elb.amazonaws.com",
                         alias_zone_id="Z32O12XQLNTSW2", health_check_fqdn="eu-west-1.shop.example.com"),
    ]


def dns_args(**overrides) -> DnsFailoverArgs:
    values = dict(service="shop", zone_id="ZSHOP", record_name="api.shop.example.com", endpoints=endpoints(),
                  health_check_path="/healthz/deep", alarm_topic_arn=TOPIC)
    values.update(overrides)
    return DnsFailoverArgs(**values)


def capture(args: DnsFailoverArgs):
    return capture_program(lambda: DnsFailover("shop-dns", args), stack="prod").resources


@pytest.fixture(scope="module")
def resources():
    return capture(dns_args())


def endpoint_checks(resources):
    return find(resources, HEALTH_CHECK, type="HTTPS")


def test_https_deep_health_check_per_region(resources):
    checks = endpoint_checks(resources)
    assert sorted(c.props["fqdn"] for c in checks) == ["eu-west-1.shop.example.com", "us-east-1.shop.example.com"]
    for check in checks:
        assert check.props["resourcePath"] == "/healthz/deep"
        assert check.props["port"] == 443
        assert check.props["failureThreshold"] == 3
        assert check.props["requestInterval"] in (10, 30)
        assert len(check.props["regions"]) >= 3
        assert check.props["measureLatency"] is True
        assert check.props["enableSni"] is True
        assert check.props["tags"][STACK_TAG] == "prod" and check.props["tags"][SERVICE_TAG] == "shop"


def test_failover_alias_records_evaluate_target_health_and_carry_health_checks(resources):
    records = find(resources, RECORD)
    assert len(records) == 2
    primary = one(records, RECORD, failoverRoutingPolicies=[{"type": "PRIMARY"}])
    secondary = one(records, RECORD, failoverRoutingPolicies=[{"type": "SECONDARY"}])
    assert primary.props["aliases"] == [{"name": "shop-use1.us-east-1.elb.amazonaws.com",
                                         "zoneId": "Z35SXDOTRQ7X7K", "evaluateTargetHealth": True}]
    assert secondary.props["aliases"][0]["evaluateTargetHealth"] is True
    assert primary.props["setIdentifier"] != secondary.props["setIdentifier"]
    for record in (primary, secondary):
        assert record.props["name"] == "api.shop.example.com"
        assert record.props["zoneId"] == "ZSHOP"
        assert record.props["healthCheckId"]


def test_arc_control_plane_in_us_west_2_with_one_control_per_region(resources):
    provider = one(resources, "pulumi:providers:aws")
    assert provider.props["region"] == "us-west-2"
    arc = [r for r in resources if r.type.startswith(ARC)]
    assert sorted(r.type.rsplit(":", 1)[1] for r in arc) == [
        "Cluster", "ControlPanel", "RoutingControl", "RoutingControl", "SafetyRule"]
    assert all(r.options["provider"] and "shop-dns-control-plane" in r.options["provider"] for r in arc)
    # The stack never sets routing-control state (the type has no such input).
    for control in find(resources, f"{ARC}/routingControl:RoutingControl"):
        assert set(control.props) == {"name", "clusterArn", "controlPanelArn"}


def test_safety_rule_asserts_at_least_one_region_on(resources):
    rule = one(resources, f"{ARC}/safetyRule:SafetyRule")
    controls = find(resources, f"{ARC}/routingControl:RoutingControl")
    assert sorted(rule.props["assertedControls"]) == sorted(c.outputs["arn"] for c in controls)
    assert rule.props["ruleConfig"] == {"inverted": False, "threshold": 1, "type": "ATLEAST"}


def test_records_are_gated_by_endpoint_and_routing_control_checks(resources):
    controls = {c.name: c for c in find(resources, HEALTH_CHECK, type="RECOVERY_CONTROL")}
    assert len(controls) == 2
    routing_arns = {c.outputs["arn"] for c in find(resources, f"{ARC}/routingControl:RoutingControl")}
    assert {c.props["routingControlArn"] for c in controls.values()} == routing_arns
    gates = find(resources, HEALTH_CHECK, type="CALCULATED")
    assert len(gates) == 2
    for gate in gates:
        assert gate.props["childHealthThreshold"] == len(gate.props["childHealthchecks"]) == 2
    gate_ids = {g.name: g for g in gates}
    for record in find(resources, RECORD):
        region = record.name.removeprefix("shop-dns-").rsplit("-", 1)[0]
        assert record.props["healthCheckId"].startswith(f"shop-dns-{region}-gate")
        assert f"shop-dns-{region}-gate" in gate_ids


def test_health_check_status_alarms_in_us_east_1(resources):
    alarms = find(resources, ALARM, namespace="AWS/Route53", metricName="HealthCheckStatus")
    assert len(alarms) == 2
    for alarm in alarms:
        assert alarm.props["region"] == "us-east-1"
        assert alarm.props["alarmActions"] == [TOPIC]
        assert alarm.props["comparisonOperator"] == "LessThanThreshold"


def test_without_recovery_control_records_use_the_endpoint_checks_directly():
    resources = capture(dns_args(recovery_control=False, alarm_topic_arn=None))
    assert not [r for r in resources if r.type.startswith(ARC) or r.type == "pulumi:providers:aws"]
    assert not find(resources, ALARM)
    check_ids = {c.name for c in endpoint_checks(resources)}
    for record in find(resources, RECORD):
        assert record.props["healthCheckId"].rsplit("-", 1)[0] in check_ids


def test_latency_routing_health_checks_every_record():
    three = endpoints() + [RegionalEndpoint("ap-southeast-2", alias_name="shop-apse2.elb.amazonaws.com",
                                            alias_zone_id="Z1GM3OXH4ZPM65")]
    resources = capture(dns_args(routing_policy="latency", endpoints=three, record_types=["A", "AAAA"]))
    records = find(resources, RECORD)
    assert len(records) == 6
    for record in records:
        assert record.props["latencyRoutingPolicies"][0]["region"] == record.props["setIdentifier"]
        assert record.props["healthCheckId"]
    assert len(endpoint_checks(resources)) == 3


def test_cname_endpoints_get_a_short_ttl():
    plain = [RegionalEndpoint("us-east-1", alias_name="use1.origin.example.com"),
             RegionalEndpoint("eu-west-1", alias_name="euw1.origin.example.com")]
    resources = capture(dns_args(endpoints=plain, recovery_control=False))
    records = find(resources, RECORD, type="CNAME")
    assert len(records) == 2 and all(r.props["ttl"] == 60 for r in records)
    assert sorted(r.props["fqdn"] for r in endpoint_checks(resources)) == [
        "euw1.origin.example.com", "use1.origin.example.com"]


def test_knobs_search_string_interval_and_checker_regions():
    resources = capture(dns_args(health_check_search_string="ok", request_interval=30,
                                 checker_regions=["us-east-1", "eu-west-1", "ap-southeast-1"], recovery_control=False))
    checks = find(resources, HEALTH_CHECK, type="HTTPS_STR_MATCH")
    assert len(checks) == 2
    assert all(c.props["searchString"] == "ok" and c.props["requestInterval"] == 30 for c in checks)
    assert checks[0].props["regions"] == ["ap-southeast-1", "eu-west-1", "us-east-1"]


def test_default_checker_regions_are_all_route53_regions(resources):
    assert endpoint_checks(resources)[0].props["regions"] == sorted(HEALTH_CHECKER_REGIONS)


@pytest.mark.parametrize(("overrides", "argument"), [
    (dict(endpoints=endpoints()[:1]), "endpoints"),
    (dict(endpoints=[endpoints()[0], endpoints()[0]], routing_policy="latency"), "endpoints"),
    (dict(endpoints=[RegionalEndpoint("moon-1", alias_name="x", alias_zone_id="Z")] * 1 + endpoints()[:1]),
     "endpoints"),
    (dict(endpoints=[endpoints()[0], RegionalEndpoint("eu-west-1", alias_name="cname.example.com")]), "endpoints"),
    (dict(routing_policy="weighted"), "routing_policy"),
    (dict(health_check_path="/"), "health_check_path"),
    (dict(health_check_path="healthz"), "health_check_path"),
    (dict(failure_threshold=0), "failure_threshold"),
    (dict(request_interval=20), "request_interval"),
    (dict(checker_regions=["us-east-1", "eu-west-1"]), "checker_regions"),
    (dict(checker_regions=["us-east-1", "eu-west-1", "eu-central-1"]), "checker_regions"),
    (dict(record_types=["MX"]), "record_types"),
    (dict(ttl=300), "ttl"),
    (dict(record_name=""), "record_name"),
])
def test_invalid_combinations_name_the_argument(overrides, argument):
    with pytest.raises(ComponentArgsError) as error:
        capture(dns_args(**overrides))
    assert error.value.field == f"DnsFailover.{argument}"
