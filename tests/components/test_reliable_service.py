"""ReliableService: what it composes per region and across regions, its knobs and its refusals."""

import dataclasses
from pathlib import Path

import pytest

from reliability_stack.components import ReliableService, ReliableServiceArgs
from reliability_stack.components.load_balancer import TrafficSplit
from reliability_stack.components.reliable_service import KubernetesWorkload
from reliability_stack.config import AlertRouting, AlertTarget
from reliability_stack.errors import ComponentArgsError
from reliability_stack.preview.capture import capture_program
from reliability_stack.slo.loaders import load_slo_file
from tests.assertions import children_of, find, one

ALERTING = AlertRouting(page=[AlertTarget(protocol="email", endpoint="oncall@example.com")],
                        ticket=[AlertTarget(protocol="email", endpoint="tickets@example.com")])
AMI = {"eu-west-1": "ami-0123456789abcdef0", "eu-central-1": "ami-0fedcba9876543210"}
# The checkout spec's SLOs, re-homed to the service under test.
SLOS = [dataclasses.replace(slo, service="orders")
        for slo in load_slo_file(Path(__file__).resolve().parents[2] / "slos" / "checkout.yaml").slos]
IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/orders@sha256:" + "a" * 64


def service_args(**overrides) -> ReliableServiceArgs:
    values = dict(service="orders", regions=["eu-west-1"], domain="orders.example.com", hosted_zone="example.com",
                  runbook_url="https://runbooks.example.com/orders", alerting=ALERTING, ami_ids=AMI)
    values.update(overrides)
    return ReliableServiceArgs(**values)


def capture(args: ReliableServiceArgs):
    return capture_program(lambda: ReliableService("orders", args), stack="staging").resources


@pytest.fixture(scope="module")
def single_region():
    return capture(service_args(slos=SLOS))


def test_minimal_config_composes_the_whole_regional_footprint(single_region):
    service = one(single_region, "reliability-stack:reliable_service:ReliableService")
    kinds = sorted(r.type for r in children_of(single_region, service) if not r.custom)
    assert kinds == sorted([
        "reliability-stack:network:Network", "reliability-stack:alert_routing:AlertRouting",
        "reliability-stack:load_balancer:LoadBalancer", "reliability-stack:autoscaling:Autoscaling",
        "reliability-stack:queue:Queue", "reliability-stack:observability:Observability",
        "reliability-stack:release_safety:ReleaseSafety", "reliability-stack:cache_tier:CacheTier",
        "reliability-stack:regional_database:RegionalDatabase", "reliability-stack:cdn:Cdn",
        "reliability-stack:edge_protection:EdgeProtection", "reliability-stack:edge_protection:EdgeProtection",
        "reliability-stack:slo_alarms:SloAlarms",
        "reliability-stack:service_dashboard:ServiceDashboard"])
    # Single region: no global database, no DNS failover.
    assert not find(single_region, "aws:rds/globalCluster:GlobalCluster")
    assert not find(single_region, "reliability-stack:dns_failover:DnsFailover")


def test_the_fleet_serves_the_blue_group_and_rolls_back_on_the_load_balancer_alarms(single_region):
    group = one(single_region, "aws:autoscaling/group:Group")
    blue = one(single_region, "aws:lb/targetGroup:TargetGroup", tags={"reliability-stack:color": "blue"})
    assert group.props["targetGroupArns"] == [blue.outputs["arn"]]
    lb_alarms = {a.outputs["name"] for a in find(single_region, "aws:cloudwatch/metricAlarm:MetricAlarm")
                 if a.name in ("orders-eu-west-1-target-errors", "orders-eu-west-1-unhealthy-blue",
                               "orders-eu-west-1-unhealthy-green")}
    rollback = group.props["instanceRefresh"]["preferences"]["alarmSpecification"]["alarms"]
    assert len(lb_alarms) == 3 and set(rollback) == lb_alarms


def test_load_balancer_alarms_open_tickets_in_the_regions_topic(single_region):
    ticket = one(single_region, "aws:sns/topic:Topic", region="eu-west-1", tags={"severity": "ticket"})
    errors = next(a for a in find(single_region, "aws:cloudwatch/metricAlarm:MetricAlarm")
                  if a.name == "orders-eu-west-1-target-errors")
    assert errors.props["alarmActions"] == [ticket.outputs["arn"]]


