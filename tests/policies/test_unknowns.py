"""Tri-state: a value unknown during preview never produces a violation, only "can't tell yet".

Each mutation of the corpus names a setting some policy checks; here that setting is made
unknown (the engine's sentinel, as `pulumi preview` sends for outputs of resources not yet
created) instead of bad. The policy must not report it as a violation.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pulumi_policy.proxy import (
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
)

from reliability_stack.policies.registry import all_rules
from tests.policies.corpus import MUTATIONS, PATH_STEP, Mutation, good_stack, set_path

RULES = {rule.id: rule for rule in all_rules()}
VALUE_MUTATIONS = [m for m in MUTATIONS if not m.path.startswith("@")]


def _current(document: dict[str, Any], path: str) -> Any:
    value: Any = document
    for key, index in PATH_STEP.findall(path):
        try:
            value = value[int(index)] if index else value[key]
        except (KeyError, IndexError, TypeError):
            return None
    return value


def _sentinel(value: Any) -> str:
    if isinstance(value, bool):
        return UNKNOWN_BOOLEAN_VALUE
    if isinstance(value, int | float):
        return UNKNOWN_NUMBER_VALUE
    if isinstance(value, dict):
        return UNKNOWN_OBJECT_VALUE
    if isinstance(value, list):
        return UNKNOWN_ARRAY_VALUE
    return UNKNOWN_STRING_VALUE


def with_unknown(resources: list[dict[str, Any]], mutation: Mutation) -> tuple[list[dict[str, Any]], dict]:
    changed = copy.deepcopy(resources)
    target = next(r for r in changed if f"{r['type']}::{r['name']}" == mutation.resource)
    set_path(target["props"], mutation.path, _sentinel(_current(target["props"], mutation.path)))
    return changed, target


@pytest.fixture(scope="module")
def reported(analyzer):
    """Mutation label -> the diagnostics of the mutation's policy once its setting is unknown."""
    base = good_stack()
    found: dict[str, list[dict[str, Any]]] = {}
    batch, owners = [], {}
    for index, mutation in enumerate(VALUE_MUTATIONS):
        changed, target = with_unknown(base, mutation)
        found[mutation.label] = []
        if RULES[mutation.policy].kind == "resource":
            single = dict(target, urn=f"{target['urn']}-u{index}")
            owners[single["urn"]] = mutation
            batch.append(single)
        else:
            found[mutation.label] = [d for d in analyzer.analyze_stack(changed) if d["policy"] == mutation.policy]
    for diagnostic in analyzer.analyze_many(batch):
        mutation = owners[diagnostic["urn"]]  # the client attributes URN-less diagnostics to the request
        if diagnostic["policy"] == mutation.policy:
            found[mutation.label].append(diagnostic)
    return found


@pytest.mark.parametrize("mutation", VALUE_MUTATIONS, ids=lambda m: m.label)
def test_an_unknown_setting_is_not_a_violation(mutation, reported):
    violations = [d for d in reported[mutation.label] if "during preview" not in d["message"]]
    assert violations == []


def test_unknowns_surface_as_advisory_cant_tell(analyzer):
    """A resource policy that needs an unknown value says so, as advisory, never mandatory."""
    resources = good_stack()
    deployment = next(r for r in resources if r["name"] == "web" and r["type"].endswith(":Deployment"))
    set_path(deployment["props"], "spec.template.spec.containers[0].readinessProbe", UNKNOWN_OBJECT_VALUE)
    diagnostics = [d for d in analyzer.analyze(deployment) if d["policy"] == "k8s-workload-probes"]
    assert len(diagnostics) == 1
    assert diagnostics[0]["enforcementLevel"] == "advisory"
    assert "can't be known during preview" in diagnostics[0]["message"]


def test_a_known_bad_value_next_to_an_unknown_one_is_still_caught(analyzer):
    """Unknown does not hide what is known: the PDB is unknown, the replica count is not."""
    resources = good_stack()
    for r in resources:
        if r["type"].endswith(":HorizontalPodAutoscaler"):
            set_path(r["props"], "spec.scaleTargetRef.name", "elsewhere")
        if r["type"].endswith(":PodDisruptionBudget"):
            set_path(r["props"], "spec.selector", UNKNOWN_OBJECT_VALUE)
    policies = {d["policy"] for d in analyzer.analyze_stack(resources)}
    assert "k8s-workload-replicas" in policies
    assert "k8s-pdb-coverage" not in policies
