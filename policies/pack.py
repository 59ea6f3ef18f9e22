"""Turn registry rules into CrossGuard policies (what `policies/__main__.py` assembles).

Per-stack overrides (`stacks/policy-config.<stack>.json`, the `--policy-pack-config`
document) are resolved by the client against the schema and initial config this module
publishes: `reliability_stack.preview.analyzer.resolve_policy_config`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    ResourceValidationPolicy,
    Severity,
    StackValidationPolicy,
)

from reliability_stack.policies.registry import Rule, all_rules
from reliability_stack.policies.view import ResourceView, StackView

PACK_NAME = "reliability-stack"
_LEVELS = {level.value: level for level in EnforcementLevel}


def _config(defaults: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(defaults)
    merged.update({k: v for k, v in given.items() if k != "enforcementLevel"})
    return merged


def _resource_policy(rule: Rule) -> ResourceValidationPolicy:
    types, prefixes, check = rule.resource_types, rule.type_prefixes, rule.check
    defaults = rule.defaults()

    def validate(args: Any, report_violation: Any) -> None:
        # Dispatch first: most resources are not of this rule's types.
        resource_type = args.resource_type
        if resource_type not in types and not (prefixes and resource_type.startswith(prefixes)):
            return
        config = _config(defaults, args.get_config())
        for message in check(ResourceView.from_args(args), config):
            report_violation(message, None)

    return ResourceValidationPolicy(name=rule.id, description=rule.description, validate=validate,
                                    **_common(rule))


def _stack_policy(rule: Rule) -> StackValidationPolicy:
    check, defaults = rule.check, rule.defaults()

    def validate(args: Any, report_violation: Any) -> None:
        config = _config(defaults, args.get_config())
        for message, urn in check(StackView.from_args(args), config):
            report_violation(message, urn)

    return StackValidationPolicy(name=rule.id, description=rule.description, validate=validate, **_common(rule))


def _common(rule: Rule) -> dict[str, Any]:
    return {
        "enforcement_level": _LEVELS[rule.enforcement],
        "config_schema": PolicyConfigSchema(properties={k: dict(v) for k, v in rule.config.items()})
        if rule.config else None,
        "remediation_steps": rule.remediation,
        "severity": Severity(rule.severity),
        "tags": [*rule.anchors, *(f"technique:{t}" for t in rule.techniques), f"family:{rule.family}"],
    }


def build_policies() -> list[Policy]:
    """Every rule as a `pulumi_policy` policy, ready for `PolicyPack(policies=...)`."""
    return [_resource_policy(r) if r.kind == "resource" else _stack_policy(r) for r in all_rules()]


def initial_config() -> dict[str, Any]:
    """Each policy's default enforcement level and thresholds, for `PolicyPack(initial_config=...)`."""
    return {r.id: {"enforcementLevel": _LEVELS[r.enforcement], **r.defaults()} for r in all_rules()}