def test_regional_name_and_cdn_front_the_load_balancer(single_region):
    alb = one(single_region, "aws:lb/loadBalancer:LoadBalancer")
    regional = find(single_region, "aws:route53/record:Record", name="eu-west-1.orders.example.com")
    assert sorted(r.props["type"] for r in regional) == ["A", "AAAA"]
    # No zone id given: the zone is looked up by name.
    assert all(r.props["zoneId"].startswith("Z") for r in regional)
    assert all(r.props["aliases"] == [{"name": alb.outputs["dnsName"], "zoneId": alb.outputs["zoneId"],
                                       "evaluateTargetHealth": True}] for r in regional)
    distribution = one(single_region, "aws:cloudfront/distribution:Distribution")
    assert distribution.props["origins"][0]["domainName"] == "eu-west-1.orders.example.com"
    # CloudFront needs a us-east-1 certificate: the ALB's is in eu-west-1, so one more is declared.
    assert {c.props["region"] for c in find(single_region, "aws:acm/certificate:Certificate")} == {"eu-west-1",
                                                                                                  "us-east-1"}
    one(single_region, "aws:wafv2/webAcl:WebAcl", scope="CLOUDFRONT")
    # The regional name bypasses CloudFront, so the ALB has a web ACL of its own.
    one(single_region, "aws:wafv2/webAclAssociation:WebAclAssociation", resourceArn=alb.outputs["arn"])


def test_slo_alarms_page_through_the_regions_topic_and_link_the_dashboard(single_region):
    dashboard = one(single_region, "aws:cloudwatch/dashboard:Dashboard", dashboardName="staging-orders-eu-west-1",
                    region="eu-west-1")
    assert "HTTPCode_Target_5XX_Count" in dashboard.props["dashboardBody"]
    page = one(single_region, "aws:sns/topic:Topic", region="eu-west-1", tags={"severity": "page"})
    composites = find(single_region, "aws:cloudwatch/compositeAlarm:CompositeAlarm")
    paging = [a for a in composites if a.props["alarmActions"] == [page.outputs["arn"]]]
    assert paging and all("staging-orders-eu-west-1" in a.props["alarmDescription"] for a in paging)


def test_cache_and_database_admit_the_fleet(single_region):
    fleet_group = next(r for r in find(single_region, "aws:ec2/securityGroup:SecurityGroup")
                       if r.name == "orders-eu-west-1-instances")
    ingress = find(single_region, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
                   referencedSecurityGroupId=fleet_group.outputs["arn"].rsplit("/", 1)[-1])
    assert {r.props["fromPort"] for r in ingress} >= {5432, 6379}


def test_knobs_drop_optional_parts_and_the_apex_points_at_the_alb():
    resources = capture(service_args(cdn=False, queue=False, feature_flags=False, observability=False,
                                     cache=False, database_engine="none", hosted_zone_id="Z0GIVEN0000000001"))
    assert not find(resources, "reliability-stack:cdn:Cdn")
    assert not find(resources, "reliability-stack:queue:Queue")
    assert not find(resources, "reliability-stack:release_safety:ReleaseSafety")
    assert not find(resources, "reliability-stack:observability:Observability")
    assert not find(resources, "reliability-stack:cache_tier:CacheTier")
    assert not find(resources, "reliability-stack:regional_database:RegionalDatabase")
    # Without a CDN the WAF protects the ALB directly, and the service name aliases the ALB.
    one(resources, "aws:wafv2/webAcl:WebAcl", scope="REGIONAL")
    alb = one(resources, "aws:lb/loadBalancer:LoadBalancer")
    apex = find(resources, "aws:route53/record:Record", name="orders.example.com")
    assert apex and all(r.props["aliases"][0]["name"] == alb.outputs["dnsName"] for r in apex)
    # A given zone id is used as is (no lookup by name).
    assert {r.props["zoneId"] for r in find(resources, "aws:route53/record:Record")} == {"Z0GIVEN0000000001"}


def test_protect_knob_reaches_every_stateful_child():
    resources = capture(service_args(protect=False, cdn=False, waf=False, feature_flags=False,
                                     observability=False, database_engine="dynamodb"))
    stateful = [r for r in resources if r.type in ("aws:s3/bucket:Bucket", "aws:dynamodb/table:Table",
                                                    "aws:elasticache/replicationGroup:ReplicationGroup")]
    assert stateful and not [r.name for r in stateful if r.options["protect"]]
    assert not find(resources, "aws:wafv2/webAcl:WebAcl")


def test_two_regions_get_a_global_database_cdn_failover_and_dns_failover():
    resources = capture(service_args(regions=["eu-west-1", "eu-central-1"], database_master_password="secret-pw",
                                     feature_flags=False, observability=False, queue=False))
    one(resources, "aws:rds/globalCluster:GlobalCluster")
    vpcs = find(resources, "aws:ec2/vpc:Vpc")
    assert sorted(v.props["cidrBlock"] for v in vpcs) == ["10.0.0.0/16", "10.1.0.0/16"]
    distribution = one(resources, "aws:cloudfront/distribution:Distribution")
    assert len(distribution.props["originGroups"]) == 1
    dns = one(resources, "reliability-stack:dns_failover:DnsFailover")
    assert dns.name == "orders-dns"
    records = [r for r in find(resources, "aws:route53/record:Record", name="api.orders.example.com")
               if r.props.get("failoverRoutingPolicies")]
    assert {r.props["failoverRoutingPolicies"][0]["type"] for r in records} == {"PRIMARY", "SECONDARY"}


