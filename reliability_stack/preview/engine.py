"""The offline preview: config → stack program under mocks → policy pack over gRPC → plan.

This is what `relstack preview` runs. It does what `pulumi preview --policy-pack policies`
does, with the engine replaced by the SDK's mock runtime: the program, the components and
the policy pack are the real ones.
"""

from __future__ import annotations

import builtins
import functools
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reliability_stack.config import (
    StackConfig,
    load_stack_config,
    read_stack_file,
)
from reliability_stack.errors import ConfigError, ReliabilityStackError
from reliability_stack.preview.summary import counts_by_type, stateful_gaps
from reliability_stack.yaml_input import parse_yaml

if TYPE_CHECKING:
    from reliability_stack.preview.capture import CapturedResource
    from reliability_stack.preview.policy_session import PolicySession, PolicyVerdict

Progress = Callable[[str], None]


class ProgramError(ReliabilityStackError):
    """The stack program failed for a reason that is not bad input (a bug): exit 3."""

    exit_code = 3


@dataclass
class PreviewResult:
    """The plan: the JSON document of the design notes, which every report renders."""

    plan: dict[str, Any]

    @property
    def exit_code(self) -> int:
        """1 when a mandatory policy is violated, else 0."""
        return 1 if self.plan["summary"]["mandatoryViolations"] else 0


def find_project_root(start: Path | None = None) -> Path:
    """The folder holding Pulumi.yaml: from `start` (default: cwd) upwards, else this checkout."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "Pulumi.yaml").is_file():
            return folder
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "Pulumi.yaml").is_file():
        return checkout
    raise ConfigError("no Pulumi.yaml found in this folder or above", field="--project-dir")


def read_project(root: Path) -> dict[str, Any]:
    path = root / "Pulumi.yaml"
    document = parse_yaml(path.read_text(encoding="utf-8"), file=path, error=ConfigError) or {}
    if not isinstance(document, dict) or not document.get("name"):
        raise ConfigError("the project file needs a name", file=path, field="name")
    return document


def load_slo_plans(root: Path, config: StackConfig) -> tuple[list[Any], list[dict[str, Any]], list[str]]:
    """Every SLO the stack's services name; return the SLOs, their plan entries, warnings."""
    from reliability_stack.service_slos import load_stack_slos
    from reliability_stack.slo.plan import alert_plan

    loaded = load_stack_slos(root, config)
    return list(loaded.slos), [alert_plan(slo) for slo in loaded.slos], list(loaded.warnings)


def _monitoring_cost(slos: list[Any], plans: list[dict[str, Any]]) -> None:
    """Add the monthly CloudWatch cost of each SLO's alarms to its plan entry."""
    from reliability_stack.slo.cloudwatch_cost import monthly_cost_usd

    for slo, plan in zip(slos, plans, strict=True):
        plan["monthlyCostUsd"] = round(monthly_cost_usd(slo), 2)


def run_program(root: Path, project: str, stack: str, config_values: dict[str, Any],
                on_resource: Callable[[CapturedResource], None] | None = None) -> Any:
    """Run the project's real stack program (`__main__.py`) under the mock runtime."""
    from reliability_stack.preview.capture import capture_program

    main = root / "__main__.py"
    sys.path.insert(0, str(root))
    try:
        # What `runpy.run_path(main, run_name="__main__")` runs, without runpy's three frames
        # or a wrapper's: every registration walks the stack for its trace (stack_traces.py),
        # so each frame is paid ~500 times on prod.
        namespace = {"__name__": "__main__", "__file__": str(main), "__builtins__": builtins,
                     "__package__": None, "__spec__": None, "__loader__": None, "__cached__": None}
        program = functools.partial(exec, compile(main.read_bytes(), str(main), "exec"), namespace)
        return capture_program(program, stack=stack, project=project, config=config_values, on_resource=on_resource)
    except ReliabilityStackError:  # bad input (exit 2) and the like keep their own exit codes
        raise
    except Exception as exc:  # a bug in the program or a component, not bad input
        raise ProgramError(f"the stack program failed: {type(exc).__name__}: {exc}") from exc
    finally:
        sys.path.remove(str(root))


def policy_session(root: Path, stack: str, config_path: Path | None = None) -> PolicySession:
    """The policy pack in `root/policies`, configured like `--policy-pack-config` (default: the stack's file)."""
    from reliability_stack.preview.analyzer import PolicyAnalyzer, load_policy_config
    from reliability_stack.preview.policy_session import PolicySession

    if config_path is not None and not config_path.is_file():
        raise ConfigError("policy config file does not exist", file=config_path, field="--policy-pack-config")
    config_path = config_path or root / "stacks" / f"policy-config.{stack}.json"
    source = str(config_path.relative_to(root)) if config_path.is_relative_to(root) else str(config_path)
    return PolicySession(PolicyAnalyzer(load_policy_config(config_path), pack_dir=root / "policies",
                                        config_source=source))


def policies_section(verdict: PolicyVerdict) -> dict[str, Any]:
    """The plan's `policies` section: mandatory violations first, then by policy and resource."""
    violations = sorted(verdict.violations,
                        key=lambda v: (v["enforcementLevel"] != "mandatory", v["policy"], v["urn"]))
    return {"pack": verdict.pack, "policyCount": len(verdict.policies), "violations": violations}


def run_preview(stack: str, *, root: Path | None = None, policy_config: Path | None = None,
                progress: Progress | None = None) -> PreviewResult:
    """Everything `relstack preview` does before rendering."""
    step = progress or (lambda _message: None)
    root = root or find_project_root()
    project = str(read_project(root)["name"])
    # Made (not started) before the config is read: it samples the machine's load now and
    # again when it starts (see policy_session.gives_way).
    session = policy_session(root, stack, policy_config.resolve() if policy_config else None)
    step("validating stack config")
    stack_values = read_stack_file(root, stack)
    config = load_stack_config(root, stack, stack_values)
    slos, slo_plans, warnings = load_slo_plans(root, config)
    _monitoring_cost(slos, slo_plans)
    step("running the stack program under the mock runtime")
    # The pack evaluates each resource as it registers, in other processes (see policy_session).
    with session:
        captured = run_program(root, project, stack, stack_values, on_resource=session.submit)
        step(f"evaluating the last of {len(captured.resources)} resources against the policy pack")
        verdict = session.finish()
    resources = [resource.to_plan() for resource in captured.resources]
    policies = policies_section(verdict)
    stateful_count, gaps = stateful_gaps(resources)
    mandatory = sum(1 for v in policies["violations"] if v["enforcementLevel"] == "mandatory")
    plan = {
        "stack": stack,
        "project": project,
        "resources": resources,
        "policies": policies,
        "slos": slo_plans,
        "summary": {
            "resourceCount": len(resources),
            "componentCount": sum(1 for r in captured.resources if not r.custom),
            "byType": [{"type": t, "count": n} for t, n in counts_by_type(resources)],
            "statefulResources": stateful_count,
            "statefulUnprotected": [{"urn": g.urn, "type": g.type, "missing": list(g.missing)} for g in gaps],
            "mandatoryViolations": mandatory,
            "advisoryViolations": sum(1 for v in policies["violations"] if v["enforcementLevel"] == "advisory"),
            "policies": verdict.policies,
        },
        "outputs": captured.exports,
        "warnings": warnings + captured.warnings,
    }
    return PreviewResult(plan=plan)
