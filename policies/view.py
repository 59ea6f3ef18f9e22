"""Read-only views over what the analyzer hands a policy: props, options, and the stack.

Props come wrapped in the SDK's unknown-checking proxy; every read here goes through it,
so an unknown value raises `UnknownValueError` instead of looking like a missing one.
Numbers arrive as floats (`7` is `7.0`) and keys are the engine's camelCase inputs.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from pulumi_policy.proxy import UnknownValueError


def unknown_skips() -> contextlib.AbstractContextManager[None]:
    """Skip the rest of a block whose values are unknown during preview (tri-state: unknown passes)."""
    return contextlib.suppress(UnknownValueError)


def matching(candidates: Iterable[Any], predicate: Callable[[Any], bool]) -> tuple[list[Any], bool]:
    """Candidates for which `predicate` holds, and whether some candidate could not be read.

    Rules that conclude from absence ("no PDB selects this workload") must not conclude
    anything when a candidate's values are unknown during preview: check the flag.
    """
    found, uncertain = [], False
    for candidate in candidates:
        try:
            if predicate(candidate):
                found.append(candidate)
        except UnknownValueError:
            uncertain = True
    return found, uncertain


def dig(value: Any, *path: str | int, default: Any = None) -> Any:
    """Follow `path` through mappings and sequences; `default` when a step is missing or null."""
    for step in path:
        if value is None:
            return default
        if isinstance(step, int):
            if isinstance(value, str) or not isinstance(value, Sequence) or not -len(value) <= step < len(value):
                return default
            value = value[step]
        else:
            if not isinstance(value, Mapping):
                return default
            value = value.get(step)
    return default if value is None else value


def items(value: Any) -> list[Any]:
    """A list-valued prop as a list (empty when absent)."""
    if value is None or isinstance(value, str | bytes) or not isinstance(value, Sequence):
        return []
    return [value[i] for i in range(len(value))]


def number(value: Any) -> float | None:
    """A numeric prop as float (the wire has no ints); numeric strings count, anything else is None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def fmt(value: Any) -> str:
    """Render a number the way a user wrote it (`7`, not `7.0`)."""
    n = number(value)
    if n is None:
        return repr(value)
    return str(int(n)) if n.is_integer() else f"{n:g}"


def is_true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def is_false(value: Any) -> bool:
    return value is False or (isinstance(value, str) and value.lower() == "false")


