"""Network: a VPC spread over several Availability Zones, ready to lose one of them.

Per AZ: one public subnet (load balancers, NAT), one private subnet (instances), and by
default one NAT gateway with its own route table, so losing an AZ never takes egress
away from the others (a shared NAT is a single point of failure: a knob, flagged by the
policy pack). VPC flow logs go to a CloudWatch log group with a bounded retention, and
the default security group is emptied so nothing relies on it.

Usage::

    from reliability_stack.components.network import Network, NetworkArgs

    network = Network("orders-euw1", NetworkArgs(
        service="orders", region="eu-west-1", cidr_block="10.4.0.0/16",
        availability_zone_names=["eu-west-1a", "eu-west-1b", "eu-west-1c"]))
    network.private_subnet_ids  # one per AZ, in AZ order

Knobs that turn resilience down: `nat_gateway_per_az=False`, `flow_logs=False`,
`availability_zones=2`, `protect=False`.
"""

# No `from __future__ import annotations`: the component provider reads these annotations
# at runtime to build the package schema.
import ipaddress
import json
import operator
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from reliability_stack.components.args_validation import LOG_RETENTION_DAYS
from reliability_stack.components.name_tags import NameTags
from reliability_stack.errors import ComponentArgsError

COMPONENT = "Network"
# Each subnet is the VPC prefix + 4 bits: 16 slots, public subnets take 0..5, private 8..13.
_SUBNET_EXTRA_BITS = 4
_PRIVATE_OFFSET = 8
MAX_AZS = 6


@dataclass(frozen=True)
class SubnetPlan:
    """CIDR blocks of one AZ's public and private subnet."""

    index: int
    public_cidr: str
    private_cidr: str


def plan_subnets(vpc_cidr: str, az_count: int) -> list[SubnetPlan]:
    """Split `vpc_cidr` into one public and one private subnet per AZ (pure, no Pulumi)."""
    network = ipaddress.ip_network(vpc_cidr, strict=True)
    blocks = list(network.subnets(prefixlen_diff=_SUBNET_EXTRA_BITS))
    return [SubnetPlan(i, str(blocks[i]), str(blocks[_PRIVATE_OFFSET + i])) for i in range(az_count)]


@dataclass(frozen=True)
class NetworkArgs:
    """Inputs of `Network`. Defaults are the resilient choice; the knobs turn it down."""

    service: str
    """Service the network belongs to (tagged on every resource)."""
    region: str
    """AWS region of the VPC (pulumi-aws 7 per-resource `region`)."""
    availability_zones: int = 3
    """How many AZs to span (2..6). Three lets a service lose one AZ and keep two."""
    availability_zone_names: list[str] | None = None
    """Explicit AZ names; by default the first available AZs of the region are used."""
    cidr_block: str = "10.0.0.0/16"
    """VPC CIDR (prefix /16../24); subnets are carved from it, one public + one private per AZ."""
    nat_gateway_per_az: bool = True
    """One NAT gateway per AZ. False shares one NAT: cheaper, but an AZ outage cuts all egress."""
    flow_logs: bool = True
    """VPC flow logs (all traffic) to CloudWatch Logs."""
    flow_log_retention_days: int = 90
    """Retention of the flow-log group; must be a value CloudWatch Logs accepts."""
    protect: bool = True
    """Knob: False drops Pulumi `protect` from the flow-log group."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Extra tags; the stack and service tags are always added."""

    def validate(self) -> None:
        if self.availability_zone_names is not None:
            names = list(self.availability_zone_names)
            if len(set(names)) != len(names):
                raise ComponentArgsError(COMPONENT, "availability_zone_names", "AZ names must be distinct")
            wrong = [n for n in names if not (n.startswith(self.region) and len(n) > len(self.region))]
            if wrong:
                raise ComponentArgsError(COMPONENT, "availability_zone_names",
                                         f"{', '.join(wrong)} is not an AZ of {self.region}")
            if len(names) != self.availability_zones:
                raise ComponentArgsError(
                    COMPONENT, "availability_zone_names",
                    f"{len(names)} AZ names given but availability_zones is {self.availability_zones}")
        if self.availability_zones < 2:
            raise ComponentArgsError(COMPONENT, "availability_zones",
                                     "a VPC for a resilient service must span at least 2 AZs")
        if self.availability_zones > MAX_AZS:
            raise ComponentArgsError(COMPONENT, "availability_zones", f"at most {MAX_AZS} AZs are supported")
        try:
            network = ipaddress.ip_network(self.cidr_block, strict=True)
        except ValueError as exc:
            raise ComponentArgsError(COMPONENT, "cidr_block", f"not a network CIDR: {exc}") from None
        if network.version != 4 or not 16 <= network.prefixlen <= 24:
            raise ComponentArgsError(COMPONENT, "cidr_block", "expected an IPv4 CIDR with a prefix from /16 to /24")
        if self.flow_log_retention_days not in LOG_RETENTION_DAYS:
            raise ComponentArgsError(COMPONENT, "flow_log_retention_days",
                                     f"{self.flow_log_retention_days} is not a CloudWatch Logs retention value")


