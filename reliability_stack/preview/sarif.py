"""SARIF 2.1.0 from the preview's plan JSON, for GitHub code scanning (`relstack preview --format sarif`).

One run; the tool's rules are the pack's policies (with remediation as help text, anchors and
seed technique as tags); each violation is a result at `stacks/Pulumi.<stack>.yaml` (the
resource's stack declaration: Pulumi programs have no per-resource source location the
analyzer could know) with the resource URN as its logical location. Mandatory violations are
errors, advisory ones warnings. Fingerprints are stable across runs so code scanning can track
an alert from one commit to the next.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
TOOL = "reliability-stack"
INFORMATION_URI = "https://github.com/reliability-stack/reliability-stack/tree/main/policies"
LEVELS = {"mandatory": "error", "remediate": "error", "advisory": "warning"}


def _metadata() -> dict[str, Any]:
    """Anchors and techniques per policy id from the pack's registry (empty if it cannot load)."""
    try:
        from reliability_stack.policies.registry import all_rules
    except ImportError:  # the plan alone is enough for a valid report
        return {}
    return {r.id: r for r in all_rules()}


def _split(message: str) -> tuple[str, str]:
    description, _, detail = message.partition("\n")
    return description, detail or description


def _rule(policy: Mapping[str, Any], meta: Any) -> dict[str, Any]:
    name = str(policy["name"])
    description = str(policy.get("description") or name)
    remediation = str(policy.get("remediationSteps") or (meta.remediation if meta else "") or description)
    level = LEVELS.get(str(policy.get("enforcementLevel")), "none")
    tags = ["reliability", *(meta.anchors if meta else ()), *(f"technique:{t}" for t in (meta.techniques if meta
                                                                                         else ()))]
    return {
        "id": name,
        "name": "".join(part.capitalize() for part in name.split("-")),
        "shortDescription": {"text": description},
        "fullDescription": {"text": description},
        "help": {"text": remediation, "markdown": f"**Remediation:** {remediation}"},
        "defaultConfiguration": {"level": level, "enabled": level != "none"},
        "properties": {"tags": tags, "kind": policy.get("type", meta.kind if meta else "resource")},
    }


def _fingerprint(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def to_sarif(plan: Mapping[str, Any]) -> dict[str, Any]:
    """The SARIF log of one preview plan (`relstack preview --format json` document)."""
    stack = str(plan.get("stack", ""))
    artifact = f"stacks/Pulumi.{stack}.yaml" if stack else "Pulumi.yaml"
    policies_section = plan.get("policies") or {}
    declared = list((plan.get("summary") or {}).get("policies") or policies_section.get("policies") or [])
    violations = list(policies_section.get("violations") or [])
    meta = _metadata()
    known = {str(p["name"]) for p in declared}
    for violation in violations:  # a violation of a policy the plan did not list still gets a rule
        if violation["policy"] not in known:
            known.add(violation["policy"])
            declared.append({"name": violation["policy"], "description": _split(violation["message"])[0],
                             "enforcementLevel": violation["enforcementLevel"]})
    rules = [_rule(p, meta.get(str(p["name"]))) for p in declared]
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    names = {r["urn"]: r.get("name") for r in plan.get("resources") or []}
    results = []
    for violation in violations:
        level = LEVELS.get(str(violation["enforcementLevel"]))
        if level is None:
            continue
        urn = str(violation.get("urn") or "")
        _, detail = _split(str(violation["message"]))
        text = f"{detail} ({urn.rsplit('::', 1)[-1]})" if urn else detail
        logical = [{"fullyQualifiedName": urn, "name": names.get(urn) or urn.rsplit("::", 1)[-1],
                    "kind": "resource"}] if urn else []
        results.append({
            "ruleId": violation["policy"],
            "ruleIndex": index[violation["policy"]],
            "level": level,
            "message": {"text": text},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": artifact},
                                                "region": {"startLine": 1}},
                           "logicalLocations": logical}],
            "partialFingerprints": {"reliabilityStackViolation/v1": _fingerprint(
                stack, str(violation["policy"]), urn, detail)},
            "properties": {"enforcementLevel": violation["enforcementLevel"], "urn": urn},
        })
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": TOOL, "informationUri": INFORMATION_URI,
                                "semanticVersion": str(plan.get("packVersion", "0.1.0")), "rules": rules}},
            "automationDetails": {"id": f"relstack-preview/{stack}/"},
            "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "repository root"}}},
            "results": results,
            "properties": {"stack": stack, "project": plan.get("project"),
                           "pack": policies_section.get("pack")},
        }],
    }
