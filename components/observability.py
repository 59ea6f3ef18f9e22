"""Log groups with retention, saved Logs Insights queries that slice requests, and X-Ray tracing.

The service writes one structured JSON event per request to the `requests` log group
(fields named by `RequestLogFields`: endpoint, status, host, region, latency). The saved
queries answer the questions of an incident without typing a query under stress: which
endpoints return 502s, which hosts fail, which region degrades, where p99 latency grew.
A saved query has no time range: it runs over the range picked in the console (the
default "last hour" gives "all 502s in the last hour by endpoint").

Tracing: an X-Ray sampling rule for the service (a reservoir per second plus a fixed rate,
so rare endpoints are still traced) and an X-Ray group of the service's faulty traces with
insights and notifications on.

Usage::

    from reliability_stack.components.observability import Observability, ObservabilityArgs

    obs = Observability("checkout-obs-use1", ObservabilityArgs(service="checkout", region="us-east-1"))
    pulumi.export("requestLogGroup", obs.log_group_names["requests"])
"""

# No `from __future__ import annotations`: the component provider reads these annotations
# at runtime to build the package schema.
import re
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from reliability_stack.components.args_validation import LOG_RETENTION_DAYS
from reliability_stack.errors import ComponentArgsError
from reliability_stack.resource_tags import standard_tags

TYPE_TOKEN = "reliability-stack:observability:Observability"
COMPONENT = "Observability"

INSIGHTS_FIELD = re.compile(r"^@?[A-Za-z_][A-Za-z0-9_.]*$")
LOG_STREAM_NAME = re.compile(r"^[a-z][a-z0-9-]{0,62}$")


@dataclass
class RequestLogFields:
    """Field names of the per-request JSON log event (Logs Insights discovers JSON fields)."""

    endpoint: str = "endpoint"
    """Route template, e.g. `GET /orders/{id}` (not the raw path: bounded cardinality)."""

    status: str = "status"
    """HTTP status code (number)."""

    host: str = "host"
    """Instance or pod that served the request."""

    region: str = "region"
    """AWS region that served the request."""

    latency_ms: str = "latency_ms"
    """Server-side latency in milliseconds."""

    def validate(self) -> None:
        for name in ("endpoint", "status", "host", "region", "latency_ms"):
            value = getattr(self, name)
            if not INSIGHTS_FIELD.match(value):
                raise ComponentArgsError(COMPONENT, f"request_fields.{name}",
                                         f"{value!r} is not a Logs Insights field name")


def insights_queries(fields: RequestLogFields) -> dict[str, str]:
    """Saved Logs Insights queries over request events, by title. Pure: no Pulumi, no I/O."""
    f = fields
    errors = f"filter {f.status} >= 500"
    return {
        "502s by endpoint": (
            f"fields @timestamp, {f.endpoint}, {f.host}, {f.region}\n"
            f"| filter {f.status} = 502\n"
            f"| stats count(*) as requests by {f.endpoint}\n"
            "| sort requests desc"),
        "5xx by endpoint and status": (
            f"{errors}\n"
            f"| stats count(*) as requests by {f.endpoint}, {f.status}\n"
            "| sort requests desc"),
        "error rate by endpoint": (
            # A comparison is 1 or 0 inside an aggregate: sum() counts the matching events.
            f"stats sum({f.status} >= 500) as errors, count(*) as requests, "
            f"sum({f.status} >= 500) * 100 / count(*) as error_percent by {f.endpoint}\n"
            "| sort error_percent desc"),
        "latency p99 by endpoint": (
            f"filter ispresent({f.latency_ms})\n"
            f"| stats pct({f.latency_ms}, 99) as p99_ms, pct({f.latency_ms}, 50) as p50_ms, count(*) as requests"
            f" by {f.endpoint}\n"
            "| sort p99_ms desc"),
        "errors by host": (
            f"{errors}\n"
            f"| stats count(*) as errors by {f.host}\n"
            "| sort errors desc"),
        "errors by region": (
            f"{errors}\n"
            f"| stats count(*) as errors by {f.region}, bin(5m)\n"
            "| sort errors desc"),
        "status codes by endpoint": (
            f"stats count(*) as requests by {f.endpoint}, {f.status}\n"
            f"| sort {f.endpoint} asc, requests desc"),
    }


