"""The error-budget policy that gates releases to prod.

A release is blocked while any SLO of the stack has exhausted its error budget or burns at
a page-level rate now (SRE Workbook ch. 5: freeze features, ship only fixes). Fixes and
rollbacks pass with an explicit override whose reason is recorded. When the data is not
enough to judge an SLO, the policy says what to do (`block` by default: a gate that lets
everything through when metrics stop arriving protects nothing).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Literal

from reliability_stack.errors import InputError
from reliability_stack.runtime.budget_status import SloStatus

MissingDataPolicy = Literal["block", "allow"]
Verdict = Literal["ok", "blocked", "unmeasured"]

MIN_OVERRIDE_LENGTH = 8


@dataclass(frozen=True)
class GateFinding:
    """The verdict on one SLO, with the reason a human reads in the CI log."""

    service: str
    slo: str
    verdict: Verdict
    reason: str


@dataclass(frozen=True)
class GateDecision:
    """The gate's answer for a stack."""

    stack: str
    allowed: bool
    findings: tuple[GateFinding, ...]
    on_missing_data: MissingDataPolicy
    override: str | None = None
    decided_at: str = ""

    @property
    def blocking(self) -> tuple[GateFinding, ...]:
        """The findings that block (or would block, when overridden)."""
        return tuple(f for f in self.findings if f.verdict == "blocked")

    @property
    def exit_code(self) -> int:
        return 0 if self.allowed else 1

    def summary(self) -> str:
        """One line for the log: the outcome and why."""
        if self.override is not None:
            return f"release ALLOWED by override ({self.override!r}); {len(self.blocking)} blocking finding(s) recorded"
        if self.allowed:
            return f"release allowed: every SLO of {self.stack} is within budget and no page-level burn is active"
        reasons = "; ".join(f"{f.service}/{f.slo}: {f.reason}" for f in self.blocking)
        return f"release BLOCKED: {reasons}"

    def record(self) -> str:
        """The decision as JSON (the audit record CI keeps as an artifact)."""
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"


def check_override(reason: str | None) -> str | None:
    """A usable override reason, or None. An override without a real reason is bad input."""
    if reason is None:
        return None
    text = " ".join(reason.split())
    if len(text) < MIN_OVERRIDE_LENGTH:
        raise InputError(f"an override needs a reason of at least {MIN_OVERRIDE_LENGTH} characters for the record, "
                         "e.g. 'rollback of the 14:02 release'", field="--override")
    return text


def judge(status: SloStatus, on_missing_data: MissingDataPolicy) -> GateFinding:
    """The verdict on one SLO."""
    slo = status.slo
    if status.budget_exhausted:
        remaining = status.budget_remaining or 0.0
        return GateFinding(slo.service, slo.name, "blocked",
                           f"error budget exhausted ({remaining:.1%} remaining over {slo.window_label}, "
                           f"SLI {status.sli:.4%} < objective {slo.objective}%)")
    if status.page_burns:
        burns = ", ".join(f"{s.tier.window_pair} at {s.long.burn_rate:.1f}x/{s.short.burn_rate:.1f}x "
                          f"(threshold {s.tier.burn_rate:g}x)" for s in status.page_burns)
        return GateFinding(slo.service, slo.name, "blocked", f"page-level burn active: {burns}")
    if status.missing_data:
        if on_missing_data == "block":
            return GateFinding(slo.service, slo.name, "blocked",
                               f"missing data: {status.missing_data} (pass --on-missing-data allow to accept)")
        return GateFinding(slo.service, slo.name, "unmeasured", f"missing data allowed: {status.missing_data}")
    remaining = status.budget_remaining or 0.0
    return GateFinding(slo.service, slo.name, "ok", f"{remaining:.1%} of the budget remaining, no page-level burn")


def decide(stack: str, statuses: Sequence[SloStatus], *, on_missing_data: MissingDataPolicy = "block",
           override: str | None = None, now: datetime | None = None) -> GateDecision:
    """Apply the policy to every SLO of the stack."""
    if on_missing_data not in ("block", "allow"):
        raise InputError("expected 'block' or 'allow'", field="--on-missing-data")
    override = check_override(override)
    findings = [judge(status, on_missing_data) for status in statuses]
    if not findings:
        verdict: Verdict = "blocked" if on_missing_data == "block" else "unmeasured"
        findings.append(GateFinding("-", "-", verdict,
                                    "the stack declares no SLO with a CloudWatch SLI, so there is no budget to judge"))
    blocked = any(f.verdict == "blocked" for f in findings)
    return GateDecision(stack=stack, allowed=override is not None or not blocked, findings=tuple(findings),
                        on_missing_data=on_missing_data, override=override,
                        decided_at=(now or datetime.now(UTC)).isoformat(timespec="seconds"))
