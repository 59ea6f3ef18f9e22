"""The reference stacks: their Kubernetes objects validate (strict) and KubeService is among them."""

from __future__ import annotations

import kubernetes_validate
import pytest

from reliability_stack.components.kube_service import prometheus_rule_problem
from reliability_stack.config import read_stack_file
from reliability_stack.preview.engine import read_project, run_program
from tests.kubernetes.kube_programs import BUILT_IN_KINDS, KUBERNETES_VERSION, ROOT, kubernetes_manifests

STACKS = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in (ROOT / "stacks").glob("Pulumi.*.yaml"))
KUBE_SERVICE = "reliability-stack:kube_service:KubeService"


def kubernetes_only(config: dict) -> dict:
    """The stack's config with only its `platform: kubernetes` services.

    Only those services declare Kubernetes objects (ReliableService -> KubeService), so the
    real program run on this config renders every Kubernetes manifest of the stack, at a
    fraction of the cost of also declaring the EC2 services.
    """
    key = "reliability-stack:services"
    return {**config, key: [s for s in config[key] if s.get("platform") == "kubernetes"]}


@pytest.fixture(scope="module")
def captured():
    project = str(read_project(ROOT)["name"])
    result = {}
    for stack in STACKS:
        config = kubernetes_only(read_stack_file(ROOT, stack))
        if config["reliability-stack:services"]:
            result[stack] = run_program(ROOT, project, stack, config).resources
    return result


def test_reference_stacks_exist_and_run_kubernetes_services(captured):
    assert {"dev", "prod"} <= set(STACKS)
    assert "prod" in captured


def test_every_kubernetes_manifest_of_every_reference_stack_is_valid(captured):
    checked = 0
    for stack, resources in captured.items():
        for manifest in kubernetes_manifests(resources):
            where = f"{stack}: {manifest['kind']} {manifest['metadata'].get('name')}"
            if manifest["kind"] == "PrometheusRule":
                assert prometheus_rule_problem(manifest) is None, where
            else:
                assert manifest["kind"] in BUILT_IN_KINDS, where
                kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
            checked += 1
    assert checked >= 5  # at least one KubeService's Deployment, Service, HPA, PDB, NetworkPolicy


def test_a_reference_stack_runs_a_kube_service_with_its_slo_rules(captured):
    stacks_with_kube = {stack for stack, resources in captured.items()
                        if any(r.type == KUBE_SERVICE for r in resources)}
    assert "prod" in stacks_with_kube
    prod = captured["prod"]
    deployments = [r for r in prod if r.type == "kubernetes:apps/v1:Deployment"]
    assert deployments and all("replicas" not in d.props["spec"] for d in deployments)
    assert all("@sha256:" in c["image"] for d in deployments for c in d.props["spec"]["template"]["spec"]["containers"])
    assert any(r.type == "kubernetes:monitoring.coreos.com/v1:PrometheusRule" for r in prod)
