"""Monthly CloudWatch cost of the SLO monitoring that `SloAlarms` and `ServiceDashboard` declare.

Counts what `build_slo_alarms` returns (the same dicts the component declares), so the
estimate cannot drift from the alarms. Prices: AWS CloudWatch pricing page, US East
(N. Virginia), as read in 2025 (the figures had been stable since 2019); other regions
cost up to ~40 % more. The free tier (10 alarm metrics, 3 dashboards) is ignored: a stack
with SLOs on several services is past it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from reliability_stack.slo.cloudwatch_alarms import AlarmOptions, build_slo_alarms
from reliability_stack.slo.model import SLO, BurnRateTier

#: USD per alarm metric per month, standard resolution (period >= 60 s). A metric-math alarm
#: is billed per metric it reads, not per expression.
STANDARD_ALARM_METRIC_USD = 0.10
#: USD per alarm metric per month, high resolution (period 10/20/30 s).
HIGH_RESOLUTION_ALARM_METRIC_USD = 0.30
#: USD per composite alarm per month.
COMPOSITE_ALARM_USD = 0.50
#: USD per custom dashboard per month.
DASHBOARD_USD = 3.00


@dataclass(frozen=True)
class MonitoringCost:
    """Monthly cost of one SLO's alarms and its share of the service dashboard (USD)."""

    metric_alarms: int
    alarm_metrics: int
    high_resolution_alarm_metrics: int
    composite_alarms: int
    alarms_usd: float
    dashboard_usd: float

    @property
    def total_usd(self) -> float:
        return round(self.alarms_usd + self.dashboard_usd, 4)


def monitoring_cost(slo: SLO, tiers: Iterable[BurnRateTier] | None = None, *,
                    dashboard_slos: int = 1, options: AlarmOptions | None = None) -> MonitoringCost:
    """Itemised monthly cost of `slo`'s alarms (for `tiers`, default the SLO's own).

    `dashboard_slos` is how many SLOs share the service dashboard (its price is split
    evenly); 0 leaves the dashboard out. An SLO without a CloudWatch SLI costs nothing.
    """
    sli = slo.sli.cloudwatch
    if sli is None:
        return MonitoringCost(0, 0, 0, 0, 0.0, 0.0)
    if tiers is not None:
        slo = replace(slo, tiers=tuple(tiers))
    placeholders = {name for ref in sli.metrics for name in ref.placeholders}
    alarm_set = build_slo_alarms(slo, dimension_values={name: name for name in placeholders},
                                 options=options)
    standard = high = 0
    for alarm in alarm_set.metric_alarms:
        for query in alarm["metricQueries"]:
            metric = query.get("metric")
            if not metric:
                continue
            if int(metric["period"]) < 60:
                high += 1
            else:
                standard += 1
    composites = len(alarm_set.composite_alarms)
    alarms_usd = (standard * STANDARD_ALARM_METRIC_USD + high * HIGH_RESOLUTION_ALARM_METRIC_USD
                  + composites * COMPOSITE_ALARM_USD)
    dashboard_usd = DASHBOARD_USD / dashboard_slos if dashboard_slos > 0 else 0.0
    return MonitoringCost(len(alarm_set.metric_alarms), standard + high, high, composites,
                          round(alarms_usd, 4), round(dashboard_usd, 4))


def monthly_cost_usd(slo: SLO, tiers: Iterable[BurnRateTier] | None = None, *, dashboard_slos: int = 0) -> float:
    """Monthly USD of `slo`'s burn-rate alarms (plus a dashboard share if `dashboard_slos` > 0).

    99.9 % availability on an ALB with the three default tiers: 6 alarms x 3 metrics x $0.10
    + 3 composites x $0.50 = $3.30.
    """
    return monitoring_cost(slo, tiers, dashboard_slos=dashboard_slos).total_usd
