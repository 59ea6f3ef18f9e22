"""SloAlarms: multi-window multi-burn-rate CloudWatch alarms compiled from SLO specs.

Per SLO and burn-rate tier: two metric-math error-ratio alarms (long and short window) and
a composite alarm AND-ing them that pages or tickets; slower tiers are action-suppressed
while a faster one fires; a low-traffic guard keeps a handful of requests from paging.
The alarm definitions come from `reliability_stack.slo.cloudwatch_alarms.build_slo_alarms`;
this component only declares them (the tests read the declared alarms back and evaluate
them with `reliability_stack.alarm_eval`).

    alarms = SloAlarms("checkout-slo", SloAlarmsArgs(
        slos=load_slo_file("slos/checkout.yaml"),
        page_topic_arn=routing.page_topic_arn, ticket_topic_arn=routing.ticket_topic_arn,
        load_balancer_arn_suffix=lb.arn_suffix, runbook_url="https://runbooks.example.com/checkout"))
"""

# No `from __future__ import annotations`: the component provider reads these annotations
# at runtime to build the package schema.
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from reliability_stack.errors import ComponentArgsError
from reliability_stack.resource_tags import standard_tags
from reliability_stack.slo.cloudwatch_alarms import (
    AlarmLinks,
    AlarmOptions,
    SloAlarmSet,
    build_slo_alarms,
    missing_placeholders,
)
from reliability_stack.slo.cloudwatch_cost import monthly_cost_usd
from reliability_stack.slo.model import SLO

COMPONENT = "SloAlarms"
LATENCY_FORMS = ("percentile-rank", "trimmed-count")
# Keys whose values are user maps (metric dimensions, tags): their keys stay as written.
_VERBATIM_KEYS = frozenset({"dimensions", "tags"})


