"""Measuring a stack's SLOs against CloudWatch: find the metrics, read them, evaluate.

The SLO spec names metrics with placeholders (`{load_balancer}`, `{target_group}`); the
live values come from the stack's tagged load balancers and target groups in each of its
regions, so a two-region prod SLI sums both regions' events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from reliability_stack.config import StackConfig
from reliability_stack.errors import InputError
from reliability_stack.runtime import tagged_resources
from reliability_stack.runtime.aws_clients import AwsClients
from reliability_stack.runtime.budget_status import SloStatus, evaluate, series_spans, unmeasured
from reliability_stack.runtime.cloudwatch_events import MetricTarget, fetch_event_series, floor_time
from reliability_stack.slo.model import SLO

#: Series end on a five-minute boundary: CloudWatch rounds start times older than 15 days to
#: five minutes, and aligned requests are answered faster.
ALIGNMENT = 300
KNOWN_PLACEHOLDERS = ("load_balancer", "target_group")


@dataclass(frozen=True)
class Measured:
    """One SLO with its status and where it was measured."""

    slo: SLO
    status: SloStatus
    targets: tuple[MetricTarget, ...]


def metric_targets(clients: AwsClients, config: StackConfig, slo: SLO) -> list[MetricTarget]:
    """Where the SLO's CloudWatch metrics live: one target per region and load balancer (or target group)."""
    sli = slo.sli.cloudwatch
    if sli is None:
        return []
    placeholders = {name for ref in sli.metrics for name in ref.placeholders}
    unknown = sorted(placeholders - set(KNOWN_PLACEHOLDERS))
    if unknown:
        raise InputError(f"unknown dimension placeholder {{{unknown[0]}}} (known: load_balancer, target_group)",
                         file=slo.source or None, field=f"{slo.name}.sli.cloudwatch")
    targets: list[MetricTarget] = []
    for region in config.regions:
        if "target_group" in placeholders:
            balancers = {lb.arn: lb for lb in tagged_resources.load_balancers(clients, region, config.stack,
                                                                               slo.service)}
            for group in tagged_resources.target_groups(clients, region, config.stack, slo.service):
                for lb_arn in group.description.get("LoadBalancerArns", []):
                    if lb_arn in balancers:
                        targets.append(MetricTarget(region, {
                            "target_group": tagged_resources.dimension_value(group),
                            "load_balancer": tagged_resources.dimension_value(balancers[lb_arn]),
                        }, label=f"{region}/{group.name}"))
        elif "load_balancer" in placeholders:
            for balancer in tagged_resources.load_balancers(clients, region, config.stack, slo.service):
                targets.append(MetricTarget(region, {"load_balancer": tagged_resources.dimension_value(balancer)},
                                            label=f"{region}/{balancer.name}"))
        else:
            targets.append(MetricTarget(region, {}, label=region))
    return targets


def measure_slo(clients: AwsClients, config: StackConfig, slo: SLO, *, now: datetime | None = None) -> Measured:
    """Read the SLO's events over every window it needs and evaluate its status."""
    sli = slo.sli.cloudwatch
    if sli is None:
        return Measured(slo, unmeasured(slo, "the SLO has no CloudWatch SLI (Prometheus only)"), ())
    targets = metric_targets(clients, config, slo)
    if not targets:
        what = "target group" if any("target_group" in ref.placeholders for ref in sli.metrics) else "load balancer"
        reason = (f"no {what} tagged {tagged_resources.TAG_STACK}={config.stack}, "
                  f"{tagged_resources.TAG_SERVICE}={slo.service} in {', '.join(config.regions)}")
        return Measured(slo, unmeasured(slo, reason), ())
    end = floor_time(now or datetime.now(UTC), ALIGNMENT)
    series = {period: fetch_event_series(clients, sli, targets, end=end, span=span, period=period)
              for period, span in series_spans(slo).items()}
    return Measured(slo, evaluate(slo, series, min_events=sli.min_events), tuple(targets))
