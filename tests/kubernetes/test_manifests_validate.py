"""Every manifest KubeService renders passes kubernetes-validate (strict) for a pinned Kubernetes version.

The PrometheusRule is a CRD, absent from the built-in schemas: its shape is checked by
`prometheus_rule_problem`, and its rule groups by `promtool check rules`.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest

from reliability_stack.components.kube_service import KubeIngress, prometheus_rule_problem
from reliability_stack.slo.loaders import load_slo_file
from reliability_stack.slo.prometheus import prometheus_rule_object
from tests.assertions import one
from tests.kubernetes.kube_programs import (
    BUILT_IN_KINDS,
    KUBERNETES_VERSION,
    ROOT,
    capture_kube_service,
    kubernetes_manifests,
)

RULE_TYPE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"


def compiled_catalog_rule() -> dict:
    slos = load_slo_file(ROOT / "slos" / "catalog.yaml").slos
    return prometheus_rule_object(slos, name="catalog-slo", namespace="catalog", labels={"release": "prometheus"})


VARIANTS = {
    "defaults": {},
    "ingress-tls-and-slo-rules": {
        "namespace": "catalog",
        "ingress": KubeIngress(host="catalog.example.com",
                               certificate_arn="arn:aws:acm:us-east-1:123456789012:certificate/abc"),
        "prometheus_rule": compiled_catalog_rule(),
    },
    "knobs-down": {"startup": None, "priority_class": None, "zone_spread": "ScheduleAnyway", "min_replicas": 2,
                   "max_replicas": 3, "cpu_limit": "1", "memory_limit": "512Mi", "env": {"LOG_LEVEL": "info"},
                   "ingress": KubeIngress(host="catalog.internal.example.com", class_name="nginx",
                                          internet_facing=False)},
}


def _validate(manifest: dict) -> str:
    return kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_rendered_manifest_is_valid_for_the_pinned_kubernetes(variant):
    manifests = kubernetes_manifests(capture_kube_service(**VARIANTS[variant]))
    built_in = [m for m in manifests if m["kind"] in BUILT_IN_KINDS]
    expected = {"Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy"}
    if "ingress" in VARIANTS[variant]:
        expected.add("Ingress")
    assert {m["kind"] for m in built_in} == expected
    for manifest in built_in:
        assert _validate(manifest) == "1.31", manifest["kind"]
    # nothing else is declared but the CRD, which is validated below
    assert {m["kind"] for m in manifests} - set(BUILT_IN_KINDS) <= {"PrometheusRule"}


def test_strict_validation_rejects_what_the_api_server_would_prune():
    # Control for the test above: strict mode must catch an unknown field and a wrong type.
    deployment = next(m for m in kubernetes_manifests(capture_kube_service()) if m["kind"] == "Deployment")
    unknown_field = copy.deepcopy(deployment)
    unknown_field["spec"]["template"]["spec"]["containers"][0]["readinessProbes"] = {}
    wrong_type = copy.deepcopy(deployment)
    wrong_type["spec"]["minReadySeconds"] = "10"
    for manifest in (unknown_field, wrong_type):
        with pytest.raises(kubernetes_validate.ValidationError):
            _validate(manifest)


def test_prometheus_rule_carries_the_compiled_slo_rules_unchanged():
    rule = compiled_catalog_rule()
    assert prometheus_rule_problem(rule) is None
    resources = capture_kube_service(namespace="catalog", prometheus_rule=rule,
                                     prometheus_rule_labels={"role": "alert-rules"})
    declared = one(resources, RULE_TYPE)
    assert declared.props["apiVersion"] == "monitoring.coreos.com/v1" and declared.props["kind"] == "PrometheusRule"
    assert declared.props["spec"] == rule["spec"]
    metadata = declared.props["metadata"]
    assert metadata["namespace"] == "catalog" and metadata["name"] == "catalog-slo"
    # the operator's ruleSelector labels from the compiler and the component both survive
    assert metadata["labels"]["release"] == "prometheus" and metadata["labels"]["role"] == "alert-rules"
    alerts = [r for g in declared.props["spec"]["groups"] for r in g["rules"] if "alert" in r]
    assert alerts and {a["labels"]["severity"] for a in alerts} == {"page", "ticket"}
    assert prometheus_rule_problem({k: declared.props[k] for k in ("apiVersion", "kind", "metadata", "spec")}) is None


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed (make test installs it)")
def test_prometheus_rule_groups_pass_promtool(tmp_path: Path):
    declared = one(capture_kube_service(prometheus_rule=compiled_catalog_rule()), RULE_TYPE)
    rule_file = tmp_path / "rules.json"  # JSON is YAML: promtool reads it as a rule file
    rule_file.write_text(json.dumps({"groups": declared.props["spec"]["groups"]}))
    result = subprocess.run(["promtool", "check", "rules", str(rule_file)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


GOOD_RULE = {"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule", "metadata": {"name": "r"},
             "spec": {"groups": [{"name": "g", "interval": "30s", "rules": [
                 {"record": "job:up:sum", "expr": "sum(up)"},
                 {"alert": "Down", "expr": "job:up:sum == 0", "for": "5m", "labels": {"severity": "page"}}]}]}}


@pytest.mark.parametrize(("path", "value", "fragment"), [
    (("kind",), "ConfigMap", "kind PrometheusRule"),
    (("metadata", "name"), "Catalog SLOs", "metadata.name"),
    (("metadata", "labels"), {"release": 1}, "metadata.labels"),
    (("spec", "groups"), [], "spec.groups must be a non-empty list"),
    (("spec", "groups", 0, "name"), "", "spec.groups[0].name"),
    (("spec", "groups", 0, "interval"), "30 seconds", "spec.groups[0].interval"),
    (("spec", "groups", 0, "rules"), [], "spec.groups[0].rules must be a non-empty list"),
    (("spec", "groups", 0, "rules", 1, "record"), "x", "exactly one of alert or record"),
    (("spec", "groups", 0, "rules", 0, "expr"), " ", "rules[0].expr"),
    (("spec", "groups", 0, "rules", 1, "for"), "5 minutes", "rules[1].for"),
    (("spec", "groups", 0, "rules", 1, "labels"), {"severity": 1}, "rules[1].labels"),
])
def test_prometheus_rule_shape_errors(path, value, fragment):
    assert prometheus_rule_problem(GOOD_RULE) is None
    rule = copy.deepcopy(GOOD_RULE)
    target = rule
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    problem = prometheus_rule_problem(rule)
    assert problem is not None and fragment in problem


def test_duplicate_rule_group_names_are_refused():
    rule = copy.deepcopy(GOOD_RULE)
    rule["spec"]["groups"].append(copy.deepcopy(rule["spec"]["groups"][0]))
    assert "duplicated" in (prometheus_rule_problem(rule) or "")