def json_prop(value: Any) -> Any:
    """Props such as SQS `redrivePolicy` are JSON strings; decode them (None when not JSON)."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def plain(value: Any) -> Any:
    """Deep copy out of the proxy (raises on unknowns), for comparisons between structures."""
    if isinstance(value, Mapping):
        return {key: plain(value[key]) for key in value}
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [plain(value[i]) for i in range(len(value))]
    return value


def tags_of(props: Mapping[str, Any]) -> dict[str, str]:
    """AWS tags as a dict; accepts the map form and the ASG list form ({key, value})."""
    tags = dig(props, "tags")
    if isinstance(tags, Mapping):
        return {str(k): str(tags[k]) for k in tags}
    result: dict[str, str] = {}
    for tag in items(tags):
        key = dig(tag, "key")
        if key is not None:
            result[str(key)] = str(dig(tag, "value", default=""))
    return result


# Inputs that hold a string other resources may use to refer to a resource, in reading order.
_IDENTIFIER_KEYS = ("arn", "id", "name", "url", "dnsName", "domainName", "clusterIdentifier",
                    "replicationGroupId", "bucket", "alarmName", "fqdn")


class ResourceView:
    """One resource: type, name, URN, props (proxied) and the options the analyzer sees."""

    __slots__ = ("type", "name", "urn", "props", "protect", "ignore_changes", "delete_before_replace",
                 "parent", "dependencies", "provider", "_identifiers")

    def __init__(self, type_: str, name: str, urn: str, props: Mapping[str, Any], *, protect: bool = False,
                 ignore_changes: Iterable[str] = (), delete_before_replace: bool | None = None,
                 parent: str | None = None, dependencies: Iterable[str] = (), provider: str | None = None) -> None:
        self.type = type_
        self.name = name
        self.urn = urn
        self.props = props
        self.protect = bool(protect)
        self.ignore_changes = tuple(ignore_changes)
        self.delete_before_replace = delete_before_replace
        self.parent = parent
        self.dependencies = frozenset(dependencies)
        self.provider = provider
        self._identifiers: set[str] | None = None

    @classmethod
    def from_args(cls, args: Any) -> ResourceView:
        """From `ResourceValidationArgs`."""
        opts = args.opts
        return cls(args.resource_type, args.name, args.urn, args.props, protect=opts.protect,
                   ignore_changes=opts.ignore_changes, delete_before_replace=opts.delete_before_replace,
                   parent=opts.parent, provider=args.provider.urn if args.provider is not None else None)

    @classmethod
    def from_policy_resource(cls, resource: Any) -> ResourceView:
        """From a stack policy's `PolicyResource`."""
        opts = resource.opts
        deps = {d.urn for d in resource.dependencies}
        for prop_deps in resource.property_dependencies.values():
            deps.update(d.urn for d in prop_deps)
        parent = resource.parent.urn if resource.parent is not None else opts.parent
        return cls(resource.resource_type, resource.name, resource.urn, resource.props, protect=opts.protect,
                   ignore_changes=opts.ignore_changes, delete_before_replace=opts.delete_before_replace,
                   parent=parent, dependencies=deps,
                   provider=resource.provider.urn if resource.provider is not None else None)

    @property
    def kind(self) -> str:
        """The last segment of the type token: `Deployment`, `Bucket`."""
        return self.type.rsplit(":", 1)[-1]

    def get(self, *path: str | int, default: Any = None) -> Any:
        return dig(self.props, *path, default=default)

    def identifiers(self) -> set[str]:
        """Strings other resources may use to refer to this one (ARN, id, name, URL, DNS name)."""
        if self._identifiers is None:
            self._identifiers = self._read_identifiers()
        return self._identifiers

    def _read_identifiers(self) -> set[str]:
        found: set[str] = set()
        if not isinstance(self.props, Mapping):
            return found
        # Absent keys are skipped on the key set: through the proxy, each `get` of an absent key
        # raises and catches a KeyError, and most resources lack most of these keys (the stack
        # view reads them for every resource when `AnalyzeStack` comes in).
        present = set(self.props)
        with unknown_skips():
            for key in _IDENTIFIER_KEYS:
                value = self.props[key] if key in present else None
                if isinstance(value, str) and len(value) >= 3:
                    found.add(value)
        return found

    def __repr__(self) -> str:
        return f"ResourceView({self.type}, {self.name})"


_SHARED: contextvars.ContextVar[tuple[tuple[int, ...], StackView] | None] = contextvars.ContextVar(
    "shared_stack_view", default=None)


def _last_segment(value: str) -> str:
    return value.replace(":", "/").rstrip("/").rsplit("/", 1)[-1]


