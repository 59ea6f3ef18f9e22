"""KubeService defaults, asserted on the resources it declares (captured under the mock runtime)."""

from __future__ import annotations

import pytest

from reliability_stack.components.kube_service import HttpProbe, KubeIngress
from tests.assertions import children_of, find, one, props_like
from tests.kubernetes.kube_programs import capture_kube_service, catalog_image

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
SERVICE = "kubernetes:core/v1:Service"
HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
SELECTOR = {"app.kubernetes.io/name": "catalog", "app.kubernetes.io/instance": "catalog-default"}


@pytest.fixture(scope="module")
def resources():
    return capture_kube_service()


@pytest.fixture(scope="module")
def deployment(resources):
    return one(resources, DEPLOYMENT)


@pytest.fixture(scope="module")
def pod(deployment):
    return deployment.props["spec"]["template"]["spec"]


@pytest.fixture(scope="module")
def container(pod):
    assert len(pod["containers"]) == 1
    return pod["containers"][0]


def test_one_component_with_its_children_named_after_it(resources):
    component = one(resources, "reliability-stack:kube_service:KubeService")
    children = children_of(resources, component)
    assert sorted((r.type, r.name) for r in children) == sorted([
        (DEPLOYMENT, "catalog-deployment"), (SERVICE, "catalog-service"), (HPA, "catalog-hpa"),
        (PDB, "catalog-pdb"), (NETPOL, "catalog-netpol"),
    ])
    # no Ingress and no PrometheusRule unless asked for
    assert not [r for r in resources if r.type in (INGRESS, RULE)]


def test_image_is_the_locked_digest_and_pulled_only_if_missing(container):
    assert container["image"] == catalog_image()
    assert "@sha256:" in container["image"]
    assert container["imagePullPolicy"] == "IfNotPresent"


