"""Kubernetes rules that relate objects to each other: replicas vs HPA, PDB coverage, wiring."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from reliability_stack.policies.registry import Violations, stack_rule
from reliability_stack.policies.view import (
    REPLICATED_TYPES,
    SCALABLE_TYPES,
    WORKLOAD_TYPES,
    ResourceView,
    StackView,
    dig,
    fmt,
    ingress_backend_names,
    k8s_name,
    k8s_namespace,
    matching,
    number,
    selector_matches,
    template_labels,
    unknown_skips,
)

HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
SERVICE = "kubernetes:core/v1:Service"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
QUOTA_TYPES = ("kubernetes:core/v1:ResourceQuota", "kubernetes:core/v1:LimitRange")


def _label(workload: ResourceView) -> str:
    """How messages name a workload: its kind and Kubernetes name (`Deployment 'web'`)."""
    return f"{workload.kind} '{k8s_name(workload)}'"


def _closest_matching(stack: StackView, workload: ResourceView, type_: str,
                      predicate: Callable[[ResourceView], bool]) -> tuple[list[ResourceView], bool]:
    """The workload's own objects of `type_` for which `predicate` holds; and whether some could not be read."""
    candidates = stack.of_type(type_)
    found, unsure = matching(candidates, predicate)
    return stack.closest(workload, found, candidates), unsure


def hpas_targeting(stack: StackView, workload: ResourceView) -> tuple[list[ResourceView], bool]:
    """HPAs whose scaleTargetRef names this workload (same namespace, kind and name); and whether unsure."""
    kind, name, namespace = workload.kind, k8s_name(workload), k8s_namespace(workload)

    def targets(hpa: ResourceView) -> bool:
        ref = hpa.get("spec", "scaleTargetRef", default={})
        return k8s_namespace(hpa) == namespace and dig(ref, "kind") == kind and dig(ref, "name") == name

    return _closest_matching(stack, workload, HPA, targets)


def _pdbs_selecting(stack: StackView, workload: ResourceView) -> tuple[list[ResourceView], bool]:
    labels, namespace = template_labels(workload), k8s_namespace(workload)

    def selects(pdb: ResourceView) -> bool:
        selector = pdb.get("spec", "selector")
        return selector is not None and k8s_namespace(pdb) == namespace and selector_matches(selector, labels)

    return _closest_matching(stack, workload, PDB, selects)


@stack_rule(
    id="k8s-workload-replicas",
    description="Workloads run >= 2 replicas; under an HPA they leave replicas to the autoscaler.",
    remediation="Set spec.replicas >= minReplicas, or let an HPA own it: drop spec.replicas (or add "
                "ignoreChanges: ['spec.replicas']) so a re-apply does not reset the scaled count.",
    anchors=["K5", "K15", "G23"],
    techniques=["LA", "RES"],
    config={"minReplicas": {"type": "number", "default": 2, "minimum": 1}},
)
def workload_replicas(stack: StackView, config: Mapping[str, Any]) -> Violations:
    for w in stack.of_type(*SCALABLE_TYPES):
        with unknown_skips():
            replicas = w.get("spec", "replicas")
            hpas, unsure = hpas_targeting(stack, w)
            if unsure:
                continue
            if hpas:
                if replicas is not None and "spec.replicas" not in w.ignore_changes:
                    yield (f"{_label(w)} sets spec.replicas={fmt(replicas)} under an HPA: every update resets "
                           "the autoscaled count", w.urn)
                continue
            count = number(replicas) if replicas is not None else 1.0
            if count is None or count < config["minReplicas"]:
                yield (f"{_label(w)} runs {fmt(count)} replica(s), fewer than {fmt(config['minReplicas'])}, and "
                       "no HPA targets it", w.urn)


@stack_rule(
    id="k8s-pdb-coverage",
    description="Every replicated workload has a PodDisruptionBudget that still allows one eviction.",
    remediation="Declare a policy/v1 PodDisruptionBudget selecting the workload's pod labels with maxUnavailable: 1; "
                "keep minAvailable below the replica count and at most the HPA's minReplicas.",
    anchors=["K6", "K7", "K8"],
    techniques=["RES", "LA"],
)
def pdb_coverage(stack: StackView, config: Mapping[str, Any]) -> Violations:
    for w in stack.of_type(*REPLICATED_TYPES):
        with unknown_skips():
            pdbs, unsure = _pdbs_selecting(stack, w)
            if not pdbs:
                if not unsure:
                    yield f"{_label(w)} has no PodDisruptionBudget: a drain may evict every replica", w.urn
                continue
            hpas, _ = hpas_targeting(stack, w)
            floor = number(hpas[0].get("spec", "minReplicas", default=1)) if hpas else number(
                w.get("spec", "replicas", default=1))
            for pdb in pdbs:
                min_available = number(pdb.get("spec", "minAvailable"))
                if min_available is not None and floor is not None and min_available >= floor:
                    what = "the HPA's minReplicas" if hpas else "the replica count"
                    yield (f"PodDisruptionBudget '{k8s_name(pdb)}' minAvailable {fmt(min_available)} is not below "
                           f"{what} ({fmt(floor)}): no pod can ever be evicted", pdb.urn)


