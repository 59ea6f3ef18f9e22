"""LoadBalancer: hardened ALB, TLS 1.3 + redirect, blue/green target groups, logs, zonal shift."""

import json

import pytest

from reliability_stack.components.load_balancer import (
    DEFAULT_SSL_POLICY,
    ELB_LOG_ACCOUNTS,
    LOG_DELIVERY_PRINCIPAL,
    HealthCheck,
    LoadBalancer,
    LoadBalancerArgs,
    TrafficSplit,
    access_log_bucket_policy,
)
from reliability_stack.errors import ComponentArgsError
from reliability_stack.preview.capture import capture_program
from reliability_stack.resource_tags import SERVICE_TAG, STACK_TAG
from tests.assertions import find, one

ALB = "aws:lb/loadBalancer:LoadBalancer"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
LISTENER = "aws:lb/listener:Listener"
BUCKET = "aws:s3/bucket:Bucket"
SUBNETS = ["subnet-0a", "subnet-0b", "subnet-0c"]


def lb_args(**overrides) -> LoadBalancerArgs:
    values = dict(service="orders", region="eu-west-1", vpc_id="vpc-0123", vpc_cidr="10.0.0.0/16",
                  subnet_ids=SUBNETS, domain_name="orders.example.com", hosted_zone_id="Z0EXAMPLE",
                  alarm_actions=["arn:aws:sns:eu-west-1:123456789012:orders-ticket"])
    values.update(overrides)
    return LoadBalancerArgs(**values)


def capture(args: LoadBalancerArgs):
    return capture_program(lambda: LoadBalancer("orders-euw1", args), stack="prod").resources


@pytest.fixture(scope="module")
def resources():
    return capture(lb_args())


def test_alb_is_hardened_by_default(resources):
    alb = one(resources, ALB, loadBalancerType="application", internal=False, subnets=SUBNETS,
              enableDeletionProtection=True, dropInvalidHeaderFields=True, desyncMitigationMode="defensive",
              idleTimeout=60, enableCrossZoneLoadBalancing=True, enableZonalShift=True, region="eu-west-1")
    assert alb.props["accessLogs"]["enabled"] is True
    assert alb.props["tags"][STACK_TAG] == "prod" and alb.props["tags"][SERVICE_TAG] == "orders"


def test_https_listener_uses_tls13_and_a_validated_certificate(resources):
    https = one(resources, LISTENER, port=443, protocol="HTTPS", sslPolicy=DEFAULT_SSL_POLICY)
    validation = one(resources, "aws:acm/certificateValidation:CertificateValidation")
    assert https.props["certificateArn"] == validation.props["certificateArn"]
    certificate = one(resources, "aws:acm/certificate:Certificate", domainName="orders.example.com",
                      validationMethod="DNS", subjectAlternativeNames=["*.orders.example.com"])
    assert certificate.props["region"] == "eu-west-1"
    one(resources, "aws:route53/record:Record", zoneId="Z0EXAMPLE", allowOverwrite=True)