def test_rollout_never_removes_capacity_and_is_awaited(deployment):
    spec = deployment.props["spec"]
    assert spec["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}
    assert 5 <= spec["minReadySeconds"] <= 10
    assert spec["progressDeadlineSeconds"] > spec["minReadySeconds"]
    annotations = deployment.props["metadata"].get("annotations") or {}
    assert "pulumi.com/skipAwait" not in annotations
    assert deployment.options["customTimeouts"] == {"create": "10m", "update": "10m"}


def test_the_autoscaler_owns_the_replica_count(deployment, resources):
    # A static `replicas` would scale the service back to it on every `pulumi up`.
    assert "replicas" not in deployment.props["spec"]
    hpa = one(resources, HPA)
    spec = hpa.props["spec"]
    assert spec["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "catalog"}
    assert spec["minReplicas"] >= 2 and spec["maxReplicas"] > spec["minReplicas"]
    assert props_like(spec["metrics"], [{"type": "Resource", "resource": {
        "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 60}}}])
    assert spec["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 300
    assert spec["behavior"]["scaleUp"]["stabilizationWindowSeconds"] == 0
    assert spec["behavior"]["scaleUp"]["policies"] and spec["behavior"]["scaleDown"]["policies"]


def test_probes_readiness_liveness_distinct_and_startup(container):
    readiness, liveness, startup = (container[k] for k in ("readinessProbe", "livenessProbe", "startupProbe"))
    assert readiness["httpGet"] == {"path": "/healthz", "port": "http"}
    assert liveness["httpGet"]["path"] == "/livez"
    assert liveness != readiness
    # a pod leaves rotation long before it is restarted
    assert (liveness["periodSeconds"] * liveness["failureThreshold"]
            > readiness["periodSeconds"] * readiness["failureThreshold"])
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 60


def test_termination_is_ordered_prestop_then_shutdown_within_grace(container, pod, resources):
    pre_stop = container["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert 5 <= pre_stop <= 15
    grace = pod["terminationGracePeriodSeconds"]
    assert grace > pre_stop + 20  # 20 s: the default shutdown time of the process
    assert grace >= 30  # the default load-balancer deregistration delay


def test_requests_and_memory_limit_equal_to_request(container):
    resources = container["resources"]
    assert resources["requests"]["cpu"] == "250m"
    assert resources["requests"]["memory"] == resources["limits"]["memory"] == "256Mi"
    assert "cpu" not in resources["limits"]
    assert "ephemeral-storage" in resources["requests"] and "ephemeral-storage" in resources["limits"]


def test_spread_over_zones_and_hosts_with_soft_anti_affinity(pod):
    spread = {c["topologyKey"]: c for c in pod["topologySpreadConstraints"]}
    assert props_like(spread["topology.kubernetes.io/zone"], {
        "maxSkew": 1, "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {"matchLabels": SELECTOR}})
    assert props_like(spread["kubernetes.io/hostname"], {"maxSkew": 1, "whenUnsatisfiable": "ScheduleAnyway"})
    anti = pod["affinity"]["podAntiAffinity"]
    assert "requiredDuringSchedulingIgnoredDuringExecution" not in anti
    assert props_like(anti["preferredDuringSchedulingIgnoredDuringExecution"], [{
        "weight": 100, "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname",
                                           "labelSelector": {"matchLabels": SELECTOR}}}])
    assert pod["priorityClassName"] == "service-critical"


def test_hardened_security_context_and_no_token(pod, container):
    assert pod["automountServiceAccountToken"] is False
    assert props_like(pod["securityContext"], {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}})
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False, "privileged": False, "readOnlyRootFilesystem": True,
        "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]}}


def test_disruption_budget_allows_one_eviction_and_evicts_unhealthy_pods(resources):
    pdb = one(resources, PDB)
    spec = pdb.props["spec"]
    assert spec == {"maxUnavailable": 1, "unhealthyPodEvictionPolicy": "AlwaysAllow",
                    "selector": {"matchLabels": SELECTOR}}
    assert spec["maxUnavailable"] < one(resources, HPA).props["spec"]["minReplicas"]


def test_service_selects_the_pods_by_their_labels(resources, deployment):
    service = one(resources, SERVICE)
    labels = deployment.props["spec"]["template"]["metadata"]["labels"]
    assert service.props["spec"]["selector"].items() <= labels.items()
    assert deployment.props["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert service.props["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]


def test_network_policy_admits_only_the_service_port(resources):
    policy = one(resources, NETPOL)
    assert policy.props["spec"] == {
        "podSelector": {"matchLabels": SELECTOR}, "policyTypes": ["Ingress"],
        "ingress": [{"ports": [{"port": "http", "protocol": "TCP"}]}]}
    assert not find(capture_kube_service(network_policy=False), NETPOL)


def test_ingress_health_check_and_draining_follow_the_pod_settings():
    resources = capture_kube_service(
        readiness=HttpProbe.readiness("/ready"),
        deregistration_delay_seconds=40, termination_grace_period_seconds=60,
        ingress=KubeIngress(host="catalog.example.com", certificate_arn="arn:aws:acm:us-east-1:123456789012:certificate/x"))
    ingress = one(resources, INGRESS)
    annotations = ingress.props["metadata"]["annotations"]
    assert annotations["alb.ingress.kubernetes.io/healthcheck-path"] == "/ready"
    assert annotations["alb.ingress.kubernetes.io/target-group-attributes"] == \
        "deregistration_delay.timeout_seconds=40"
    assert annotations["alb.ingress.kubernetes.io/target-type"] == "ip"
    assert annotations["alb.ingress.kubernetes.io/ssl-redirect"] == "443"
    assert props_like(ingress.props["spec"], {"ingressClassName": "alb", "rules": [{
        "host": "catalog.example.com", "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": {
            "service": {"name": "catalog", "port": {"name": "http"}}}}]}}]})
    pod = one(resources, DEPLOYMENT).props["spec"]["template"]["spec"]
    assert pod["terminationGracePeriodSeconds"] == 60


def test_knobs_turn_resilience_down_only_when_asked():
    resources = capture_kube_service(startup=None, zone_spread="ScheduleAnyway", priority_class=None,
                                     min_replicas=2, max_replicas=4, pdb_max_unavailable=1)
    deployment = one(resources, DEPLOYMENT)
    pod = deployment.props["spec"]["template"]["spec"]
    assert "startupProbe" not in pod["containers"][0]
    assert "priorityClassName" not in pod
    assert {c["whenUnsatisfiable"] for c in pod["topologySpreadConstraints"]} == {"ScheduleAnyway"}
    assert one(resources, HPA).props["spec"]["minReplicas"] == 2


def test_one_service_per_cluster_keeps_its_kubernetes_name():
    resources = capture_kube_service(name="catalog-us-west-2", object_name="catalog")
    deployment = one(resources, DEPLOYMENT)
    assert deployment.name == "catalog-us-west-2-deployment"
    assert deployment.props["metadata"]["name"] == "catalog"
    assert one(resources, HPA).props["spec"]["scaleTargetRef"]["name"] == "catalog"
