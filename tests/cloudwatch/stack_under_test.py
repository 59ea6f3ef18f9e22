"""The program the CloudWatch behaviour tests capture, and the traffic an ALB would publish.

One ALB, AlertRouting and SloAlarms for a 99.9 % / 30 d availability SLO and a 99 % / 30 d
latency SLO (the Workbook's numbers), captured once under the mock runtime. The tests read
the alarms back from the captured resources, never from the spec.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pulumi_aws as aws

from reliability_stack.alarm_eval import MetricKey, Observations
from reliability_stack.config import AlertRouting as AlertRoutingConfig
from reliability_stack.preview.capture import CapturedResource, CapturedStack, capture_program
from reliability_stack.preview.mocks import RealisticMocks
from reliability_stack.slo.model import SLI, SLO, CloudWatchSLI

METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
COMPOSITE_ALARM = "aws:cloudwatch/compositeAlarm:CompositeAlarm"
SLO_ALARMS = "reliability-stack:slo_alarms:SloAlarms"
RUNBOOK = "https://runbooks.example.com/checkout"
DASHBOARD = "https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#dashboards/dashboard/checkout"

AVAILABILITY = SLO("checkout", "availability", 99.9, SLI("availability", cloudwatch=CloudWatchSLI.alb()),
                   window=30 * 86400, description="Requests to the checkout API succeed.")
LATENCY = SLO("checkout", "latency", 99.0, SLI("latency", cloudwatch=CloudWatchSLI.alb("latency", 0.3),
                                                latency_threshold_seconds=0.3), window=30 * 86400)
ROUTING = AlertRoutingConfig.model_validate({
    "page": [{"protocol": "email", "endpoint": "oncall@example.com"}],
    "ticket": [{"protocol": "https", "endpoint": "https://tickets.example.com/hooks/sns"}],
})


class InvokeSafeMocks(RealisticMocks):
    """RealisticMocks whose invokes return an empty failure list (pulumi 3.272 iterates it; None fails)."""

    def call(self, args: Any) -> Any:
        outputs, failures = super().call(args)
        return outputs, list(failures or [])


def program() -> None:
    from reliability_stack.components.alert_routing import AlertRouting, AlertRoutingArgs
    from reliability_stack.components.slo_alarms import SloAlarms, SloAlarmsArgs

    lb = aws.lb.LoadBalancer("checkout", load_balancer_type="application",
                             subnets=["subnet-a", "subnet-b", "subnet-c"])
    routing = AlertRouting("alerts", AlertRoutingArgs(routing=ROUTING, service="checkout", region="us-east-1"))
    SloAlarms("checkout", SloAlarmsArgs(
        slos=[AVAILABILITY, LATENCY], page_topic_arn=routing.page_topic_arn,
        ticket_topic_arn=routing.ticket_topic_arn, load_balancer_arn_suffix=lb.arn_suffix,
        dashboard_url=DASHBOARD, runbook_url=RUNBOOK, region="us-east-1"))


def capture(prog: Any = program) -> CapturedStack:
    return capture_program(prog, mocks=InvokeSafeMocks())


@dataclass
class DeclaredAlarms:
    """The alarms as the engine received them, plus what the traffic and assertions need."""

    alarms: list[dict[str, Any]]
    load_balancer_suffix: str
    page_topic: str
    ticket_topic: str

    def for_slo(self, slo_id: str) -> list[dict[str, Any]]:
        """Alarms of one SLO, picked by the `slo` tag the component sets."""
        return [a for a in self.alarms if a.get("tags", {}).get("slo") == slo_id]

    def routed_to(self, topic: str, alarms: list[dict[str, Any]] | None = None) -> list[str]:
        """Names of the alarms whose ALARM actions publish to `topic`."""
        return [a.get("alarmName") or a["name"] for a in (alarms or self.alarms) if topic in a.get("alarmActions", [])]


def declared_alarms(stack: CapturedStack) -> DeclaredAlarms:
    by_urn = {r.urn: r for r in stack.resources}
    component = next(r for r in stack.resources if r.type == SLO_ALARMS)
    alarms = [dict(r.props) for r in stack.resources
              if r.type in (METRIC_ALARM, COMPOSITE_ALARM) and r.parent == component.urn]
    lb: CapturedResource = next(r for r in stack.resources if r.type == "aws:lb/loadBalancer:LoadBalancer")
    topics = {r.name: r.outputs["arn"] for r in by_urn.values() if r.type == "aws:sns/topic:Topic"}
    return DeclaredAlarms(alarms, lb.outputs["arnSuffix"], topics["alerts-page"], topics["alerts-ticket"])


ALB = "AWS/ApplicationELB"


def alb_traffic(load_balancer: str, error_ratio: np.ndarray, requests_per_minute: float = 1000.0,
                latency_threshold: float = 0.3) -> dict[MetricKey, Observations]:
    """What an ALB publishes per minute for `error_ratio` of failing (5XX) and slow requests.

    RequestCount every minute; HTTPCode_Target_5XX_Count only in minutes with errors (an ALB
    publishes no zero datapoints); HTTPCode_ELB_5XX_Count never; TargetResponseTime as a
    distribution: the failing share at 4x the latency threshold, the rest at a fifth of it.
    """
    dims = {"LoadBalancer": load_balancer}
    requests = np.full(len(error_ratio), requests_per_minute)
    bad = requests * error_ratio
    return {
        MetricKey.of(ALB, "RequestCount", dims): Observations.counts(requests),
        MetricKey.of(ALB, "HTTPCode_Target_5XX_Count", dims): Observations.counts(np.where(bad > 0, bad, np.nan)),
        MetricKey.of(ALB, "TargetResponseTime", dims): Observations.samples(
            [latency_threshold / 5, latency_threshold * 4], np.stack([requests - bad, bad], axis=1)),
    }
