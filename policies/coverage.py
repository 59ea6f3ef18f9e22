"""The README's coverage tables, generated from the rules' own metadata.

`relstack policies docs` rewrites the part of `policies/README.md` between the markers;
`--check` (and the tests) fail when the file is stale.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from reliability_stack.policies.registry import TECHNIQUES, Rule

BEGIN = "<!-- BEGIN GENERATED: coverage (relstack policies docs) -->"
END = "<!-- END GENERATED: coverage -->"

CATALOGUE = {"K": 33, "A": 50, "G": 26}

# Catalogue rows no policy checks, and why (resilience-rules.md numbering).
NOT_COVERED = {
    "A5": "AWS Backup plans/selections: our components rely on native backups (retention, PITR, snapshots).",
    "A16": "S3 Object Lock must be chosen at bucket creation for compliance data; not a resilience default.",
    "A46": "Kinesis Data Analytics (Flink) is not declared by our components or a typical service stack.",
    "A48": "Elastic Beanstalk is not declared by our components or a typical service stack.",
    "A49": "Certificate expiry is a runtime fact (ACM renews DNS-validated certificates); not static.",
    "G20": "ECS app-autoscaling targets are named by cluster/service outputs only known after deploy.",
    "G22": "RTO/RPO declarations need a stack-metadata convention the project has not fixed yet.",
    "G24": "FIS experiment templates are a weak proxy for chaos testing; left to game-day practice.",
    "G26": "Quota-usage (AWS/Usage) alarms depend on the account's quotas, which the analyzer cannot see.",
}

_ROW = re.compile(r"^[KAG]\d+$")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _anchor_ids(rule: Rule) -> list[str]:
    return [a for a in rule.anchors if _ROW.match(a)]


def policy_table(rules: Iterable[Rule]) -> str:
    """One row per policy: id, kind, default level, catalogue rows, other anchors, technique, description."""
    lines = [
        "| Policy | Kind | Default | Catalogue rows | Anchor rule ids | Technique | What it checks |",
        "|---|---|---|---|---|---|---|",
    ]
    for rule in rules:
        rows = ", ".join(_anchor_ids(rule)) or "-"
        others = ", ".join(a for a in rule.anchors if not _ROW.match(a)) or "-"
        techniques = ", ".join(rule.techniques)
        lines.append(f"| `{rule.id}` | {rule.kind} | {rule.enforcement} | {rows} | {_cell(others)} | {techniques} | "
                     f"{_cell(rule.description)} |")
    return "\n".join(lines)


def catalogue_table(rules: Iterable[Rule]) -> str:
    """Each catalogue row (K1-K33, A1-A50, G1-G26) with the policies that cover it, or why none does."""
    covering: dict[str, list[str]] = {}
    for rule in rules:
        for row in _anchor_ids(rule):
            covering.setdefault(row, []).append(f"`{rule.id}`")
    lines = ["| Row | Covered by |", "|---|---|"]
    for prefix, count in CATALOGUE.items():
        for number in range(1, count + 1):
            row = f"{prefix}{number}"
            cell = ", ".join(covering.get(row, [])) or f"not covered: {NOT_COVERED.get(row, 'no policy yet')}"
            lines.append(f"| {row} | {_cell(cell)} |")
    return "\n".join(lines)


def uncovered(rules: Iterable[Rule]) -> list[str]:
    """Catalogue rows that no policy names as an anchor."""
    named = {row for rule in rules for row in _anchor_ids(rule)}
    return [f"{p}{n}" for p, count in CATALOGUE.items() for n in range(1, count + 1) if f"{p}{n}" not in named]


def generated_section(rules: list[Rule]) -> str:
    counts = {kind: sum(1 for r in rules if r.kind == kind) for kind in ("resource", "stack")}
    legend = ", ".join(f"**{key}** {name}" for key, name in TECHNIQUES.items())
    return "\n".join([
        BEGIN,
        "",
        f"{len(rules)} policies: {counts['resource']} resource policies (dispatched by resource type) and "
        f"{counts['stack']} stack policies (cross-resource). Seed techniques: {legend}.",
        "",
        "### Policies",
        "",
        policy_table(rules),
        "",
        "### Catalogue coverage",
        "",
        catalogue_table(rules),
        "",
        END,
    ])


def render_readme(current: str, rules: list[Rule]) -> str:
    """`current` with the generated section replaced (or appended when the markers are missing)."""
    section = generated_section(rules)
    if BEGIN in current and END in current:
        head, _, rest = current.partition(BEGIN)
        _, _, tail = rest.partition(END)
        return head + section + tail
    return current.rstrip("\n") + "\n\n" + section + "\n"
