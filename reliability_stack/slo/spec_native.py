"""The native spec format (`version: reliability-stack/v1`), documented in `slos/README.md`.

One file per service; every SLO names its SLI kind (`availability` or `latency`) and the
backend parts it wants (`prometheus`, `cloudwatch`). Tiers and window default to the SRE
Workbook's and may be set per file or per SLO.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator

from reliability_stack.errors import SpecError
from reliability_stack.slo.model import (
    DEFAULT_TIERS,
    DEFAULT_WINDOW,
    SLI,
    SLO,
    BurnRateTier,
    CloudWatchLatency,
    CloudWatchSLI,
    MetricRef,
    PrometheusHistogram,
    PrometheusSLI,
)
from reliability_stack.slo.parsing import (
    Duration,
    FieldLocator,
    LatencySeconds,
    Percent,
    SpecModel,
    exactly_one_of,
    require_exactly_one,
    spec_error_from,
)

NATIVE_VERSION = "reliability-stack/v1"


class TierSpec(SpecModel):
    """`{severity: page, long: 1h, short: 5m, burn_rate: 14.4}`; `budget: 2%` may replace burn_rate."""

    severity: Literal["page", "ticket"]
    long: Duration
    short: Duration
    burn_rate: float | None = Field(default=None, gt=0)
    budget: Percent | None = Field(default=None, gt=0, le=100)

    _one_rate = exactly_one_of("burn_rate", "budget", note="the share of the budget spent when it fires")

    def to_tier(self, window: int) -> BurnRateTier:
        # burn = consumption x period / long window (SRE Workbook: 2% x 720 h / 1 h = 14.4)
        burn = self.burn_rate if self.burn_rate is not None else round(
            (self.budget or 0.0) / 100.0 * window / self.long, 6)
        return BurnRateTier(self.severity, self.long, self.short, burn)


class MetricSpec(SpecModel):
    namespace: str = Field(min_length=1)
    metric: str = Field(min_length=1)
    dimensions: dict[str, str] = Field(default_factory=dict)
    statistic: str = "Sum"

    def to_ref(self) -> MetricRef:
        return MetricRef(self.namespace, self.metric, dict(self.dimensions), self.statistic)


class CloudWatchSpec(SpecModel):
    """`source: alb`, or explicit metrics: `bad`/`good` + `total` (availability), `metric` (latency)."""

    source: Literal["alb"] | None = None
    bad: list[MetricSpec] = Field(default_factory=list)
    good: list[MetricSpec] = Field(default_factory=list)
    total: list[MetricSpec] = Field(default_factory=list)
    metric: MetricSpec | None = None
    min_events: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _source_or_metrics(self) -> CloudWatchSpec:
        explicit = bool(self.bad or self.good or self.total or self.metric)
        if self.source and explicit:
            raise ValueError("use either source: alb or explicit metrics, not both")
        if not self.source and not explicit:
            raise ValueError("set source: alb or the metrics (bad/good + total, or metric for latency)")
        return self


class AvailabilityPrometheus(SpecModel):
    """Exactly one of error_query + total_query, good_query + total_query, or error_ratio_query."""

    error_query: str | None = None
    good_query: str | None = None
    total_query: str | None = None
    error_ratio_query: str | None = None

    @model_validator(mode="after")
    def _one_form(self) -> AvailabilityPrometheus:
        require_exactly_one(self, "error_query", "good_query", "error_ratio_query")
        if self.error_ratio_query is None and self.total_query is None:
            raise ValueError("total_query is required with error_query or good_query")
        if self.error_ratio_query is not None and self.total_query is not None:
            raise ValueError("total_query does not go with error_ratio_query")
        return self


class LatencyPrometheus(SpecModel):
    """A classic histogram: `histogram: http_request_duration_seconds`, optional selector and `le`."""

    histogram: str = Field(min_length=1)
    selector: str = ""
    le: str | None = None


class AvailabilitySpec(SpecModel):
    prometheus: AvailabilityPrometheus | None = None
    cloudwatch: CloudWatchSpec | None = None


class LatencySpec(SpecModel):
    threshold: LatencySeconds
    prometheus: LatencyPrometheus | None = None
    cloudwatch: CloudWatchSpec | None = None


class SLISpec(SpecModel):
    availability: AvailabilitySpec | None = None
    latency: LatencySpec | None = None

    _one_kind = exactly_one_of("availability", "latency")


class SLOSpec(SpecModel):
    name: str
    description: str = ""
    objective: float
    window: Duration | None = None
    sla: float | None = None
    sli: SLISpec
    tiers: list[TierSpec] | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    runbook_url: str | None = None


class NativeFile(SpecModel):
    version: Literal["reliability-stack/v1"] = "reliability-stack/v1"
    service: str
    description: str = ""
    labels: dict[str, str] = Field(default_factory=dict)
    runbook_url: str | None = None
    window: Duration | None = None
    tiers: list[TierSpec] | None = None
    slos: list[SLOSpec] = Field(min_length=1)


def _cloudwatch_part(spec: CloudWatchSpec | None, kind: Literal["availability", "latency"],
                     threshold: float | None, file: str, path: str) -> CloudWatchSLI | None:
    if spec is None:
        return None
    if spec.source == "alb":
        return CloudWatchSLI.alb(kind, threshold, min_events=spec.min_events)
    if kind == "latency":
        if spec.metric is None or spec.bad or spec.good:
            raise SpecError("a latency SLI on CloudWatch takes `metric` (e.g. TargetResponseTime) and no bad/good",
                            file=file, field=f"{path}.metric")
        metric = spec.metric.to_ref()
        # The request count behind the latency metric feeds the low-traffic guard.
        total = tuple(m.to_ref() for m in spec.total) or (
            MetricRef(metric.namespace, metric.metric_name, dict(metric.dimensions), "SampleCount"),)
        return CloudWatchSLI(latency=CloudWatchLatency.of(metric, threshold or 0.0), total=total,
                             min_events=spec.min_events)
    if spec.metric is not None:
        raise SpecError("`metric` is for latency SLIs; availability takes bad or good, and total",
                        file=file, field=f"{path}.metric")
    if bool(spec.bad) == bool(spec.good) or not spec.total:
        raise SpecError("set bad or good (not both), and total", file=file, field=path)
    return CloudWatchSLI(bad=tuple(m.to_ref() for m in spec.bad), good=tuple(m.to_ref() for m in spec.good),
                         total=tuple(m.to_ref() for m in spec.total), min_events=spec.min_events)


def _sli(spec: SLISpec, file: str, base: str) -> SLI:
    if spec.availability is not None:
        part = spec.availability
        prometheus = None
        if part.prometheus is not None:
            p = part.prometheus
            prometheus = PrometheusSLI(error_query=p.error_query, good_query=p.good_query,
                                       total_query=p.total_query, error_ratio_query=p.error_ratio_query)
        return SLI("availability", prometheus=prometheus,
                   cloudwatch=_cloudwatch_part(part.cloudwatch, "availability", None, file,
                                               f"{base}.availability.cloudwatch"))
    latency = spec.latency
    assert latency is not None
    histogram = None
    if latency.prometheus is not None:
        h = latency.prometheus
        histogram = PrometheusHistogram(h.histogram.removesuffix("_bucket"), h.selector, h.le or _le(latency.threshold))
    return SLI("latency", prometheus=PrometheusSLI(histogram=histogram) if histogram else None,
               cloudwatch=_cloudwatch_part(latency.cloudwatch, "latency", latency.threshold, file,
                                           f"{base}.latency.cloudwatch"),
               latency_threshold_seconds=latency.threshold)


def _le(seconds: float) -> str:
    """The `le` label of a bucket bound as Go clients spell it (0.3 -> `0.3`, 1.0 -> `1`)."""
    return f"{seconds:g}"


def load_native(document: dict[str, Any], file: str) -> list[tuple[SLO, FieldLocator]]:
    """Native document -> SLOs, each with the locator of its fields in the file."""
    try:
        spec = NativeFile.model_validate(document)
    except ValidationError as exc:
        raise spec_error_from(exc, file) from None
    results = []
    for index, slo_spec in enumerate(spec.slos):
        base = f"slos[{index}]"
        window = slo_spec.window or spec.window or DEFAULT_WINDOW
        window_path = f"{base}.window" if slo_spec.window else ("window" if spec.window else f"{base}.objective")
        if slo_spec.tiers is not None:
            tiers, tiers_path = tuple(t.to_tier(window) for t in slo_spec.tiers), f"{base}.tiers"
        elif spec.tiers is not None:
            tiers, tiers_path = tuple(t.to_tier(window) for t in spec.tiers), "tiers"
        else:
            # Default tiers have no place in the file: point at the objective, the usual fix.
            tiers, tiers_path = DEFAULT_TIERS, f"{base}.objective"
        slo = SLO(
            service=spec.service,
            name=slo_spec.name,
            objective=slo_spec.objective,
            sli=_sli(slo_spec.sli, file, f"{base}.sli"),
            window=window,
            tiers=tiers,
            description=slo_spec.description,
            sla=slo_spec.sla,
            labels={**spec.labels, **slo_spec.labels},
            runbook_url=slo_spec.runbook_url or spec.runbook_url,
            source=file,
        )
        fields = {"service": "service", "name": f"{base}.name", "objective": f"{base}.objective",
                  "sla": f"{base}.sla", "labels": f"{base}.labels",
                  "sli.prometheus": f"{base}.sli.{slo.sli.kind}.prometheus"}
        opaque = {"window": window_path}
        if tiers_path.endswith("tiers"):
            fields["tiers"] = tiers_path
        else:
            opaque["tiers"] = tiers_path
        locator = FieldLocator(default=base, fields=fields, opaque=opaque)
        results.append((slo, locator))
    return results
