"""Mock provider answers that look like AWS and Kubernetes: ids, ARNs, DNS names, AZs.

Dependent resources take these outputs as inputs (a listener takes the ALB's ARN, a
record takes the distribution's domain name), so the plausibility of what the policy pack
sees depends on them.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pulumi

ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "us-east-1"


def _short_hash(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:8]


def _service_of(type_token: str) -> str:
    # aws:lb/loadBalancer:LoadBalancer -> lb
    return type_token.split(":", 2)[1].split("/", 1)[0]


# Output attributes per resource type that dependents read; values derive from the name.
def _type_outputs(type_token: str, name: str, region: str, inputs: dict[str, Any]) -> dict[str, Any]:
    h = _short_hash(type_token, name)
    if type_token == "aws:lb/loadBalancer:LoadBalancer":
        return {
            "dnsName": f"{name}-{h}.{region}.elb.amazonaws.com",
            "zoneId": "Z35SXDOTRQ7X7K",
            "arnSuffix": f"app/{name}/{h}",
        }
    if type_token == "aws:lb/targetGroup:TargetGroup":
        return {"arnSuffix": f"targetgroup/{name[:20]}/{h}"}
    if type_token == "aws:cloudfront/distribution:Distribution":
        return {"domainName": f"d{h}.cloudfront.net", "hostedZoneId": "Z2FDTNDATAQYW2"}
    if type_token == "aws:route53/zone:Zone":
        return {"zoneId": f"Z{h.upper()}", "nameServers": [f"ns-{i}.awsdns-{h[:2]}.org" for i in range(4)]}
    if type_token in ("aws:rds/cluster:Cluster", "aws:rds/instance:Instance"):
        return {
            "endpoint": f"{name}.cluster-{h}.{region}.rds.amazonaws.com",
            "readerEndpoint": f"{name}.cluster-ro-{h}.{region}.rds.amazonaws.com",
            "port": 5432,
        }
    if type_token == "aws:elasticache/replicationGroup:ReplicationGroup":
        return {
            "primaryEndpointAddress": f"master.{name}.{h}.{region[:4]}.cache.amazonaws.com",
            "readerEndpointAddress": f"replica.{name}.{h}.{region[:4]}.cache.amazonaws.com",
        }
    if type_token == "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup":
        return {"globalReplicationGroupId": f"ldgnf-{inputs.get('globalReplicationGroupIdSuffix', name)}"}
    if type_token == "aws:kms/key:Key":
        return {"keyId": f"{h}-{h[:4]}-{h[4:8]}-{h[:4]}-{h}{h[:4]}"}
    if type_token == "aws:sqs/queue:Queue":
        return {"url": f"https://sqs.{region}.amazonaws.com/{ACCOUNT_ID}/{inputs.get('name', name)}"}
    if type_token == "aws:ec2/vpc:Vpc":
        return {"defaultSecurityGroupId": f"sg-{h}", "mainRouteTableId": f"rtb-{h}"}
    if type_token == "aws:ec2/launchTemplate:LaunchTemplate":
        return {"latestVersion": 1, "defaultVersion": 1}
    if type_token == "aws:s3/bucket:Bucket":
        bucket = inputs.get("bucket") or f"{name}-{h}"
        return {"bucket": bucket, "bucketDomainName": f"{bucket}.s3.amazonaws.com",
                "bucketRegionalDomainName": f"{bucket}.s3.{region}.amazonaws.com"}
    if type_token == "aws:appconfig/application:Application":
        return {"applicationId": h[:7]}
    if type_token == "aws:appconfig/environment:Environment":
        return {"environmentId": f"e{h[:6]}"}
    if type_token == "aws:appconfig/configurationProfile:ConfigurationProfile":
        return {"configurationProfileId": f"p{h[:6]}"}
    if type_token == "aws:appconfig/hostedConfigurationVersion:HostedConfigurationVersion":
        return {"versionNumber": 1}
    if type_token == "aws:cloudwatch/queryDefinition:QueryDefinition":
        return {"queryDefinitionId": f"{h}-{h[:4]}-{h[4:8]}"}
    if type_token == "aws:acm/certificate:Certificate":
        return {
            "domainValidationOptions": [{
                "domainName": inputs.get("domainName", "example.com"),
                "resourceRecordName": f"_{h}.{inputs.get('domainName', 'example.com')}.",
                "resourceRecordType": "CNAME",
                "resourceRecordValue": f"_{h}.acm-validations.aws.",
            }],
        }
    return {}


# Services whose ARNs carry the bare name, without a resource-type segment.
_BARE_NAME_ARNS = {"sns", "sqs"}


def _arn(service: str, region: str, resource_kind: str, resource_id: str, type_token: str = "") -> str:
    if service in _BARE_NAME_ARNS:
        return f"arn:aws:{service}:{region}:{ACCOUNT_ID}:{resource_id}"
    if type_token == "aws:cloudwatch/logGroup:LogGroup":
        return f"arn:aws:logs:{region}:{ACCOUNT_ID}:log-group:{resource_id}"
    return f"arn:aws:{service}:{region}:{ACCOUNT_ID}:{resource_kind}/{resource_id}"


def _id_for(type_token: str, name: str) -> str:
    h = _short_hash(type_token, name)
    service = _service_of(type_token) if type_token.startswith("aws:") else ""
    prefixes = {"ec2/vpc:Vpc": "vpc-", "ec2/subnet:Subnet": "subnet-", "ec2/securityGroup:SecurityGroup": "sg-",
                "ec2/natGateway:NatGateway": "nat-", "ec2/eip:Eip": "eipalloc-", "ec2/internetGateway": "igw-",
                "ec2/routeTable:RouteTable": "rtb-", "ec2/launchTemplate:LaunchTemplate": "lt-"}
    for suffix, prefix in prefixes.items():
        if type_token.endswith(suffix):
            return f"{prefix}{h}{h[:9]}"
    if service:
        return f"{name}-{h}"
    return f"{name}-id"


class RealisticMocks(pulumi.runtime.Mocks):
    """Answers resource registrations and data-source calls with plausible AWS values."""

    def __init__(self, default_region: str = DEFAULT_REGION) -> None:
        self.default_region = default_region

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        inputs = dict(args.inputs)
        type_token = args.typ
        resource_id = _id_for(type_token, args.name)
        state = dict(inputs)
        if type_token.startswith("aws:"):
            region = str(inputs.get("region") or self.default_region)
            service = _service_of(type_token)
            resource_kind = type_token.rsplit(":", 1)[-1].lower()
            resource_name = str(inputs.get("name") or resource_id)
            state.setdefault("arn", _arn(service, region, resource_kind,
                                         resource_name if service in _BARE_NAME_ARNS or type_token.endswith(":LogGroup")
                                         else resource_id, type_token))
            state.setdefault("region", region)
            state.setdefault("name", inputs.get("name") or inputs.get("namePrefix", "") + resource_id)
            state.update({k: v for k, v in _type_outputs(type_token, args.name, region, inputs).items()
                          if k not in inputs})
        elif type_token.startswith("kubernetes:"):
            metadata = dict(inputs.get("metadata") or {})
            metadata.setdefault("name", args.name)
            metadata.setdefault("namespace", "default")
            state["metadata"] = metadata
        return resource_id, state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        region = str(args.args.get("region") or self.default_region)
        if args.token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            names = [f"{region}{suffix}" for suffix in "abc"]
            return {"names": names, "zoneIds": [f"use1-az{i}" for i in (1, 2, 4)], "id": region}, []
        if args.token == "aws:index/getRegion:getRegion":
            return {"name": region, "region": region, "id": region}, []
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": ACCOUNT_ID, "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/preview", "id": ACCOUNT_ID}, []
        if args.token == "aws:index/getPartition:getPartition":
            return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}, []
        if args.token == "aws:secretsmanager/getSecretVersion:getSecretVersion":
            secret = str(args.args.get("secretId") or "secret")
            return {"secretId": secret, "secretString": f"preview-only-{_short_hash('secret', secret)}",
                    "versionId": _short_hash("version", secret), "arn":
                    f"arn:aws:secretsmanager:{region}:{ACCOUNT_ID}:secret:{secret}-{_short_hash(secret)[:6]}",
                    "id": secret}, []
        if args.token == "aws:route53/getZone:getZone":
            name = str(args.args.get("name") or "example.com").rstrip(".")
            zone_id = f"Z{_short_hash('zone', name).upper()}"
            return {"zoneId": zone_id, "id": zone_id, "name": name,
                    "nameServers": [f"ns-{i}.awsdns-00.org" for i in range(4)]}, []
        return {}, []
