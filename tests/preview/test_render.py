"""Reports render what a reviewer needs from the plan: tree, violations by level, SLOs, diagram."""

from __future__ import annotations

import json
import re

from reliability_stack.preview.render import mermaid_components, render_json, render_markdown, render_text

STACK = "urn:pulumi:dev::p::pulumi:pulumi:Stack::p-dev"


def _resource(urn_name: str, type_: str, parent: str | None, depends_on=(), protect=False) -> dict:
    return {"urn": f"urn:pulumi:dev::p::{type_}::{urn_name}", "type": type_, "name": urn_name, "parent": parent,
            "props": {}, "options": {"protect": protect, "retainOnDelete": False, "ignoreChanges": [],
                                     "deleteBeforeReplace": False, "replaceOnChanges": [],
                                     "dependsOn": list(depends_on), "customTimeouts": None, "provider": None}}


def _plan(violations: list[dict]) -> dict:
    service = _resource("checkout", "reliability-stack:service:ReliableService", STACK)
    lb = _resource("checkout-lb", "reliability-stack:aws:LoadBalancer", service["urn"])
    alb = _resource("checkout-alb", "aws:lb/loadBalancer:LoadBalancer", lb["urn"])
    db = _resource("checkout-db", "reliability-stack:aws:RegionalDatabase", service["urn"])
    cluster = _resource("checkout-aurora", "aws:rds/cluster:Cluster", db["urn"], depends_on=[alb["urn"]], protect=True)
    resources = [service, lb, alb, db, cluster]
    return {
        "stack": "dev", "project": "p", "resources": resources,
        "policies": {"pack": "reliability-stack", "violations": violations},
        "slos": [{"service": "checkout", "name": "availability", "objective": 99.9, "window": "30d",
                  "errorBudget": {"ratio": 0.001, "minutes": 43.2}, "monthlyCostUsd": 1.2,
                  "alerts": [{"severity": "page", "longWindow": "1h", "shortWindow": "5m", "burnRate": 14.4,
                              "threshold": 0.0144, "budgetConsumed": 0.02, "detectionTimeFullOutage": 51.84}]}],
        "summary": {"resourceCount": 5, "componentCount": 3, "byType": [{"type": "aws:rds/cluster:Cluster", "count": 1}],
                    "statefulResources": 1, "statefulUnprotected": [],
                    "mandatoryViolations": sum(v["enforcementLevel"] == "mandatory" for v in violations),
                    "advisoryViolations": sum(v["enforcementLevel"] == "advisory" for v in violations),
                    "policies": []},
        "outputs": {}, "warnings": [],
    }


VIOLATIONS = [
    {"policy": "rds-multi-az", "enforcementLevel": "mandatory", "urn": "urn:pulumi:dev::p::aws:rds/cluster:Cluster::checkout-aurora",
     "message": "Aurora clusters need a reader in a second AZ.\nonly one instance"},
    {"policy": "alarm-actions", "enforcementLevel": "advisory", "urn": "", "message": "Alarms route.\nno ticket topic"},
]


def test_text_shows_the_tree_violations_by_level_and_slos():
    text = render_text(_plan(VIOLATIONS))
    tree_lines = [line for line in text.splitlines() if "checkout-aurora" in line]
    assert tree_lines and "🔒" in tree_lines[0]
    # The cluster sits under its component in the tree, indented deeper than the component.
    component_line = next(line for line in text.splitlines() if "RegionalDatabase" in line)
    assert tree_lines[0].index("aws:") > component_line.index("reliability-stack:")
    assert re.search(r"mandatory: 1 violation", text)
    assert "[rds-multi-az] aws:Cluster checkout-aurora: only one instance" in text
    assert "[alarm-actions] stack: no ticket topic" in text
    assert "14.4x" in text and "52 s" in text and "checkout/availability" in text
    assert "blocked" in text


def test_markdown_is_a_pr_comment_with_collapsible_sections_and_a_diagram():
    markdown = render_markdown(_plan(VIOLATIONS))
    assert markdown.startswith("## ❌")
    assert "<details open><summary><b>mandatory</b> violations (1)</summary>" in markdown
    assert "<details><summary><b>advisory</b> violations (1)</summary>" in markdown
    assert "```mermaid" in markdown and "flowchart LR" in markdown
    assert "| checkout | availability | 99.9% / 30d | 43.2 min | page 1h/5m | 14.4× |" in markdown
    assert markdown.count("<details") == markdown.count("</details>")


def test_clean_markdown_has_no_violation_sections():
    markdown = render_markdown(_plan([]))
    assert markdown.startswith("## ✅")
    assert "violations (" not in markdown


def test_mermaid_nests_components_and_draws_cross_component_dependencies():
    diagram = mermaid_components(_plan([]))
    lines = diagram.splitlines()
    nodes = {m.group(2): m.group(1) for m in (re.match(r'\s+(c\d+)\["(\w+)<br/>', line) for line in lines) if m}
    assert set(nodes) == {"ReliableService", "LoadBalancer", "RegionalDatabase"}
    assert f"  {nodes['ReliableService']} --> {nodes['LoadBalancer']}" in lines
    assert f"  {nodes['ReliableService']} --> {nodes['RegionalDatabase']}" in lines
    # The Aurora cluster depends on the ALB: the database component depends on the LB component.
    assert f"  {nodes['RegionalDatabase']} -.-> {nodes['LoadBalancer']}" in lines


def test_json_round_trips():
    plan = _plan(VIOLATIONS)
    assert json.loads(render_json(plan)) == plan


def test_text_tree_draws_names_as_they_are():
    plan = _plan([])
    plan["resources"][2]["name"] = "alb[primary] [/] :lock:"  # markup and emoji codes stay text
    lines = render_text(plan).splitlines()
    assert lines[:6] == [
        "p / dev",
        "└── reliability-stack:service:ReliableService checkout",
        "    ├── reliability-stack:aws:LoadBalancer checkout-lb",
        "    │   └── aws:LoadBalancer alb[primary] [/] :lock:",
        "    └── reliability-stack:aws:RegionalDatabase checkout-db",
        "        └── aws:Cluster checkout-aurora 🔒 protect",
    ]


def test_text_tables_align_their_columns():
    plan = _plan(VIOLATIONS)
    plan["summary"]["byType"] = [{"type": "aws:rds/cluster:Cluster", "count": 12}, {"type": "aws:s3/bucket:Bucket", "count": 3}]
    lines = render_text(plan).splitlines()
    header = lines.index("type                     count")
    assert lines[header + 1] == "─" * len(lines[header])
    assert lines[header + 2:header + 4] == ["aws:rds/cluster:Cluster     12", "aws:s3/bucket:Bucket         3"]
    slo_header = next(line for line in lines if line.startswith("SLO "))
    first_alert = lines[lines.index(slo_header) + 2]
    assert first_alert.startswith("checkout/availability")
    assert first_alert.index("page 1h/5m") == slo_header.index("alert")
    assert first_alert.index("14.4x") == slo_header.index("burn")
