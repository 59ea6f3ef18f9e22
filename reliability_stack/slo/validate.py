"""Semantic validation of loaded SLOs, the same for every spec format.

Goes beyond Sloth: besides the objective range, names, label keys and `{{.window}}`, it
rejects tiers that can never fire (burn x (1 - objective) >= 1, Sloth issue #341), short
windows not shorter than long ones, SLA targets stricter than the SLO, and windows other
than 7, 28 or 30 days; it warns when a short window is far from 1/12 of its long window
and when a tier must be adapted for CloudWatch (see `adapt_tier_for_cloudwatch`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace

from reliability_stack.errors import SpecError
from reliability_stack.slo import budget
from reliability_stack.slo.durations import format_duration
from reliability_stack.slo.model import (
    SLO,
    SUPPORTED_WINDOWS,
    WINDOW_PLACEHOLDER,
    BurnRateTier,
)
from reliability_stack.slo.prometheus import WINDOW_TEMPLATE

#: Sloth's name rule: also keeps names usable as label values and resource name parts.
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][-A-Za-z0-9_.]*[A-Za-z0-9]$")
LABEL_KEY_PATTERN = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
#: Labels the compiler sets itself; a spec may not override them.
RESERVED_LABELS = frozenset({"slo", "service", "severity", "long", "short", "burn_tier", "window_pair",
                             "exhaustion", "budget_consumed", "slo_id"})

Locate = Callable[[str], str]

#: Above this share of the budget spent before a tier fires, the tier is too late to help.
MAX_BUDGET_AT_FIRE = 0.25

# CloudWatch alarm limits (PutMetricAlarm): Period is 10, 20, 30 s or a multiple of 60;
# Period x EvaluationPeriods <= 1 day when Period < 1 h, else <= 7 days.
CLOUDWATCH_HIGH_RES_PERIODS = (10, 20, 30)
CLOUDWATCH_MAX_SPAN_SHORT_PERIOD = 86400
CLOUDWATCH_MAX_SPAN = 7 * 86400


def validate_slo(slo: SLO, where: Locate, file: str) -> list[str]:
    """Raise SpecError (naming `file` and the spec field) for an invalid SLO; return warnings."""
    warnings: list[str] = []

    def fail(key: str, message: str) -> SpecError:
        return SpecError(message, file=file, field=where(key))

    for key, value in (("service", slo.service), ("name", slo.name)):
        if not NAME_PATTERN.match(value):
            raise fail(key, f"{key} {value!r} must match {NAME_PATTERN.pattern} "
                            "(letters, digits, '-', '_', '.'; starting and ending alphanumeric)")
    if not 0.0 < slo.objective < 100.0:
        raise fail("objective", f"objective must be in (0, 100) percent, got {slo.objective:g}")
    if slo.window % 86400:
        raise fail("window", f"window {format_duration(slo.window)} is not a whole number of days")
    if slo.window not in SUPPORTED_WINDOWS:
        allowed = ", ".join(format_duration(w) for w in SUPPORTED_WINDOWS)
        raise fail("window", f"window {format_duration(slo.window)} is not supported (rolling {allowed})")
    if slo.sla is not None:
        if not 0.0 < slo.sla < 100.0:
            raise fail("sla", f"sla must be in (0, 100) percent, got {slo.sla:g}")
        if slo.sla > slo.objective:
            raise fail("sla", f"SLA {slo.sla:g}% is stricter than the SLO {slo.objective:g}%: the internal "
                              "objective must be the stricter promise, or the SLA is breached before any SLO alert")
    _check_labels(slo.labels, "labels", fail)
    if not slo.tiers:
        raise fail("tiers", "at least one burn-rate tier is needed")
    for index, tier in enumerate(slo.tiers):
        warnings.extend(_check_tier(slo, index, tier, fail))
    _check_distinct_tiers(slo.tiers, fail)
    _check_prometheus(slo, fail)
    if slo.sli.prometheus is None and slo.sli.cloudwatch is None:
        warnings.append(f"{slo.id}: the SLI declares neither a prometheus nor a cloudwatch part; "
                        "no backend will alert on it")
    if slo.sli.cloudwatch is not None:
        for tier in slo.tiers:
            _, warning = adapt_tier_for_cloudwatch(tier)
            if warning:
                warnings.append(f"{slo.id}: {warning}")
    return warnings


def _check_tier(slo: SLO, index: int, tier: BurnRateTier, fail: Callable[[str, str], SpecError]) -> list[str]:
    key = f"tiers[{index}]"
    if not tier.burn_rate > 0 or not math.isfinite(tier.burn_rate):
        raise fail(f"{key}.burn_rate", f"burn rate must be a positive number, got {tier.burn_rate}")
    if tier.short_window >= tier.long_window:
        raise fail(f"{key}.short", f"short window {tier.short} must be shorter than the long window {tier.long}")
    if tier.long_window > slo.window:
        raise fail(f"{key}.long", f"long window {tier.long} is longer than the SLO window {slo.window_label}")
    if not budget.is_reachable(tier, slo.objective):
        limit = budget.threshold(tier, slo.objective)
        max_burn = 1.0 / slo.error_budget_ratio
        min_objective = 100.0 * (1.0 - 1.0 / tier.burn_rate)
        raise fail(f"{key}.burn_rate",
                   f"tier {tier.name} ({tier.burn_rate:g}x over {tier.long}/{tier.short}) can never fire at objective "
                   f"{slo.objective:g}%: it needs an error ratio above {limit:.4g} (more than 100% of requests "
                   f"failing); use a burn rate below {max_burn:.4g} or an objective above {min_objective:.4g}%")
    ratio = tier.long_window / tier.short_window
    warnings = []
    spent = budget.budget_consumed(tier, slo.window)
    if spent > MAX_BUDGET_AT_FIRE:
        warnings.append(f"{slo.id}: tier {tier.name} spends {spent:.0%} of the {slo.window_label} budget before it "
                        f"fires (the SRE Workbook's tiers spend 2-10%); lower its burn rate or long window")
    if not 8.0 <= ratio <= 16.0:
        warnings.append(f"{slo.id}: tier {tier.name}: short window {tier.short} is 1/{ratio:.3g} of the long "
                        f"window {tier.long}; the SRE Workbook suggests about 1/12 (a longer short window "
                        "delays reset, a shorter one lets a single spike page)")
    return warnings


def _check_distinct_tiers(tiers: Iterable[BurnRateTier], fail: Callable[[str, str], SpecError]) -> None:
    seen: set[str] = set()
    for index, tier in enumerate(tiers):
        if tier.name in seen:
            raise fail(f"tiers[{index}]", f"two tiers share severity and long window ({tier.name}); "
                                          "each tier needs its own long window")
        seen.add(tier.name)


def _check_labels(labels: dict[str, str], key: str, fail: Callable[[str, str], SpecError]) -> None:
    for name, value in labels.items():
        if not LABEL_KEY_PATTERN.match(name) or name.startswith("__"):
            raise fail(f"{key}.{name}", f"invalid label name {name!r} (Prometheus label names are letters, "
                                        "digits and '_', not starting with a digit or '__')")
        if name in RESERVED_LABELS:
            raise fail(f"{key}.{name}", f"label {name!r} is set by the compiler and cannot be overridden")
        if not str(value):
            raise fail(f"{key}.{name}", "label values must not be empty")


def _check_prometheus(slo: SLO, fail: Callable[[str, str], SpecError]) -> None:
    part = slo.sli.prometheus
    if part is None:
        return
    queries = {"error_query": part.error_query, "good_query": part.good_query,
               "total_query": part.total_query, "error_ratio_query": part.error_ratio_query}
    for key, query in queries.items():
        if query is not None and not WINDOW_TEMPLATE.search(query):
            raise fail(f"sli.prometheus.{key}", f"query must contain {WINDOW_PLACEHOLDER} where the range goes, "
                                                "e.g. rate(http_requests_total[{{.window}}])")
    for numerator in ("error_query", "good_query"):
        if queries[numerator] is not None and _normalise(queries[numerator]) == _normalise(part.total_query):
            raise fail(f"sli.prometheus.{numerator}", f"{numerator} and total_query are the same query; "
                                                      "the ratio would always be 1")
    if part.histogram is not None:
        histogram = part.histogram
        if not re.fullmatch(r"[a-zA-Z_:][a-zA-Z0-9_:]*", histogram.metric):
            raise fail("sli.prometheus.histogram", f"invalid metric name {histogram.metric!r}")
        threshold = slo.sli.latency_threshold_seconds
        try:
            bound = float(histogram.le)
        except ValueError:
            raise fail("sli.prometheus.le", f"le {histogram.le!r} is not a number") from None
        if threshold is not None and not math.isclose(bound, threshold, rel_tol=1e-9):
            raise fail("sli.prometheus.le", f"bucket le={histogram.le} does not match the latency threshold "
                                             f"{threshold:g}s; the SLI would count the wrong requests as fast")


def _normalise(query: str | None) -> str:
    return re.sub(r"\s+", "", query or "")


def check_unique(slos: Sequence[tuple[SLO, Locate]], file: str) -> None:
    """Reject two SLOs with the same service and name in one file."""
    seen: set[tuple[str, str]] = set()
    for slo, where in slos:
        key = (slo.service, slo.name)
        if key in seen:
            raise SpecError(f"duplicate SLO {slo.name!r} of service {slo.service!r}", file=file, field=where("name"))
        seen.add(key)


def _valid_period(seconds: int, high_resolution: bool) -> bool:
    if seconds in CLOUDWATCH_HIGH_RES_PERIODS:
        return high_resolution
    return seconds >= 60 and seconds % 60 == 0


def _nearest_period(seconds: int, high_resolution: bool) -> int:
    candidates = [60 * max(1, math.floor(seconds / 60)), 60 * max(1, math.ceil(seconds / 60))]
    if high_resolution:
        candidates += list(CLOUDWATCH_HIGH_RES_PERIODS)
    return min(candidates, key=lambda p: (abs(p - seconds), p))


def cloudwatch_window_valid(seconds: int, *, evaluation_periods: int = 1, high_resolution: bool = False) -> bool:
    """Whether a window of `seconds`, split into `evaluation_periods` equal periods, is a legal alarm."""
    if seconds % evaluation_periods:
        return False
    period = seconds // evaluation_periods
    limit = CLOUDWATCH_MAX_SPAN if period >= 3600 else CLOUDWATCH_MAX_SPAN_SHORT_PERIOD
    return _valid_period(period, high_resolution) and seconds <= limit


def _adapt_window(seconds: int, evaluation_periods: int, high_resolution: bool) -> int:
    period = _nearest_period(max(1, round(seconds / evaluation_periods)), high_resolution)
    span = period * evaluation_periods
    if period < 3600 and span > CLOUDWATCH_MAX_SPAN_SHORT_PERIOD:
        period = max(60, (CLOUDWATCH_MAX_SPAN_SHORT_PERIOD // evaluation_periods) // 60 * 60)
    elif span > CLOUDWATCH_MAX_SPAN:
        period = (CLOUDWATCH_MAX_SPAN // evaluation_periods) // 60 * 60
    return period * evaluation_periods


def adapt_tier_for_cloudwatch(tier: BurnRateTier, *, evaluation_periods: int = 1,
                              high_resolution: bool = False) -> tuple[BurnRateTier, str | None]:
    """The nearest tier CloudWatch alarms can express, and a warning if it differs.

    Each window becomes one alarm of `evaluation_periods` periods (1 by default: the period
    is the window, a Sum over it). A period must be 10, 20 or 30 s (high-resolution metrics
    only) or a multiple of 60 s, and period x evaluation periods may not exceed 1 day when
    the period is under 1 h, or 7 days otherwise. Windows are snapped to the nearest legal
    value (clamped to the limit); the burn rate is kept, so the threshold does not move.
    If snapping makes the short window reach the long one, the short window is set to the
    largest legal value below it.
    """
    long_window = tier.long_window
    short_window = tier.short_window
    if not cloudwatch_window_valid(long_window, evaluation_periods=evaluation_periods,
                                   high_resolution=high_resolution):
        long_window = _adapt_window(long_window, evaluation_periods, high_resolution)
    if not cloudwatch_window_valid(short_window, evaluation_periods=evaluation_periods,
                                   high_resolution=high_resolution):
        short_window = _adapt_window(short_window, evaluation_periods, high_resolution)
    if short_window >= long_window:
        step = 60 * evaluation_periods
        short_window = max(step, (long_window - 1) // step * step)
    if (long_window, short_window) == (tier.long_window, tier.short_window):
        return tier, None
    adapted = replace(tier, long_window=long_window, short_window=short_window)
    return adapted, (f"tier {tier.name} ({tier.burn_rate:g}x over {tier.long}/{tier.short}) cannot be expressed as "
                     f"CloudWatch alarms (period 10/20/30 s or a multiple of 60 s; period x evaluation periods "
                     f"<= 1 d below 1 h periods, <= 7 d otherwise); using {adapted.window_pair} instead")