class StackView:
    """All resources of the stack, indexed by type and URN, with link resolution."""

    def __init__(self, resources: Iterable[ResourceView]) -> None:
        self.resources = list(resources)
        self.by_urn = {r.urn: r for r in self.resources}
        self._by_type: dict[str, list[ResourceView]] = {}
        for r in self.resources:
            self._by_type.setdefault(r.type, []).append(r)
        # identifier or its last segment -> resources: `resolve` looks up instead of scanning.
        self._by_reference: dict[str, list[ResourceView]] = {}
        for r in self.resources:
            for identifier in r.identifiers():
                for key in {identifier, _last_segment(identifier)}:
                    self._by_reference.setdefault(key, []).append(r)
        self._of_type: dict[tuple[str, ...], list[ResourceView]] = {}
        self._position_cache: dict[int, tuple[Sequence[ResourceView], dict[str, int]]] = {}
        self._by_name: dict[str, list[ResourceView]] = {}
        for r in self.resources:
            self._by_name.setdefault(r.name, []).append(r)
        self._order = {id(r): i for i, r in enumerate(self.resources)}  # held in self.resources: ids stay unique
        self._children: dict[str, list[ResourceView]] = {}
        for r in self.resources:
            if r.parent:
                self._children.setdefault(r.parent, []).append(r)

    @classmethod
    def from_args(cls, args: Any) -> StackView:
        """The view of a stack policy's resources, shared by the stack policies of one request.

        The analyzer hands each stack policy its own `PolicyResource` list over the same
        decoded props; keyed on those props' identities (held by the cached view, so the ids
        stay unique), the view is built once per `AnalyzeStack` instead of once per policy.
        """
        key = tuple(id(r.props) for r in args.resources)
        cached = _SHARED.get()
        if cached is not None and cached[0] == key:
            return cached[1]
        view = cls(ResourceView.from_policy_resource(r) for r in args.resources)
        _SHARED.set((key, view))
        return view

    def of_type(self, *types: str) -> list[ResourceView]:
        """The resources of these types, in stack order. The list is shared: read it, never change it."""
        found = self._of_type.get(types)
        if found is None:
            found = [r for t in types for r in self._by_type.get(t, ())]
            self._of_type[types] = found
        return found

    def _positions(self, candidates: Sequence[ResourceView]) -> dict[str, int]:
        # Policies resolve many references against the same candidate list (usually one
        # `of_type` result): index it once, keyed on the list itself (held, so ids stay unique).
        cached = self._position_cache.get(id(candidates))
        if cached is not None and cached[0] is candidates:
            return cached[1]
        positions = {c.urn: i for i, c in enumerate(candidates)}
        self._position_cache[id(candidates)] = (candidates, positions)
        return positions

    def ancestors(self, resource: ResourceView) -> Iterator[ResourceView]:
        seen = set()
        parent = resource.parent
        while parent and parent in self.by_urn and parent not in seen:
            seen.add(parent)
            yield self.by_urn[parent]
            parent = self.by_urn[parent].parent

    def descendants(self, component: ResourceView) -> list[ResourceView]:
        found: list[ResourceView] = []
        pending = list(self._children.get(component.urn, ()))
        seen = {component.urn}
        while pending:
            child = pending.pop()
            if child.urn in seen:
                continue
            seen.add(child.urn)
            found.append(child)
            pending.extend(self._children.get(child.urn, ()))
        return sorted(found, key=lambda r: self._order[id(r)])

    def closest(self, owner: ResourceView, found: list[ResourceView], candidates: list[ResourceView]
                ) -> list[ResourceView]:
        """Of the resources `found` for `owner` among `candidates`, the ones that really belong to it.

        Same provider (cluster, account/region) when known; and when `owner`'s parent component
        declares candidates of its own, only those: a service's PDB in one region does not cover
        its twin in another region that has the same namespace, name and labels.
        """
        if owner.provider is not None:
            found = [f for f in found if f.provider in (None, owner.provider)]
        if owner.parent is not None and any(c.parent == owner.parent for c in candidates):
            return [f for f in found if f.parent == owner.parent]
        return found

    def resolve(self, value: Any, candidates: Sequence[ResourceView], *, owner: ResourceView | None = None
                ) -> ResourceView | None:
        """The candidate a reference value (ARN, id, name, URL, DNS name) points at, if any.

        Exact identifiers win; then a dependency of `owner`; then the candidate whose name the
        value's last segment starts with (auto-named physical names start with the logical name).
        """
        if not isinstance(value, str) or not value:
            return None
        segment = _last_segment(value)
        position = self._positions(candidates)
        hits = [r for key in (value, segment) for r in self._by_reference.get(key, ()) if r.urn in position]
        if hits:
            return min(hits, key=lambda r: position[r.urn])
        if owner is not None:
            linked = sorted((urn for urn in owner.dependencies if urn in position), key=position.__getitem__)
            if len(linked) == 1:
                return candidates[position[linked[0]]]
        # The longest candidate name that is the segment or a `-`-separated prefix of it; the
        # first such candidate in order when several share that name.
        parts = segment.split("-")
        for end in range(len(parts), 0, -1):
            named = [c for c in self._by_name.get("-".join(parts[:end]), ()) if c.urn in position]
            if named:
                return min(named, key=lambda c: position[c.urn])
        return None


