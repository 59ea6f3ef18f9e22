"""Render a preview plan as text (rich), markdown (a PR comment) or JSON."""

from __future__ import annotations

import io
import json
from collections import defaultdict
from typing import Any

from rich import box
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

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

def _tree(plan: dict[str, Any]) -> Tree:
    by_parent = _children(plan["resources"])
    root = Tree(f"[bold]{plan['project']}[/] / [bold cyan]{plan['stack']}[/]")

    def add(node: Tree, parent: str | None) -> None:
        # Components first, then provider resources, each by name.
        ordered = sorted(by_parent.get(parent, []),
                         key=lambda r: (not r["type"].startswith(COMPONENT_PREFIX), r["type"], r["name"]))
        for resource in ordered:
            is_component = resource["type"].startswith(COMPONENT_PREFIX)
            protect = " [yellow]🔒 protect[/]" if resource["options"].get("protect") else ""
            label = (f"[bold magenta]{resource['type']}[/] {resource['name']}" if is_component
                     else f"[dim]{_short_type(resource['type'])}[/] {resource['name']}{protect}")
            child = node.add(label)
            add(child, resource["urn"])

    add(root, None)
    return root


def render_text(plan: dict[str, Any], *, width: int = 140) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, force_terminal=False, color_system=None, soft_wrap=False)
    summary = plan["summary"]
    console.print(_tree(plan))

    types = Table(title="Resources by type", box=box.SIMPLE_HEAD, pad_edge=False)
    types.add_column("type")
    types.add_column("count", justify="right")
    for entry in summary["byType"]:
        types.add_row(entry["type"], str(entry["count"]))
    console.print(types)

    names = _resource_names(plan)
    grouped = _violations_by_level(plan)
    console.print(Text(f"Policy pack {plan['policies']['pack']}: {summary.get('policies') and len(summary['policies'])} "
                       f"policies evaluated over gRPC", style="bold"))
    for level in LEVEL_ORDER:
        violations = grouped.get(level) or []
        if level in ("mandatory", "advisory") or violations:
            console.print(Text(f"  {level}: {len(violations)} violation(s)",
                               style="bold red" if level == "mandatory" and violations else "bold"))
        for violation in violations:
            where = names.get(violation["urn"], "stack")
            console.print(f"    [{violation['policy']}] {where}: {_first_line(violation['message'])}",
                          highlight=False, markup=False)

    if plan["slos"]:
        slos = Table(title="SLOs and burn-rate alerts", box=box.SIMPLE_HEAD, pad_edge=False)
        for column in ("SLO", "objective", "budget", "alert", "burn", "threshold", "budget used",
                       "detects outage", "$/month"):
            slos.add_column(column, no_wrap=True)
        for slo in plan["slos"]:
            for i, alert in enumerate(slo["alerts"]):
                first = i == 0
                slos.add_row(
                    f"{slo['service']}/{slo['name']}" if first else "",
                    f"{slo['objective']}% / {slo['window']}" if first else "",
                    f"{slo['errorBudget']['minutes']:.1f} min" if first else "",
                    f"{alert['severity']} {alert['longWindow']}/{alert['shortWindow']}",
                    f"{alert['burnRate']:g}x", f"{alert['threshold']:.3%}", f"{alert['budgetConsumed']:.1%}",
                    _seconds(alert.get("detectionTimeFullOutage")),
                    f"${slo['monthlyCostUsd']:.2f}" if first and "monthlyCostUsd" in slo else "",
                )
        console.print(slos)

    gaps = summary["statefulUnprotected"]
    console.print(Group(
        Text(f"Summary: {summary['resourceCount']} resources in {summary['componentCount']} components; "
             f"{summary['statefulResources']} stateful, {len(gaps)} without protect/deletion protection/backups; "
             f"{summary['mandatoryViolations']} mandatory and {summary['advisoryViolations']} advisory violations.",
             style="bold"),
        Text(f"Result: {_status(plan)}", style="bold red" if summary["mandatoryViolations"] else "bold green"),
    ))
    for gap in gaps:
        console.print(f"  unprotected: {names.get(gap['urn'], gap['urn'])} lacks {', '.join(gap['missing'])}",
                      markup=False)
    for warning in plan["warnings"]:
        console.print(f"  warning: {warning}", markup=False, highlight=False)
    return buffer.getvalue()


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
