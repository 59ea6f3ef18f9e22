"""Synthetic traffic for promtool rule tests, derived from the burn math.

A scenario is a list of phases (duration, error ratio) at a steady request rate. From it we
build (1) the two counter series promtool feeds to the rules and (2) the alerts expected at
chosen check times, by evaluating the window ratios on the same samples with Prometheus
2.x range semantics (samples in [t - w, t]; rate extrapolation cancels in a ratio of two
rates over the same timestamps). The generator refuses check times where a window ratio
sits within 0.5 % of a threshold, so a passing test never hinges on float rounding.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from reliability_stack.slo import budget
from reliability_stack.slo.durations import format_duration
from reliability_stack.slo.model import SLO, BurnRateTier
from reliability_stack.slo.prometheus import (
    RULE_PREFIX,
    alert_annotations,
    alert_labels,
    alert_name,
    series_labels,
)

#: Counters start high so Prometheus never limits extrapolation at a counter's zero point.
COUNTER_START = 1_000_000
REQUESTS_PER_MINUTE = 1200
#: Minimum relative distance between a window ratio and a threshold at a check time.
MARGIN = Fraction(5, 1000)


@dataclass(frozen=True)
class Phase:
    seconds: int
    error_ratio: float


@dataclass(frozen=True)
class SeriesNames:
    """The two input counters of an SLO: `bad` + `good` (total = both) or `good` + `total`."""

    first: str
    second: str
    roles: tuple[str, str]  # ("bad", "good") or ("good", "total")


class Timeline:
    """Cumulative bad and total counts at every sample (sample k at k x interval seconds)."""

    def __init__(self, phases: list[Phase], interval: int) -> None:
        self.interval = interval
        per_sample = Fraction(REQUESTS_PER_MINUTE * interval, 60)
        bad, total = [Fraction(0)], [Fraction(0)]
        self.increments: list[tuple[Fraction, Fraction]] = []  # (bad, total) added at sample k >= 1
        for phase in phases:
            if phase.seconds % interval:
                raise ValueError("phase lengths must be whole intervals")
            ratio = Fraction(phase.error_ratio).limit_denominator(10**9)
            for _ in range(phase.seconds // interval):
                self.increments.append((per_sample * ratio, per_sample))
                bad.append(bad[-1] + per_sample * ratio)
                total.append(total[-1] + per_sample)
        self.bad, self.total = bad, total

    @property
    def samples(self) -> int:
        return len(self.total)

    def ratio(self, window: int, at: int) -> Fraction | None:
        """Error ratio over [at - window, at]; None without two samples or without traffic."""
        last = at // self.interval
        first = -(-(at - window) // self.interval)  # ceil
        first = max(first, 0)
        if last >= self.samples or last - first < 1:
            return None
        d_total = self.total[last] - self.total[first]
        if d_total == 0:
            return None
        return (self.bad[last] - self.bad[first]) / d_total

    def firing(self, slo: SLO, at: int) -> list[BurnRateTier]:
        """Tiers whose alert fires at `at` (both windows above the threshold)."""
        result = []
        for tier in slo.tiers:
            limit = Fraction(budget.threshold(tier, slo.objective)).limit_denominator(10**9)
            ratios = [self.ratio(w, at) for w in (tier.long_window, tier.short_window)]
            for r in ratios:
                if r is not None and limit > 0 and abs(r - limit) / limit < MARGIN:
                    raise ValueError(f"{tier.name} at t={at}s: window ratio {float(r):.6g} too close to "
                                     f"threshold {float(limit):.6g}; pick another check time")
            if all(r is not None and r > limit for r in ratios):
                result.append(tier)
        return result

    def first_time(self, slo: SLO, start: int, predicate: Any) -> int | None:
        """The first sample time >= start at which `predicate(firing_tiers)` holds."""
        for k in range(-(-start // self.interval), self.samples):
            at = k * self.interval
            try:
                tiers = self.firing(slo, at)
            except ValueError:
                continue
            if predicate(tiers):
                return at
        return None


    def last_time_before(self, slo: SLO, end: int, predicate: Any) -> int | None:
        """The last sample time < end at which `predicate(firing_tiers)` holds (with a safe margin)."""
        for k in range(-(-end // self.interval) - 1, -1, -1):
            at = k * self.interval
            try:
                tiers = self.firing(slo, at)
            except ValueError:
                continue
            if predicate(tiers):
                return at
        return None


def _values(cumulative: list[Fraction]) -> str:
    """promtool's expanding notation: runs of equal increments become `a+bxn`."""
    parts: list[str] = []
    index = 0
    while index < len(cumulative):
        step = cumulative[index + 1] - cumulative[index] if index + 1 < len(cumulative) else Fraction(0)
        run = 0
        while index + run + 1 < len(cumulative) and cumulative[index + run + 1] - cumulative[index + run] == step:
            run += 1
        start = COUNTER_START + cumulative[index]
        parts.append(f"{_num(start)}+{_num(step)}x{run}" if run else _num(start))
        index += run + 1
    return " ".join(parts)


def _num(value: Fraction) -> str:
    return repr(float(value)) if value.denominator != 1 else str(value.numerator)


def input_series(timeline: Timeline, names: SeriesNames) -> list[dict[str, str]]:
    good = [t - b for t, b in zip(timeline.total, timeline.bad, strict=True)]
    by_role = {"bad": timeline.bad, "good": good, "total": timeline.total}
    return [{"series": names.first, "values": _values(by_role[names.roles[0]])},
            {"series": names.second, "values": _values(by_role[names.roles[1]])}]


def expected_alerts(slo: SLO, tiers: list[BurnRateTier]) -> list[dict[str, Any]]:
    return [{"exp_labels": {**series_labels(slo), **alert_labels(slo, tier)},
             "exp_annotations": alert_annotations(slo, tier)} for tier in tiers]


def alert_check(slo: SLO, timeline: Timeline, at: int) -> dict[str, Any]:
    return {"eval_time": format_duration(at) if at else "0s", "alertname": alert_name(slo),
            "exp_alerts": expected_alerts(slo, timeline.firing(slo, at))}


def promtool_test(slo: SLO, timeline: Timeline, names: SeriesNames, checks: list[int],
                  name: str, expr_checks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    test: dict[str, Any] = {
        "name": name,
        "interval": format_duration(timeline.interval),
        "input_series": input_series(timeline, names),
        "alert_rule_test": [alert_check(slo, timeline, at) for at in sorted(set(checks))],
    }
    if expr_checks:
        test["promql_expr_test"] = expr_checks
    return test


def ratio_present_check(slo: SLO, window: int, at: int, expected: float) -> dict[str, Any]:
    """A promql_expr_test proving the recording rule of `window` exists and is within 1 % of `expected`."""
    selector = f'{{service="{slo.service}",slo="{slo.name}"}}'
    low, high = expected * 0.99, expected * 1.01
    return {"expr": f"count({RULE_PREFIX}{format_duration(window)}{selector} > {low!r} < {high!r})",
            "eval_time": format_duration(at), "exp_samples": [{"labels": "{}", "value": 1}]}