def snake_case_args(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Engine camelCase inputs -> Pulumi Python keyword arguments (`metricQueries` -> `metric_queries`)."""
    def convert(key: str) -> str:
        return re.sub(r"(?<!^)([A-Z])", r"_\1", key).lower()

    def walk(value: Any, verbatim: bool = False) -> Any:
        if isinstance(value, Mapping):
            if verbatim:
                return dict(value)
            return {convert(k): walk(v, k in _VERBATIM_KEYS) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [walk(item) for item in value]
        return value

    return walk(inputs)


@dataclass
class SloAlarmsArgs:
    """Inputs of `SloAlarms`. Defaults are the resilient choice; the knobs turn it down."""

    slos: Sequence[SLO]
    """SLOs to alarm on; those without a `cloudwatch` SLI part are skipped with a warning."""
    page_topic_arn: pulumi.Input[str]
    """SNS topic of page-severity alerts (AlertRouting.page_topic_arn)."""
    ticket_topic_arn: pulumi.Input[str]
    """SNS topic of ticket-severity alerts (AlertRouting.ticket_topic_arn)."""
    load_balancer_arn_suffix: pulumi.Input[str] | None = None
    """Fills `{load_balancer}` (the ALB's `arn_suffix`, the `LoadBalancer` dimension)."""
    target_group_arn_suffix: pulumi.Input[str] | None = None
    """Fills `{target_group}` (the target group's `arn_suffix`, the `TargetGroup` dimension)."""
    dimensions: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Values of any other `{placeholder}` the SLO metrics use."""
    dashboard_url: str | None = None
    """Linked from every alarm description (ServiceDashboard.url_for gives it)."""
    runbook_url: str | None = None
    """Linked from every alarm description; an SLO's own `runbook_url` wins."""
    min_events: float | None = None
    """Low-traffic guard: fewer requests than this in a window never alert (spec value wins; default 10)."""
    suppress_slower_tiers: bool = True
    """Knob: False lets every tier notify on its own (one incident may page twice)."""
    suppression_wait_seconds: int = 120
    """How long a slower tier waits for a faster one to fire before notifying."""
    notify_on_recovery: bool = True
    """Send OK transitions to the topic as well (resolved notifications)."""
    latency_form: str = "percentile-rank"
    """Latency SLIs: `percentile-rank` (PR(:t)) or `trimmed-count` (TC(t:) / SampleCount)."""
    alarm_name_prefix: str | None = None
    """Prefix of alarm names (unique per account and region); default `<stack>-`."""
    region: str | None = None
    """AWS region of the alarms (default: the provider's)."""
    tags: Mapping[str, str] = field(default_factory=dict)

    def dimension_values(self) -> dict[str, Any]:
        values: dict[str, Any] = dict(self.dimensions)
        if self.load_balancer_arn_suffix is not None:
            values["load_balancer"] = self.load_balancer_arn_suffix
        if self.target_group_arn_suffix is not None:
            values["target_group"] = self.target_group_arn_suffix
        return values

    def validate(self) -> None:
        if not self.slos:
            raise ComponentArgsError(COMPONENT, "slos", "at least one SLO is needed")
        ids = [slo.id for slo in self.slos]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ComponentArgsError(COMPONENT, "slos", f"duplicate SLOs: {', '.join(duplicates)}")
        if self.page_topic_arn is None:
            raise ComponentArgsError(COMPONENT, "page_topic_arn", "pages must reach a human: give the page topic")
        if self.ticket_topic_arn is None:
            raise ComponentArgsError(COMPONENT, "ticket_topic_arn", "give the ticket topic")
        if self.latency_form not in LATENCY_FORMS:
            raise ComponentArgsError(COMPONENT, "latency_form", f"expected one of {', '.join(LATENCY_FORMS)}")
        if self.min_events is not None and self.min_events < 0:
            raise ComponentArgsError(COMPONENT, "min_events", "must be >= 0")
        if not 0 <= self.suppression_wait_seconds <= 86400:
            raise ComponentArgsError(COMPONENT, "suppression_wait_seconds", "must be within 0..86400 seconds")
        for url_field in ("dashboard_url", "runbook_url"):
            url = getattr(self, url_field)
            if url is not None and not url.startswith("https://"):
                raise ComponentArgsError(COMPONENT, url_field, "must be an https:// URL")
        values = self.dimension_values()
        for slo in self.slos:
            missing = missing_placeholders(slo, values)
            if missing:
                argument = {"load_balancer": "load_balancer_arn_suffix",
                            "target_group": "target_group_arn_suffix"}.get(missing[0], "dimensions")
                raise ComponentArgsError(COMPONENT, argument,
                                         f"SLO {slo.id} needs a value for the dimension placeholder "
                                         f"{{{missing[0]}}}")


class SloAlarms(pulumi.ComponentResource):
    """Burn-rate alarms for a set of SLOs: 2 metric alarms + 1 composite per tier."""

    alarm_sets: list[SloAlarmSet]
    """The pure alarm definitions that were declared (one per SLO with a CloudWatch SLI)."""
    composite_alarm_arns: list[pulumi.Output[str]]
    page_alarm_names: list[str]
    ticket_alarm_names: list[str]
    warnings: list[str]
    monthly_cost_usd: float
    """Estimated CloudWatch cost of these alarms per month (see cloudwatch_cost)."""

    def __init__(self, name: str, args: SloAlarmsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        args.validate()
        super().__init__("reliability-stack:slo_alarms:SloAlarms", name, {}, opts)
        prefix = args.alarm_name_prefix if args.alarm_name_prefix is not None else f"{pulumi.get_stack()}-"
        options = AlarmOptions(name_prefix=prefix, min_events=args.min_events,
                               suppress_slower_tiers=args.suppress_slower_tiers,
                               suppression_wait=args.suppression_wait_seconds,
                               latency_form=args.latency_form,  # type: ignore[arg-type]
                               notify_on_recovery=args.notify_on_recovery)
        links = AlarmLinks(dashboard_url=args.dashboard_url, runbook_url=args.runbook_url)
        values = args.dimension_values()

        self.alarm_sets = []
        self.warnings = []
        self.composite_alarm_arns = []
        self.page_alarm_names = []
        self.ticket_alarm_names = []
        self.monthly_cost_usd = 0.0
        for slo in args.slos:
            if slo.sli.cloudwatch is None:
                self._warn(f"SLO {slo.id} has no cloudwatch SLI part; no CloudWatch alarms for it")
                continue
            alarm_set = build_slo_alarms(slo, dimension_values=values, page_topic=args.page_topic_arn,
                                         ticket_topic=args.ticket_topic_arn, links=links, options=options)
            for warning in alarm_set.warnings:
                self._warn(warning)
            self.alarm_sets.append(alarm_set)
            self.monthly_cost_usd += monthly_cost_usd(slo, [t.tier for t in alarm_set.tiers])
            self._declare(name, slo, alarm_set, args)

        self.register_outputs({
            "compositeAlarmArns": pulumi.Output.all(*self.composite_alarm_arns),
            "pageAlarmNames": self.page_alarm_names,
            "ticketAlarmNames": self.ticket_alarm_names,
        })

    def _warn(self, message: str) -> None:
        self.warnings.append(message)
        pulumi.log.warn(message, resource=self)

    def _declare(self, name: str, slo: SLO, alarm_set: SloAlarmSet, args: SloAlarmsArgs) -> None:
        declared: dict[str, aws.cloudwatch.CompositeAlarm] = {}
        for tier_alarms in alarm_set.tiers:
            tier = tier_alarms.tier
            resource_base = f"{name}-{slo.id}-{tier.severity}-{tier.window_pair}"
            children = []
            for which, alarm in (("long", tier_alarms.long), ("short", tier_alarms.short)):
                inputs = snake_case_args(alarm)
                inputs["tags"] = standard_tags(pulumi.get_stack(), slo.service, {**args.tags, **alarm["tags"]})
                children.append(aws.cloudwatch.MetricAlarm(
                    f"{resource_base}-{which}", region=args.region, **inputs,
                    # Fixed names (the composite rule and the suppressor refer to them): a
                    # replacement must delete the old alarm before creating the new one.
                    opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True)))
            composite = snake_case_args(tier_alarms.composite)
            composite["tags"] = standard_tags(pulumi.get_stack(), slo.service,
                                              {**args.tags, **tier_alarms.composite["tags"]})
            depends: list[pulumi.Resource] = list(children)
            suppressor = tier_alarms.composite.get("actionsSuppressor")
            if suppressor:
                depends.append(declared[suppressor["alarm"]])
            resource = aws.cloudwatch.CompositeAlarm(
                resource_base, region=args.region, **composite,
                opts=pulumi.ResourceOptions(parent=self, depends_on=depends, delete_before_replace=True))
            declared[tier_alarms.composite["alarmName"]] = resource
            self.composite_alarm_arns.append(resource.arn)
            names = self.page_alarm_names if tier.severity == "page" else self.ticket_alarm_names
            names.append(tier_alarms.composite["alarmName"])
