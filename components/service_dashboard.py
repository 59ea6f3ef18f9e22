"""ServiceDashboard: one CloudWatch dashboard per service, from the same SLOs as its alarms.

Golden signals of the service's load balancer (latency p50/p99, traffic, errors,
saturation), per SLO the SLI, the error budget remaining over the SLO window and the burn
rate per alert window, and the state of the SLO alarms. The body is built by
`reliability_stack.slo.cloudwatch_dashboard.dashboard_body` once the resource outputs it
names (load balancer suffix, alarm ARNs) are known.

    board = ServiceDashboard("checkout", ServiceDashboardArgs(
        service="checkout", slos=slos, region="us-east-1", load_balancer_arn_suffix=lb.arn_suffix,
        alarm_arns=alarms.composite_alarm_arns))
"""

# No `from __future__ import annotations`: the component provider reads these annotations
# at runtime to build the package schema.
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from reliability_stack.errors import ComponentArgsError
from reliability_stack.slo.cloudwatch_dashboard import dashboard_body, dashboard_url, valid_dashboard_name
from reliability_stack.slo.model import SLO

COMPONENT = "ServiceDashboard"


@dataclass
class ServiceDashboardArgs:
    """Inputs of `ServiceDashboard`."""

    service: str
    region: str
    """Region of the metrics (and of the dashboard's widgets)."""
    slos: Sequence[SLO] = ()
    load_balancer_arn_suffix: pulumi.Input[str] | None = None
    """The ALB's `arn_suffix`: golden signals and `{load_balancer}` SLI metrics."""
    target_group_arn_suffix: pulumi.Input[str] | None = None
    dimensions: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Values of any other `{placeholder}` the SLO metrics use."""
    autoscaling_group_name: pulumi.Input[str] | None = None
    """Adds the group's average CPU to the saturation graph."""
    alarm_arns: Sequence[pulumi.Input[str]] = ()
    """Alarms shown in the alarm-status widget (SloAlarms.composite_alarm_arns)."""
    dashboard_name: str | None = None
    """Default `<stack>-<service>`."""

    def name(self) -> str:
        return self.dashboard_name or f"{pulumi.get_stack()}-{self.service}"

    def validate(self) -> None:
        if not valid_dashboard_name(self.name()):
            raise ComponentArgsError(COMPONENT, "dashboard_name",
                                     f"{self.name()!r}: use letters, digits, '-' and '_' (at most 255)")
        if self.load_balancer_arn_suffix is None and not self.slos:
            raise ComponentArgsError(COMPONENT, "load_balancer_arn_suffix",
                                     "nothing to show: give the load balancer or at least one SLO")
        if len(self.alarm_arns) > 100:
            raise ComponentArgsError(COMPONENT, "alarm_arns", "an alarm-status widget shows at most 100 alarms")


class ServiceDashboard(pulumi.ComponentResource):
    """A CloudWatch dashboard: golden signals, SLIs, error budget, burn rates, alarm states."""

    dashboard_name: str
    url: str

    def __init__(self, name: str, args: ServiceDashboardArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        args.validate()
        super().__init__("reliability-stack:service_dashboard:ServiceDashboard", name, {}, opts)
        dimension_inputs: dict[str, pulumi.Input[str]] = dict(args.dimensions)
        if args.load_balancer_arn_suffix is not None:
            dimension_inputs["load_balancer"] = args.load_balancer_arn_suffix
        if args.target_group_arn_suffix is not None:
            dimension_inputs["target_group"] = args.target_group_arn_suffix
        keys = sorted(dimension_inputs)
        slos = list(args.slos)

        def render(values: list) -> str:
            dims = dict(zip(keys, values[: len(keys)], strict=True))
            rest = values[len(keys):]
            asg = rest[0]
            arns = [str(arn) for arn in rest[1:]]
            body = dashboard_body(args.service, slos, region=args.region, dimension_values=dims,
                                  alarm_arns=arns, autoscaling_group_name=asg)
            return json.dumps(body, sort_keys=True)

        body = pulumi.Output.all(*(dimension_inputs[k] for k in keys), args.autoscaling_group_name,
                                 *args.alarm_arns).apply(render)
        self.dashboard_name = args.name()
        self.url = dashboard_url(self.dashboard_name, args.region)
        dashboard = aws.cloudwatch.Dashboard(f"{name}-dashboard", dashboard_name=self.dashboard_name,
                                             dashboard_body=body, region=args.region,
                                             opts=pulumi.ResourceOptions(parent=self))
        self.dashboard_arn = dashboard.dashboard_arn
        self.register_outputs({"dashboardName": self.dashboard_name, "url": self.url,
                               "dashboardArn": self.dashboard_arn})