def test_dns_failover_knob_leaves_the_name_on_the_primary_region():
    resources = capture(service_args(regions=["eu-west-1", "eu-central-1"], dns_failover=False, cdn=False,
                                     cache=False, database_engine="none", queue=False, feature_flags=False,
                                     observability=False))
    assert not find(resources, "reliability-stack:dns_failover:DnsFailover")
    assert not find(resources, "aws:route53/healthCheck:HealthCheck")
    primary = one(resources, "aws:lb/loadBalancer:LoadBalancer", region="eu-west-1")
    apex = find(resources, "aws:route53/record:Record", name="orders.example.com")
    assert apex and {r.props["aliases"][0]["name"] for r in apex} == {primary.outputs["dnsName"]}


def test_canary_release_runs_a_green_fleet_behind_the_green_group():
    green_ami = {"eu-west-1": "ami-0aaaaaaaaaaaaaaa1"}
    resources = capture(service_args(green_ami_ids=green_ami, traffic_split=TrafficSplit(blue=90, green=10),
                                     cdn=False, cache=False, database_engine="none", queue=False,
                                     feature_flags=False, observability=False))
    groups = {g.props["tags"]["reliability-stack:color"]: g.outputs["arn"]
              for g in find(resources, "aws:lb/targetGroup:TargetGroup")}
    templates = {t.name: t.props["imageId"] for t in find(resources, "aws:ec2/launchTemplate:LaunchTemplate")}
    assert templates == {"orders-eu-west-1-lt": AMI["eu-west-1"], "orders-eu-west-1-green-lt": green_ami["eu-west-1"]}
    fleets = {f.name: f.props["targetGroupArns"] for f in find(resources, "aws:autoscaling/group:Group")}
    assert fleets == {"orders-eu-west-1-asg": [groups["blue"]], "orders-eu-west-1-green-asg": [groups["green"]]}
    forward = one(resources, "aws:lb/listener:Listener", port=443).props["defaultActions"][0]["forward"]
    assert forward["targetGroups"] == [{"arn": groups["blue"], "weight": 90}, {"arn": groups["green"], "weight": 10}]


def test_kubernetes_platform_declares_the_workload_instead_of_a_fleet():
    resources = capture(service_args(platform="kubernetes", container_image=IMAGE, ami_ids={},
                                     cdn=False, feature_flags=False, observability=False))
    assert not find(resources, "aws:autoscaling/group:Group")
    assert not find(resources, "aws:lb/loadBalancer:LoadBalancer")
    one(resources, "reliability-stack:kube_service:KubeService")
    deployment = one(resources, "kubernetes:apps/v1:Deployment")
    assert deployment.props["spec"]["template"]["spec"]["containers"][0]["image"] == IMAGE
    ingress = one(resources, "kubernetes:networking.k8s.io/v1:Ingress")
    assert ingress.props["spec"]["rules"][0]["host"] == "orders.example.com"
    assert ingress.props["metadata"]["annotations"]["alb.ingress.kubernetes.io/certificate-arn"].startswith(
        "arn:aws:acm:eu-west-1:")


@pytest.mark.parametrize(("overrides", "argument"), [
    ({"regions": []}, "regions"),
    ({"regions": ["eu-west-1", "eu-west-1"]}, "regions"),
    ({"platform": "lambda"}, "platform"),
    ({"ami_ids": {}}, "ami_ids"),
    ({"platform": "kubernetes", "ami_ids": {}}, "container_image"),
    ({"platform": "kubernetes", "container_image": IMAGE, "regions": ["eu-west-1", "eu-central-1"],
      "database_master_password": "pw"}, "kubernetes.contexts"),
    ({"platform": "kubernetes", "container_image": IMAGE, "regions": ["eu-west-1", "eu-central-1"],
      "database_master_password": "pw",
      "kubernetes": KubernetesWorkload(contexts={"eu-west-1": "one", "eu-central-1": "one"})},
     "kubernetes.contexts"),
    ({"regions": ["eu-west-1", "eu-central-1"]}, "database_master_password"),
    ({"cache_global_datastore": True}, "cache_global_datastore"),
    ({"traffic_split": TrafficSplit(blue=90, green=10)}, "traffic_split"),
    ({"regions": ["eu-west-1", "eu-central-1"], "database_master_password": "pw",
      "green_ami_ids": {"eu-west-1": "ami-0aaaaaaaaaaaaaaa1"}}, "green_ami_ids"),
    ({"database_engine": "mysql"}, "database_engine"),
    ({"regions": ["eu-west-1", "eu-central-1"], "database_master_password": "pw",
      "vpc_cidrs": {"eu-central-1": "10.0.128.0/17"}}, "vpc_cidrs"),
    ({"availability_zone_names": {"eu-west-1": ["eu-west-1a", "eu-west-1b"]}}, "availability_zone_names"),
    ({"availability_zones": 1}, "availability_zones"),
])
def test_invalid_combinations_are_rejected_by_name(overrides, argument):
    with pytest.raises(ComponentArgsError) as error:
        service_args(**overrides).validate()
    assert error.value.field == f"ReliableService.{argument}"
