"""Structure of the Prometheus backend's output: ratio-of-sums recording rules, one alert per
window pair with routing labels, inhibit rules, and the PrometheusRule object."""

from __future__ import annotations

import re
from dataclasses import replace

from reliability_stack.slo.model import (
    DAY,
    HOUR,
    MINUTE,
    SLI,
    BurnRateTier,
    PrometheusHistogram,
    PrometheusSLI,
)
from reliability_stack.slo.prometheus import (
    alertmanager_config,
    error_ratio_expr,
    inhibit_rules,
    prometheus_rule_object,
    rule_file,
    rule_group,
)
from tests.slo.factories import make_slo


def test_one_recording_rule_per_window_as_a_ratio_of_sums() -> None:
    group = rule_group(make_slo())
    records = [r["record"] for r in group["rules"] if "record" in r]
    assert records[:6] == [f"slo:sli_error:ratio_rate{w}" for w in ("5m", "30m", "1h", "6h", "3d", "28d")]
    one_hour = next(r for r in group["rules"] if r.get("record") == "slo:sli_error:ratio_rate1h")
    assert re.sub(r"\s+", "", one_hour["expr"]) == \
        '(sum(rate(http_requests_total{code=~"5.."}[1h])))/(sum(rate(http_requests_total[1h])))'
    assert "avg_over_time" not in str(group)
    assert one_hour["labels"] == {"service": "checkout", "slo": "availability"}


def test_latency_ratio_comes_from_histogram_bucket_and_count() -> None:
    slo = make_slo(name="latency", sli=SLI("latency", latency_threshold_seconds=0.3, prometheus=PrometheusSLI(
        histogram=PrometheusHistogram("http_request_duration_seconds", 'job="api"', "0.3"))))
    expr = re.sub(r"\s+", "", error_ratio_expr(slo, 5 * MINUTE))
    count = 'sum(rate(http_request_duration_seconds_count{job="api"}[5m]))'
    bucket = 'sum(rate(http_request_duration_seconds_bucket{job="api",le="0.3"}[5m]))'
    assert expr == f"({count}-{bucket})/{count}"


def test_one_alert_per_window_pair_with_routing_labels() -> None:
    slo = make_slo(runbook_url="https://runbooks.example.com/checkout", labels={"team": "payments"})
    alerts = [r for r in rule_group(slo)["rules"] if "alert" in r]
    assert [a["labels"]["window_pair"] for a in alerts] == ["1h-5m", "6h-30m", "3d-6h"]
    fast = alerts[0]
    assert fast["alert"] == "CheckoutAvailabilityErrorBudgetBurn"
    assert fast["labels"] == {"severity": "page", "slo": "availability", "service": "checkout", "long": "1h",
                              "short": "5m", "burn_tier": "page-1h", "window_pair": "1h-5m",
                              "exhaustion": "1d22h40m", "budget_consumed": "2.14%"}
    assert "for" not in fast  # the windows already debounce; a `for` would only delay the 52 s page
    assert re.sub(r"\s+", "", fast["expr"]) == (
        '(slo:sli_error:ratio_rate1h{service="checkout",slo="availability"}>0.0144)'
        'and(slo:sli_error:ratio_rate5m{service="checkout",slo="availability"}>0.0144)')
    notes = fast["annotations"]
    assert notes["runbook_url"] == "https://runbooks.example.com/checkout"
    assert (notes["objective"], notes["burn_rate"], notes["threshold"]) == ("99.9%", "14.4", "0.0144")
    assert "2.14% of the 28d budget" in notes["description"]
    assert alerts[2]["labels"]["severity"] == "ticket"


def test_thresholds_have_no_float_noise() -> None:
    slo = make_slo(objective=99.95, tiers=(BurnRateTier("page", HOUR, 5 * MINUTE, 14.4),))
    alert = next(r for r in rule_group(slo)["rules"] if "alert" in r)
    assert "> 0.0072\n" in alert["expr"]


def test_slos_without_a_prometheus_part_are_skipped() -> None:
    cloudwatch_only = make_slo(name="edge", sli=replace(make_slo().sli, prometheus=None))
    assert [g["name"] for g in rule_file([make_slo(), cloudwatch_only])["groups"]] == ["slo-checkout-availability"]


def test_inhibit_rules_page_over_ticket_and_fast_over_slow() -> None:
    rules = inhibit_rules([make_slo()])
    assert rules[0] == {"source_matchers": ['severity="page"', 'burn_tier=~".+"'],
                        "target_matchers": ['severity="ticket"', 'burn_tier=~".+"'], "equal": ["service", "slo"]}
    assert rules[1] == {"source_matchers": ['burn_tier="page-1h"'], "target_matchers": ['burn_tier=~"page-6h"'],
                        "equal": ["service", "slo"]}
    assert len(rules) == 2


def test_inhibit_rules_chain_every_slower_tier() -> None:
    tiers = (BurnRateTier("page", HOUR, 5 * MINUTE, 14.4), BurnRateTier("page", 6 * HOUR, 30 * MINUTE, 6),
             BurnRateTier("ticket", DAY, 2 * HOUR, 3), BurnRateTier("ticket", 3 * DAY, 6 * HOUR, 1))
    targets = {r["source_matchers"][0]: r["target_matchers"][0] for r in inhibit_rules([make_slo(tiers=tiers)])}
    assert targets['burn_tier="page-1h"'] == 'burn_tier=~"page-6h"'
    assert targets['burn_tier="ticket-1d"'] == 'burn_tier=~"ticket-3d"'
    assert alertmanager_config([make_slo(tiers=tiers)])["inhibit_rules"][0]["equal"] == ["service", "slo"]


def test_prometheus_rule_object() -> None:
    obj = prometheus_rule_object([make_slo()], "checkout-slos", "monitoring", {"release": "kube-prometheus"})
    assert obj["apiVersion"] == "monitoring.coreos.com/v1" and obj["kind"] == "PrometheusRule"
    assert obj["metadata"] == {"name": "checkout-slos", "namespace": "monitoring",
                               "labels": {"app.kubernetes.io/managed-by": "reliability-stack",
                                          "release": "kube-prometheus"}}
    assert obj["spec"] == rule_file([make_slo()])
