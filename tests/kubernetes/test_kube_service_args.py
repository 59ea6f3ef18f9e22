"""Impossible KubeService arguments fail at construction, naming the argument."""

from __future__ import annotations

import pytest

from reliability_stack.components.kube_service import (
    HttpProbe,
    KubeIngress,
    KubeService,
    KubeServiceArgs,
    cpu_millis,
    memory_bytes,
)
from reliability_stack.errors import ComponentArgsError
from reliability_stack.preview.capture import capture_program
from tests.kubernetes.kube_programs import catalog_image

REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/catalog"

BAD_ARGS = [
    pytest.param({"image": f"{REGISTRY}:1.2.0"}, "image", "tag '1.2.0' without a digest", id="tag-only"),
    pytest.param({"image": f"{REGISTRY}:latest"}, "image", "'latest' is a moving tag", id="latest"),
    pytest.param({"image": "catalog"}, "image", "no digest", id="logical-name-unresolved"),
    pytest.param({"image": f"{REGISTRY}@sha256:1234"}, "image", "malformed digest", id="short-digest"),
    pytest.param({"min_replicas": 1}, "min_replicas", "at least 2", id="single-replica"),
    pytest.param({"min_replicas": 4, "max_replicas": 4}, "max_replicas", "must exceed min_replicas", id="max-eq-min"),
    pytest.param({"pdb_max_unavailable": 0}, "pdb_max_unavailable", "zero disruptions", id="pdb-zero"),
    pytest.param({"min_replicas": 2, "pdb_max_unavailable": 2}, "pdb_max_unavailable",
                 "must stay below min_replicas", id="pdb-above-hpa-min"),
    pytest.param({"liveness": HttpProbe.liveness("/healthz")}, "liveness", "different endpoint than readiness",
                 id="liveness-same-endpoint"),
    pytest.param({"liveness": HttpProbe("/livez", period_seconds=5, timeout_seconds=1, failure_threshold=2)},
                 "liveness", "tolerate failure longer than readiness", id="liveness-faster-than-readiness"),
    pytest.param({"readiness": HttpProbe("healthz", 5, 2, 2)}, "readiness", "must start with '/'", id="probe-path"),
    pytest.param({"startup": HttpProbe("/livez", 5, 10, 3)}, "startup", "timeout must not exceed", id="probe-timeout"),
    pytest.param({"termination_grace_period_seconds": 35}, "termination_grace_period_seconds",
                 "must exceed preStop sleep 15s + shutdown 20s", id="grace-below-drain"),
    pytest.param({"deregistration_delay_seconds": 120, "termination_grace_period_seconds": 60},
                 "termination_grace_period_seconds", "shorter than the load balancer's deregistration delay",
                 id="grace-below-deregistration"),
    pytest.param({"pre_stop_sleep_seconds": 0}, "pre_stop_sleep_seconds", "below 5 s", id="no-prestop"),
    pytest.param({"memory_request": "512Mi", "memory_limit": "256Mi"}, "memory_limit", "below memory_request",
                 id="limit-below-request"),
    pytest.param({"memory_request": "lots"}, "memory_request", "not a memory quantity", id="memory-format"),
    pytest.param({"cpu_request": "250mc"}, "cpu_request", "not a CPU quantity", id="cpu-format"),
    pytest.param({"cpu_request": "500m", "cpu_limit": "0.25"}, "cpu_limit", "below cpu_request", id="cpu-limit"),
    pytest.param({"max_surge": 0}, "max_surge", "max_surge >= 1", id="no-surge"),
    pytest.param({"min_ready_seconds": 300, "progress_deadline_seconds": 300}, "progress_deadline_seconds",
                 "must exceed min_ready_seconds", id="deadline"),
    pytest.param({"target_cpu_percent": 95}, "target_cpu_percent", "within 1..90", id="cpu-target"),
    pytest.param({"scale_down_stabilization_seconds": 0}, "scale_down_stabilization_seconds", "flap",
                 id="scale-down-window"),
    pytest.param({"namespace": "Catalog"}, "namespace", "DNS-1123", id="namespace"),
    pytest.param({"object_name": "9catalog"}, "object_name", "DNS-1035", id="object-name"),
    pytest.param({"ingress": KubeIngress(host="not a host")}, "ingress.host", "not a DNS name", id="ingress-host"),
    pytest.param({"ingress": KubeIngress(host="a.example.com", annotations={"pulumi.com/skipAwait": "true"})},
                 "ingress.annotations", "skipAwait", id="skip-await"),
    pytest.param({"prometheus_rule": {"apiVersion": "v1", "kind": "ConfigMap"}}, "prometheus_rule",
                 "monitoring.coreos.com/v1", id="rule-kind"),
]


@pytest.mark.parametrize(("overrides", "argument", "fragment"), BAD_ARGS)
def test_bad_args_raise_naming_the_argument(overrides, argument, fragment):
    with pytest.raises(ComponentArgsError) as caught:
        KubeServiceArgs(**{"image": catalog_image(), **overrides})
    assert caught.value.field == f"KubeService.{argument}"
    assert fragment in caught.value.reason
    assert caught.value.exit_code == 2


def test_component_name_must_be_a_kubernetes_name_unless_object_name_is_given():
    args = KubeServiceArgs(image=catalog_image())
    with pytest.raises(ComponentArgsError) as caught:
        capture_program(lambda: KubeService("Catalog_Service", args))
    assert caught.value.field == "KubeService.name"
    renamed = KubeServiceArgs(image=catalog_image(), object_name="catalog")
    resources = capture_program(lambda: KubeService("Catalog_Service", renamed)).resources
    assert any(r.props.get("metadata", {}).get("name") == "catalog" for r in resources)


def test_grace_period_is_derived_above_drain_and_deregistration():
    image = catalog_image()
    assert KubeServiceArgs(image=image).grace_period == 45  # 15 preStop + 20 shutdown + 10
    assert KubeServiceArgs(image=image, deregistration_delay_seconds=60).grace_period == 70
    assert KubeServiceArgs(image=image, termination_grace_period_seconds=90).grace_period == 90


@pytest.mark.parametrize(("quantity", "expected"), [("256Mi", 256 * 2**20), ("1G", 10**9), ("1.5Gi", 1.5 * 2**30),
                                                    ("1048576", 2**20)])
def test_memory_quantities(quantity, expected):
    assert memory_bytes(quantity) == expected


@pytest.mark.parametrize(("quantity", "expected"), [("250m", 250), ("0.5", 500), ("2", 2000)])
def test_cpu_quantities(quantity, expected):
    assert cpu_millis(quantity) == expected
