"""Render a preview plan as text (rich), markdown (a PR comment) or JSON."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

LEVEL_ORDER = ("mandatory", "advisory", "remediate", "disabled")
COMPONENT_PREFIX = "reliability-stack:"


def _children(resources: list[dict[str, Any]]) -> dict[str | None, list[dict[str, Any]]]:
    by_parent: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
    urns = {r["urn"] for r in resources}
    for resource in resources:
        parent = resource["parent"] if resource["parent"] in urns else None
        by_parent[parent].append(resource)
    return by_parent


def _short_type(type_token: str) -> str:
    # aws:lb/loadBalancer:LoadBalancer -> aws:LoadBalancer
    package, _, rest = type_token.partition(":")
    return f"{package}:{rest.rsplit(':', 1)[-1]}"


def _violations_by_level(plan: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {level: [] for level in LEVEL_ORDER}
    for violation in plan["policies"]["violations"]:
        grouped.setdefault(violation["enforcementLevel"], []).append(violation)
    return grouped


def _resource_names(plan: dict[str, Any]) -> dict[str, str]:
    return {r["urn"]: f"{_short_type(r['type'])} {r['name']}" for r in plan["resources"]}


def _seconds(value: float | None) -> str:
    if value is None:
        return "never"
    if value < 120:
        return f"{value:.0f} s"
    if value < 7200:
        return f"{value / 60:.1f} min"
    return f"{value / 3600:.1f} h"


def _first_line(message: str) -> str:
    # The analyzer prefixes the policy description; the reason is the last line.
    lines = [line for line in message.splitlines() if line.strip()]
    return lines[-1] if lines else message


def _status(plan: dict[str, Any]) -> str:
    mandatory = plan["summary"]["mandatoryViolations"]
    return "blocked: mandatory policy violations" if mandatory else "clean: no mandatory policy violations"


# ---------------------------------------------------------------- text
#
# Plain text, drawn directly: names are shown as they are (never read as markup), and a
# prod plan renders in milliseconds (rich's layout engine took ~60 ms over 500 lines).

_FORK, _LAST, _CONTINUE, _SPACE = "├── ", "└── ", "│   ", "    "


def _tree_lines(plan: dict[str, Any]) -> list[str]:
    """The resources nested under their components, components first, then by type and name."""
    by_parent = _children(plan["resources"])
    lines = [f"{plan['project']} / {plan['stack']}"]

    def add(parent: str | None, indent: str) -> None:
        ordered = sorted(by_parent.get(parent, []),
                         key=lambda r: (not r["type"].startswith(COMPONENT_PREFIX), r["type"], r["name"]))
        for position, resource in enumerate(ordered, 1):
            last = position == len(ordered)
            if resource["type"].startswith(COMPONENT_PREFIX):
                label = f"{resource['type']} {resource['name']}"
            else:
                protect = " 🔒 protect" if resource["options"].get("protect") else ""
                label = f"{_short_type(resource['type'])} {resource['name']}{protect}"
            lines.append(f"{indent}{_LAST if last else _FORK}{label}")
            add(resource["urn"], indent + (_SPACE if last else _CONTINUE))

    add(None, "")
    return lines


def _table_lines(title: str, header: list[str], rows: list[list[str]],
                 right_aligned: frozenset[int] = frozenset()) -> list[str]:
    """A table with a centred title, a rule under the header and columns two spaces apart."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(cell.rjust(width) if i in right_aligned else cell.ljust(width)
                         for i, (cell, width) in enumerate(zip(cells, widths, strict=True))).rstrip()

    width = sum(widths) + 2 * (len(widths) - 1)
    return ["", title.center(width).rstrip(), "", line(header), "─" * width,
            *(line(row) for row in rows), ""]


def _slo_rows(plan: dict[str, Any]) -> list[list[str]]:
    rows = []
    for slo in plan["slos"]:
        for i, alert in enumerate(slo["alerts"]):
            first = i == 0
            rows.append([
                f"{slo['service']}/{slo['name']}" if first else "",
                f"{slo['objective']}% / {slo['window']}" if first else "",
                f"{slo['errorBudget']['minutes']:.1f} min" if first else "",
                f"{alert['severity']} {alert['longWindow']}/{alert['shortWindow']}",
                f"{alert['burnRate']:g}x", f"{alert['threshold']:.3%}", f"{alert['budgetConsumed']:.1%}",
                _seconds(alert.get("detectionTimeFullOutage")),
                f"${slo['monthlyCostUsd']:.2f}" if first and "monthlyCostUsd" in slo else "",
            ])
    return rows


def render_text(plan: dict[str, Any]) -> str:
    summary = plan["summary"]
    out = _tree_lines(plan)
    out += _table_lines("Resources by type", ["type", "count"],
                        [[entry["type"], str(entry["count"])] for entry in summary["byType"]], right_aligned=frozenset({1}))
    names = _resource_names(plan)
    grouped = _violations_by_level(plan)
    out.append(f"Policy pack {plan['policies']['pack']}: {len(summary.get('policies') or [])} "
               "policies evaluated over gRPC")
    for level in LEVEL_ORDER:
        violations = grouped.get(level) or []
        if level in ("mandatory", "advisory") or violations:
            out.append(f"  {level}: {len(violations)} violation(s)")
        out += [f"    [{v['policy']}] {names.get(v['urn'], 'stack')}: {_first_line(v['message'])}"
                for v in violations]
    if plan["slos"]:
        out += _table_lines("SLOs and burn-rate alerts",
                            ["SLO", "objective", "budget", "alert", "burn", "threshold", "budget used",
                             "detects outage", "$/month"], _slo_rows(plan))
    gaps = summary["statefulUnprotected"]
    out += [
        f"Summary: {summary['resourceCount']} resources in {summary['componentCount']} components; "
        f"{summary['statefulResources']} stateful, {len(gaps)} without protect/deletion protection/backups; "
        f"{summary['mandatoryViolations']} mandatory and {summary['advisoryViolations']} advisory violations.",
        f"Result: {_status(plan)}",
    ]
    out += [f"  unprotected: {names.get(g['urn'], g['urn'])} lacks {', '.join(g['missing'])}" for g in gaps]
    out += [f"  warning: {warning}" for warning in plan["warnings"]]
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- markdown

