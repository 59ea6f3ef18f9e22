"""The CloudWatch dashboard body of one service (pure: the `ServiceDashboard` component serialises it).

Rows: the four golden signals of the service's load balancer (latency p50/p99, traffic,
errors, saturation), then per SLO its SLI, the error budget remaining over the SLO window
and the burn rate per alerting window, then the state of the SLO alarms. The SLI and burn
graphs use the very metric math the alarms use (`cloudwatch_alarms.error_ratio_queries`),
so what the graph shows is what the alarm evaluates.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from reliability_stack.slo.cloudwatch_alarms import DEFAULT_MIN_EVENTS, error_ratio_queries, tier_order
from reliability_stack.slo.durations import format_duration
from reliability_stack.slo.model import ALB_NAMESPACE, SLO
from reliability_stack.slo.validate import adapt_tier_for_cloudwatch

WIDTH = 24
#: Resolution of the SLI graph: fine enough to see an outage start, coarse enough to be smooth.
SLI_PERIOD = 300
_DASHBOARD_NAME = re.compile(r"^[A-Za-z0-9_-]{1,255}$")


def dashboard_url(name: str, region: str) -> str:
    """Console URL of a dashboard (what the alarm descriptions link to)."""
    return f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#dashboards/dashboard/{name}"


def valid_dashboard_name(name: str) -> bool:
    """CloudWatch dashboard names: letters, digits, '-' and '_', at most 255 characters."""
    return bool(_DASHBOARD_NAME.match(name))


def _metric(namespace: str, name: str, dimensions: Mapping[str, str], **options: Any) -> list[Any]:
    entry: list[Any] = [namespace, name]
    for key, value in dimensions.items():
        entry += [key, value]
    return [*entry, options] if options else entry


def _widget(kind: str, x: int, y: int, width: int, height: int, properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": kind, "x": x, "y": y, "width": width, "height": height, "properties": properties}


def _queries_as_widget_metrics(queries: Sequence[Mapping[str, Any]], id_prefix: str,
                               label: str | None = None, final: str | None = None) -> list[list[Any]]:
    """Alarm metric queries as dashboard `metrics` entries, ids prefixed so several can share a widget.

    `final` replaces the returned expression (e.g. a burn rate from the ratio); `{ratio}` in it
    names the ratio's id.
    """
    renamed = {str(q["id"]): f"{id_prefix}{q['id']}" for q in queries}

    def rename(expression: str) -> str:
        return re.sub(r"\b[a-z][A-Za-z0-9_]*\b", lambda m: renamed.get(m.group(0), m.group(0)), expression)

    entries: list[list[Any]] = []
    for query in queries:
        qid = renamed[str(query["id"])]
        if query.get("metric"):
            metric = query["metric"]
            entries.append(_metric(metric["namespace"], metric["metricName"], metric.get("dimensions") or {},
                                   id=qid, stat=metric["stat"], period=metric["period"], visible=False))
        else:
            returned = bool(query.get("returnData"))
            entries.append([{"expression": rename(str(query["expression"])), "id": qid,
                             "label": str(query.get("label", qid)), "visible": returned and final is None}])
    if final is not None:
        ratio_id = renamed[next(str(q["id"]) for q in queries if q.get("returnData"))]
        entries.append([{"expression": final.format(ratio=ratio_id), "id": f"{id_prefix}out",
                         "label": label or final}])
    return entries


def dashboard_body(service: str, slos: Sequence[SLO], *, region: str,
                   dimension_values: Mapping[str, str], alarm_arns: Sequence[str] = (),
                   autoscaling_group_name: str | None = None, min_events: float = DEFAULT_MIN_EVENTS) -> dict[str, Any]:
    """The dashboard body (a dict; `json.dumps` it) for `service` and its SLOs."""
    widgets: list[dict[str, Any]] = []
    load_balancer = dimension_values.get("load_balancer")
    lb_dims = {"LoadBalancer": load_balancer} if load_balancer else {}
    common = {"region": region, "view": "timeSeries", "stacked": False}
    y = 0
    if lb_dims:
        signals = [
            ("Latency (TargetResponseTime)", [
                _metric(ALB_NAMESPACE, "TargetResponseTime", lb_dims, stat="p50", label="p50"),
                _metric(ALB_NAMESPACE, "TargetResponseTime", lb_dims, stat="p99", label="p99")]),
            ("Traffic (requests)", [_metric(ALB_NAMESPACE, "RequestCount", lb_dims, stat="Sum")]),
            ("Errors (5XX)", [
                _metric(ALB_NAMESPACE, "HTTPCode_Target_5XX_Count", lb_dims, stat="Sum", label="target 5XX"),
                _metric(ALB_NAMESPACE, "HTTPCode_ELB_5XX_Count", lb_dims, stat="Sum", label="load balancer 5XX"),
                _metric(ALB_NAMESPACE, "HTTPCode_Target_4XX_Count", lb_dims, stat="Sum", label="target 4XX")]),
        ]
        saturation = [_metric(ALB_NAMESPACE, "ActiveConnectionCount", lb_dims, stat="Sum",
                              label="active connections")]
        if autoscaling_group_name:
            saturation.append(_metric("AWS/EC2", "CPUUtilization", {"AutoScalingGroupName": autoscaling_group_name},
                                      stat="Average", label="CPU % (average)", yAxis="right"))
        signals.append(("Saturation (connections, CPU)", saturation))
        for index, (title, metrics) in enumerate(signals):
            widgets.append(_widget("metric", index * 6, y, 6, 6,
                                   {**common, "title": f"{service}: {title}", "period": 60, "metrics": metrics}))
        y += 6

    for slo in slos:
        sli = slo.sli.cloudwatch
        if sli is None:
            continue
        guard = sli.min_events if sli.min_events is not None else min_events
        budget_ratio = slo.error_budget_ratio
        sli_queries = error_ratio_queries(sli, SLI_PERIOD, guard, dimension_values)
        widgets.append(_widget("metric", 0, y, 8, 6, {
            **common, "title": f"{slo.id}: SLI (% good, {format_duration(SLI_PERIOD)})", "period": SLI_PERIOD,
            "metrics": _queries_as_widget_metrics(sli_queries, "s", "SLI %", "100 * (1 - {ratio})"),
            "annotations": {"horizontal": [{"label": f"objective {slo.objective:g}%", "value": slo.objective}]},
            "yAxis": {"left": {"max": 100}}}))
        window_queries = error_ratio_queries(sli, slo.window, guard, dimension_values)
        widgets.append(_widget("metric", 8, y, 6, 6, {
            "region": region, "view": "singleValue", "setPeriodToTimeRange": True,
            "start": f"-PT{slo.window // 3600}H", "end": "P0D", "period": slo.window,
            "title": f"{slo.id}: error budget remaining ({slo.window_label})",
            "metrics": _queries_as_widget_metrics(window_queries, "b", "budget remaining %",
                                                  f"100 * (1 - {{ratio}} / {budget_ratio:g})")}))
        burn_metrics: list[list[Any]] = []
        windows: list[int] = []
        for tier in tier_order([adapt_tier_for_cloudwatch(t)[0] for t in slo.tiers]):
            for window in (tier.long_window, tier.short_window):
                if window not in windows:
                    windows.append(window)
        thresholds = sorted({t.burn_rate for t in slo.tiers})
        for index, window in enumerate(windows):
            queries = error_ratio_queries(sli, window, guard, dimension_values)
            burn_metrics += _queries_as_widget_metrics(queries, f"w{index}", f"burn {format_duration(window)}",
                                                       f"{{ratio}} / {budget_ratio:g}")
        widgets.append(_widget("metric", 14, y, 10, 6, {
            **common, "title": f"{slo.id}: burn rate per alert window (1 = budget lasts {slo.window_label})",
            "period": 60, "metrics": burn_metrics,
            "annotations": {"horizontal": [{"label": f"{burn:g}x", "value": burn} for burn in thresholds]}}))
        y += 6

    if alarm_arns:
        widgets.append(_widget("alarm", 0, y, WIDTH, 3, {
            "title": f"{service}: SLO alarms", "alarms": list(alarm_arns), "sortBy": "stateUpdatedTimestamp",
            "states": ["ALARM", "INSUFFICIENT_DATA", "OK"]}))
    return {"start": "-PT6H", "periodOverride": "inherit", "widgets": widgets}
