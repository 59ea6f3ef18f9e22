"""The alert plan of one SLO as plain JSON data: the `slos[]` entries of the preview's plan JSON.

Shape (DESIGN.md, fixed): `{service, name, objective, window, errorBudget: {ratio, minutes},
alerts: [{severity, longWindow, shortWindow, burnRate, threshold, budgetConsumed,
detectionTimeFullOutage}]}`; windows are strings such as `1h`, times are seconds,
ratios are fractions (0.02 = 2 %). `detectionTimeFullOutage` is null for a tier that can
never fire (validation rejects those, so a loaded SLO never has one).
"""

from __future__ import annotations

from typing import Any

from reliability_stack.slo import budget
from reliability_stack.slo.model import SLO, clean_float


def _round(value: float | None) -> float | None:
    # 12 significant digits: 51.84 s and 0.0144 without float noise.
    return None if value is None else clean_float(value)


def alert_plan(slo: SLO) -> dict[str, Any]:
    """Budget and burn-rate tiers of `slo` in the plan JSON shape."""
    return {
        "service": slo.service,
        "name": slo.name,
        "objective": slo.objective,
        "window": slo.window_label,
        "errorBudget": {
            "ratio": _round(slo.error_budget_ratio),
            "minutes": _round(budget.error_budget_minutes(slo.objective, slo.window)),
        },
        "alerts": [
            {
                "severity": tier.severity,
                "longWindow": tier.long,
                "shortWindow": tier.short,
                "burnRate": tier.burn_rate,
                "threshold": _round(budget.threshold(tier, slo.objective)),
                "budgetConsumed": _round(budget.budget_consumed(tier, slo.window)),
                "detectionTimeFullOutage": _round(budget.detection_time_full_outage(tier, slo.objective)),
            }
            for tier in slo.tiers
        ],
    }
