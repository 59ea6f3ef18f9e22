"""OpenSLO v1 (`apiVersion: openslo/v1`): `kind: SLO` with an inline `indicator` or an
`indicatorRef` to a `kind: SLI` document of the same file.

Supported: `ratioMetric` (good or bad over total, counters), `thresholdMetric` for latency
(a Prometheus histogram or a CloudWatch metric compared with the objective's `op`/`value`),
rolling windows of 7, 28 or 30 days, `Occurrences` budgeting, one or more objectives (each
becomes an SLO named `<metadata.name>-<objective name>` when there are several).

OpenSLO's AlertPolicy has a single lookback window, so multi-window tiers and the rest of
what OpenSLO cannot say ride on annotations with our own prefix (`openslo.com/` is reserved):

- `reliability-stack.dev/tiers`: `page 14.4x 1h/5m, page 6x 6h/30m, ticket 1x 3d/6h`
- `reliability-stack.dev/service`, `.../slo-name` (defaults: `spec.service` and `metadata.name`
  without a leading `<service>-`), `.../sla`, `.../runbook-url`, `.../cloudwatch-source: alb`,
  `.../min-events`.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import ConfigDict, Field, ValidationError, model_validator

from reliability_stack.errors import SpecError
from reliability_stack.slo.durations import parse_duration
from reliability_stack.slo.model import (
    SLI,
    SLO,
    BurnRateTier,
    CloudWatchLatency,
    CloudWatchSLI,
    MetricRef,
    PrometheusHistogram,
    PrometheusSLI,
    SLIKind,
)
from reliability_stack.slo.parsing import (
    FieldLocator,
    SpecModel,
    exactly_one_of,
    require_exactly_one,
    spec_error_from,
)
from reliability_stack.validation_errors import field_path

PREFIX = "reliability-stack.dev/"
TIERS_ANNOTATION = PREFIX + "tiers"
_TIER_TEXT = re.compile(r"^\s*(page|ticket)\s+(\d+(?:\.\d+)?)x\s+(\w+)\s*/\s*(\w+)\s*$")
_SELECTOR = re.compile(r"^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?:\{(.*)\})?\s*$", re.S)


class _Open(SpecModel):
    # OpenSLO objects carry display fields we do not need; unknown keys are tolerated there.
    model_config = ConfigDict(extra="ignore", frozen=True)


class Metadata(_Open):
    name: str = Field(pattern=r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
    displayName: str | None = None
    labels: dict[str, Any] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)


class MetricSource(SpecModel):
    metricSourceRef: str | None = None
    type: str
    spec: dict[str, Any]


class MetricSpec(SpecModel):
    metricSource: MetricSource


class RatioMetric(SpecModel):
    counter: bool = True
    good: MetricSpec | None = None
    bad: MetricSpec | None = None
    total: MetricSpec
    rawType: str | None = None
    raw: MetricSpec | None = None

    @model_validator(mode="after")
    def _good_or_bad(self) -> RatioMetric:
        require_exactly_one(self, "good", "bad")
        if not self.counter:
            raise ValueError("only counter ratio metrics are supported (counter: true)")
        return self


class IndicatorSpec(SpecModel):
    description: str = ""
    ratioMetric: RatioMetric | None = None
    thresholdMetric: MetricSpec | None = None

    _one = exactly_one_of("ratioMetric", "thresholdMetric")


class Indicator(SpecModel):
    metadata: Metadata | None = None
    spec: IndicatorSpec


class Rolling(SpecModel):
    duration: str
    isRolling: bool = False
    calendar: dict[str, Any] | None = None


class Objective(_Open):
    displayName: str | None = None
    name: str | None = None
    op: Literal["lt", "lte", "gt", "gte"] | None = None
    value: float | None = None
    target: float | None = Field(default=None, ge=0, lt=1)
    targetPercent: float | None = Field(default=None, ge=0, lt=100)
    timeSliceTarget: float | None = None
    timeSliceWindow: str | None = None

    _target = exactly_one_of("target", "targetPercent")

    @property
    def percent(self) -> float:
        return self.targetPercent if self.targetPercent is not None else round((self.target or 0.0) * 100, 10)


class SLOSpec(_Open):
    description: str = ""
    service: str
    indicator: Indicator | None = None
    indicatorRef: str | None = None
    timeWindow: list[Rolling] = Field(min_length=1, max_length=1)
    budgetingMethod: Literal["Occurrences", "Timeslices", "RatioTimeslices"]
    objectives: list[Objective] = Field(min_length=1)
    alertPolicies: list[Any] = Field(default_factory=list)

    _indicator = exactly_one_of("indicator", "indicatorRef")


class SLODocument(_Open):
    apiVersion: Literal["openslo/v1"]
    kind: Literal["SLO"]
    metadata: Metadata
    spec: SLOSpec


class SLIDocument(_Open):
    apiVersion: Literal["openslo/v1"]
    kind: Literal["SLI"]
    metadata: Metadata
    spec: IndicatorSpec


def _doc_prefix(index: int, count: int) -> str:
    return f"documents[{index}]" if count > 1 else ""


def _at(prefix: str, path: str) -> str:
    return f"{prefix}.{path}" if prefix else path


def load_openslo(documents: list[dict[str, Any]], file: str) -> tuple[list[tuple[SLO, FieldLocator]], list[str]]:
    """OpenSLO documents -> SLOs with locators, and warnings for objects that are ignored."""
    warnings: list[str] = []
    indicators: dict[str, tuple[IndicatorSpec, str]] = {}
    slo_docs: list[tuple[SLODocument, str]] = []
    for index, document in enumerate(documents):
        prefix = _doc_prefix(index, len(documents))
        kind = document.get("kind")
        if document.get("apiVersion") != "openslo/v1":
            raise SpecError(f"expected apiVersion openslo/v1, got {document.get('apiVersion')!r}",
                            file=file, field=_at(prefix, "apiVersion"))
        try:
            if kind == "SLI":
                sli_doc = SLIDocument.model_validate(document)
                indicators[sli_doc.metadata.name] = (sli_doc.spec, _at(prefix, "spec"))
            elif kind == "SLO":
                slo_docs.append((SLODocument.model_validate(document), prefix))
            elif kind in {"Service", "DataSource", "AlertPolicy", "AlertCondition", "AlertNotificationTarget"}:
                warnings.append(f"{file}: {_at(prefix, 'kind')}: OpenSLO {kind} objects are not used; "
                                f"tiers come from the {TIERS_ANNOTATION} annotation")
            else:
                raise SpecError(f"unsupported OpenSLO kind {kind!r} (SLO, SLI)", file=file, field=_at(prefix, "kind"))
        except ValidationError as exc:
            raise spec_error_from(exc, file, prefix) from None
    if not slo_docs:
        raise SpecError("no kind: SLO document", file=file, field="kind")
    results: list[tuple[SLO, FieldLocator]] = []
    for slo_doc, prefix in slo_docs:
        if slo_doc.spec.alertPolicies:
            warnings.append(f"{file}: {_at(prefix, 'spec.alertPolicies')}: OpenSLO alert policies have a single "
                            f"lookback window and are not used; tiers come from the {TIERS_ANNOTATION} annotation")
        results.extend(_slos_of(slo_doc, prefix, indicators, file))
    return results, warnings


def _slos_of(doc: SLODocument, prefix: str, indicators: dict[str, tuple[IndicatorSpec, str]],
             file: str) -> list[tuple[SLO, FieldLocator]]:
    spec = doc.spec
    notes = doc.metadata.annotations

    def where(path: str) -> str:
        return _at(prefix, path)

    if spec.budgetingMethod != "Occurrences":
        raise SpecError(f"budgetingMethod {spec.budgetingMethod} is not supported; burn-rate alerting "
                        "here counts events (Occurrences)", file=file, field=where("spec.budgetingMethod"))
    window_spec = spec.timeWindow[0]
    if not window_spec.isRolling or window_spec.calendar is not None:
        raise SpecError("only rolling windows are supported (isRolling: true)", file=file,
                        field=where("spec.timeWindow[0].isRolling"))
    try:
        window = parse_duration(window_spec.duration)
    except ValueError as exc:
        raise SpecError(str(exc), file=file, field=where("spec.timeWindow[0].duration")) from None
    if spec.indicator is not None:
        indicator, indicator_path = spec.indicator.spec, where("spec.indicator.spec")
    else:
        ref = spec.indicatorRef or ""
        if ref not in indicators:
            raise SpecError(f"indicatorRef {ref!r} names no kind: SLI document in this file",
                            file=file, field=where("spec.indicatorRef"))
        indicator, indicator_path = indicators[ref]

    service = notes.get(PREFIX + "service", spec.service)
    base_name = notes.get(PREFIX + "slo-name") or doc.metadata.name.removeprefix(f"{service}-")
    tiers_path = where(f"metadata.annotations.{TIERS_ANNOTATION}")
    tiers = _tiers(notes.get(TIERS_ANNOTATION), file, tiers_path)
    sla = _number_annotation(notes, "sla", file, where)
    min_events = _number_annotation(notes, "min-events", file, where)
    results = []
    for index, objective in enumerate(spec.objectives):
        objective_path = where(f"spec.objectives[{index}]")
        if len(spec.objectives) > 1:
            suffix = objective.name or objective.displayName
            if not suffix:
                raise SpecError("with several objectives each needs a name", file=file, field=objective_path)
            name = f"{base_name}-{re.sub(r'[^A-Za-z0-9_.-]+', '-', suffix).strip('-')}"
        else:
            name = base_name
        sli = _sli(indicator, objective, notes, min_events, file, indicator_path, objective_path)
        slo = SLO(
            service=service, name=name, objective=objective.percent, sli=sli, window=window,
            description=spec.description, sla=sla,
            labels={k: str(v) for k, v in doc.metadata.labels.items() if isinstance(v, str | int | float)},
            runbook_url=notes.get(PREFIX + "runbook-url"), source=file,
            **({"tiers": tiers} if tiers is not None else {}),
        )
        target_key = "targetPercent" if objective.targetPercent is not None else "target"
        opaque = {"window": where("spec.timeWindow[0].duration"), "sla": where(f"metadata.annotations.{PREFIX}sla"),
                  "tiers": tiers_path if tiers is not None else f"{objective_path}.{target_key}",
                  "service": where("spec.service"), "name": where("metadata.name")}
        query = "metricSource.spec.query"
        opaque.update({
            "sli.prometheus.error_query": f"{indicator_path}.ratioMetric.bad.{query}",
            "sli.prometheus.good_query": f"{indicator_path}.ratioMetric.good.{query}",
            "sli.prometheus.total_query": f"{indicator_path}.ratioMetric.total.{query}",
            "sli.prometheus.histogram": f"{indicator_path}.thresholdMetric.{query}",
            "sli.prometheus.le": f"{objective_path}.value",
        })
        locator = FieldLocator(default=where("spec"), fields={
            "objective": f"{objective_path}.{target_key}", "labels": where("metadata.labels"),
            "sli.prometheus": indicator_path}, opaque=opaque)
        results.append((slo, locator))
    return results


def _number_annotation(notes: dict[str, str], key: str, file: str, where: Any) -> float | None:
    raw = notes.get(PREFIX + key)
    if raw is None:
        return None
    try:
        return float(str(raw).rstrip("%"))
    except ValueError:
        raise SpecError(f"expected a number, got {raw!r}", file=file,
                        field=where(f"metadata.annotations.{PREFIX}{key}")) from None


def _tiers(text: str | None, file: str, path: str) -> tuple[BurnRateTier, ...] | None:
    """`page 14.4x 1h/5m, page 6x 6h/30m, ticket 1x 3d/6h` -> tiers (None: use the defaults)."""
    if text is None:
        return None
    tiers = []
    for index, part in enumerate(p for p in re.split(r"[,;\n]", text) if p.strip()):
        match = _TIER_TEXT.match(part)
        if not match:
            raise SpecError(f"tier {index + 1} {part.strip()!r} is not like 'page 14.4x 1h/5m'", file=file, field=path)
        severity, burn, long, short = match.groups()
        try:
            tiers.append(BurnRateTier(severity, parse_duration(long), parse_duration(short), float(burn)))  # type: ignore[arg-type]
        except ValueError as exc:
            raise SpecError(f"tier {index + 1}: {exc}", file=file, field=path) from None
    if not tiers:
        raise SpecError("no tiers given", file=file, field=path)
    return tuple(tiers)


def _prometheus_query(metric: MetricSpec) -> str | None:
    source = metric.metricSource
    if source.type.lower() != "prometheus":
        return None
    query = source.spec.get("query") or source.spec.get("promql")
    return str(query) if query else None


def _cloudwatch_metric(metric: MetricSpec, file: str, path: str) -> MetricRef | None:
    source = metric.metricSource
    if source.type.lower() != "cloudwatch":
        return None
    spec = source.spec
    try:
        dimensions = {str(d["name"]): str(d["value"]) for d in spec.get("dimensions", [])}
        return MetricRef(str(spec["namespace"]), str(spec["metricName"]), dimensions, str(spec.get("stat", "Sum")))
    except (KeyError, TypeError) as exc:
        raise SpecError(f"a CloudWatch metricSource needs namespace, metricName and dimensions "
                        f"[{{name, value}}] ({exc})", file=file, field=f"{path}.metricSource.spec") from None


def _sli(indicator: IndicatorSpec, objective: Objective, notes: dict[str, str], min_events: float | None,
         file: str, indicator_path: str, objective_path: str) -> SLI:
    kind: SLIKind = "availability" if indicator.ratioMetric is not None else "latency"
    alb = notes.get(PREFIX + "cloudwatch-source")
    if alb is not None and alb != "alb":
        raise SpecError(f"unknown cloudwatch-source {alb!r} (alb)", file=file,
                        field=field_path(["metadata", "annotations", PREFIX + "cloudwatch-source"]))
    if indicator.ratioMetric is not None:
        ratio = indicator.ratioMetric
        numerator = ratio.bad or ratio.good
        assert numerator is not None
        side = "bad" if ratio.bad is not None else "good"
        num_query, total_query = _prometheus_query(numerator), _prometheus_query(ratio.total)
        prometheus = None
        if num_query and total_query:
            prometheus = (PrometheusSLI(error_query=num_query, total_query=total_query) if side == "bad"
                          else PrometheusSLI(good_query=num_query, total_query=total_query))
        cloudwatch = None
        num_metric = _cloudwatch_metric(numerator, file, f"{indicator_path}.ratioMetric.{side}")
        total_metric = _cloudwatch_metric(ratio.total, file, f"{indicator_path}.ratioMetric.total")
        if num_metric and total_metric:
            cloudwatch = (CloudWatchSLI(bad=(num_metric,), total=(total_metric,), min_events=min_events)
                          if side == "bad" else
                          CloudWatchSLI(good=(num_metric,), total=(total_metric,), min_events=min_events))
        elif alb:
            cloudwatch = CloudWatchSLI.alb("availability", min_events=min_events)
        if prometheus is None and cloudwatch is None:
            raise SpecError("good/bad and total need Prometheus queries or CloudWatch metrics of the same type",
                            file=file, field=f"{indicator_path}.ratioMetric")
        return SLI(kind, prometheus=prometheus, cloudwatch=cloudwatch)

    metric = indicator.thresholdMetric
    assert metric is not None
    if objective.value is None or objective.op not in {"lt", "lte"}:
        raise SpecError("a thresholdMetric objective needs op: lte (or lt) and value: the latency in seconds",
                        file=file, field=f"{objective_path}.op")
    threshold = objective.value
    if threshold <= 0:
        raise SpecError("the latency threshold must be positive", file=file, field=f"{objective_path}.value")
    prometheus = None
    query = _prometheus_query(metric)
    if query is not None:
        match = _SELECTOR.match(query)
        if not match:
            raise SpecError("a Prometheus thresholdMetric query must be a histogram selector such as "
                            "http_request_duration_seconds_bucket{job=\"api\"}", file=file,
                            field=f"{indicator_path}.thresholdMetric.metricSource.spec.query")
        name, selector = match.group(1), (match.group(2) or "").strip()
        for suffix in ("_bucket", "_count", "_sum"):
            name = name.removesuffix(suffix)
        prometheus = PrometheusSLI(histogram=PrometheusHistogram(name, selector, f"{threshold:g}"))
    cloudwatch = None
    cw_metric = _cloudwatch_metric(metric, file, f"{indicator_path}.thresholdMetric")
    if cw_metric is not None:
        count = MetricRef(cw_metric.namespace, cw_metric.metric_name, dict(cw_metric.dimensions), "SampleCount")
        cloudwatch = CloudWatchSLI(latency=CloudWatchLatency.of(cw_metric, threshold), total=(count,),
                                   min_events=min_events)
    elif alb:
        cloudwatch = CloudWatchSLI.alb("latency", threshold, min_events=min_events)
    if prometheus is None and cloudwatch is None:
        raise SpecError("thresholdMetric needs a Prometheus or CloudWatch metricSource", file=file,
                        field=f"{indicator_path}.thresholdMetric.metricSource.type")
    return SLI(kind, prometheus=prometheus, cloudwatch=cloudwatch, latency_threshold_seconds=threshold)
