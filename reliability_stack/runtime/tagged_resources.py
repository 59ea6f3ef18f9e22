"""Finding a stack's live resources by the tags the components put on them.

Every component tags what it creates with `reliability-stack:stack` and
`reliability-stack:service` (reliability_stack.resource_tags); the SLO alarms also carry
`slo` (the SLO id, `<service>-<name>`) and `severity` (`page` or `ticket`), as
reliability_stack.slo.cloudwatch_alarms writes them. These lookups use each service's own
describe and tag APIs (not the Resource Groups Tagging API, which some accounts restrict).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from reliability_stack.resource_tags import SERVICE_TAG, STACK_TAG
from reliability_stack.runtime.aws_clients import AwsClients

TAG_STACK = STACK_TAG
TAG_SERVICE = SERVICE_TAG
TAG_SLO = "slo"
TAG_SEVERITY = "severity"

#: elbv2 DescribeTags takes at most 20 ARNs per call.
ELBV2_TAG_BATCH = 20


@dataclass(frozen=True)
class TaggedResource:
    """A live resource with its description (as the describe API returned it) and its tags."""

    kind: str
    name: str
    arn: str
    region: str
    tags: dict[str, str]
    description: dict[str, Any]


def _tag_dict(tags: list[dict[str, str]] | None) -> dict[str, str]:
    return {tag["Key"]: tag.get("Value", "") for tag in tags or []}


def _matches(tags: dict[str, str], stack: str, service: str | None) -> bool:
    return tags.get(TAG_STACK) == stack and (service is None or tags.get(TAG_SERVICE) == service)


def _elbv2_tagged(clients: AwsClients, region: str, arns: list[str]) -> dict[str, dict[str, str]]:
    tags: dict[str, dict[str, str]] = {}
    for first in range(0, len(arns), ELBV2_TAG_BATCH):
        page = clients.call("elbv2", "describe_tags", region=region, ResourceArns=arns[first:first + ELBV2_TAG_BATCH])
        for entry in page.get("TagDescriptions", []):
            tags[entry["ResourceArn"]] = _tag_dict(entry.get("Tags"))
    return tags


def load_balancers(clients: AwsClients, region: str, stack: str, service: str | None = None) -> list[TaggedResource]:
    """Application load balancers of the stack (and service) in `region`."""
    described = [lb for lb in clients.paginate("elbv2", "describe_load_balancers", "LoadBalancers", region=region)
                 if lb.get("Type", "application") == "application"]
    tags = _elbv2_tagged(clients, region, [lb["LoadBalancerArn"] for lb in described])
    return [TaggedResource("load-balancer", lb["LoadBalancerName"], lb["LoadBalancerArn"], region,
                           tags.get(lb["LoadBalancerArn"], {}), lb)
            for lb in described if _matches(tags.get(lb["LoadBalancerArn"], {}), stack, service)]


def target_groups(clients: AwsClients, region: str, stack: str, service: str | None = None) -> list[TaggedResource]:
    """Target groups of the stack (and service) in `region`."""
    described = list(clients.paginate("elbv2", "describe_target_groups", "TargetGroups", region=region))
    tags = _elbv2_tagged(clients, region, [tg["TargetGroupArn"] for tg in described])
    return [TaggedResource("target-group", tg["TargetGroupName"], tg["TargetGroupArn"], region,
                           tags.get(tg["TargetGroupArn"], {}), tg)
            for tg in described if _matches(tags.get(tg["TargetGroupArn"], {}), stack, service)]


def auto_scaling_groups(clients: AwsClients, region: str, stack: str,
                        service: str | None = None) -> list[TaggedResource]:
    """Auto Scaling groups of the stack (and service) in `region` (tags come with the description)."""
    filters = [{"Name": f"tag:{TAG_STACK}", "Values": [stack]}]
    if service is not None:
        filters.append({"Name": f"tag:{TAG_SERVICE}", "Values": [service]})
    found = []
    for group in clients.paginate("autoscaling", "describe_auto_scaling_groups", "AutoScalingGroups",
                                  region=region, Filters=filters):
        tags = _tag_dict(group.get("Tags"))
        if _matches(tags, stack, service):
            found.append(TaggedResource("auto-scaling-group", group["AutoScalingGroupName"],
                                        group.get("AutoScalingGroupARN", group["AutoScalingGroupName"]),
                                        region, tags, group))
    return found


def db_clusters(clients: AwsClients, region: str, stack: str, service: str | None = None) -> list[TaggedResource]:
    """RDS / Aurora clusters of the stack (and service) in `region`."""
    found = []
    for cluster in clients.paginate("rds", "describe_db_clusters", "DBClusters", region=region):
        tags = _tag_dict(cluster.get("TagList"))
        if _matches(tags, stack, service):
            found.append(TaggedResource("db-cluster", cluster["DBClusterIdentifier"], cluster["DBClusterArn"],
                                        region, tags, cluster))
    return found


def dynamodb_tables(clients: AwsClients, region: str, stack: str, service: str | None = None) -> list[TaggedResource]:
    """DynamoDB tables of the stack (and service) in `region`, with their description."""
    found = []
    for name in _table_names(clients, region):
        table = clients.call("dynamodb", "describe_table", region=region, TableName=name)["Table"]
        tags = _tag_dict(clients.call("dynamodb", "list_tags_of_resource", region=region,
                                      ResourceArn=table["TableArn"]).get("Tags"))
        if _matches(tags, stack, service):
            found.append(TaggedResource("dynamodb-table", name, table["TableArn"], region, tags, table))
    return found


def _table_names(clients: AwsClients, region: str) -> Iterator[str]:
    params: dict[str, Any] = {}
    while True:
        page = clients.call("dynamodb", "list_tables", region=region, **params)
        yield from page.get("TableNames", [])
        if not page.get("LastEvaluatedTableName"):
            return
        params["ExclusiveStartTableName"] = page["LastEvaluatedTableName"]


def alarms(clients: AwsClients, region: str, stack: str, service: str | None = None) -> list[TaggedResource]:
    """CloudWatch metric and composite alarms of the stack (and service) in `region`."""
    found = []
    params = {"AlarmTypes": ["MetricAlarm", "CompositeAlarm"]}
    pages = []
    request = dict(params)
    while True:
        page = clients.call("cloudwatch", "describe_alarms", region=region, **request)
        pages.append(page)
        if not page.get("NextToken"):
            break
        request["NextToken"] = page["NextToken"]
    for page in pages:
        for kind, key in (("metric-alarm", "MetricAlarms"), ("composite-alarm", "CompositeAlarms")):
            for alarm in page.get(key, []):
                tags = _tag_dict(clients.call("cloudwatch", "list_tags_for_resource", region=region,
                                              ResourceARN=alarm["AlarmArn"]).get("Tags"))
                if _matches(tags, stack, service):
                    found.append(TaggedResource(kind, alarm["AlarmName"], alarm["AlarmArn"], region, tags, alarm))
    return found


def dimension_value(resource: TaggedResource) -> str:
    """The CloudWatch dimension value of a load balancer or target group: the ARN's resource part,
    e.g. `app/checkout/50dc6c495c0c9188` or `targetgroup/checkout/73e2d6bc24d8a067`."""
    resource_part = resource.arn.split(":", 5)[-1]
    if resource.kind == "load-balancer":
        return resource_part.removeprefix("loadbalancer/")
    return resource_part


def cache_replication_groups(clients: AwsClients, region: str, stack: str,
                             service: str | None = None) -> list[TaggedResource]:
    """ElastiCache (Valkey/Redis) replication groups of the stack (and service) in `region`."""
    found = []
    for group in clients.paginate("elasticache", "describe_replication_groups", "ReplicationGroups", region=region):
        arn = group.get("ARN", "")
        tags = _tag_dict(clients.call("elasticache", "list_tags_for_resource", region=region,
                                      ResourceName=arn).get("TagList")) if arn else {}
        if _matches(tags, stack, service):
            found.append(TaggedResource("cache-replication-group", group["ReplicationGroupId"], arn, region,
                                        tags, group))
    return found
