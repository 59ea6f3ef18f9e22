"""Per-stack policy config: levels and thresholds change outcomes, through Configure over gRPC."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from reliability_stack.preview.analyzer import PolicyAnalyzer, load_policy_config
from tests.policies.corpus import MUTATIONS, good_stack, mutate

STACKS = Path(__file__).resolve().parents[2] / "stacks"
OVERRIDES = {
    "k8s-hpa-bounds": {"minReplicas": 4},                    # the good HPA keeps 3
    "k8s-workload-probes": "disabled",
    "aws-alarm-hygiene": {"enforcementLevel": "advisory"},
    "slo-burn-rate-alarms": {"declaredSlos": ["web-availability", "checkout", "search-latency"]},
}
CONFIG_ENV = {
    "PULUMI_CONFIG": json.dumps({"reliability-stack:environment": "prod", "reliability-stack:dbPassword": "hunter2",
                                 "reliability-stack:apiToken": "ciphertext-is-fine", "aws:region": "us-east-1"}),
    "PULUMI_CONFIG_SECRET_KEYS": json.dumps(["reliability-stack:apiToken"]),
}


@pytest.fixture(scope="module")
def configured():
    saved = {key: os.environ.get(key) for key in CONFIG_ENV}
    os.environ.update(CONFIG_ENV)  # the analyzer process inherits the stack config, as from the engine
    try:
        with PolicyAnalyzer(OVERRIDES, config_source="test overrides") as running:
            yield running
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _policies(diagnostics, level=None):
    return {d["policy"] for d in diagnostics if level is None or d["enforcementLevel"] == level}


def test_a_threshold_from_config_turns_a_pass_into_a_failure(analyzer, configured):
    hpa = next(r for r in good_stack() if r["type"].endswith(":HorizontalPodAutoscaler"))
    assert "k8s-hpa-bounds" not in _policies(analyzer.analyze(hpa))
    assert "k8s-hpa-bounds" in _policies(configured.analyze(hpa), "mandatory")


def test_disabled_and_relaxed_levels_apply(analyzer, configured):
    probes = next(m for m in MUTATIONS if m.policy == "k8s-workload-probes")
    _, deployment = mutate(good_stack(), probes)
    assert "k8s-workload-probes" in _policies(analyzer.analyze(deployment), "mandatory")
    assert "k8s-workload-probes" not in _policies(configured.analyze(deployment))
    hygiene = next(m for m in MUTATIONS if m.policy == "aws-alarm-hygiene")
    _, alarm = mutate(good_stack(), hygiene)
    assert "aws-alarm-hygiene" in _policies(configured.analyze(alarm), "advisory")
    assert "aws-alarm-hygiene" not in _policies(configured.analyze(alarm), "mandatory")


def test_plaintext_secrets_in_stack_config_are_caught(analyzer, configured):
    found = [d for d in configured.analyze_stack(good_stack()) if d["policy"] == "no-plaintext-secrets-in-config"]
    assert [d["message"].splitlines()[-1] for d in found] == [
        "config key reliability-stack:dbPassword holds a plaintext secret"]
    # Without stack config in the environment (the default fixture) the policy has nothing to say.
    assert "no-plaintext-secrets-in-config" not in _policies(analyzer.analyze_stack(good_stack()))


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_stack_policy_config_files_resolve(stack, analyzer):
    """The checked-in files name real policies and valid thresholds (the client validates them)."""
    from reliability_stack.preview.analyzer import resolve_policy_config

    path = STACKS / f"policy-config.{stack}.json"
    document = load_policy_config(path)
    assert document, f"{path} should exist and configure something"
    resolved = resolve_policy_config(analyzer.info, document, source=str(path))
    levels = {name: entry["enforcementLevel"] for name, entry in resolved.items()}
    if stack == "dev":
        assert levels["stateful-resources-protected"] == "advisory"  # review stacks must be destroyable
    else:
        assert all(levels[name] == "mandatory" for name in document if isinstance(document[name], str))


def test_a_declared_slo_without_any_alarm_is_caught(configured):
    found = [d for d in configured.analyze_stack(good_stack()) if d["policy"] == "slo-burn-rate-alarms"]
    # web-availability pages through CloudWatch, checkout through a PrometheusRule; search-latency has nothing.
    assert [d["message"].splitlines()[-1] for d in found] == [
        "SLO 'search-latency' is not paged on fast budget burn: no page-severity burn-rate alert"]
    assert found[0]["enforcementLevel"] == "mandatory"