@dataclass
class ObservabilityArgs:
    """Arguments of `Observability`. Defaults are the resilient choice; each knob says what it turns down."""

    service: str
    """Service whose telemetry this is (tag `reliability-stack:service`, log group path, X-Ray service name)."""

    region: str | None = None
    """Region of every child (pulumi-aws 7 `region`); None means the provider's region."""

    log_streams: list[str] = field(default_factory=lambda: ["requests", "application"])
    """One log group per entry, named /reliability-stack/<stack>/<service>/<entry>; must include `requests`."""

    retention_days: int = 365
    """Retention of every log group: long enough for postmortems and yearly comparisons."""

    kms_key_arn: pulumi.Input[str] | None = None
    """Customer-managed KMS key for the log groups; CloudWatch Logs encrypts with its own key otherwise."""

    request_fields: RequestLogFields = field(default_factory=RequestLogFields)
    """Field names of the request events the saved queries slice by."""

    tracing: bool = True
    """Knob: X-Ray sampling rule and group for the service."""

    sampling_reservoir_per_second: int = 1
    """Traces per second always sampled (per service instance fleet) before the fixed rate applies."""

    sampling_fixed_rate: float = 0.05
    """Share of further requests traced (0-1)."""

    protect: bool = True
    """Pulumi `protect` and log-group deletion protection (stateful). Turn off only for throwaway stacks."""

    tags: dict[str, str] = field(default_factory=dict)
    """Extra tags; `reliability-stack:stack` and `reliability-stack:service` are always added."""

    def validate(self) -> None:
        """Raise ComponentArgsError, naming the argument, on an impossible or unsafe combination."""
        if not self.service or not LOG_STREAM_NAME.match(self.service):
            raise ComponentArgsError(COMPONENT, "service", "must be a lowercase name (letters, digits, -)")
        if "requests" not in self.log_streams:
            raise ComponentArgsError(COMPONENT, "log_streams", "must include 'requests' (the saved queries read it)")
        if len(set(self.log_streams)) != len(self.log_streams):
            raise ComponentArgsError(COMPONENT, "log_streams", "must not repeat an entry")
        for stream in self.log_streams:
            if not LOG_STREAM_NAME.match(stream):
                raise ComponentArgsError(COMPONENT, "log_streams", f"{stream!r}: use lowercase letters, digits and -")
        if self.retention_days not in LOG_RETENTION_DAYS:
            raise ComponentArgsError(COMPONENT, "retention_days",
                                     f"must be a CloudWatch Logs retention value ({', '.join(map(str, LOG_RETENTION_DAYS))}); "
                                     "never-expire is not offered")
        self.request_fields.validate()
        if not 0 <= self.sampling_reservoir_per_second <= 10_000:
            raise ComponentArgsError(COMPONENT, "sampling_reservoir_per_second", "must be 0-10000")
        if not 0 <= self.sampling_fixed_rate <= 1:
            raise ComponentArgsError(COMPONENT, "sampling_fixed_rate", "must be between 0 and 1")
        if self.tracing and self.sampling_reservoir_per_second == 0 and self.sampling_fixed_rate == 0:
            raise ComponentArgsError(COMPONENT, "sampling_fixed_rate",
                                     "with a zero reservoir nothing is traced; set tracing=False instead")


class Observability(pulumi.ComponentResource):
    """Retained log groups, saved request-slicing queries and X-Ray tracing for one service in one region."""

    log_group_names: dict[str, pulumi.Output[str]]
    query_definition_ids: dict[str, pulumi.Output[str]]
    xray_group_arn: pulumi.Output[str] | None

    def __init__(self, name: str, args: ObservabilityArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        args.validate()
        super().__init__(TYPE_TOKEN, name, {}, opts)
        tags = standard_tags(pulumi.get_stack(), args.service, args.tags)
        child = pulumi.ResourceOptions(parent=self)
        region = args.region
        stack = pulumi.get_stack()

        groups = {
            stream: aws.cloudwatch.LogGroup(
                f"{name}-{stream}",
                name=f"/reliability-stack/{stack}/{args.service}/{stream}",
                retention_in_days=args.retention_days,
                kms_key_id=args.kms_key_arn,
                log_group_class="STANDARD",
                deletion_protection_enabled=args.protect,
                region=region, tags=tags,
                opts=pulumi.ResourceOptions(parent=self, protect=args.protect))
            for stream in args.log_streams}
        self.log_group_names = {stream: group.name for stream, group in groups.items()}

        self.query_definition_ids = {}
        for title, query in insights_queries(args.request_fields).items():
            slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
            definition = aws.cloudwatch.QueryDefinition(
                f"{name}-{slug}",
                # Slashes make folders in the console: reliability-stack/<stack>/<service>/<title>.
                name=f"reliability-stack/{stack}/{args.service}/{title}",
                query_string=query,
                log_group_names=[groups["requests"].name],
                region=region, opts=child)
            self.query_definition_ids[title] = definition.query_definition_id

        self.xray_group_arn = None
        if args.tracing:
            aws.xray.SamplingRule(
                f"{name}-sampling",
                rule_name=f"{args.service}-{stack}"[:32],
                priority=1000,
                reservoir_size=args.sampling_reservoir_per_second,
                fixed_rate=args.sampling_fixed_rate,
                service_name=args.service,
                service_type="*", host="*", http_method="*", url_path="*", resource_arn="*",
                version=1, region=region, tags=tags, opts=child)
            group = aws.xray.Group(
                f"{name}-faults",
                group_name=f"{args.service}-{stack}-faults"[:32],
                filter_expression=f'service("{args.service}") {{ fault = true }}',
                insights_configuration={"insights_enabled": True, "notifications_enabled": True},
                region=region, tags=tags, opts=child)
            self.xray_group_arn = group.arn

        self.register_outputs({
            "log_group_names": self.log_group_names,
            "query_definition_ids": self.query_definition_ids,
            "xray_group_arn": self.xray_group_arn,
        })
