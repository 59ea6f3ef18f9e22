"""Kubernetes workload rules that one resource's inputs decide (K1-K33, G9, G11, G19)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from reliability_stack.policies.registry import resource_rule
from reliability_stack.policies.view import (
    REPLICATED_TYPES,
    WORKLOAD_TYPES,
    ResourceView,
    containers,
    dig,
    fmt,
    grace_period_seconds,
    is_true,
    items,
    number,
    pinned_by_digest,
    plain,
    pod_spec,
    pod_template,
)

SERVING_TYPES = ("kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet",
                 "kubernetes:apps/v1:DaemonSet", "kubernetes:apps/v1:ReplicaSet", "kubernetes:core/v1:Pod")
ZONE_KEY = "topology.kubernetes.io/zone"
HOST_KEY = "kubernetes.io/hostname"


def _cname(container: Mapping[str, Any]) -> str:
    return str(dig(container, "name", default="?"))


def _missing_resources(r: ResourceView, paths: tuple[tuple[str, str], ...], *, init: bool) -> Iterator[str]:
    """One message per container and `resources` field (e.g. ("requests", "cpu")) it leaves unset."""
    for c in containers(r, init=init):
        for path in paths:
            if dig(c, "resources", *path) is None:
                yield f"container '{_cname(c)}' has no resources.{'.'.join(path)}"


@resource_rule(
    id="k8s-workload-probes",
    description="Serving containers have readiness and liveness probes that differ and do not run heavy commands.",
    remediation="Add a readinessProbe (traffic gate) and a livenessProbe (restart on deadlock) to every container; "
                "point them at different endpoints or thresholds; use httpGet/grpc instead of exec shells.",
    anchors=["K1", "K2", "K3", "K4", "CKV_K8S_8", "CKV_K8S_9"],
    techniques=["RES"],
    types=SERVING_TYPES,
    config={
        "requireLiveness": {"type": "boolean", "default": True,
                            "description": "Also require a livenessProbe (kube-score treats it as almost-OK)."},
        "forbiddenExecCommands": {"type": "array", "items": {"type": "string"},
                                  "default": ["sh", "bash", "jcmd", "curl", "wget", "ps"],
                                  "description": "Commands an exec probe must not start."},
    },
)
def workload_probes(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    forbidden = set(config["forbiddenExecCommands"])
    for c in containers(r):
        name = _cname(c)
        readiness, liveness = dig(c, "readinessProbe"), dig(c, "livenessProbe")
        if readiness is None:
            yield f"container '{name}' has no readinessProbe: it receives traffic before it is ready"
        if liveness is None and config["requireLiveness"]:
            yield f"container '{name}' has no livenessProbe: a deadlocked process is never restarted"
        if readiness is not None and liveness is not None and plain(readiness) == plain(liveness):
            yield f"container '{name}' has identical readiness and liveness probes: one slow dependency restarts every pod"
        for kind, probe in (("readiness", readiness), ("liveness", liveness),
                            ("startup", dig(c, "startupProbe"))):
            command = items(dig(probe, "exec", "command"))
            if command and str(command[0]).rsplit("/", 1)[-1] in forbidden:
                yield f"container '{name}' {kind} probe runs '{command[0]}': exec probes must be cheap"


@resource_rule(
    id="k8s-workload-spread",
    description="Replicated workloads spread across zones and hosts.",
    remediation="Add topologySpreadConstraints on topology.kubernetes.io/zone (and kubernetes.io/hostname), or a "
                "podAntiAffinity on kubernetes.io/hostname, selecting the workload's own pods.",
    anchors=["K9", "K10"],
    techniques=["RES", "LAT"],
    types=REPLICATED_TYPES,
    config={"requireZoneSpread": {"type": "boolean", "default": True},
            "requireHostSpread": {"type": "boolean", "default": True}},
)
def workload_spread(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    spec = pod_spec(r)
    spread_keys = {str(dig(t, "topologyKey")) for t in items(dig(spec, "topologySpreadConstraints"))}
    anti = dig(spec, "affinity", "podAntiAffinity", default={})
    anti_keys = {str(dig(term, "topologyKey"))
                 for term in items(dig(anti, "requiredDuringSchedulingIgnoredDuringExecution"))}
    anti_keys |= {str(dig(term, "podAffinityTerm", "topologyKey"))
                  for term in items(dig(anti, "preferredDuringSchedulingIgnoredDuringExecution"))}
    if config["requireZoneSpread"] and ZONE_KEY not in spread_keys | anti_keys:
        yield f"no topologySpreadConstraint on {ZONE_KEY}: all replicas may land in one zone"
    if config["requireHostSpread"] and HOST_KEY not in spread_keys | anti_keys:
        yield f"no host anti-affinity or spread on {HOST_KEY}: one node failure may take every replica"


@resource_rule(
    id="k8s-container-resources",
    description="Containers request CPU and memory and limit memory.",
    remediation="Set resources.requests.cpu, resources.requests.memory and resources.limits.memory on every "
                "container (init containers included).",
    anchors=["K16", "K17", "CKV_K8S_10", "CKV_K8S_11", "CKV_K8S_12", "CKV_K8S_13"],
    techniques=["RES", "LA"],
    types=WORKLOAD_TYPES,
)
def container_resources(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    yield from _missing_resources(r, (("requests", "cpu"), ("requests", "memory"), ("limits", "memory")), init=True)


@resource_rule(
    id="k8s-guaranteed-memory",
    description="Memory limit equals memory request, so the scheduler's promise holds under pressure.",
    remediation="Set resources.limits.memory equal to resources.requests.memory (Guaranteed memory QoS).",
    anchors=["K18"],
    techniques=["LR"],
    types=SERVING_TYPES,
    enforcement="advisory",
    severity="medium",
)
def guaranteed_memory(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    for c in containers(r):
        request, limit = dig(c, "resources", "requests", "memory"), dig(c, "resources", "limits", "memory")
        if request is not None and limit is not None and str(request) != str(limit):
            yield f"container '{_cname(c)}' memory request {request} differs from limit {limit}"


@resource_rule(
    id="k8s-ephemeral-storage",
    description="Containers request and limit ephemeral storage, so a full disk evicts one pod, not a node's.",
    remediation="Set resources.requests/limits['ephemeral-storage'] on every container.",
    anchors=["K19"],
    techniques=["RES"],
    types=SERVING_TYPES,
    enforcement="advisory",
    severity="low",
)
def ephemeral_storage(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    yield from _missing_resources(r, (("requests", "ephemeral-storage"), ("limits", "ephemeral-storage")), init=False)


@resource_rule(
    id="k8s-image-immutable",
    description="Container images are pinned: a tag that is not 'latest', and by default a sha256 digest.",
    remediation="Reference images as registry/name@sha256:<digest> (relstack images lock); never use ':latest' or "
                "an untagged image. Without a digest, set imagePullPolicy: Always.",
    anchors=["K20", "K21", "K22", "CKV_K8S_14", "CKV_K8S_43", "CKV_K8S_15"],
    techniques=["IMM"],
    types=WORKLOAD_TYPES,
    config={"requireDigest": {"type": "boolean", "default": True}},
)
def image_immutable(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    for c in containers(r, init=True):
        image = str(dig(c, "image", default=""))
        if pinned_by_digest(image):
            continue
        last = image.rsplit("/", 1)[-1]
        tag = last.split(":", 1)[1] if ":" in last else ""
        if not tag or tag == "latest":
            yield f"container '{_cname(c)}' image '{image}' has no tag or uses 'latest'"
        elif config["requireDigest"]:
            yield f"container '{_cname(c)}' image '{image}' is not pinned by digest (@sha256:...)"
        elif dig(c, "imagePullPolicy") not in ("Always", None):
            yield f"container '{_cname(c)}' uses a mutable tag without imagePullPolicy: Always"


@resource_rule(
    id="k8s-priority-class",
    description="Workloads name a priorityClassName, so critical pods preempt batch work under pressure.",
    remediation="Set spec.template.spec.priorityClassName (e.g. service-critical) and declare the PriorityClass.",
    anchors=["K23"],
    techniques=["LR"],
    types=SERVING_TYPES,
    enforcement="advisory",
    severity="medium",
)
def priority_class(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    if not dig(pod_spec(r), "priorityClassName"):
        yield "no priorityClassName: the pods get the cluster default priority and are preempted first"


@resource_rule(
    id="k8s-rolling-update",
    description="Deployments roll out without losing capacity: RollingUpdate, maxUnavailable 0, minReadySeconds.",
    remediation="Use strategy RollingUpdate with maxUnavailable: 0 and maxSurge >= 1, set minReadySeconds (>= 5) "
                "and keep progressDeadlineSeconds above it; StatefulSets use updateStrategy RollingUpdate.",
    anchors=["K24", "G9"],
    techniques=["IMM", "RES"],
    types=REPLICATED_TYPES,
    config={"minReadySeconds": {"type": "number", "default": 5, "minimum": 0},
            "maxUnavailable": {"type": "number", "default": 0, "minimum": 0}},
)
def rolling_update(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    if r.type.endswith(":StatefulSet"):
        if r.get("spec", "updateStrategy", "type") == "OnDelete":
            yield "updateStrategy OnDelete: new images never roll out by themselves"
        return
    strategy = str(r.get("spec", "strategy", "type", default="RollingUpdate"))
    if strategy != "RollingUpdate":
        yield f"strategy {strategy}: every pod stops before the new ones start"
        return
    max_unavailable = r.get("spec", "strategy", "rollingUpdate", "maxUnavailable", default="25%")
    value = number(str(max_unavailable).rstrip("%"))
    if value is None or value > config["maxUnavailable"]:
        yield (f"rollingUpdate.maxUnavailable is {max_unavailable}: a rollout may drop below the required replicas "
               f"(allowed: {fmt(config['maxUnavailable'])})")
    min_ready = number(r.get("spec", "minReadySeconds", default=0)) or 0.0
    if min_ready < config["minReadySeconds"]:
        yield f"minReadySeconds is {fmt(min_ready)}: a crash-looping pod counts as available (minimum {fmt(config['minReadySeconds'])})"
    deadline = number(r.get("spec", "progressDeadlineSeconds"))
    if deadline is not None and deadline <= min_ready:
        yield f"progressDeadlineSeconds {fmt(deadline)} is not above minReadySeconds {fmt(min_ready)}"


@resource_rule(
    id="k8s-job-bounded",
    description="Jobs and CronJobs retry a bounded number of times within a deadline; CronJobs set a start deadline.",
    remediation="Set spec.backoffLimit (<= maxBackoffLimit) and spec.activeDeadlineSeconds on the job; on CronJobs "
                "also set startingDeadlineSeconds and an explicit concurrencyPolicy.",
    anchors=["K25", "G5"],
    techniques=["RES"],
    types=("kubernetes:batch/v1:Job", "kubernetes:batch/v1:CronJob"),
    config={"maxBackoffLimit": {"type": "number", "default": 6, "minimum": 0}},
)
def job_bounded(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    job = r.get("spec", "jobTemplate", "spec", default={}) if r.type.endswith(":CronJob") else r.get("spec", default={})
    if r.type.endswith(":CronJob"):
        if r.get("spec", "startingDeadlineSeconds") is None:
            yield "no startingDeadlineSeconds: after 100 missed schedules the CronJob stops scheduling"
        if r.get("spec", "concurrencyPolicy") is None:
            yield "no explicit concurrencyPolicy: slow runs pile up (Allow is the default)"
    backoff = number(dig(job, "backoffLimit"))
    if backoff is None:
        yield "no backoffLimit: the job retries 6 times with no intent declared"
    elif backoff > config["maxBackoffLimit"]:
        yield f"backoffLimit {fmt(backoff)} exceeds {fmt(config['maxBackoffLimit'])}"
    if dig(job, "activeDeadlineSeconds") is None:
        yield "no activeDeadlineSeconds: a hung job runs forever"


@resource_rule(
    id="k8s-graceful-termination",
    description="Pods drain gracefully: bounded terminationGracePeriodSeconds and a preStop delay shorter than it.",
    remediation="Give serving containers a preStop hook (sleep 5-15 s) so endpoints deregister before SIGTERM, and "
                "keep terminationGracePeriodSeconds above the preStop delay and below maxGracePeriodSeconds.",
    anchors=["K26", "G19"],
    techniques=["RES"],
    types=REPLICATED_TYPES,
    config={"maxGracePeriodSeconds": {"type": "number", "default": 120, "minimum": 1},
            "requirePreStop": {"type": "boolean", "default": True}},
)
def graceful_termination(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    grace = grace_period_seconds(r)
    if grace > config["maxGracePeriodSeconds"]:
        yield f"terminationGracePeriodSeconds {fmt(grace)} exceeds {fmt(config['maxGracePeriodSeconds'])}: drains and rollouts stall"
    for c in containers(r):
        if not items(dig(c, "ports")):
            continue
        pre_stop = dig(c, "lifecycle", "preStop")
        if pre_stop is None:
            if config["requirePreStop"]:
                yield f"serving container '{_cname(c)}' has no preStop hook: it stops before load balancers deregister it"
            continue
        sleep = number(dig(pre_stop, "sleep", "seconds"))
        if sleep is not None and sleep >= grace:
            yield f"container '{_cname(c)}' preStop sleep {fmt(sleep)}s is not below the grace period {fmt(grace)}s"


@resource_rule(
    id="k8s-safe-to-evict",
    description="Pods with local volumes say whether the cluster autoscaler may evict them.",
    remediation="Annotate the pod template with cluster-autoscaler.kubernetes.io/safe-to-evict: \"true\" when its "
                "emptyDir/hostPath data is disposable, so scale-down is not blocked.",
    anchors=["K29"],
    techniques=["LA"],
    types=SERVING_TYPES,
    enforcement="advisory",
    severity="low",
)
def safe_to_evict(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    volumes = items(dig(pod_spec(r), "volumes"))
    local = [str(dig(v, "name")) for v in volumes if dig(v, "emptyDir") is not None or dig(v, "hostPath") is not None]
    annotation = dig(pod_template(r), "metadata", "annotations", "cluster-autoscaler.kubernetes.io/safe-to-evict")
    if local and annotation is None:
        yield f"local volumes {', '.join(local)} block autoscaler scale-down unless safe-to-evict is declared"


_UNSTABLE_VERSION = re.compile(r"/v\d+(alpha|beta)\d*:")
_REMOVED_GROUPS = ("kubernetes:extensions/",)


@resource_rule(
    id="k8s-stable-api-versions",
    description="Kubernetes objects use stable (GA) API versions.",
    remediation="Move to the GA API version (apps/v1, policy/v1, autoscaling/v2, batch/v1, networking.k8s.io/v1).",
    anchors=["K30"],
    techniques=["IMM"],
    type_prefixes=("kubernetes:",),
)
def stable_api_versions(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    group = r.type.split(":")[1].rsplit("/", 1)[0]
    if "." in group and not group.endswith(".k8s.io"):
        return  # custom resources (Istio, Prometheus Operator, Helm) version on their own schedule
    if _UNSTABLE_VERSION.search(r.type) or r.type.startswith(_REMOVED_GROUPS):
        group_version = r.type.split(":")[1]
        yield f"API version {group_version} is alpha, beta or removed"


@resource_rule(
    id="k8s-no-bare-pods",
    description="Pods are owned by a controller (Deployment, StatefulSet, Job), so they are rescheduled.",
    remediation="Declare a Deployment (or StatefulSet/Job) instead of a bare Pod.",
    anchors=["K32"],
    techniques=["RES"],
    types=("kubernetes:core/v1:Pod",),
)
def no_bare_pods(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    yield "a bare Pod is not rescheduled when its node fails"


@resource_rule(
    id="k8s-pod-security",
    description="Containers run as non-root, without privilege escalation, on a read-only root filesystem.",
    remediation="Set securityContext runAsNonRoot: true, allowPrivilegeEscalation: false, privileged: false and "
                "readOnlyRootFilesystem: true (mount an emptyDir for scratch space).",
    anchors=["K33", "CKV_K8S_20", "CKV_K8S_22", "CKV_K8S_23"],
    techniques=["SEC", "IMM"],
    types=WORKLOAD_TYPES,
)
def pod_security(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    pod_non_root = is_true(dig(pod_spec(r), "securityContext", "runAsNonRoot"))
    for c in containers(r, init=True):
        sc = dig(c, "securityContext", default={})
        if not (pod_non_root or is_true(dig(sc, "runAsNonRoot"))):
            yield f"container '{_cname(c)}' may run as root (runAsNonRoot not true)"
        if is_true(dig(sc, "privileged")):
            yield f"container '{_cname(c)}' is privileged"
        if dig(sc, "allowPrivilegeEscalation") is not False:
            yield f"container '{_cname(c)}' allows privilege escalation"
        if not is_true(dig(sc, "readOnlyRootFilesystem")):
            yield f"container '{_cname(c)}' has a writable root filesystem"


@resource_rule(
    id="k8s-pdb-allows-disruption",
    description="PodDisruptionBudgets state a policy that still lets nodes drain.",
    remediation="Set maxUnavailable: 1 (or minAvailable below the replica count); never maxUnavailable 0 or "
                "minAvailable 100%.",
    anchors=["K7"],
    techniques=["RES"],
    types=("kubernetes:policy/v1:PodDisruptionBudget",),
)
def pdb_allows_disruption(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    max_unavailable, min_available = r.get("spec", "maxUnavailable"), r.get("spec", "minAvailable")
    if max_unavailable is None and min_available is None:
        yield "neither maxUnavailable nor minAvailable is set"
    if max_unavailable is not None and number(str(max_unavailable).rstrip("%")) == 0:
        yield f"maxUnavailable {max_unavailable} blocks every voluntary disruption (node drains hang)"
    if min_available is not None and str(min_available).strip() == "100%":
        yield "minAvailable 100% blocks every voluntary disruption (node drains hang)"


@resource_rule(
    id="k8s-hpa-bounds",
    description="HorizontalPodAutoscalers keep >= 2 replicas and leave headroom to scale out.",
    remediation="Set minReplicas >= minReplicas (2) and maxReplicas >= headroomFactor x minReplicas, with at least "
                "one metric.",
    anchors=["K12", "K13", "G11"],
    techniques=["LA"],
    types=("kubernetes:autoscaling/v2:HorizontalPodAutoscaler",),
    config={"minReplicas": {"type": "number", "default": 2, "minimum": 1},
            "headroomFactor": {"type": "number", "default": 1.5, "minimum": 1}},
)
def hpa_bounds(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    minimum = number(r.get("spec", "minReplicas", default=1)) or 1.0
    maximum = number(r.get("spec", "maxReplicas"))
    if minimum < config["minReplicas"]:
        yield f"minReplicas {fmt(minimum)} is below {fmt(config['minReplicas'])}: one pod failure is an outage"
    if maximum is None or maximum <= minimum:
        yield f"maxReplicas {fmt(maximum)} is not above minReplicas {fmt(minimum)}: the autoscaler cannot scale out"
    elif maximum < minimum * config["headroomFactor"]:
        yield (f"maxReplicas {fmt(maximum)} is below {fmt(config['headroomFactor'])} x minReplicas: "
               "too little headroom to absorb a zone loss or a surge")
    if not items(r.get("spec", "metrics")):
        yield "no metrics: the autoscaler falls back to 80% CPU, which is rarely the intent"



@resource_rule(
    id="mesh-timeouts-and-retries",
    description="Service-mesh routes set a timeout and bounded retries; destination rules eject failing endpoints.",
    remediation="On each Istio VirtualService http route set timeout and retries {attempts <= maxAttempts, "
                "perTryTimeout} with attempts x perTryTimeout <= timeout; on DestinationRules set "
                "trafficPolicy.outlierDetection and connectionPool limits.",
    anchors=["G21", "G6", "G4", "G5"],
    techniques=["RES"],
    type_prefixes=("kubernetes:networking.istio.io/",),
    config={"maxAttempts": {"type": "number", "default": 3, "minimum": 0}},
)
def mesh_timeouts_and_retries(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    if r.type.endswith(":DestinationRule"):
        policy = r.get("spec", "trafficPolicy", default={})
        if dig(policy, "outlierDetection") is None:
            yield "no trafficPolicy.outlierDetection: failing endpoints keep receiving traffic"
        if dig(policy, "connectionPool") is None:
            yield "no trafficPolicy.connectionPool: no bulkhead between callers"
        return
    if not r.type.endswith(":VirtualService"):
        return
    for index, route in enumerate(items(r.get("spec", "http"))):
        timeout = _duration(dig(route, "timeout"))
        if timeout is None:
            yield f"http route {index} has no timeout: callers wait as long as the slowest backend"
        attempts = number(dig(route, "retries", "attempts"))
        if attempts is not None and attempts > config["maxAttempts"]:
            yield f"http route {index} retries {fmt(attempts)} times (max {fmt(config['maxAttempts'])}): retry storms"
        per_try = _duration(dig(route, "retries", "perTryTimeout"))
        if timeout is not None and attempts and per_try is not None and attempts * per_try > timeout:
            yield (f"http route {index}: {fmt(attempts)} attempts x {fmt(per_try)} s per try exceed the route "
                   f"timeout {fmt(timeout)} s")


def _duration(value: Any) -> float | None:
    """Istio durations ("2s", "250ms", "1m") in seconds."""
    if value is None:
        return None
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m|h)", str(value).strip())
    if not match:
        return None
    return float(match.group(1)) * {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}[match.group(2)]
