"""Prometheus backend: recording rules, one alert per window pair, Alertmanager inhibit rules
and the PrometheusRule object, all as plain dicts (YAML/JSON-ready).

Per SLO, one rule group (recording rules first, so the alerts of the same evaluation see
fresh ratios):

- `slo:sli_error:ratio_rate<w>` for every window a tier uses and for the SLO window: the
  error ratio as a ratio of sums over the window (never an average of short ratios,
  which weighs quiet minutes like busy ones; Sloth #241);
- `slo:objective:ratio`, `slo:error_budget:ratio`, `slo:period_error_budget_remaining:ratio`;
- one alert per tier: `long > threshold and short > threshold`, labelled with severity,
  SLO, service, window pair and burn tier, so Alertmanager can route and inhibit per pair
  (Sloth ORs pairs into one alert and cannot tell which fired).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from reliability_stack.slo import budget
from reliability_stack.slo.durations import format_duration
from reliability_stack.slo.model import SLO, BurnRateTier, clean_float

RULE_PREFIX = "slo:sli_error:ratio_rate"
WINDOW_TEMPLATE = re.compile(r"\{\{\s*\.window\s*\}\}")
#: Labels of every series and alert this compiler emits: service and SLO name.
IDENTITY_LABELS = ("service", "slo")


def render_query(query: str, window: int) -> str:
    """Put the window into a `{{.window}}` query: `rate(x[{{.window}}])` -> `rate(x[5m])`."""
    return WINDOW_TEMPLATE.sub(format_duration(window), query)


def error_ratio_expr(slo: SLO, window: int) -> str:
    """PromQL for the SLO's error ratio over `window` seconds, as a ratio of sums."""
    part = slo.sli.prometheus
    if part is None:
        raise ValueError(f"SLO {slo.id} has no prometheus SLI")
    w = format_duration(window)
    if part.histogram is not None:
        h = part.histogram
        sel = h.selector.strip()
        bucket_sel = f"{sel},le=\"{h.le}\"" if sel else f"le=\"{h.le}\""
        total = f"sum(rate({h.metric}_count{{{sel}}}[{w}]))"
        good = f"sum(rate({h.metric}_bucket{{{bucket_sel}}}[{w}]))"
        return f"(\n  {total}\n  -\n  {good}\n)\n/\n{total}"
    if part.error_ratio_query is not None:
        return render_query(part.error_ratio_query.strip(), window)
    total = render_query((part.total_query or "").strip(), window)
    if part.error_query is not None:
        return f"(\n  {render_query(part.error_query.strip(), window)}\n)\n/\n(\n  {total}\n)"
    good = render_query((part.good_query or "").strip(), window)
    return f"1 - (\n  (\n    {good}\n  )\n  /\n  (\n    {total}\n  )\n)"


def windows_of(slo: SLO) -> list[int]:
    """Every window the SLO's rules need: the tiers' long and short windows and the SLO window."""
    return sorted({w for t in slo.tiers for w in (t.long_window, t.short_window)} | {slo.window})


def series_labels(slo: SLO) -> dict[str, str]:
    """Labels of the SLO's recording rules (and thus of its alerts): spec labels plus identity."""
    return {**slo.labels, "service": slo.service, "slo": slo.name}


def _selector(slo: SLO) -> str:
    return f'{{service="{slo.service}",slo="{slo.name}"}}'


def _number(value: float) -> str:
    return repr(clean_float(value))


def _percent(ratio: float) -> str:
    return f"{ratio * 100:.3g}%"


def alert_name(slo: SLO) -> str:
    """`CheckoutAvailabilityErrorBudgetBurn`: one name per SLO, the window pair is a label."""
    words = re.split(r"[^A-Za-z0-9]+", f"{slo.service} {slo.name}")
    return "".join(w[:1].upper() + w[1:] for w in words if w) + "ErrorBudgetBurn"


def alert_labels(slo: SLO, tier: BurnRateTier) -> dict[str, str]:
    """Labels the alert rule sets (the series add the spec labels and identity on top)."""
    return {
        "severity": tier.severity,
        "slo": slo.name,
        "service": slo.service,
        "long": tier.long,
        "short": tier.short,
        "burn_tier": tier.name,
        "window_pair": tier.window_pair,
        "exhaustion": format_duration(budget.time_to_exhaustion(tier, slo.window)),
        "budget_consumed": _percent(budget.budget_consumed(tier, slo.window)),
    }


def alert_annotations(slo: SLO, tier: BurnRateTier) -> dict[str, str]:
    """Static annotations (no `$value` templating, so they read the same in every tool)."""
    limit = budget.threshold(tier, slo.objective)
    spent = budget.budget_consumed(tier, slo.window)
    exhaustion = format_duration(budget.time_to_exhaustion(tier, slo.window))
    minutes = budget.error_budget_minutes(slo.objective, slo.window)
    detect = budget.detection_time_full_outage(tier, slo.objective)
    annotations = {
        "summary": f"{slo.service} {slo.name}: error budget burning {tier.burn_rate:g}x too fast "
                   f"over {tier.long} and {tier.short}",
        "description": (
            f"The error ratio of {slo.service} {slo.name} is above {_percent(limit)} over both the last "
            f"{tier.long} and the last {tier.short} (burn rate {tier.burn_rate:g}x against the "
            f"{slo.objective:g}% objective over {slo.window_label}). {_percent(spent)} of the "
            f"{slo.window_label} budget ({minutes:.1f} min) is spent when this fires; at this rate the rest "
            f"lasts {exhaustion}. A full outage fires this in {detect:.0f} s. Series: "
            f"{RULE_PREFIX}{tier.long}{_selector(slo)} and {RULE_PREFIX}{tier.short}{_selector(slo)}."
        ),
        "objective": f"{slo.objective:g}%",
        "burn_rate": f"{tier.burn_rate:g}",
        "threshold": _number(limit),
        "slo_window": slo.window_label,
    }
    if slo.description:
        annotations["slo_description"] = slo.description
    if slo.runbook_url:
        annotations["runbook_url"] = slo.runbook_url
    return annotations