class Network(pulumi.ComponentResource):
    """A multi-AZ VPC: public and private subnets per AZ, NAT per AZ, flow logs."""

    vpc_id: pulumi.Output[str]
    vpc_cidr: pulumi.Output[str]
    public_subnet_ids: list[pulumi.Output[str]]
    """One public subnet per AZ, in AZ order."""
    private_subnet_ids: list[pulumi.Output[str]]
    """One private subnet per AZ, in AZ order."""
    availability_zones: pulumi.Output[list[str]]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        args.validate()
        super().__init__("reliability-stack:network:Network", name, {}, opts)
        self.args = args
        region = args.region
        child = pulumi.ResourceOptions(parent=self)

        tags = NameTags(name, args.service, args.tags)

        zone_names = self._zone_names(region, args)

        vpc = aws.ec2.Vpc(f"{name}-vpc", cidr_block=args.cidr_block, enable_dns_hostnames=True,
                          enable_dns_support=True, region=region, tags=tags("vpc"), opts=child)
        # Nothing may use the default security group: strip all of its rules.
        aws.ec2.DefaultSecurityGroup(f"{name}-default-sg", vpc_id=vpc.id, ingress=[], egress=[],
                                     region=region, tags=tags("default-sg"), opts=child)
        igw = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, region=region, tags=tags("igw"), opts=child)
        public_rt = aws.ec2.RouteTable(f"{name}-public-rt", vpc_id=vpc.id, region=region,
                                       tags=tags("public-rt"), opts=child)
        aws.ec2.Route(f"{name}-public-default", route_table_id=public_rt.id, destination_cidr_block="0.0.0.0/0",
                      gateway_id=igw.id, region=region, opts=child)

        public_subnets: list[aws.ec2.Subnet] = []
        private_subnets: list[aws.ec2.Subnet] = []
        nat_gateways: list[aws.ec2.NatGateway] = []
        for plan in plan_subnets(args.cidr_block, args.availability_zones):
            i = plan.index
            zone = zone_names.apply(operator.itemgetter(i))
            public = aws.ec2.Subnet(f"{name}-public-{i}", vpc_id=vpc.id, cidr_block=plan.public_cidr,
                                    availability_zone=zone, map_public_ip_on_launch=False, region=region,
                                    tags={"reliability-stack:tier": "public", **tags(f"public-{i}")}, opts=child)
            aws.ec2.RouteTableAssociation(f"{name}-public-{i}", subnet_id=public.id, route_table_id=public_rt.id,
                                          region=region, opts=child)
            private = aws.ec2.Subnet(f"{name}-private-{i}", vpc_id=vpc.id, cidr_block=plan.private_cidr,
                                     availability_zone=zone, map_public_ip_on_launch=False, region=region,
                                     tags={"reliability-stack:tier": "private", **tags(f"private-{i}")}, opts=child)
            public_subnets.append(public)
            private_subnets.append(private)
            if args.nat_gateway_per_az or i == 0:
                eip = aws.ec2.Eip(f"{name}-nat-{i}", domain="vpc", region=region, tags=tags(f"nat-{i}"),
                                  opts=pulumi.ResourceOptions(parent=self, depends_on=[igw]))
                nat_gateways.append(aws.ec2.NatGateway(
                    f"{name}-nat-{i}", allocation_id=eip.id, subnet_id=public.id, connectivity_type="public",
                    region=region, tags=tags(f"nat-{i}"), opts=child))
            # Each private route table uses its own AZ's NAT, so one AZ's failure stays in that AZ.
            nat = nat_gateways[i] if args.nat_gateway_per_az else nat_gateways[0]
            private_rt = aws.ec2.RouteTable(f"{name}-private-rt-{i}", vpc_id=vpc.id, region=region,
                                            tags=tags(f"private-rt-{i}"), opts=child)
            aws.ec2.Route(f"{name}-private-default-{i}", route_table_id=private_rt.id,
                          destination_cidr_block="0.0.0.0/0", nat_gateway_id=nat.id, region=region, opts=child)
            aws.ec2.RouteTableAssociation(f"{name}-private-{i}", subnet_id=private.id,
                                          route_table_id=private_rt.id, region=region, opts=child)

        if args.flow_logs:
            self._flow_logs(name, region, vpc, args, tags)

        self.vpc_id = vpc.id
        self.vpc_cidr = vpc.cidr_block
        self.public_subnet_ids = [s.id for s in public_subnets]
        self.private_subnet_ids = [s.id for s in private_subnets]
        self.availability_zones = zone_names
        self.nat_gateway_count = len(nat_gateways)
        self.register_outputs({
            "vpcId": self.vpc_id,
            "publicSubnetIds": pulumi.Output.all(*self.public_subnet_ids),
            "privateSubnetIds": pulumi.Output.all(*self.private_subnet_ids),
            "availabilityZones": self.availability_zones,
        })

    def _zone_names(self, region: str, args: NetworkArgs) -> pulumi.Output[list[str]]:
        if args.availability_zone_names is not None:
            return pulumi.Output.from_input(list(args.availability_zone_names))
        available = aws.get_availability_zones_output(
            state="available", region=region, opts=pulumi.InvokeOutputOptions(parent=self))

        def first(names: list[str]) -> list[str]:
            if len(names) < args.availability_zones:
                raise ComponentArgsError(
                    COMPONENT, "availability_zones",
                    f"{region} offers {len(names)} available AZs, fewer than the {args.availability_zones} asked")
            return list(names)[: args.availability_zones]

        return available.names.apply(first)

    def _flow_logs(self, name: str, region: str, vpc: aws.ec2.Vpc, args: NetworkArgs, tags: NameTags) -> None:
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-flow-logs", retention_in_days=args.flow_log_retention_days, region=region,
            tags=tags("flow-logs"), opts=pulumi.ResourceOptions(parent=self, protect=args.protect))
        role = aws.iam.Role(
            f"{name}-flow-logs", tags=tags("flow-logs"), opts=pulumi.ResourceOptions(parent=self),
            assume_role_policy=json.dumps({
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                               "Principal": {"Service": "vpc-flow-logs.amazonaws.com"}}],
            }))
        aws.iam.RolePolicy(
            f"{name}-flow-logs", role=role.id, opts=pulumi.ResourceOptions(parent=self),
            policy=log_group.arn.apply(lambda arn: json.dumps({
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow",
                               "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                               "Resource": [arn, f"{arn}:*"]}],
            })))
        aws.ec2.FlowLog(f"{name}-flow-log", vpc_id=vpc.id, traffic_type="ALL", log_destination_type="cloud-watch-logs",
                        log_destination=log_group.arn, iam_role_arn=role.arn, max_aggregation_interval=60,
                        region=region, tags=tags("flow-log"), opts=pulumi.ResourceOptions(parent=self))
