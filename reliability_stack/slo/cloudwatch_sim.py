"""Detection and reset times of the CloudWatch alarms an SLO compiles to, by simulation.

The alarms come from `cloudwatch_alarms.build_slo_alarms` (the very dicts the `SloAlarms`
component declares) and run through `alarm_eval` on synthetic steady traffic, so the
figures `relstack slo explain` prints are what CloudWatch's semantics give (one-minute
evaluations, period = window, the low-traffic guard), next to the Workbook's exact
formulas in `budget`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from reliability_stack import alarm_eval
from reliability_stack.alarm_eval import MetricData, MetricKey, Observations
from reliability_stack.slo.cloudwatch_alarms import (
    AlarmOptions,
    build_slo_alarms,
    fill_dimensions,
)
from reliability_stack.slo.model import SLO, BurnRateTier, CloudWatchSLI, MetricRef

STEP = 60
#: Requests per minute of the synthetic steady traffic: far above any low-traffic guard.
REQUESTS_PER_STEP = 1000.0


def simulation_dimension_values(slo: SLO) -> dict[str, str]:
    """Stand-in values for every dimension placeholder of the SLO (`{load_balancer}` -> `sim-load_balancer`)."""
    sli = slo.sli.cloudwatch
    names = {name for ref in sli.metrics for name in ref.placeholders} if sli else set()
    return {name: f"sim-{name}" for name in names}


def _key(ref: MetricRef, dimension_values: Mapping[str, Any]) -> MetricKey:
    return MetricKey.of(ref.namespace, ref.metric_name, fill_dimensions(ref, dimension_values))


def synthetic_traffic(sli: CloudWatchSLI, error_ratio: Sequence[float] | np.ndarray,
                      dimension_values: Mapping[str, Any], *,
                      requests_per_step: float | Sequence[float] | np.ndarray = REQUESTS_PER_STEP) -> dict[
                          MetricKey, Observations]:
    """Metric data for an SLI: `requests_per_step` requests per step, `error_ratio[i]` of them bad.

    Shaped like what AWS publishes: the first `bad` metric carries the errors and is missing
    (not 0) in steps without errors, like an ALB's HTTPCode_*_5XX_Count; other bad metrics
    never publish; `total` metrics publish every step. A latency SLI gets a response-time
    distribution with the bad share at twice the threshold and the rest at half of it.
    """
    ratio = np.asarray(error_ratio, dtype=float)
    requests = np.broadcast_to(np.asarray(requests_per_step, dtype=float), ratio.shape)
    bad = ratio * requests
    data: dict[MetricKey, Observations] = {}
    if sli.latency is not None:
        threshold = sli.latency.threshold_seconds
        data[_key(sli.latency.metric, dimension_values)] = Observations.samples(
            [threshold / 2, threshold * 2], np.stack([requests - bad, bad], axis=1))
        return data
    for ref in sli.total:
        data[_key(ref, dimension_values)] = Observations.counts(requests)
    if sli.bad:
        data[_key(sli.bad[0], dimension_values)] = Observations.counts(np.where(bad > 0, bad, np.nan))
    for ref in sli.good:
        data[_key(ref, dimension_values)] = Observations.counts(requests - bad)
    return data


@dataclass(frozen=True)
class IncidentResult:
    """What one simulated incident did to one tier's composite alarm (seconds)."""

    detection: float | None
    """From the start of the incident to the composite's first ALARM, or None."""
    reset: float | None
    """From the end of the incident to the composite's return to OK, or None."""
    budget_consumed_at_detection: float | None
    """Share of the SLO window's budget the incident had spent when the alarm fired."""


def simulate_incident(slo: SLO, tier: BurnRateTier, *, error_ratio: float = 1.0,
                      incident_seconds: int | None = None, options: AlarmOptions | None = None) -> IncidentResult:
    """Run steady traffic, then `error_ratio` errors for `incident_seconds`, then recovery.

    Healthy history fills the long window first, so the windows start at 0 errors. The
    incident lasts a long window by default (it saturates both windows, as the Workbook's
    reset time assumes); recovery runs a long window plus a step, enough for any reset.
    Raises ValueError when the SLO has no CloudWatch SLI or the tier is not in it.
    """
    sli = slo.sli.cloudwatch
    if sli is None:
        raise ValueError(f"SLO {slo.id} has no cloudwatch SLI")
    dimension_values = simulation_dimension_values(slo)
    alarm_set = build_slo_alarms(slo, dimension_values=dimension_values,
                                 options=options or AlarmOptions(suppress_slower_tiers=False))
    matching = [t for t in alarm_set.tiers if t.requested == tier or t.tier == tier]
    if not matching:
        raise ValueError(f"tier {tier.name} has no CloudWatch alarms for SLO {slo.id} (unreachable?)")
    tier_alarms = matching[0]
    expressed = tier_alarms.tier
    history = _steps(expressed.long_window)
    incident = _steps(incident_seconds if incident_seconds is not None else expressed.long_window)
    recovery = _steps(expressed.long_window) + 1
    ratios = np.concatenate([np.zeros(history), np.full(incident, error_ratio), np.zeros(recovery)])
    data: MetricData = synthetic_traffic(sli, ratios, dimension_values)
    result = alarm_eval.evaluate_alarm_set(tier_alarms.alarms, data, step=STEP, length=len(ratios))
    composite = result.histories[tier_alarms.composite["alarmName"]]
    start = history * STEP
    end = (history + incident) * STEP
    fired = composite.first(alarm_eval.ALARM, after=start)
    detection = None if fired is None else fired - start
    reset = None
    if fired is not None:
        cleared = composite.first(alarm_eval.OK, after=max(end, fired))
        reset = None if cleared is None else cleared - end
    consumed = None
    if detection is not None:
        spent_seconds = min(detection, end - start)
        consumed = error_ratio * spent_seconds / (slo.error_budget_ratio * slo.window)
    return IncidentResult(detection, reset, consumed)


def _steps(seconds: int) -> int:
    return -(-int(seconds) // STEP)


def simulated_detection_and_reset(slo: SLO, tier: BurnRateTier) -> tuple[float | None, float | None]:
    """Seconds a 100 % outage takes to fire the tier's composite alarm, and to reset it after recovery.

    (None, None) when the tier never fires (or has no CloudWatch alarms).
    """
    try:
        result = simulate_incident(slo, tier)
    except ValueError:
        return None, None
    return result.detection, result.reset
