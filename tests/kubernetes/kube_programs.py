"""Programs that declare KubeService, captured under the Pulumi mock runtime, for the tests here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reliability_stack.components.kube_service import KubeService, KubeServiceArgs
from reliability_stack.images import LOCK_FILE, load_lock
from reliability_stack.preview.capture import CapturedResource, capture_program

ROOT = Path(__file__).resolve().parents[2]
KUBERNETES_VERSION = "1.31.0"  # the pinned API version every manifest is validated against

BUILT_IN_KINDS = ("Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy",
                  "Ingress")


def catalog_image() -> str:
    return load_lock(ROOT / LOCK_FILE).resolve_container("catalog")


def capture_kube_service(name: str = "catalog", **overrides: Any) -> list[CapturedResource]:
    """Resources of one KubeService built from the lock's `catalog` image and `overrides`."""
    args = KubeServiceArgs(**{"image": catalog_image(), **overrides})

    def program() -> None:
        KubeService(name, args)

    return capture_program(program).resources


def manifest(resource: CapturedResource) -> dict[str, Any]:
    """The Kubernetes object a captured resource would apply: apiVersion, kind, metadata, spec."""
    props = resource.props
    group_version, kind = resource.type.split(":", 1)[1].split(":")
    api_version = group_version.removeprefix("core/")
    body = {"apiVersion": props.get("apiVersion", api_version), "kind": props.get("kind", kind),
            "metadata": props["metadata"]}
    for key in ("spec", "data", "rules"):
        if key in props:
            body[key] = props[key]
    return body


def kubernetes_manifests(resources: list[CapturedResource]) -> list[dict[str, Any]]:
    return [manifest(r) for r in resources if r.type.startswith("kubernetes:") and r.custom]
