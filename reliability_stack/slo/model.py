"""The SLO model: one set of frozen dataclasses behind every spec format and every backend.

The loaders (`reliability_stack.slo.loaders`) turn native YAML, OpenSLO v1 and Sloth
`prometheus/v1` files into `SLO` objects; the budget math, the Prometheus compiler and the
CloudWatch component read only these classes. Units are fixed so nobody converts twice:

- objectives and SLA targets are **percent** (`99.9`), `objective_ratio` gives `0.999`;
- windows and durations are **whole seconds** (`3600`), `durations.format_duration` spells them;
- latency thresholds are **seconds** (`0.3`).

A `SLI` carries the backend-neutral meaning (availability or latency) plus an optional
part per backend: `PrometheusSLI` (queries) and `CloudWatchSLI` (metric references). A
spec may declare one backend or both; a backend that finds its part missing skips the SLO
(the loaders warn when neither is present).

Example (what `slos/checkout.yaml` loads to, abridged)::

    SLO(service="checkout", name="availability", objective=99.9, window=2419200,
        sli=SLI(kind="availability",
                prometheus=PrometheusSLI(error_query='sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))',
                                         total_query='sum(rate(http_requests_total[{{.window}}]))'),
                cloudwatch=CloudWatchSLI.alb()),
        tiers=DEFAULT_TIERS)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from reliability_stack.slo.durations import format_duration

Severity = Literal["page", "ticket"]
SLIKind = Literal["availability", "latency"]

DAY = 86400
HOUR = 3600
MINUTE = 60

#: Rolling SLO windows a spec may declare (seconds). 28 d is the default (whole weeks keep
#: weekend counts constant, SRE Workbook ch. 2); 30 d matches the Workbook's tables.
SUPPORTED_WINDOWS: tuple[int, ...] = (7 * DAY, 28 * DAY, 30 * DAY)
DEFAULT_WINDOW = 28 * DAY

#: Placeholder a Prometheus query uses for the evaluation window (Sloth's convention).
WINDOW_PLACEHOLDER = "{{.window}}"


@dataclass(frozen=True)
class BurnRateTier:
    """One multi-window burn-rate alert: fire when both windows burn faster than `burn_rate`.

    The alert condition is `error_ratio(long) > burn_rate * (1 - objective)` AND the same
    for `short` (SRE Workbook ch. 5, strategy 6). The short window makes it reset about
    one short window after the errors stop.
    """

    severity: Severity
    long_window: int
    """Long window in seconds, e.g. 3600."""
    short_window: int
    """Short window in seconds, e.g. 300 (about 1/12 of the long one)."""
    burn_rate: float
    """How many times faster than 'exactly exhaust the budget over the SLO window', e.g. 14.4."""

    @property
    def long(self) -> str:
        """The long window spelled as in rules and labels, e.g. `1h`."""
        return format_duration(self.long_window)

    @property
    def short(self) -> str:
        """The short window spelled as in rules and labels, e.g. `5m`."""
        return format_duration(self.short_window)

    @property
    def window_pair(self) -> str:
        """A stable id of the window pair, e.g. `1h-5m` (a label value and a name part)."""
        return f"{self.long}-{self.short}"

    @property
    def name(self) -> str:
        """A stable id of the tier, e.g. `page-1h`: the `burn_tier` label and a resource name part."""
        return f"{self.severity}-{self.long}"


#: SRE Workbook Table 5-8 with the ticket tier at 1x over 3 d / 6 h. At 30 d these spend
#: 2 %, 5 % and 10 % of the budget when they fire; at 28 d 2.14 %, 5.36 %, 10.7 %.
DEFAULT_TIERS: tuple[BurnRateTier, ...] = (
    BurnRateTier("page", 1 * HOUR, 5 * MINUTE, 14.4),
    BurnRateTier("page", 6 * HOUR, 30 * MINUTE, 6.0),
    BurnRateTier("ticket", 3 * DAY, 6 * HOUR, 1.0),
)


@dataclass(frozen=True)
class PrometheusHistogram:
    """A latency SLI on a classic Prometheus histogram: good = `_bucket{le=...}`, total = `_count`."""

    metric: str
    """Histogram base name without suffix, e.g. `http_request_duration_seconds`."""
    selector: str = ""
    """Label matchers without braces, e.g. `job="checkout",route!="/healthz"`."""
    le: str = ""
    """The bucket bound as it appears in the `le` label, e.g. `0.3` (must be an existing bucket)."""


@dataclass(frozen=True)
class PrometheusSLI:
    """How Prometheus measures the SLI. Exactly one form is set:

    - `error_query` + `total_query` (bad/total events), or
    - `good_query` + `total_query` (good/total events), or
    - `error_ratio_query` (a raw ratio), or
    - `histogram` (latency: fraction of requests under `le`).

    Queries contain `{{.window}}` where the range goes, e.g.
    `sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))`; they should aggregate with
    `sum` so the compiled ratio is a ratio of sums.
    """

    error_query: str | None = None
    good_query: str | None = None
    total_query: str | None = None
    error_ratio_query: str | None = None
    histogram: PrometheusHistogram | None = None


@dataclass(frozen=True)
class MetricRef:
    """One CloudWatch metric. Dimension values may be placeholders such as `{load_balancer}`
    or `{target_group}`; the CloudWatch component fills them from resource outputs."""

    namespace: str
    metric_name: str
    dimensions: dict[str, str] = field(default_factory=dict)
    statistic: str = "Sum"

    @property
    def placeholders(self) -> tuple[str, ...]:
        """Names of the `{placeholder}` dimension values, e.g. `("load_balancer",)`."""
        return tuple(v[1:-1] for v in self.dimensions.values() if v.startswith("{") and v.endswith("}"))


ALB_NAMESPACE = "AWS/ApplicationELB"
ALB_DIMENSIONS = {"LoadBalancer": "{load_balancer}"}


@dataclass(frozen=True)
class CloudWatchLatency:
    """A latency SLI on CloudWatch: the share of requests at or under `threshold_seconds`.

    Error ratio = 1 - PR(:t)/100 where `PR(:t)` is the percentile-rank statistic of
    `metric` over the window; `TC(t:)`/`SampleCount` is the equivalent slow-count form.
    The owning `CloudWatchSLI.total` holds the metric's `SampleCount` (request count) for
    the low-traffic guard.
    """

    metric: MetricRef
    """The latency metric; its `statistic` is the percentile rank, e.g. `PR(:0.3)` (see `of`)."""
    threshold_seconds: float

    @classmethod
    def of(cls, metric: MetricRef, threshold_seconds: float) -> CloudWatchLatency:
        """A latency SLI on `metric` whose statistic is set to `PR(:threshold)`."""
        stat = f"PR(:{_number(threshold_seconds)})"
        return cls(MetricRef(metric.namespace, metric.metric_name, dict(metric.dimensions), stat), threshold_seconds)

    @property
    def percentile_rank_statistic(self) -> str:
        """E.g. `PR(:0.3)`: percent of datapoints <= 0.3 s in the period."""
        return f"PR(:{_number(self.threshold_seconds)})"

    @property
    def slow_count_statistic(self) -> str:
        """E.g. `TC(0.3:)`: count of datapoints above the threshold (divide by `SampleCount`)."""
        return f"TC({_number(self.threshold_seconds)}:)"


@dataclass(frozen=True)
class CloudWatchSLI:
    """How CloudWatch measures the SLI.

    Availability: error ratio = sum(`bad`) / sum(`total`), or 1 - sum(`good`) / sum(`total`);
    each list is summed in metric math (e.g. target 5xx + ELB 5xx). Latency: `latency`.
    `source` is `"alb"` when the spec used the shorthand; the metrics are filled in already.
    `min_events` is the low-traffic guard: below that many total events in a window the
    error ratio counts as 0 (None lets the component choose its default).
    """

    bad: tuple[MetricRef, ...] = ()
    good: tuple[MetricRef, ...] = ()
    total: tuple[MetricRef, ...] = ()
    latency: CloudWatchLatency | None = None
    source: str | None = None
    min_events: float | None = None

    @classmethod
    def alb(cls, kind: SLIKind = "availability", threshold_seconds: float | None = None,
            min_events: float | None = None) -> CloudWatchSLI:
        """The ALB's standard metrics (`source: alb`).

        Availability: (HTTPCode_Target_5XX_Count + HTTPCode_ELB_5XX_Count) / RequestCount.
        Latency: TargetResponseTime (seconds) with `PR(:threshold)`; its `SampleCount` is the
        request count the low-traffic guard reads (listed in `total`).
        """
        if kind == "latency":
            if threshold_seconds is None:
                raise ValueError("a latency SLI needs a threshold")
            return cls(latency=CloudWatchLatency.of(MetricRef(ALB_NAMESPACE, "TargetResponseTime",
                                                              dict(ALB_DIMENSIONS)), threshold_seconds),
                       total=(MetricRef(ALB_NAMESPACE, "TargetResponseTime", dict(ALB_DIMENSIONS), "SampleCount"),),
                       source="alb", min_events=min_events)
        return cls(
            bad=(MetricRef(ALB_NAMESPACE, "HTTPCode_Target_5XX_Count", dict(ALB_DIMENSIONS)),
                 MetricRef(ALB_NAMESPACE, "HTTPCode_ELB_5XX_Count", dict(ALB_DIMENSIONS))),
            total=(MetricRef(ALB_NAMESPACE, "RequestCount", dict(ALB_DIMENSIONS)),),
            source="alb",
            min_events=min_events,
        )

    @property
    def metrics(self) -> tuple[MetricRef, ...]:
        """Every metric this SLI reads (bad, good, total, latency), without duplicates."""
        seen: list[MetricRef] = []
        for ref in (*self.bad, *self.good, *self.total, *((self.latency.metric,) if self.latency else ())):
            if ref not in seen:
                seen.append(ref)
        return tuple(seen)


@dataclass(frozen=True)
class SLI:
    """What is measured: availability (good or bad events over total) or latency (share of
    requests under `latency_threshold_seconds`), with an optional part per backend."""

    kind: SLIKind
    prometheus: PrometheusSLI | None = None
    cloudwatch: CloudWatchSLI | None = None
    latency_threshold_seconds: float | None = None


@dataclass(frozen=True)
class SLO:
    """One service-level objective and the burn-rate tiers that alert on it.

    `objective` is the internal target in percent (99.9); `sla` the external promise, which
    must not be stricter than the objective. `window` is the rolling SLO window in seconds.
    """

    service: str
    name: str
    objective: float
    sli: SLI
    window: int = DEFAULT_WINDOW
    tiers: tuple[BurnRateTier, ...] = DEFAULT_TIERS
    description: str = ""
    sla: float | None = None
    labels: dict[str, str] = field(default_factory=dict)
    runbook_url: str | None = None
    source: str = ""
    """The spec file it came from (for messages)."""

    @property
    def id(self) -> str:
        """`<service>-<name>`, unique in a stack: the `slo_id` and a resource name part."""
        return f"{self.service}-{self.name}"

    @property
    def objective_ratio(self) -> float:
        """The objective as a ratio: 99.9 -> 0.999."""
        return self.objective / 100.0

    @property
    def error_budget_ratio(self) -> float:
        """The allowed error ratio: 99.9 -> 0.001 (rounded to kill float noise such as 0.0010000000000000009)."""
        return clean_float(1.0 - self.objective / 100.0)

    @property
    def window_label(self) -> str:
        """The window spelled as in rules and plan JSON, e.g. `28d`."""
        return format_duration(self.window)

    def threshold(self, tier: BurnRateTier) -> float:
        """The error ratio above which `tier` fires: burn x (1 - objective)."""
        return clean_float(tier.burn_rate * self.error_budget_ratio)


def clean_float(value: float) -> float:
    """`value` to 12 significant digits: 1 - 0.999 -> 0.001, not 0.0010000000000000009."""
    return float(f"{value:.12g}")


def _number(value: float) -> str:
    """`0.3` -> `0.3`, `1.0` -> `1`: numbers as a human writes them in statistics and labels."""
    return f"{value:g}" if value == float(f"{value:g}") else repr(value)
