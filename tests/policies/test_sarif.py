"""SARIF 2.1.0 for GitHub code scanning, built from the preview's plan JSON."""

from __future__ import annotations

import json

from reliability_stack.preview.sarif import to_sarif
from tests.policies.corpus import MUTATIONS, good_stack, mutate

URN = "urn:pulumi:prod::reliability-stack::aws:rds/cluster:Cluster::orders"


def _plan(violations, policies=None):
    return {
        "stack": "prod", "project": "reliability-stack",
        "resources": [{"urn": URN, "type": "aws:rds/cluster:Cluster", "name": "orders"}],
        "policies": {"pack": "reliability-stack", "violations": violations},
        "summary": {"policies": policies or []},
    }


def test_levels_locations_and_rules():
    plan = _plan([
        {"policy": "aws-rds-multi-az", "enforcementLevel": "mandatory", "urn": URN,
         "message": "RDS instances run Multi-AZ.\nmultiAz is off"},
        {"policy": "aws-rds-monitoring", "enforcementLevel": "advisory", "urn": URN,
         "message": "Database instances have Enhanced Monitoring.\nPerformance Insights is off"},
        {"policy": "k8s-priority-class", "enforcementLevel": "disabled", "urn": URN, "message": "x\ny"},
    ], policies=[{"name": "aws-rds-multi-az", "description": "RDS instances run Multi-AZ.",
                  "enforcementLevel": "mandatory", "type": "resource", "remediationSteps": "Set multiAz: true."}])
    log = json.loads(json.dumps(to_sarif(plan)))  # JSON-serializable
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-2.1.0.json")
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    results = run["results"]
    assert [(r["ruleId"], r["level"]) for r in results] == [("aws-rds-multi-az", "error"),
                                                             ("aws-rds-monitoring", "warning")]
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        location = result["locations"][0]
        assert location["physicalLocation"]["artifactLocation"]["uri"] == "stacks/Pulumi.prod.yaml"
        assert location["logicalLocations"][0]["fullyQualifiedName"] == URN
    assert results[0]["message"]["text"] == "multiAz is off (orders)"
    multi_az = rules[results[0]["ruleIndex"]]
    assert multi_az["help"]["text"] == "Set multiAz: true."
    assert "A1" in multi_az["properties"]["tags"] and "technique:RES" in multi_az["properties"]["tags"]
    assert run["automationDetails"]["id"] == "relstack-preview/prod/"


def test_fingerprints_are_stable_and_distinct():
    violation = {"policy": "aws-rds-multi-az", "enforcementLevel": "mandatory", "urn": URN, "message": "d\nm"}
    other = dict(violation, urn=URN + "2")
    first = to_sarif(_plan([violation, other]))["runs"][0]["results"]
    again = to_sarif(_plan([violation, other]))["runs"][0]["results"]
    prints = [r["partialFingerprints"] for r in first]
    assert prints == [r["partialFingerprints"] for r in again]
    assert prints[0] != prints[1]


def test_a_real_analysis_becomes_one_result_per_violation(analyzer):
    resources, _ = mutate(good_stack(), next(m for m in MUTATIONS if m.policy == "aws-rds-multi-az"))
    violations = analyzer.analyze_many(resources) + analyzer.analyze_stack(resources)
    plan = {"stack": "dev", "resources": resources, "policies": {"pack": "reliability-stack",
                                                                 "violations": violations},
            "summary": {"policies": analyzer.policies}}
    log = to_sarif(plan)
    results = log["runs"][0]["results"]
    assert len(results) == len(violations) >= 1
    assert {r["ruleId"] for r in results} == {v["policy"] for v in violations}
    assert len(log["runs"][0]["tool"]["driver"]["rules"]) == len(analyzer.policies)
