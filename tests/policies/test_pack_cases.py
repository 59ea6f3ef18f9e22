"""Every policy passes the resilient stack and catches each way of turning it down, over gRPC."""

from __future__ import annotations

from collections import defaultdict

import pytest

from reliability_stack.policies.registry import all_rules
from tests.policies.corpus import MUTATIONS, good_stack, mutate

RULES = {rule.id: rule for rule in all_rules()}


@pytest.fixture(scope="module")
def good_diagnostics(analyzer):
    resources = good_stack()
    return analyzer.analyze_many(resources) + analyzer.analyze_stack(resources)


@pytest.fixture(scope="module")
def caught(analyzer):
    """Mutation label -> the policies that reported the mutated resource or stack."""
    base = good_stack()
    found: dict[str, set[str]] = defaultdict(set)
    batch, owners = [], {}
    for index, mutation in enumerate(MUTATIONS):
        changed, target = mutate(base, mutation)
        if RULES[mutation.policy].kind == "resource":
            single = dict(target, urn=f"{target['urn']}-m{index}")
            owners[single["urn"]] = mutation.label
            batch.append(single)
        else:
            found[mutation.label] |= {d["policy"] for d in analyzer.analyze_stack(changed)}
    for diagnostic in analyzer.analyze_many(batch):
        found[owners[diagnostic["urn"]]].add(diagnostic["policy"])
    return found


def test_the_resilient_stack_passes_every_policy(good_diagnostics):
    assert [(d["policy"], d["urn"].rsplit("::", 1)[-1], d["message"]) for d in good_diagnostics] == []


# Policies that forbid a resource type outright: their passing case is the stack declaring
# the alternative (Deployments, not bare Pods), which the clean run above shows.
PROHIBITIONS = {"k8s-no-bare-pods"}


def test_every_policy_applies_to_the_resilient_stack():
    """The passing case is real: each resource policy sees a resource of its types."""
    types = {r["type"] for r in good_stack()}
    idle = [r.id for r in RULES.values() if r.kind == "resource" and not any(r.applies_to(t) for t in types)]
    assert sorted(idle) == sorted(PROHIBITIONS)


def test_every_policy_has_a_failing_case():
    assert sorted(set(RULES) - {m.policy for m in MUTATIONS} - {"no-plaintext-secrets-in-config"}) == []


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: m.label)
def test_the_pack_catches_the_mutation(mutation, caught):
    assert mutation.policy in caught[mutation.label], f"reported instead: {sorted(caught[mutation.label])}"


def test_diagnostics_carry_level_urn_and_description_first(analyzer):
    changed, target = mutate(good_stack(), MUTATIONS[0])
    diagnostics = [d for d in analyzer.analyze(target) if d["policy"] == "k8s-workload-probes"]
    assert diagnostics, "the probe policy should report the mutated deployment"
    first = diagnostics[0]
    assert first["enforcementLevel"] == "mandatory"
    assert first["urn"] == target["urn"]
    description, _, detail = first["message"].partition("\n")
    assert description == RULES["k8s-workload-probes"].description
    assert "readinessProbe" in detail
