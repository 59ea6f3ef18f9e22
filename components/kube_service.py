"""KubeService: a stateless HTTP service on Kubernetes whose defaults beat the common Helm charts.

Declares a Deployment, a Service, a HorizontalPodAutoscaler (autoscaling/v2), a
PodDisruptionBudget, a NetworkPolicy, optionally an Ingress (AWS Load Balancer Controller annotations) and
the service's SLO alerting as a PrometheusRule.

What is ON by default, and why:
- the image is a digest reference (the stack resolves a logical name from the image lock);
- rolling updates never take capacity away (`maxUnavailable: 0`, `maxSurge: 1`), a new pod
  must stay ready `minReadySeconds` before the next one is replaced, and a stuck rollout
  fails after `progressDeadlineSeconds` (Pulumi awaits it: `pulumi.com/skipAwait` is never set);
- readiness, liveness (a different endpoint, slower to give up) and startup probes;
- a preStop sleep so the load balancer stops routing before the process gets SIGTERM, and a
  termination grace period above preStop + shutdown and above the LB's deregistration delay;
- CPU and memory requests, memory limit = request (no OOM surprises from overcommit), no
  CPU limit (throttling hurts latency more than it protects neighbours);
- spread over zones (hard) and hosts (soft) plus soft host anti-affinity; a priority class;
- non-root, read-only root filesystem, no capabilities, no service-account token;
- the HPA owns the replica count: the Deployment has no `replicas`, so re-applying the stack
  never scales the service back down; scale-up is fast, scale-down waits 300 s;
- a PDB that lets one pod at a time be evicted (drains never block, never take more than
  the HPA minimum can spare) and evicts unhealthy pods regardless (`AlwaysAllow`);
- a NetworkPolicy that admits traffic to the service port only.

Resilience is turned *down* explicitly through the args (e.g. `startup=None`,
`zone_spread="ScheduleAnyway"`), never by forgetting to turn it on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s

from reliability_stack.errors import ComponentArgsError
from reliability_stack.images import container_reference_problem

COMPONENT = "KubeService"
TYPE_TOKEN = "reliability-stack:kube_service:KubeService"

SKIP_AWAIT_ANNOTATION = "pulumi.com/skipAwait"
PROMETHEUS_RULE_API_VERSION = "monitoring.coreos.com/v1"

_DNS_1035 = re.compile(r"[a-z]([a-z0-9-]{0,48}[a-z0-9])?")
_DNS_1123_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
_DNS_1123_SUBDOMAIN = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*")
_CPU = re.compile(r"(\d+(\.\d+)?)(m?)")
_MEMORY = re.compile(r"(\d+(\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?")
_MEMORY_UNITS = {None: 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12,
                 "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
_PROM_DURATION = re.compile(r"(\d+(ms|s|m|h|d|w|y))+")


def _error(argument: str, message: str) -> ComponentArgsError:
    return ComponentArgsError(COMPONENT, argument, message)


def memory_bytes(quantity: str) -> float:
    """Bytes in a Kubernetes memory quantity (`256Mi`, `1G`, `1048576`)."""
    match = _MEMORY.fullmatch(quantity)
    if not match:
        raise ValueError(f"not a memory quantity: {quantity!r}")
    return float(match.group(1)) * _MEMORY_UNITS[match.group(3)]


def cpu_millis(quantity: str) -> float:
    """Millicores in a Kubernetes CPU quantity (`250m`, `0.5`, `2`)."""
    match = _CPU.fullmatch(quantity)
    if not match:
        raise ValueError(f"not a CPU quantity: {quantity!r}")
    value = float(match.group(1))
    return value if match.group(3) else value * 1000


@dataclass(frozen=True)
class HttpProbe:
    """An HTTP GET probe on the container's `http` port.

    Use the constructors: they carry timings suited to each probe's job.
    """

    path: str
    period_seconds: int
    timeout_seconds: int
    failure_threshold: int
    success_threshold: int = 1

    @classmethod
    def readiness(cls, path: str = "/healthz") -> HttpProbe:
        """Out of rotation after 2 failures 5 s apart: fast, and costs nothing but traffic."""
        return cls(path, period_seconds=5, timeout_seconds=2, failure_threshold=2)

    @classmethod
    def liveness(cls, path: str = "/livez") -> HttpProbe:
        """Restart only after a minute of failure: a restart is the last resort."""
        return cls(path, period_seconds=10, timeout_seconds=3, failure_threshold=6)

    @classmethod
    def startup(cls, path: str = "/livez") -> HttpProbe:
        """Up to 2 minutes to start before liveness applies (no initialDelaySeconds guesswork)."""
        return cls(path, period_seconds=5, timeout_seconds=2, failure_threshold=24)

    @property
    def failure_window_seconds(self) -> int:
        """How long the endpoint must fail before the probe acts."""
        return self.period_seconds * self.failure_threshold

    def problem(self) -> str | None:
        if not self.path.startswith("/"):
            return f"probe path must start with '/': {self.path!r}"
        if min(self.period_seconds, self.timeout_seconds, self.failure_threshold, self.success_threshold) < 1:
            return "probe periods, timeouts and thresholds must be at least 1"
        if self.timeout_seconds > self.period_seconds:
            return "probe timeout must not exceed its period"
        return None

    def to_args(self) -> k8s.core.v1.ProbeArgs:
        return k8s.core.v1.ProbeArgs(
            http_get=k8s.core.v1.HTTPGetActionArgs(path=self.path, port="http"),
            period_seconds=self.period_seconds,
            timeout_seconds=self.timeout_seconds,
            failure_threshold=self.failure_threshold,
            success_threshold=self.success_threshold,
        )


@dataclass(frozen=True)
class KubeIngress:
    """An Ingress in front of the Service, for the AWS Load Balancer Controller by default.

    With class `alb` the target group's deregistration delay and health check are set from
    the same args as the pods' preStop and readiness probe, so they cannot drift apart.
    """

    host: str
    class_name: str = "alb"
    certificate_arn: pulumi.Input[str] | None = None
    internet_facing: bool = True
    annotations: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class KubeServiceArgs:
    """Arguments of `KubeService`; every default is the resilient choice.

    `image` must already be a digest reference (`registry/repo@sha256:<64 hex>`): resolve
    the logical name with `reliability_stack.images.resolve_container` in the stack program.
    """

    image: str
    namespace: str = "default"
    # Name of the Kubernetes objects; default: the component's name. Set it when one service
    # is declared once per cluster (region) under distinct Pulumi names.
    object_name: str | None = None
    port: int = 8080
    # Probes: liveness is a different endpoint from readiness and slower to give up.
    readiness: HttpProbe = field(default_factory=HttpProbe.readiness)
    liveness: HttpProbe = field(default_factory=HttpProbe.liveness)
    startup: HttpProbe | None = field(default_factory=HttpProbe.startup)
    # Capacity: the HPA owns the replica count between these bounds.
    min_replicas: int = 3
    max_replicas: int = 10
    target_cpu_percent: int = 60
    scale_down_stabilization_seconds: int = 300
    cpu_request: str = "250m"
    memory_request: str = "256Mi"
    memory_limit: str | None = None  # None: equal to the request
    cpu_limit: str | None = None  # None: no CPU limit (throttling hurts tail latency)
    ephemeral_storage_request: str = "64Mi"
    ephemeral_storage_limit: str = "1Gi"
    # Rollouts.
    max_surge: int = 1
    min_ready_seconds: int = 10
    progress_deadline_seconds: int = 300
    # Graceful termination, aligned with the load balancer in front of the pods.
    deregistration_delay_seconds: int = 30
    pre_stop_sleep_seconds: int = 15
    shutdown_seconds: int = 20  # how long the process needs after SIGTERM to finish in-flight work
    termination_grace_period_seconds: int | None = None  # None: derived, see `grace_period`
    # Placement.
    zone_spread: Literal["DoNotSchedule", "ScheduleAnyway"] = "DoNotSchedule"
    host_spread: Literal["DoNotSchedule", "ScheduleAnyway"] = "ScheduleAnyway"
    priority_class: str | None = "service-critical"
    pdb_max_unavailable: int = 1
    # Exposure and alerting.
    ingress: KubeIngress | None = None
    # A NetworkPolicy admitting traffic to the http port only (egress stays open); False to
    # leave network isolation to the namespace owner.
    network_policy: bool = True
    # A generated monitoring.coreos.com/v1 PrometheusRule (reliability_stack.slo.prometheus.
    # prometheus_rule_object); declared in `namespace` under its own metadata.name.
    prometheus_rule: Mapping[str, Any] | None = None
    prometheus_rule_labels: Mapping[str, str] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        problem = container_reference_problem(self.image)
        if problem:
            raise _error("image", problem)
        if self.object_name is not None and not _DNS_1035.fullmatch(self.object_name):
            raise _error("object_name", f"{self.object_name!r} must be a DNS-1035 label of at most 50 characters")
        if not _DNS_1123_LABEL.fullmatch(self.namespace):
            raise _error("namespace", f"not a DNS-1123 label: {self.namespace!r}")
        if not 1 <= self.port <= 65535:
            raise _error("port", f"port out of range: {self.port}")
        self._validate_probes()
        self._validate_capacity()
        self._validate_resources()
        self._validate_rollout()
        self._validate_termination()
        if self.ingress is not None and not re.fullmatch(r"([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}",
                                                          self.ingress.host):
            raise _error("ingress.host", f"not a DNS name: {self.ingress.host!r}")
        if self.ingress is not None and SKIP_AWAIT_ANNOTATION in self.ingress.annotations:
            raise _error("ingress.annotations", f"{SKIP_AWAIT_ANNOTATION} would hide a failed rollout from Pulumi")
        if self.prometheus_rule is not None:
            problem = prometheus_rule_problem(self.prometheus_rule)
            if problem:
                raise _error("prometheus_rule", problem)

    def _validate_probes(self) -> None:
        for argument, probe in (("readiness", self.readiness), ("liveness", self.liveness),
                                ("startup", self.startup)):
            problem = probe.problem() if probe is not None else None
            if problem:
                raise _error(argument, problem)
        if self.liveness.path == self.readiness.path:
            raise _error("liveness", f"liveness must probe a different endpoint than readiness ({self.readiness.path}): "
                         "a slow dependency would otherwise restart every pod at once")
        if self.liveness.failure_window_seconds <= self.readiness.failure_window_seconds:
            raise _error("liveness", "liveness must tolerate failure longer than readiness "
                         f"({self.liveness.failure_window_seconds}s <= {self.readiness.failure_window_seconds}s): "
                         "take a pod out of rotation before restarting it")

    def _validate_capacity(self) -> None:
        if self.min_replicas < 2:
            raise _error("min_replicas", f"min_replicas must be at least 2, got {self.min_replicas}: "
                         "one pod is one node drain away from an outage")
        if self.max_replicas <= self.min_replicas:
            raise _error("max_replicas", f"max_replicas ({self.max_replicas}) must exceed min_replicas "
                         f"({self.min_replicas}), or the autoscaler can never scale out")
        if not 1 <= self.target_cpu_percent <= 90:
            raise _error("target_cpu_percent", "target CPU utilisation must be within 1..90 (leave headroom)")
        if self.scale_down_stabilization_seconds < 60:
            raise _error("scale_down_stabilization_seconds", "scale-down stabilisation below 60 s makes the "
                         "autoscaler flap on every dip")
        if self.pdb_max_unavailable < 1:
            raise _error("pdb_max_unavailable", "a PodDisruptionBudget allowing zero disruptions blocks every "
                         "node drain and cluster upgrade; use at least 1")
        if self.pdb_max_unavailable >= self.min_replicas:
            raise _error("pdb_max_unavailable", f"pdb_max_unavailable ({self.pdb_max_unavailable}) must stay below "
                         f"min_replicas ({self.min_replicas}), or a drain may evict every pod")

    def _validate_resources(self) -> None:
        try:
            request = memory_bytes(self.memory_request)
        except ValueError as exc:
            raise _error("memory_request", str(exc)) from None
        if self.memory_limit is not None:
            try:
                limit = memory_bytes(self.memory_limit)
            except ValueError as exc:
                raise _error("memory_limit", str(exc)) from None
            if limit < request:
                raise _error("memory_limit", f"memory_limit {self.memory_limit} is below memory_request "
                             f"{self.memory_request}")
        for argument in ("cpu_request", "cpu_limit"):
            value = getattr(self, argument)
            if value is None:
                continue
            try:
                millis = cpu_millis(value)
            except ValueError as exc:
                raise _error(argument, str(exc)) from None
            if millis <= 0:
                raise _error(argument, "CPU quantity must be positive")
        if self.cpu_limit is not None and cpu_millis(self.cpu_limit) < cpu_millis(self.cpu_request):
            raise _error("cpu_limit", f"cpu_limit {self.cpu_limit} is below cpu_request {self.cpu_request}")
        for argument in ("ephemeral_storage_request", "ephemeral_storage_limit"):
            try:
                memory_bytes(getattr(self, argument))
            except ValueError as exc:
                raise _error(argument, str(exc)) from None
        if memory_bytes(self.ephemeral_storage_limit) < memory_bytes(self.ephemeral_storage_request):
            raise _error("ephemeral_storage_limit", "ephemeral storage limit is below its request")

    def _validate_rollout(self) -> None:
        if self.max_surge < 1:
            raise _error("max_surge", "with maxUnavailable 0 a rollout needs max_surge >= 1 to make progress")
        if self.min_ready_seconds < 0:
            raise _error("min_ready_seconds", "min_ready_seconds must not be negative")
        if self.progress_deadline_seconds <= self.min_ready_seconds:
            raise _error("progress_deadline_seconds", "progress_deadline_seconds must exceed min_ready_seconds")

    def _validate_termination(self) -> None:
        if self.deregistration_delay_seconds < 0:
            raise _error("deregistration_delay_seconds", "must not be negative")
        if self.pre_stop_sleep_seconds < 5:
            raise _error("pre_stop_sleep_seconds", "preStop sleep below 5 s lets the load balancer route new "
                         "requests to a pod that is already shutting down")
        if self.shutdown_seconds < 0:
            raise _error("shutdown_seconds", "must not be negative")
        if self.termination_grace_period_seconds is None:
            return
        grace = self.termination_grace_period_seconds
        if grace <= self.pre_stop_sleep_seconds + self.shutdown_seconds:
            raise _error("termination_grace_period_seconds", f"grace period {grace}s must exceed preStop sleep "
                         f"{self.pre_stop_sleep_seconds}s + shutdown {self.shutdown_seconds}s, or the kubelet "
                         "kills the process mid-drain")
        if grace < self.deregistration_delay_seconds:
            raise _error("termination_grace_period_seconds", f"grace period {grace}s is shorter than the load "
                         f"balancer's deregistration delay {self.deregistration_delay_seconds}s: requests still "
                         "draining would be cut")

    @property
    def grace_period(self) -> int:
        """terminationGracePeriodSeconds: given, or the drain time plus 10 s of slack."""
        if self.termination_grace_period_seconds is not None:
            return self.termination_grace_period_seconds
        return max(self.pre_stop_sleep_seconds + self.shutdown_seconds, self.deregistration_delay_seconds) + 10

    @property
    def effective_memory_limit(self) -> str:
        return self.memory_limit or self.memory_request


def prometheus_rule_problem(rule: Mapping[str, Any]) -> str | None:
    """Why `rule` is not a usable PrometheusRule object, or None.

    The CRD is not among Kubernetes' built-in schemas, so its shape is checked here:
    apiVersion/kind, named groups with unique names, each rule either an alert or a
    recording rule with an expression, durations in Prometheus syntax.
    """
    if not isinstance(rule, Mapping):
        return "expected a PrometheusRule object (a mapping)"
    if rule.get("apiVersion") != PROMETHEUS_RULE_API_VERSION or rule.get("kind") != "PrometheusRule":
        return f"expected apiVersion {PROMETHEUS_RULE_API_VERSION} and kind PrometheusRule"
    metadata = rule.get("metadata", {})
    if not isinstance(metadata, Mapping):
        return "metadata must be a mapping"
    if "name" in metadata and not (isinstance(metadata["name"], str) and len(metadata["name"]) <= 253
                                   and _DNS_1123_SUBDOMAIN.fullmatch(metadata["name"])):
        return f"metadata.name {metadata['name']!r} is not a DNS-1123 subdomain"
    labels = metadata.get("labels") or {}
    if not isinstance(labels, Mapping) or not all(isinstance(v, str) for v in labels.values()):
        return "metadata.labels must map names to strings"
    spec = rule.get("spec")
    groups = spec.get("groups") if isinstance(spec, Mapping) else None
    if not isinstance(groups, list) or not groups:
        return "spec.groups must be a non-empty list"
    seen: set[str] = set()
    for i, group in enumerate(groups):
        where = f"spec.groups[{i}]"
        if not isinstance(group, Mapping) or not isinstance(group.get("name"), str) or not group["name"]:
            return f"{where}.name must be a non-empty string"
        if group["name"] in seen:
            return f"{where}.name {group['name']!r} is duplicated"
        seen.add(group["name"])
        if "interval" in group and not _PROM_DURATION.fullmatch(str(group["interval"])):
            return f"{where}.interval is not a Prometheus duration"
        rules = group.get("rules")
        if not isinstance(rules, list) or not rules:
            return f"{where}.rules must be a non-empty list"
        for j, item in enumerate(rules):
            at = f"{where}.rules[{j}]"
            if not isinstance(item, Mapping):
                return f"{at} must be a mapping"
            if ("alert" in item) == ("record" in item):
                return f"{at} must have exactly one of alert or record"
            if not isinstance(item.get("expr"), str) or not item["expr"].strip():
                return f"{at}.expr must be a non-empty PromQL expression"
            if "for" in item and not _PROM_DURATION.fullmatch(str(item["for"])):
                return f"{at}.for is not a Prometheus duration"
            for key in ("labels", "annotations"):
                values = item.get(key, {})
                if not isinstance(values, Mapping) or not all(isinstance(v, str) for v in values.values()):
                    return f"{at}.{key} must map names to strings"
    return None


class KubeService(pulumi.ComponentResource):
    """A resilient stateless HTTP service on Kubernetes (see the module docstring for defaults)."""

    deployment: k8s.apps.v1.Deployment
    service: k8s.core.v1.Service
    autoscaler: k8s.autoscaling.v2.HorizontalPodAutoscaler
    disruption_budget: k8s.policy.v1.PodDisruptionBudget
    network_policy: k8s.networking.v1.NetworkPolicy | None
    ingress: k8s.networking.v1.Ingress | None
    prometheus_rule: k8s.apiextensions.CustomResource | None

    def __init__(self, name: str, args: KubeServiceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        if not isinstance(args, KubeServiceArgs):
            raise _error("args", "expected KubeServiceArgs")
        if args.object_name is None and not _DNS_1035.fullmatch(name):
            raise _error("name", f"{name!r} must be a DNS-1035 label of at most 50 characters "
                         "(it names the Kubernetes objects), or set object_name")
        super().__init__(TYPE_TOKEN, name, None, opts)
        self.args = args
        child = pulumi.ResourceOptions(parent=self)
        resource_name = name
        name = args.object_name or name

        selector = {"app.kubernetes.io/name": name, "app.kubernetes.io/instance": f"{name}-{args.namespace}"}
        labels = {**args.labels, **selector, "app.kubernetes.io/managed-by": "reliability-stack"}

        def metadata(annotations: Mapping[str, Any] | None = None) -> k8s.meta.v1.ObjectMetaArgs:
            return k8s.meta.v1.ObjectMetaArgs(name=name, namespace=args.namespace, labels=labels,
                                              annotations=dict(annotations) if annotations else None)

        self.deployment = k8s.apps.v1.Deployment(
            f"{resource_name}-deployment",
            metadata=metadata(),
            spec=self._deployment_spec(name, selector, labels),
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(
                # Await stays on; this is the ceiling for a rollout to become Available.
                custom_timeouts=pulumi.CustomTimeouts(create="10m", update="10m"))),
        )
        self.service = k8s.core.v1.Service(
            f"{resource_name}-service",
            metadata=metadata(),
            spec=k8s.core.v1.ServiceSpecArgs(
                type="ClusterIP",
                selector=selector,
                ports=[k8s.core.v1.ServicePortArgs(name="http", port=80, target_port="http", protocol="TCP")],
            ),
            opts=child,
        )
        self.autoscaler = k8s.autoscaling.v2.HorizontalPodAutoscaler(
            f"{resource_name}-hpa",
            metadata=metadata(),
            spec=self._autoscaler_spec(name),
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[self.deployment])),
        )
        self.disruption_budget = k8s.policy.v1.PodDisruptionBudget(
            f"{resource_name}-pdb",
            metadata=metadata(),
            spec=k8s.policy.v1.PodDisruptionBudgetSpecArgs(
                max_unavailable=args.pdb_max_unavailable,
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=selector),
                # A crash-looping pod must not block a drain that would fix it.
                unhealthy_pod_eviction_policy="AlwaysAllow",
            ),
            opts=child,
        )
        self.network_policy = None
        if args.network_policy:
            self.network_policy = k8s.networking.v1.NetworkPolicy(
                f"{resource_name}-netpol",
                metadata=metadata(),
                spec=k8s.networking.v1.NetworkPolicySpecArgs(
                    pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=selector),
                    policy_types=["Ingress"],
                    ingress=[k8s.networking.v1.NetworkPolicyIngressRuleArgs(
                        ports=[k8s.networking.v1.NetworkPolicyPortArgs(port="http", protocol="TCP")])],
                ),
                opts=child,
            )
        self.ingress = self._ingress(resource_name, name, metadata) if args.ingress is not None else None
        self.prometheus_rule = None
        if args.prometheus_rule is not None:
            rule = args.prometheus_rule
            rule_metadata = rule.get("metadata") or {}
            rule_labels = {**(rule_metadata.get("labels") or {}), **args.prometheus_rule_labels}
            # The compiler's name is kept; the namespace is always the service's own.
            rule_name = rule_metadata.get("name") or f"{name}-slo"
            self.prometheus_rule = k8s.apiextensions.CustomResource(
                f"{resource_name}-slo-rules",
                api_version=PROMETHEUS_RULE_API_VERSION,
                kind="PrometheusRule",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=rule_name, namespace=args.namespace,
                                                    labels={**labels, **rule_labels}),
                spec=dict(rule["spec"]),
                opts=child,
            )

        self.register_outputs({
            "deploymentName": self.deployment.metadata.apply(lambda m: m.name),
            "serviceName": self.service.metadata.apply(lambda m: m.name),
            "namespace": args.namespace,
            "image": args.image,
        })

    def _deployment_spec(self, name: str, selector: dict[str, str],
                         labels: dict[str, str]) -> k8s.apps.v1.DeploymentSpecArgs:
        args = self.args
        label_selector = k8s.meta.v1.LabelSelectorArgs(match_labels=selector)
        requests = {"cpu": args.cpu_request, "memory": args.memory_request,
                    "ephemeral-storage": args.ephemeral_storage_request}
        limits = {"memory": args.effective_memory_limit, "ephemeral-storage": args.ephemeral_storage_limit}
        if args.cpu_limit is not None:
            limits["cpu"] = args.cpu_limit
        container = k8s.core.v1.ContainerArgs(
            name=name,
            image=args.image,
            # A digest never changes, so the node's copy is the right one even if the registry is down.
            image_pull_policy="IfNotPresent",
            ports=[k8s.core.v1.ContainerPortArgs(name="http", container_port=args.port, protocol="TCP")],
            env=[k8s.core.v1.EnvVarArgs(name=key, value=value) for key, value in sorted(args.env.items())] or None,
            readiness_probe=args.readiness.to_args(),
            liveness_probe=args.liveness.to_args(),
            startup_probe=args.startup.to_args() if args.startup is not None else None,
            resources=k8s.core.v1.ResourceRequirementsArgs(requests=requests, limits=limits),
            lifecycle=k8s.core.v1.LifecycleArgs(pre_stop=k8s.core.v1.LifecycleHandlerArgs(
                sleep=k8s.core.v1.SleepActionArgs(seconds=args.pre_stop_sleep_seconds))),
            security_context=k8s.core.v1.SecurityContextArgs(
                allow_privilege_escalation=False,
                privileged=False,
                read_only_root_filesystem=True,
                run_as_non_root=True,
                capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]),
            ),
            volume_mounts=[k8s.core.v1.VolumeMountArgs(name="tmp", mount_path="/tmp")],
        )
        spread_keys = ["pod-template-hash"]  # spread each revision on its own during a rollout
        pod_spec = k8s.core.v1.PodSpecArgs(
            containers=[container],
            automount_service_account_token=False,
            enable_service_links=False,
            priority_class_name=args.priority_class,
            termination_grace_period_seconds=args.grace_period,
            security_context=k8s.core.v1.PodSecurityContextArgs(
                run_as_non_root=True,
                run_as_user=10001,
                run_as_group=10001,
                fs_group=10001,
                seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
            ),
            topology_spread_constraints=[
                k8s.core.v1.TopologySpreadConstraintArgs(
                    max_skew=1, topology_key="topology.kubernetes.io/zone",
                    when_unsatisfiable=args.zone_spread, label_selector=label_selector,
                    match_label_keys=spread_keys),
                k8s.core.v1.TopologySpreadConstraintArgs(
                    max_skew=1, topology_key="kubernetes.io/hostname",
                    when_unsatisfiable=args.host_spread, label_selector=label_selector,
                    match_label_keys=spread_keys),
            ],
            affinity=k8s.core.v1.AffinityArgs(pod_anti_affinity=k8s.core.v1.PodAntiAffinityArgs(
                preferred_during_scheduling_ignored_during_execution=[
                    k8s.core.v1.WeightedPodAffinityTermArgs(
                        weight=100,
                        pod_affinity_term=k8s.core.v1.PodAffinityTermArgs(
                            topology_key="kubernetes.io/hostname", label_selector=label_selector),
                    ),
                ])),
            volumes=[k8s.core.v1.VolumeArgs(name="tmp", empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(
                size_limit="64Mi"))],
        )
        return k8s.apps.v1.DeploymentSpecArgs(
            # No `replicas`: the HPA owns the count, and re-applying must not reset it.
            selector=label_selector,
            strategy=k8s.apps.v1.DeploymentStrategyArgs(
                type="RollingUpdate",
                rolling_update=k8s.apps.v1.RollingUpdateDeploymentArgs(max_unavailable=0, max_surge=args.max_surge),
            ),
            min_ready_seconds=args.min_ready_seconds,
            progress_deadline_seconds=args.progress_deadline_seconds,
            revision_history_limit=5,
            template=k8s.core.v1.PodTemplateSpecArgs(
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    labels=labels,
                    # Stateless and protected by the PDB: the cluster autoscaler may move it.
                    annotations={"cluster-autoscaler.kubernetes.io/safe-to-evict": "true"},
                ),
                spec=pod_spec,
            ),
        )

    def _autoscaler_spec(self, name: str) -> k8s.autoscaling.v2.HorizontalPodAutoscalerSpecArgs:
        args = self.args
        return k8s.autoscaling.v2.HorizontalPodAutoscalerSpecArgs(
            scale_target_ref=k8s.autoscaling.v2.CrossVersionObjectReferenceArgs(
                api_version="apps/v1", kind="Deployment", name=name),
            min_replicas=args.min_replicas,
            max_replicas=args.max_replicas,
            metrics=[k8s.autoscaling.v2.MetricSpecArgs(
                type="Resource",
                resource=k8s.autoscaling.v2.ResourceMetricSourceArgs(
                    name="cpu",
                    target=k8s.autoscaling.v2.MetricTargetArgs(
                        type="Utilization", average_utilization=args.target_cpu_percent)),
            )],
            behavior=k8s.autoscaling.v2.HorizontalPodAutoscalerBehaviorArgs(
                # Up: react at once, double or add 4 pods per 30 s, whichever is more.
                scale_up=k8s.autoscaling.v2.HPAScalingRulesArgs(
                    stabilization_window_seconds=0,
                    select_policy="Max",
                    policies=[
                        k8s.autoscaling.v2.HPAScalingPolicyArgs(type="Percent", value=100, period_seconds=30),
                        k8s.autoscaling.v2.HPAScalingPolicyArgs(type="Pods", value=4, period_seconds=30),
                    ],
                ),
                # Down: wait out the window, then shed at most 10% a minute.
                scale_down=k8s.autoscaling.v2.HPAScalingRulesArgs(
                    stabilization_window_seconds=args.scale_down_stabilization_seconds,
                    select_policy="Min",
                    policies=[k8s.autoscaling.v2.HPAScalingPolicyArgs(type="Percent", value=10, period_seconds=60)],
                ),
            ),
        )

    def _ingress(self, resource_name: str, name: str, metadata: Any) -> k8s.networking.v1.Ingress:
        args = self.args
        ingress = args.ingress
        assert ingress is not None
        annotations: dict[str, pulumi.Input[str]] = {}
        if ingress.class_name == "alb":
            annotations = {
                "alb.ingress.kubernetes.io/scheme": "internet-facing" if ingress.internet_facing else "internal",
                "alb.ingress.kubernetes.io/target-type": "ip",
                "alb.ingress.kubernetes.io/healthcheck-path": args.readiness.path,
                "alb.ingress.kubernetes.io/healthcheck-interval-seconds": "10",
                "alb.ingress.kubernetes.io/healthy-threshold-count": "2",
                "alb.ingress.kubernetes.io/unhealthy-threshold-count": "3",
                "alb.ingress.kubernetes.io/success-codes": "200-399",
                # The same delay the preStop sleep and grace period were checked against.
                "alb.ingress.kubernetes.io/target-group-attributes":
                    f"deregistration_delay.timeout_seconds={args.deregistration_delay_seconds}",
            }
            if ingress.certificate_arn:
                annotations.update({
                    "alb.ingress.kubernetes.io/certificate-arn": ingress.certificate_arn,
                    "alb.ingress.kubernetes.io/listen-ports": '[{"HTTP": 80}, {"HTTPS": 443}]',
                    "alb.ingress.kubernetes.io/ssl-redirect": "443",
                    "alb.ingress.kubernetes.io/ssl-policy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
                })
        annotations.update(ingress.annotations)
        return k8s.networking.v1.Ingress(
            f"{resource_name}-ingress",
            metadata=metadata(annotations=annotations),
            spec=k8s.networking.v1.IngressSpecArgs(
                ingress_class_name=ingress.class_name,
                rules=[k8s.networking.v1.IngressRuleArgs(
                    host=ingress.host,
                    http=k8s.networking.v1.HTTPIngressRuleValueArgs(paths=[
                        k8s.networking.v1.HTTPIngressPathArgs(
                            path="/", path_type="Prefix",
                            backend=k8s.networking.v1.IngressBackendArgs(
                                service=k8s.networking.v1.IngressServiceBackendArgs(
                                    name=name, port=k8s.networking.v1.ServiceBackendPortArgs(name="http")))),
                    ]),
                )],
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.service]),
        )
