"""Network: multi-AZ VPC, NAT per AZ with AZ-local routes, flow logs; knobs and invalid args."""

import ipaddress

import pytest

from reliability_stack.components.network import Network, NetworkArgs, plan_subnets
from reliability_stack.errors import ComponentArgsError
from reliability_stack.preview.capture import capture_program
from reliability_stack.resource_tags import SERVICE_TAG, STACK_TAG
from tests.assertions import find, one

ZONES = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
SUBNET = "aws:ec2/subnet:Subnet"
NAT = "aws:ec2/natGateway:NatGateway"
ROUTE = "aws:ec2/route:Route"
ASSOCIATION = "aws:ec2/routeTableAssociation:RouteTableAssociation"


def network_args(**overrides) -> NetworkArgs:
    values = dict(service="orders", region="eu-west-1", availability_zone_names=ZONES)
    values.update(overrides)
    return NetworkArgs(**values)


def capture(args: NetworkArgs):
    return capture_program(lambda: Network("orders-euw1", args), stack="prod").resources


def resource_id(resource) -> str:
    # The realistic mocks end every ARN with the resource id.
    return resource.outputs["arn"].rsplit("/", 1)[-1]


def by_id(resources, type_):
    return {resource_id(r): r for r in resources if r.type == type_}


@pytest.fixture(scope="module")
def resources():
    return capture(network_args())


def test_subnet_plan_is_disjoint_and_inside_the_vpc():
    plans = plan_subnets("10.4.0.0/16", 6)
    blocks = [ipaddress.ip_network(c) for p in plans for c in (p.public_cidr, p.private_cidr)]
    vpc = ipaddress.ip_network("10.4.0.0/16")
    assert len(blocks) == 12
    assert all(b.subnet_of(vpc) for b in blocks)
    assert not any(a.overlaps(b) for i, a in enumerate(blocks) for b in blocks[i + 1:])


def test_one_public_and_one_private_subnet_per_az(resources):
    subnets = [r for r in resources if r.type == SUBNET]
    for tier in ("public", "private"):
        tiered = [s for s in subnets if s.props["tags"]["reliability-stack:tier"] == tier]
        assert sorted(s.props["availabilityZone"] for s in tiered) == ZONES
        assert all(s.props["mapPublicIpOnLaunch"] is False for s in tiered)
    vpc = one(resources, "aws:ec2/vpc:Vpc", cidrBlock="10.0.0.0/16", enableDnsHostnames=True)
    assert vpc.props["tags"][STACK_TAG] == "prod" and vpc.props["tags"][SERVICE_TAG] == "orders"


def test_each_private_subnet_egresses_through_the_nat_of_its_own_az(resources):
    subnets = by_id(resources, SUBNET)
    nats = by_id(resources, NAT)
    assert len(nats) == 3
    route_table_of = {a.props["subnetId"]: a.props["routeTableId"] for a in resources if a.type == ASSOCIATION}
    nat_of_table = {r.props["routeTableId"]: r.props["natGatewayId"] for r in resources
                    if r.type == ROUTE and "natGatewayId" in r.props}
    private = [s for s_id, s in subnets.items() if s.props["tags"]["reliability-stack:tier"] == "private"]
    for subnet_id, subnet in subnets.items():
        if subnet not in private:
            continue
        nat = nats[nat_of_table[route_table_of[subnet_id]]]
        assert subnets[nat.props["subnetId"]].props["availabilityZone"] == subnet.props["availabilityZone"]
    assert len(set(nat_of_table.values())) == 3


def test_default_security_group_is_emptied(resources):
    group = one(resources, "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert group.props.get("ingress", []) == [] and group.props.get("egress", []) == []


def test_flow_logs_capture_all_traffic_to_a_protected_log_group(resources):
    flow_log = one(resources, "aws:ec2/flowLog:FlowLog", trafficType="ALL", logDestinationType="cloud-watch-logs")
    group = one(resources, "aws:cloudwatch/logGroup:LogGroup", retentionInDays=90)
    assert flow_log.props["logDestination"] == group.outputs["arn"]
    assert group.options["protect"] is True


def test_shared_nat_knob_routes_every_az_through_one_gateway():
    resources = capture(network_args(nat_gateway_per_az=False))
    nats = find(resources, NAT)
    assert len(nats) == 1
    targets = {r.props["natGatewayId"] for r in resources if r.type == ROUTE and "natGatewayId" in r.props}
    assert targets == {resource_id(nats[0])}


def test_knobs_drop_flow_logs_and_protect():
    without = capture(network_args(flow_logs=False))
    assert not find(without, "aws:ec2/flowLog:FlowLog")
    assert not find(without, "aws:cloudwatch/logGroup:LogGroup")
    unprotected = capture(network_args(protect=False))
    assert one(unprotected, "aws:cloudwatch/logGroup:LogGroup").options["protect"] is False


def test_two_az_network_is_allowed():
    resources = capture(network_args(availability_zones=2, availability_zone_names=ZONES[:2]))
    assert len(find(resources, SUBNET)) == 4
    assert len(find(resources, NAT)) == 2


@pytest.mark.parametrize(("overrides", "argument"), [
    ({"availability_zones": 1, "availability_zone_names": ZONES[:1]}, "availability_zones"),
    ({"availability_zones": 7, "availability_zone_names": None}, "availability_zones"),
    ({"availability_zone_names": ZONES[:2]}, "availability_zone_names"),
    ({"availability_zone_names": ["eu-west-1a", "eu-west-1a", "eu-west-1b"]}, "availability_zone_names"),
    ({"availability_zone_names": ["us-east-1a", "eu-west-1b", "eu-west-1c"]}, "availability_zone_names"),
    ({"cidr_block": "10.0.0.0/8"}, "cidr_block"),
    ({"cidr_block": "10.0.0.1/16"}, "cidr_block"),
    ({"flow_log_retention_days": 10}, "flow_log_retention_days"),
])
def test_invalid_arguments_are_rejected_by_name(overrides, argument):
    with pytest.raises(ComponentArgsError) as error:
        network_args(**overrides).validate()
    assert error.value.field == f"Network.{argument}"