# --- Kubernetes ---------------------------------------------------------------

WORKLOAD_TYPES = (
    "kubernetes:apps/v1:Deployment",
    "kubernetes:apps/v1:StatefulSet",
    "kubernetes:apps/v1:DaemonSet",
    "kubernetes:apps/v1:ReplicaSet",
    "kubernetes:core/v1:Pod",
    "kubernetes:batch/v1:Job",
    "kubernetes:batch/v1:CronJob",
)
SCALABLE_TYPES = ("kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet",
                  "kubernetes:apps/v1:ReplicaSet")
REPLICATED_TYPES = ("kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet")


def pod_template(resource: ResourceView) -> Mapping[str, Any]:
    """The pod template (metadata + spec) of a workload; a bare Pod is its own template."""
    if resource.type.endswith(":Pod"):
        return resource.props
    if resource.type.endswith(":CronJob"):
        return resource.get("spec", "jobTemplate", "spec", "template", default={})
    return resource.get("spec", "template", default={})


def pod_spec(resource: ResourceView) -> Mapping[str, Any]:
    return dig(pod_template(resource), "spec", default={})


def containers(resource: ResourceView, *, init: bool = False) -> list[Mapping[str, Any]]:
    spec = pod_spec(resource)
    found = items(dig(spec, "containers"))
    if init:
        found += items(dig(spec, "initContainers"))
    return found


def grace_period_seconds(workload: ResourceView) -> float:
    """The pods' terminationGracePeriodSeconds (Kubernetes' default 30 when unset)."""
    return number(dig(pod_spec(workload), "terminationGracePeriodSeconds", default=30)) or 0.0


def k8s_name(resource: ResourceView) -> str:
    return str(resource.get("metadata", "name", default=resource.name))


def k8s_namespace(resource: ResourceView) -> str:
    return str(resource.get("metadata", "namespace", default="default"))


def template_labels(resource: ResourceView) -> dict[str, str]:
    labels = dig(pod_template(resource), "metadata", "labels", default={})
    return {str(k): str(labels[k]) for k in labels}


def ingress_backend_names(ingress: ResourceView) -> list[Any]:
    """The Service names an Ingress routes to (default backend first; None where a backend names none)."""
    names = [dig(ingress.get("spec"), "defaultBackend", "service", "name")]
    for rule in items(ingress.get("spec", "rules")):
        names += [dig(p, "backend", "service", "name") for p in items(dig(rule, "http", "paths"))]
    return names


def selector_matches(selector: Any, labels: Mapping[str, str]) -> bool:
    """A LabelSelector (matchLabels + matchExpressions) against a label set; empty selects all."""
    match_labels = dig(selector, "matchLabels", default={})
    for key in match_labels:
        if labels.get(str(key)) != str(match_labels[key]):
            return False
    for expr in items(dig(selector, "matchExpressions")):
        key, op = str(dig(expr, "key")), str(dig(expr, "operator"))
        values = {str(v) for v in items(dig(expr, "values"))}
        present = key in labels
        if (op == "In" and (not present or labels[key] not in values)) or (
                op == "NotIn" and present and labels[key] in values) or (
                op == "Exists" and not present) or (op == "DoesNotExist" and present):
            return False
    return True


# --- Images, ECS, CloudFront ----------------------------------------------------

_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


def pinned_by_digest(image: str) -> bool:
    """An image reference that ends in a sha256 digest (`repo@sha256:<64 hex>`)."""
    return bool(_DIGEST.search(image))


def ecs_container_definitions(task_definition: ResourceView) -> list[Any]:
    """An ECS task definition's containers (its `containerDefinitions` JSON string, decoded)."""
    raw = task_definition.get("containerDefinitions")
    decoded = json.loads(raw) if isinstance(raw, str) else []
    return decoded if isinstance(decoded, list) else []


def cache_behaviours(distribution: ResourceView) -> list[Any]:
    """A CloudFront distribution's default cache behaviour followed by its ordered ones."""
    return [distribution.get("defaultCacheBehavior"), *items(distribution.get("orderedCacheBehaviors"))]
