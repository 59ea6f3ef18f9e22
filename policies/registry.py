"""The one registry of the pack's rules: metadata, config schema and check function.

Each rule module declares its rules with `@resource_rule(...)` or `@stack_rule(...)`. The
registry turns them into `pulumi_policy` policies (for `__main__.py`), and the same
metadata feeds the README coverage table, so docs and behaviour cannot drift apart.

A check is a plain function that yields violation messages:

- resource rules: `check(resource: ResourceView, config: Mapping) -> Iterable[str]`, called
  only for the resource types the rule declares (dispatch by type, cheap for the rest);
- stack rules: `check(stack: StackView, config: Mapping) -> Iterable[tuple[str, urn | None]]`.

Tri-state: checks read props through the SDK's unknown-checking proxy. A resource rule
that touches a value unknown during preview raises `UnknownValueError`, which the SDK
reports as an advisory "can't run policy during preview", never as a violation. Stack
rules evaluate each resource separately and skip the ones whose values are unknown.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

TECHNIQUES = {
    "LR": "load reduction",
    "LAT": "latency reduction",
    "LA": "load adaptation",
    "RES": "resilience",
    "IMM": "immutable",
    "MON": "monitoring/SLOs",
    "CPDP": "control/data-plane separation",
    "SEC": "security",
    "DR": "backup/DR",
}

ENFORCEMENT_LEVELS = ("advisory", "mandatory", "disabled")

# Rule modules, in the order the README lists them.
FAMILIES = (
    "kubernetes",
    "kubernetes_stack",
    "compute",
    "data",
    "edge",
    "observability",
    "security",
    "stack",
)

Kind = Literal["resource", "stack"]

# What a stack rule's check yields: (message, URN of the resource to blame, or None for the stack).
Violations = Iterator[tuple[str, str | None]]


@dataclass(frozen=True)
class Rule:
    """One policy of the pack and everything the docs and the analyzer need to know about it."""

    id: str
    kind: Kind
    family: str
    description: str
    remediation: str
    anchors: tuple[str, ...]
    techniques: tuple[str, ...]
    enforcement: str
    check: Callable[..., Iterable[Any]]
    resource_types: frozenset[str] = frozenset()
    type_prefixes: tuple[str, ...] = ()
    config: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    severity: str = "high"

    def defaults(self) -> dict[str, Any]:
        """The rule's config values when the stack's policy config sets none."""
        return {key: schema["default"] for key, schema in self.config.items() if "default" in schema}

    def applies_to(self, resource_type: str) -> bool:
        return resource_type in self.resource_types or (
            bool(self.type_prefixes) and resource_type.startswith(self.type_prefixes))


_RULES: dict[str, Rule] = {}


def _register(rule: Rule) -> None:
    if rule.id in _RULES and _RULES[rule.id].check is not rule.check:
        raise ValueError(f"duplicate policy id {rule.id!r}")
    for technique in rule.techniques:
        if technique not in TECHNIQUES:
            raise ValueError(f"{rule.id}: unknown seed technique {technique!r}")
    if rule.enforcement not in ENFORCEMENT_LEVELS:
        raise ValueError(f"{rule.id}: unknown enforcement level {rule.enforcement!r}")
    for key, schema in rule.config.items():
        if key == "enforcementLevel" or "type" not in schema or "default" not in schema:
            raise ValueError(f"{rule.id}: config property {key!r} needs a type and a default")
    _RULES[rule.id] = rule


def _family_of(module: str) -> str:
    return module.rsplit(".", 1)[-1]


def _declaring(**fields: Any) -> Callable[[Callable[..., Iterable[Any]]], Callable[..., Iterable[Any]]]:
    """The decorator both rule kinds share: register the check with its metadata, return it unchanged."""

    def decorate(check: Callable[..., Iterable[Any]]) -> Callable[..., Iterable[Any]]:
        _register(Rule(family=_family_of(check.__module__), check=check, **fields))
        return check

    return decorate


def resource_rule(
    *,
    id: str,  # noqa: A002 - the policy id is the natural name here
    description: str,
    remediation: str,
    anchors: Iterable[str],
    techniques: Iterable[str],
    types: Iterable[str] = (),
    type_prefixes: Iterable[str] = (),
    enforcement: str = "mandatory",
    config: Mapping[str, Mapping[str, Any]] | None = None,
    severity: str = "high",
) -> Callable[[Callable[..., Iterable[str]]], Callable[..., Iterable[str]]]:
    """Declare a resource rule; `types` (exact tokens) and `type_prefixes` drive dispatch."""
    return _declaring(id=id, kind="resource", description=description, remediation=remediation,
                      anchors=tuple(anchors), techniques=tuple(techniques), enforcement=enforcement,
                      config=dict(config or {}), severity=severity, resource_types=frozenset(types),
                      type_prefixes=tuple(type_prefixes))


def stack_rule(
    *,
    id: str,  # noqa: A002
    description: str,
    remediation: str,
    anchors: Iterable[str],
    techniques: Iterable[str],
    enforcement: str = "mandatory",
    config: Mapping[str, Mapping[str, Any]] | None = None,
    severity: str = "high",
) -> Callable[[Callable[..., Iterable[Any]]], Callable[..., Iterable[Any]]]:
    """Declare a cross-resource rule evaluated once over the whole stack."""
    return _declaring(id=id, kind="stack", description=description, remediation=remediation,
                      anchors=tuple(anchors), techniques=tuple(techniques), enforcement=enforcement,
                      config=dict(config or {}), severity=severity)


def all_rules() -> list[Rule]:
    """Every rule of the pack, family by family, in declaration order."""
    for family in FAMILIES:
        importlib.import_module(f"reliability_stack.policies.{family}")
    order = {family: index for index, family in enumerate(FAMILIES)}
    return sorted(_RULES.values(), key=lambda rule: order[rule.family])