@stack_rule(
    id="k8s-hpa-coverage",
    description="Scalable workloads have exactly one HPA, and every HPA targets a declared workload.",
    remediation="Declare one autoscaling/v2 HorizontalPodAutoscaler per Deployment/StatefulSet; remove duplicates "
                "and HPAs whose scaleTargetRef names nothing.",
    anchors=["K11", "K14"],
    techniques=["LA"],
    enforcement="advisory",
    severity="medium",
)
def hpa_coverage(stack: StackView, config: Mapping[str, Any]) -> Violations:
    for w in stack.of_type(*REPLICATED_TYPES):
        with unknown_skips():
            hpas, unsure = hpas_targeting(stack, w)
            if not hpas and not unsure:
                yield f"{_label(w)} has no HorizontalPodAutoscaler", w.urn
            elif len(hpas) > 1:
                yield f"{_label(w)} is targeted by {len(hpas)} HPAs that fight each other", w.urn
    readable, unsure = matching(stack.of_type(*SCALABLE_TYPES), lambda w: bool(k8s_name(w) and k8s_namespace(w)))
    if unsure:
        return
    declared = {(k8s_namespace(w), w.kind, k8s_name(w)) for w in readable}
    for hpa in stack.of_type(HPA):
        with unknown_skips():
            ref = hpa.get("spec", "scaleTargetRef", default={})
            key = (k8s_namespace(hpa), str(dig(ref, "kind")), str(dig(ref, "name")))
            if key not in declared:
                yield f"HPA '{k8s_name(hpa)}' targets {key[1]} '{key[2]}', which this stack does not declare", hpa.urn


@stack_rule(
    id="k8s-network-policy",
    description="Every workload is selected by a NetworkPolicy in its namespace.",
    remediation="Declare a networking.k8s.io/v1 NetworkPolicy whose podSelector matches the workload (default-deny "
                "plus explicit allows).",
    anchors=["K27"],
    techniques=["SEC", "RES"],
    enforcement="advisory",
    severity="medium",
)
def network_policy(stack: StackView, config: Mapping[str, Any]) -> Violations:
    policies = stack.of_type(NETWORK_POLICY)
    for w in stack.of_type(*REPLICATED_TYPES, "kubernetes:apps/v1:DaemonSet"):
        with unknown_skips():
            labels, namespace = template_labels(w), k8s_namespace(w)
            found, unsure = matching(policies, lambda p, labels=labels, namespace=namespace: (
                k8s_namespace(p) == namespace and selector_matches(p.get("spec", "podSelector", default={}), labels)))
            if not found and not unsure:
                yield f"{_label(w)} is not selected by any NetworkPolicy", w.urn


@stack_rule(
    id="k8s-namespace-quota",
    description="Namespaces that run workloads have a ResourceQuota or LimitRange (bulkheads between tenants).",
    remediation="Declare a ResourceQuota (and/or LimitRange) in each namespace the stack deploys workloads to.",
    anchors=["K28"],
    techniques=["RES"],
    enforcement="advisory",
    severity="low",
)
def namespace_quota(stack: StackView, config: Mapping[str, Any]) -> Violations:
    guards, unsure = matching(stack.of_type(*QUOTA_TYPES), lambda q: bool(k8s_namespace(q)))
    if unsure:
        return
    guarded = {k8s_namespace(q) for q in guards}
    seen: set[str] = set()
    for w in stack.of_type(*WORKLOAD_TYPES):
        with unknown_skips():
            namespace = k8s_namespace(w)
            if namespace not in guarded and namespace not in seen:
                seen.add(namespace)
                yield f"namespace '{namespace}' has no ResourceQuota or LimitRange", w.urn


@stack_rule(
    id="k8s-service-wiring",
    description="Services select declared pods, Ingresses route to declared Services, StatefulSets name their Service.",
    remediation="Make each Service selector match a workload's pod template labels; point Ingress backends at "
                "declared Services; set StatefulSet spec.serviceName to a declared headless Service.",
    anchors=["K31", "K1"],
    techniques=["RES"],
    enforcement="advisory",
    severity="medium",
)
def service_wiring(stack: StackView, config: Mapping[str, Any]) -> Violations:
    workloads = stack.of_type(*WORKLOAD_TYPES)
    services = stack.of_type(SERVICE)
    if not workloads:
        return
    for svc in services:
        with unknown_skips():
            selector = svc.get("spec", "selector")
            if not selector:
                continue
            namespace = k8s_namespace(svc)
            found, unsure = matching(workloads, lambda w, selector=selector, namespace=namespace: (
                k8s_namespace(w) == namespace and selector_matches({"matchLabels": selector}, template_labels(w))))
            if not found and not unsure:
                yield f"Service '{k8s_name(svc)}' selects no declared pods", svc.urn
    named, unsure_names = matching(services, lambda s: bool(k8s_name(s)))
    if unsure_names:
        return
    service_names = {(k8s_namespace(s), k8s_name(s)) for s in named}
    for ingress in stack.of_type(INGRESS):
        with unknown_skips():
            for name in filter(None, ingress_backend_names(ingress)):
                if (k8s_namespace(ingress), str(name)) not in service_names:
                    yield f"Ingress '{k8s_name(ingress)}' routes to undeclared Service '{name}'", ingress.urn
    for sts in stack.of_type("kubernetes:apps/v1:StatefulSet"):
        with unknown_skips():
            name = sts.get("spec", "serviceName")
            if not name or (k8s_namespace(sts), str(name)) not in service_names:
                yield f"StatefulSet '{k8s_name(sts)}' names no declared governing Service", sts.urn