def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def mermaid_components(plan: dict[str, Any]) -> str:
    """A flowchart of the components: nesting as edges, and cross-component dependencies dotted."""
    resources = plan["resources"]
    by_urn = {r["urn"]: r for r in resources}
    components = [r for r in resources if r["type"].startswith(COMPONENT_PREFIX)]
    ids = {c["urn"]: f"c{i}" for i, c in enumerate(components)}

    def owning_component(urn: str | None) -> str | None:
        while urn is not None and urn in by_urn:
            if urn in ids:
                return urn
            urn = by_urn[urn]["parent"]
        return None

    lines = ["flowchart LR"]
    for component in components:
        label = f"{component['type'].rsplit(':', 1)[-1]}<br/>{component['name']}"
        lines.append(f'  {ids[component["urn"]]}["{label}"]')
    edges: set[tuple[str, str, str]] = set()
    for component in components:
        parent = owning_component(component["parent"])
        if parent:
            edges.add((ids[parent], ids[component["urn"]], "-->"))
    for resource in resources:
        source = owning_component(resource["urn"])
        for dependency in resource["options"].get("dependsOn") or []:
            target = owning_component(dependency)
            if source and target and source != target:
                edges.add((ids[source], ids[target], "-.->"))
    lines.extend(f"  {a} {arrow} {b}" for a, b, arrow in sorted(edges))
    return "\n".join(lines)


def render_markdown(plan: dict[str, Any]) -> str:
    summary = plan["summary"]
    names = _resource_names(plan)
    grouped = _violations_by_level(plan)
    icon = "❌" if summary["mandatoryViolations"] else "✅"
    out = [
        f"## {icon} reliability-stack preview: `{plan['project']}` / `{plan['stack']}`",
        "",
        "_Offline preview: the real stack program under the Pulumi SDK mock runtime, checked by the real policy "
        "pack over the analyzer protocol. Nothing was deployed._",
        "",
        "| resources | components | stateful (unprotected) | mandatory | advisory | SLOs |",
        "|---:|---:|---:|---:|---:|---:|",
        f"| {summary['resourceCount']} | {summary['componentCount']} | {summary['statefulResources']} "
        f"({len(summary['statefulUnprotected'])}) | {summary['mandatoryViolations']} | "
        f"{summary['advisoryViolations']} | {len(plan['slos'])} |",
        "",
    ]
    for level in LEVEL_ORDER:
        violations = grouped.get(level) or []
        if not violations:
            continue
        opened = " open" if level == "mandatory" else ""
        out += [f"<details{opened}><summary><b>{level}</b> violations ({len(violations)})</summary>", "",
                "| policy | resource | reason |", "|---|---|---|"]
        out += [f"| `{v['policy']}` | {_md_escape(names.get(v['urn'], 'stack'))} | {_md_escape(_first_line(v['message']))} |"
                for v in violations]
        out += ["", "</details>", ""]
    if plan["slos"]:
        out += ["<details open><summary><b>SLOs and burn-rate alerts</b></summary>", "",
                "| service | SLO | objective | budget | alert | burn | threshold | budget used | detects full outage in | cost/month |",
                "|---|---|---:|---:|---|---:|---:|---:|---:|---:|"]
        for slo in plan["slos"]:
            cost = f"${slo['monthlyCostUsd']:.2f}" if "monthlyCostUsd" in slo else "n/a"
            for alert in slo["alerts"]:
                out.append(
                    f"| {slo['service']} | {slo['name']} | {slo['objective']}% / {slo['window']} | "
                    f"{slo['errorBudget']['minutes']:.1f} min | {alert['severity']} {alert['longWindow']}/"
                    f"{alert['shortWindow']} | {alert['burnRate']:g}× | {alert['threshold']:.4%} | "
                    f"{alert['budgetConsumed']:.1%} | {_seconds(alert.get('detectionTimeFullOutage'))} | {cost} |")
        out += ["", "</details>", ""]
    out += ["<details><summary><b>Components</b></summary>", "", "```mermaid", mermaid_components(plan), "```", "",
            "</details>", "",
            "<details><summary><b>Resources by type</b></summary>", "", "| type | count |", "|---|---:|"]
    out += [f"| `{entry['type']}` | {entry['count']} |" for entry in summary["byType"]]
    out += ["", "</details>", ""]
    if plan["warnings"]:
        out += ["<details><summary><b>Warnings</b></summary>", ""]
        out += [f"- {_md_escape(w)}" for w in plan["warnings"]]
        out += ["", "</details>", ""]
    return "\n".join(out)


def render_json(plan: dict[str, Any]) -> str:
    return json.dumps(plan, indent=2, sort_keys=False) + "\n"
