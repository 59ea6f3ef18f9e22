"""The one definition of the CloudWatch alarms an SLO compiles to (pure: no Pulumi, no boto3).

`build_slo_alarms` returns the alarms as the engine's camelCase input dicts. The
`SloAlarms` component declares exactly these (it only converts keys to Pulumi's
snake_case arguments), the simulator in `cloudwatch_sim` evaluates exactly these, and the
cost estimate counts exactly these: one definition, three readers.

Per SLO and burn-rate tier (SRE Workbook ch. 5, strategy 6):

- two metric-math alarms, one per window, each `IF(requests > min_events, errors / requests, 0)`
  over `Sum`s with `FILL(x, 0)` (an ALB publishes no 5XX datapoint when there were none),
  period = the window, 1 of 1 evaluation period, threshold = burn x (1 - objective),
  missing data not breaching;
- a composite alarm `ALARM(long) AND ALARM(short)` carrying the actions (page or ticket topic)
  and the on-call description;
- tiers ordered fastest first; each slower composite has an `actionsSuppressor` on the next
  faster one, so one incident pages once. The extension period is the slower tier's short
  window: that is about how long it stays in ALARM after the faster one resets, so it does
  not page a second time after recovery.

Dimension values may be anything (plain strings, or Pulumi Outputs the component passes
through untouched); placeholders such as `{load_balancer}` are filled from `dimension_values`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from reliability_stack.slo import budget
from reliability_stack.slo.durations import format_duration, humanize_seconds
from reliability_stack.slo.model import SLO, BurnRateTier, CloudWatchSLI, MetricRef
from reliability_stack.slo.validate import adapt_tier_for_cloudwatch

#: CloudWatch's AlarmDescription limit (PutMetricAlarm / PutCompositeAlarm).
MAX_DESCRIPTION = 1024
#: Low-traffic guard when neither the spec nor the component sets one: below this many
#: requests in a window the error ratio counts as 0 (one failure out of 3 requests is not a
#: 33x burn worth paging for; SRE Workbook "low traffic").
DEFAULT_MIN_EVENTS = 10.0
#: How long a slower tier's composite waits for the faster tier to go into ALARM before it
#: notifies anyway (guardian/cdk uses 120 s; a full outage trips the fast tier within a minute).
DEFAULT_SUPPRESSION_WAIT = 120

LatencyForm = Literal["percentile-rank", "trimmed-count"]


@dataclass(frozen=True)
class AlarmLinks:
    """Where the on-call person goes from the alarm: the service dashboard and the runbook."""

    dashboard_url: str | None = None
    runbook_url: str | None = None


@dataclass(frozen=True)
class TierAlarms:
    """The three alarms of one tier, as camelCase engine inputs."""

    tier: BurnRateTier
    """The tier as CloudWatch expresses it (adapted if the spec's could not be)."""
    requested: BurnRateTier
    """The tier as the spec declared it."""
    long: dict[str, Any]
    short: dict[str, Any]
    composite: dict[str, Any]

    @property
    def alarms(self) -> list[dict[str, Any]]:
        return [self.long, self.short, self.composite]


@dataclass(frozen=True)
class SloAlarmSet:
    """Everything one SLO compiles to on CloudWatch, plus the warnings to surface."""

    slo: SLO
    tiers: tuple[TierAlarms, ...]
    warnings: tuple[str, ...] = ()

    @property
    def alarms(self) -> list[dict[str, Any]]:
        """Metric alarms and composites, children before the composites that read them."""
        return [alarm for tier in self.tiers for alarm in tier.alarms]

    @property
    def metric_alarms(self) -> list[dict[str, Any]]:
        return [alarm for tier in self.tiers for alarm in (tier.long, tier.short)]

    @property
    def composite_alarms(self) -> list[dict[str, Any]]:
        return [tier.composite for tier in self.tiers]


@dataclass(frozen=True)
class AlarmOptions:
    """Knobs of the compiled alarms; defaults are the resilient choice."""

    name_prefix: str = ""
    """Prepended to every alarm name (alarm names are unique per account and region)."""
    min_events: float | None = None
    """Low-traffic guard; the spec's `min_events` wins, then this, then DEFAULT_MIN_EVENTS."""
    suppress_slower_tiers: bool = True
    suppression_wait: int = DEFAULT_SUPPRESSION_WAIT
    latency_form: LatencyForm = "percentile-rank"
    notify_on_recovery: bool = True
    """Send the OK transition to the same topic (a resolved page), not only the ALARM one."""
    tags: Mapping[str, str] = field(default_factory=dict)


def missing_placeholders(slo: SLO, dimension_values: Mapping[str, Any]) -> list[str]:
    """Dimension placeholders of the SLO's CloudWatch metrics that `dimension_values` lacks."""
    sli = slo.sli.cloudwatch
    if sli is None:
        return []
    wanted = {name for ref in sli.metrics for name in ref.placeholders}
    return sorted(wanted - set(dimension_values))


def fill_dimensions(ref: MetricRef, dimension_values: Mapping[str, Any]) -> dict[str, Any]:
    """The metric's dimensions with `{placeholder}` values replaced from `dimension_values`."""
    filled: dict[str, Any] = {}
    for key, value in ref.dimensions.items():
        if value.startswith("{") and value.endswith("}"):
            placeholder = value[1:-1]
            if placeholder not in dimension_values:
                raise KeyError(placeholder)
            filled[key] = dimension_values[placeholder]
        else:
            filled[key] = value
    return filled


def _metric_query(query_id: str, ref: MetricRef, stat: str, period: int,
                  dimension_values: Mapping[str, Any]) -> dict[str, Any]:
    metric: dict[str, Any] = {"metricName": ref.metric_name, "namespace": ref.namespace,
                              "period": period, "stat": stat}
    dimensions = fill_dimensions(ref, dimension_values)
    if dimensions:
        metric["dimensions"] = dimensions
    return {"id": query_id, "metric": metric, "returnData": False}


def _number(value: float) -> str:
    return f"{value:g}"


def error_ratio_queries(sli: CloudWatchSLI, period: int, min_events: float,
                        dimension_values: Mapping[str, Any],
                        latency_form: LatencyForm = "percentile-rank") -> list[dict[str, Any]]:
    """The metric queries of one window's error-ratio alarm; `error_ratio` returns the data.

    Availability: errors = sum(bad) or requests - sum(good), requests = sum(total).
    Latency: errors share = 1 - PR(:t)/100 (or TC(t:)/requests), requests = SampleCount.
    """
    queries: list[dict[str, Any]] = []
    guard = _number(min_events)
    if not sli.total:
        raise ValueError("a CloudWatch SLI needs `total` metrics (the low-traffic guard reads them)")
    for index, ref in enumerate(sli.total):
        queries.append(_metric_query(f"total{index}", ref, ref.statistic, period, dimension_values))
    requests = " + ".join(f"FILL(total{i}, 0)" for i in range(len(sli.total)))
    queries.append({"id": "requests", "expression": requests, "label": "requests", "returnData": False})
    if sli.latency is not None:
        threshold = sli.latency.threshold_seconds
        if latency_form == "percentile-rank":
            queries.append(_metric_query("within", sli.latency.metric, sli.latency.percentile_rank_statistic,
                                         period, dimension_values))
            ratio = f"IF(requests > {guard}, 1 - FILL(within, 100) / 100, 0)"
        else:
            queries.append(_metric_query("slow", sli.latency.metric, sli.latency.slow_count_statistic,
                                         period, dimension_values))
            ratio = f"IF(requests > {guard}, FILL(slow, 0) / requests, 0)"
        label = f"share of requests slower than {_number(threshold)}s"
    elif sli.bad:
        for index, ref in enumerate(sli.bad):
            queries.append(_metric_query(f"bad{index}", ref, ref.statistic, period, dimension_values))
        errors = " + ".join(f"FILL(bad{i}, 0)" for i in range(len(sli.bad)))
        queries.append({"id": "errors", "expression": errors, "label": "errors", "returnData": False})
        ratio = f"IF(requests > {guard}, errors / requests, 0)"
        label = "error ratio"
    elif sli.good:
        for index, ref in enumerate(sli.good):
            queries.append(_metric_query(f"good{index}", ref, ref.statistic, period, dimension_values))
        good = " + ".join(f"FILL(good{i}, 0)" for i in range(len(sli.good)))
        queries.append({"id": "errors", "expression": f"requests - ({good})", "label": "errors",
                        "returnData": False})
        ratio = f"IF(requests > {guard}, errors / requests, 0)"
        label = "error ratio"
    else:
        raise ValueError("a CloudWatch SLI needs `bad`, `good` or `latency` metrics")
    queries.append({"id": "error_ratio", "expression": ratio, "label": f"{label} over {format_duration(period)}",
                    "returnData": True})
    return queries


def _describe_metrics(sli: CloudWatchSLI, min_events: float) -> str:
    def names(refs: tuple[MetricRef, ...]) -> str:
        return " + ".join(ref.metric_name for ref in refs)

    refs = sli.metrics
    namespaces = sorted({ref.namespace for ref in refs})
    dimensions = sorted({key for ref in refs for key in ref.dimensions})
    scope = f"[{', '.join(namespaces)}{'; by ' + ', '.join(dimensions) if dimensions else ''}]"
    if sli.latency is not None:
        formula = (f"share of {sli.latency.metric.metric_name} above {_number(sli.latency.threshold_seconds)}s "
                   f"(1 - {sli.latency.percentile_rank_statistic}/100)")
    elif sli.bad:
        formula = f"({names(sli.bad)}) / {names(sli.total)}"
    else:
        formula = f"1 - ({names(sli.good)}) / {names(sli.total)}"
    return f"Error ratio = {formula} {scope}, 0 below {_number(min_events)} requests per window."


def _fit(parts: list[str], optional: list[str]) -> str:
    """Join description lines, dropping optional ones (then truncating) to stay within 1024 chars."""
    lines = list(parts)
    for extra in optional:
        if len("\n".join([*lines, extra])) <= MAX_DESCRIPTION:
            lines.append(extra)
    text = "\n".join(lines)
    return text if len(text) <= MAX_DESCRIPTION else text[: MAX_DESCRIPTION - 1] + "…"


def composite_description(slo: SLO, tier: BurnRateTier, min_events: float, links: AlarmLinks) -> str:
    """What the on-call person reads: service, SLO, objective, window, tier, burn, budget, links, metrics."""
    sli = slo.sli.cloudwatch
    assert sli is not None
    threshold = slo.threshold(tier)
    consumed = budget.budget_consumed(tier, slo.window)
    detection = budget.detection_time_full_outage(tier, slo.objective)
    reset = budget.reset_time(tier, slo.objective)
    budget_minutes = budget.slo_budget_minutes(slo)
    runbook = links.runbook_url or slo.runbook_url
    essential = [
        f"[{tier.severity.upper()}] {slo.service} / {slo.name}: error budget burning at >= "
        f"{tier.burn_rate:g}x (tier {tier.name}, windows {tier.long} and {tier.short}).",
        f"SLO: {slo.objective:g}% over a rolling {slo.window_label} (budget {slo.error_budget_ratio * 100:g}% "
        f"= {budget_minutes:.1f} min of full outage).",
        f"Fires when the error ratio exceeds {threshold * 100:.3g}% over both {tier.long} and {tier.short}; "
        f"by then {consumed * 100:.2g}% of the {slo.window_label} budget is spent. A full outage is detected "
        f"in ~{humanize_seconds(detection)}; at this burn the budget lasts "
        f"{humanize_seconds(budget.time_to_exhaustion(tier, slo.window))}; resets ~{humanize_seconds(reset)} "
        f"after errors stop.",
    ]
    if runbook:
        essential.append(f"Runbook: {runbook}")
    if links.dashboard_url:
        essential.append(f"Dashboard: {links.dashboard_url}")
    optional = [_describe_metrics(sli, min_events)]
    if slo.description:
        optional.append(f"About: {slo.description}")
    return _fit(essential, optional)


def _window_description(slo: SLO, tier: BurnRateTier, which: str, window: int, links: AlarmLinks) -> str:
    runbook = links.runbook_url or slo.runbook_url
    parts = [f"{slo.service} / {slo.name} ({slo.objective:g}% over {slo.window_label}): {which} window "
             f"{format_duration(window)} of tier {tier.name} ({tier.burn_rate:g}x, error ratio > "
             f"{slo.threshold(tier) * 100:.3g}%). No actions of its own: the composite alarm "
             f"pairs it with the {'short' if which == 'long' else 'long'} window and notifies."]
    if runbook:
        parts.append(f"Runbook: {runbook}")
    if links.dashboard_url:
        parts.append(f"Dashboard: {links.dashboard_url}")
    return _fit(parts, [])


def tier_order(tiers: tuple[BurnRateTier, ...] | list[BurnRateTier]) -> list[BurnRateTier]:
    """Fastest tier first: shortest long window, then highest burn (the suppression chain order)."""
    return sorted(tiers, key=lambda t: (t.long_window, -t.burn_rate, t.short_window))


def alarm_base_name(slo: SLO, tier: BurnRateTier, name_prefix: str = "") -> str:
    """`<prefix><service>-<slo>-<severity>-<long>-<short>`: the composite's name, children add a suffix."""
    return f"{name_prefix}{slo.id}-{tier.severity}-{tier.window_pair}"


def build_slo_alarms(slo: SLO, *, dimension_values: Mapping[str, Any], page_topic: Any = None,
                     ticket_topic: Any = None, links: AlarmLinks | None = None,
                     options: AlarmOptions | None = None) -> SloAlarmSet:
    """The alarms of every tier of `slo`, fastest tier first (see the module docstring).

    Tiers CloudWatch cannot express are replaced by `adapt_tier_for_cloudwatch`'s nearest
    valid tier and a warning is returned; unreachable tiers (burn x (1 - objective) >= 1)
    are skipped with a warning. Raises ValueError when the SLO has no CloudWatch part and
    KeyError (the placeholder) when a dimension value is missing.
    """
    links = links or AlarmLinks()
    options = options or AlarmOptions()
    sli = slo.sli.cloudwatch
    if sli is None:
        raise ValueError(f"SLO {slo.id} has no cloudwatch SLI")
    min_events = sli.min_events if sli.min_events is not None else (
        options.min_events if options.min_events is not None else DEFAULT_MIN_EVENTS)
    warnings: list[str] = []
    adapted: list[tuple[BurnRateTier, BurnRateTier]] = []
    for requested in slo.tiers:
        tier, warning = adapt_tier_for_cloudwatch(requested)
        if warning:
            warnings.append(f"{slo.id}: {warning}")
        if not budget.is_reachable(tier, slo.objective):
            warnings.append(f"{slo.id}: tier {tier.name} ({tier.burn_rate:g}x) can never fire at "
                            f"{slo.objective:g}% (threshold >= 100%); no CloudWatch alarms for it")
            continue
        adapted.append((tier, requested))
    requested_of = {tier: requested for tier, requested in adapted}
    ordered = tier_order([tier for tier, _ in adapted])

    built: list[TierAlarms] = []
    faster: TierAlarms | None = None
    for tier in ordered:
        base = alarm_base_name(slo, tier, options.name_prefix)
        tags = {**options.tags, "slo": slo.id, "service": slo.service, "severity": tier.severity,
                "burn_tier": tier.name, "window_pair": tier.window_pair}
        windows = {}
        for which, window in (("long", tier.long_window), ("short", tier.short_window)):
            windows[which] = {
                "name": f"{base}-{which}",
                "alarmDescription": _window_description(slo, tier, which, window, links),
                "comparisonOperator": "GreaterThanThreshold",
                "threshold": slo.threshold(tier),
                "evaluationPeriods": 1,
                "datapointsToAlarm": 1,
                "treatMissingData": "notBreaching",
                "metricQueries": error_ratio_queries(sli, window, min_events, dimension_values,
                                                     options.latency_form),
                "tags": {**tags, "window": format_duration(window)},
            }
        topic = page_topic if tier.severity == "page" else ticket_topic
        composite: dict[str, Any] = {
            "alarmName": base,
            "alarmRule": f'ALARM("{windows["long"]["name"]}") AND ALARM("{windows["short"]["name"]}")',
            "alarmDescription": composite_description(slo, tier, min_events, links),
            "actionsEnabled": True,
            "tags": tags,
        }
        if topic is not None:
            composite["alarmActions"] = [topic]
            if options.notify_on_recovery:
                composite["okActions"] = [topic]
        if options.suppress_slower_tiers and faster is not None:
            composite["actionsSuppressor"] = {
                "alarm": faster.composite["alarmName"],
                "waitPeriod": options.suppression_wait,
                # The slower tier stays in ALARM for about its short window after the faster
                # one resets; suppress that long, plus one minute of evaluation slack.
                "extensionPeriod": tier.short_window + 60,
            }
        current = TierAlarms(tier, requested_of[tier], windows["long"], windows["short"], composite)
        built.append(current)
        faster = current
    return SloAlarmSet(slo, tuple(built), tuple(warnings))