def test_http_listener_only_redirects_to_https(resources):
    one(resources, LISTENER, port=80, protocol="HTTP", defaultActions=[
        {"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}}])


def test_blue_and_green_target_groups_have_real_health_checks_and_draining(resources):
    groups = find(resources, TARGET_GROUP, port=8080, protocol="HTTP", deregistrationDelay=45,
                  loadBalancingAlgorithmType="least_outstanding_requests", loadBalancingCrossZoneEnabled="true",
                  healthCheck={"path": "/healthz", "matcher": "200-399", "interval": 10, "healthyThreshold": 2,
                               "unhealthyThreshold": 3, "enabled": True})
    assert sorted(g.props["tags"]["reliability-stack:color"] for g in groups) == ["blue", "green"]
    for group in groups:
        check = group.props["healthCheck"]
        assert 10 <= check["interval"] <= 15 and check["timeout"] < check["interval"]
        assert 30 <= group.props["deregistrationDelay"] <= 60


def test_listener_forwards_by_weight_to_blue_and_green(resources):
    https = one(resources, LISTENER, port=443)
    blue = one(resources, TARGET_GROUP, tags={"reliability-stack:color": "blue"})
    green = one(resources, TARGET_GROUP, tags={"reliability-stack:color": "green"})
    (action,) = https.props["defaultActions"]
    assert action["type"] == "forward"
    assert action["forward"]["targetGroups"] == [
        {"arn": blue.outputs["arn"], "weight": 100}, {"arn": green.outputs["arn"], "weight": 0}]


def test_canary_weights_are_a_knob():
    resources = capture(lb_args(traffic_split=TrafficSplit(blue=90, green=10)))
    action = one(resources, LISTENER, port=443).props["defaultActions"][0]
    assert [g["weight"] for g in action["forward"]["targetGroups"]] == [90, 10]


def test_access_log_bucket_is_private_versioned_encrypted_and_protected(resources):
    bucket = one(resources, BUCKET)
    assert bucket.options["protect"] is True
    assert "versioning" not in bucket.props and "serverSideEncryptionConfiguration" not in bucket.props
    one(resources, "aws:s3/bucketVersioning:BucketVersioning", versioningConfiguration={"status": "Enabled"})
    one(resources, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", blockPublicAcls=True,
        blockPublicPolicy=True, ignorePublicAcls=True, restrictPublicBuckets=True)
    one(resources, "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
        rule={"objectOwnership": "BucketOwnerEnforced"})
    sse = one(resources, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
    assert sse.props["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"
    lifecycle = one(resources, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
    assert lifecycle.props["rules"][0]["expiration"]["days"] == 90
    assert not [r for r in resources if r.type.startswith("aws:s3/") and "V2" in r.type]


def test_alb_waits_for_the_bucket_policy_that_lets_elb_write(resources):
    policy = one(resources, "aws:s3/bucketPolicy:BucketPolicy")
    alb = one(resources, ALB)
    assert policy.urn in alb.options["dependsOn"]
    statements = json.loads(policy.props["policy"])["Statement"]
    allow = next(s for s in statements if s["Effect"] == "Allow")
    assert allow["Principal"] == {"AWS": f"arn:aws:iam::{ELB_LOG_ACCOUNTS['eu-west-1']}:root"}
    assert any(s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
               for s in statements)


def test_new_regions_deliver_logs_through_the_service_principal():
    policy = json.loads(access_log_bucket_policy("arn:aws:s3:::logs", "ap-southeast-4", "alb"))
    assert policy["Statement"][0]["Principal"] == {"Service": LOG_DELIVERY_PRINCIPAL}


def test_security_group_admits_clients_on_443_and_80_and_reaches_only_the_vpc(resources):
    ingress = find(resources, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", cidrIpv4="0.0.0.0/0")
    assert sorted(r.props["fromPort"] for r in ingress) == [80, 443]
    one(resources, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", cidrIpv4="10.0.0.0/16",
        fromPort=8080, toPort=8080)


def test_alarms_notify_and_drive_zonal_autoshift(resources):
    errors = one(resources, "aws:cloudwatch/metricAlarm:MetricAlarm", threshold=5,
                 alarmActions=["arn:aws:sns:eu-west-1:123456789012:orders-ticket"])
    expression = next(q for q in errors.props["metricQueries"] if q.get("returnData"))
    assert "errors" in expression["expression"] and "requests" in expression["expression"]
    unhealthy = find(resources, "aws:cloudwatch/metricAlarm:MetricAlarm", metricName="UnHealthyHostCount")
    groups = {g.outputs["arnSuffix"] for g in find(resources, TARGET_GROUP)}
    assert {a.props["dimensions"]["TargetGroup"] for a in unhealthy} == groups and len(groups) == 2
    autoshift = one(resources, "aws:arczonalshift/zonalAutoshiftConfiguration:ZonalAutoshiftConfiguration",
                    zonalAutoshiftStatus="ENABLED")
    assert autoshift.props["outcomeAlarms"] == [{"alarmIdentifier": errors.outputs["arn"], "type": "CLOUDWATCH"}]


def test_existing_certificate_skips_acm():
    resources = capture(lb_args(hosted_zone_id=None, certificate_arn="arn:aws:acm:eu-west-1:1:certificate/x"))
    assert not find(resources, "aws:acm/certificate:Certificate")
    one(resources, LISTENER, port=443, certificateArn="arn:aws:acm:eu-west-1:1:certificate/x")


def test_knobs_turn_resilience_down_explicitly():
    resources = capture(lb_args(deletion_protection=False, access_logs=False, zonal_shift=False,
                                zonal_autoshift=False, slow_start_seconds=60))
    alb = one(resources, ALB, enableDeletionProtection=False, enableZonalShift=False)
    assert "accessLogs" not in alb.props or not alb.props["accessLogs"]
    assert not find(resources, BUCKET)
    assert not find(resources, "aws:arczonalshift/zonalAutoshiftConfiguration:ZonalAutoshiftConfiguration")
    # Slow start excludes least-outstanding-requests: the algorithm falls back to round robin.
    assert {g.props["loadBalancingAlgorithmType"] for g in find(resources, TARGET_GROUP)} == {"round_robin"}
    unprotected = capture(lb_args(protect=False))
    assert one(unprotected, BUCKET).options["protect"] is False


@pytest.mark.parametrize(("overrides", "argument"), [
    ({"subnet_ids": ["subnet-0a"]}, "subnet_ids"),
    ({"certificate_arn": "arn:aws:acm:eu-west-1:1:certificate/x"}, "certificate_arn"),
    ({"hosted_zone_id": None}, "certificate_arn"),
    ({"health_check": HealthCheck(path="/")}, "health_check.path"),
    ({"health_check": HealthCheck(matcher="any")}, "health_check.matcher"),
    ({"health_check": HealthCheck(interval_seconds=10, timeout_seconds=10)}, "health_check.timeout_seconds"),
    ({"health_check": HealthCheck(unhealthy_threshold=1)}, "health_check.unhealthy_threshold"),
    ({"deregistration_delay_seconds": 4000}, "deregistration_delay_seconds"),
    ({"slow_start_seconds": 10}, "slow_start_seconds"),
    ({"traffic_split": TrafficSplit(blue=0, green=0)}, "traffic_split"),
    ({"ssl_policy": "ELBSecurityPolicy-2016-08"}, "ssl_policy"),
    ({"zonal_shift": False}, "zonal_autoshift"),
    ({"ingress_cidrs": []}, "ingress_cidrs"),
])
def test_invalid_arguments_are_rejected_by_name(overrides, argument):
    with pytest.raises(ComponentArgsError) as error:
        lb_args(**overrides).validate()
    assert error.value.field == f"LoadBalancer.{argument}"