def recording_rules(slo: SLO) -> list[dict[str, Any]]:
    labels = series_labels(slo)
    rules: list[dict[str, Any]] = [
        {"record": f"{RULE_PREFIX}{format_duration(w)}", "expr": error_ratio_expr(slo, w), "labels": dict(labels)}
        for w in windows_of(slo)
    ]
    budget_ratio = _number(slo.error_budget_ratio)
    rules += [
        {"record": "slo:objective:ratio", "expr": f"vector({_number(slo.objective_ratio)})", "labels": dict(labels)},
        {"record": "slo:error_budget:ratio", "expr": f"vector({budget_ratio})", "labels": dict(labels)},
        {"record": "slo:period_error_budget_remaining:ratio",
         "expr": f"1 - {RULE_PREFIX}{slo.window_label}{_selector(slo)} / {budget_ratio}", "labels": dict(labels)},
    ]
    return rules


def alert_rule(slo: SLO, tier: BurnRateTier) -> dict[str, Any]:
    """The alert of one window pair: both windows above burn x (1 - objective)."""
    limit = _number(budget.threshold(tier, slo.objective))
    sel = _selector(slo)
    expr = (f"(\n  {RULE_PREFIX}{tier.long}{sel} > {limit}\n)\nand\n"
            f"(\n  {RULE_PREFIX}{tier.short}{sel} > {limit}\n)")
    return {"alert": alert_name(slo), "expr": expr, "labels": alert_labels(slo, tier),
            "annotations": alert_annotations(slo, tier)}


def rule_group(slo: SLO) -> dict[str, Any]:
    """One group per SLO: recording rules, then one alert per tier."""
    return {"name": f"slo-{slo.id}", "rules": recording_rules(slo) + [alert_rule(slo, t) for t in slo.tiers]}


def prometheus_slos(slos: Iterable[SLO]) -> list[SLO]:
    """The SLOs that have a Prometheus SLI."""
    return [slo for slo in slos if slo.sli.prometheus is not None]


def rule_file(slos: Iterable[SLO]) -> dict[str, Any]:
    """A Prometheus rule file (`rule_files:` format) for every SLO with a Prometheus SLI."""
    return {"groups": [rule_group(slo) for slo in prometheus_slos(slos)]}


def prometheus_rule_object(slos: Iterable[SLO], name: str, namespace: str,
                           labels: dict[str, str] | None = None) -> dict[str, Any]:
    """A `monitoring.coreos.com/v1` PrometheusRule holding the rule groups of `slos`.

    `labels` should match the Prometheus operator's `ruleSelector` (e.g. `release: kube-prometheus`).
    """
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": name, "namespace": namespace,
                     "labels": {"app.kubernetes.io/managed-by": "reliability-stack", **(labels or {})}},
        "spec": rule_file(slos),
    }


def inhibit_rules(slos: Sequence[SLO]) -> list[dict[str, Any]]:
    """Alertmanager inhibit rules for the SLO alerts.

    A page inhibits the tickets of the same SLO, and a faster window pair inhibits the slower
    pairs of the same severity: one incident, one notification. Every matcher requires
    `burn_tier`, because `equal` treats two missing labels as equal and would otherwise
    let any page silence unrelated tickets.
    """
    tiers = sorted({t for slo in prometheus_slos(slos) for t in slo.tiers},
                   key=lambda t: (t.severity != "page", t.long_window, t.name))
    rules: list[dict[str, Any]] = []
    if {t.severity for t in tiers} == {"page", "ticket"}:
        rules.append({"source_matchers": ['severity="page"', 'burn_tier=~".+"'],
                      "target_matchers": ['severity="ticket"', 'burn_tier=~".+"'], "equal": list(IDENTITY_LABELS)})
    for severity in ("page", "ticket"):
        names = sorted({t.name: t.long_window for t in tiers if t.severity == severity}.items(), key=lambda x: x[1])
        for index, (faster, _) in enumerate(names[:-1]):
            # Tier names are `<severity>-<duration>`: no regex metacharacters to escape.
            slower = "|".join(n for n, _ in names[index + 1:])
            rules.append({"source_matchers": [f'burn_tier="{faster}"'],
                          "target_matchers": [f'burn_tier=~"{slower}"'], "equal": list(IDENTITY_LABELS)})
    return rules


def alertmanager_config(slos: Sequence[SLO]) -> dict[str, Any]:
    """The `inhibit_rules:` fragment to merge into alertmanager.yml."""
    return {"inhibit_rules": inhibit_rules(slos)}
