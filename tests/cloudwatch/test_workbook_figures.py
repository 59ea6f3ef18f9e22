"""The SRE Workbook's figures, shown through the CloudWatch simulation (not only the formulas).

99.9 % over 30 d: 43.2 min of budget; 14.4x over 1 h spends 2 % and catches a full outage in
52 s; 6x over 6 h spends 5 % and needs 2.16 min. CloudWatch evaluates once a minute, so a
simulated time lands on the first whole minute at or after the Workbook's exact one.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from reliability_stack.slo import budget
from reliability_stack.slo.cloudwatch_sim import simulate_incident, simulated_detection_and_reset
from reliability_stack.slo.model import DAY, HOUR, MINUTE, SLI, SLO, BurnRateTier, CloudWatchSLI

STEP = 60
FAST = BurnRateTier("page", HOUR, 5 * MINUTE, 14.4)
MEDIUM = BurnRateTier("page", 6 * HOUR, 30 * MINUTE, 6.0)
TICKET = BurnRateTier("ticket", 3 * DAY, 6 * HOUR, 1.0)
WORKBOOK = SLO("checkout", "availability", 99.9, SLI("availability", cloudwatch=CloudWatchSLI.alb()),
               window=30 * DAY, tiers=(FAST, MEDIUM, TICKET))


def test_budget_of_99_9_over_30_days_is_43_2_minutes_in_the_simulation() -> None:
    # The simulation's budget accounting: a full outage of d seconds spends d / budget.
    result = simulate_incident(WORKBOOK, FAST)
    assert result.detection is not None and result.budget_consumed_at_detection is not None
    budget_minutes = result.detection / result.budget_consumed_at_detection / 60
    assert budget_minutes == pytest.approx(43.2)
    assert budget.slo_budget_minutes(WORKBOOK) == pytest.approx(43.2)


@pytest.mark.parametrize(("tier", "consumed", "detection"), [
    (FAST, 0.02, 51.84),
    (MEDIUM, 0.05, 2.16 * 60),
])
def test_budget_consumed_and_full_outage_detection(tier: BurnRateTier, consumed: float, detection: float) -> None:
    # Errors at a hair above the tier's burn rate fire it when the long window is full:
    # having spent burn x long / 30 d of the budget.
    at_burn = simulate_incident(WORKBOOK, tier, error_ratio=tier.burn_rate * 1.001 * WORKBOOK.error_budget_ratio)
    assert at_burn.budget_consumed_at_detection == pytest.approx(consumed, rel=0.01)
    assert budget.budget_consumed(tier, WORKBOOK.window) == pytest.approx(consumed)
    # A full outage: the Workbook's time, rounded up to CloudWatch's next evaluation.
    simulated, _ = simulated_detection_and_reset(WORKBOOK, tier)
    assert budget.detection_time_full_outage(tier, WORKBOOK.objective) == pytest.approx(detection)
    assert simulated is not None and detection <= simulated < detection + STEP


@pytest.mark.parametrize("tier", [FAST, MEDIUM, TICKET], ids=lambda t: t.name)
def test_reset_is_about_one_short_window(tier: BurnRateTier) -> None:
    _, reset = simulated_detection_and_reset(WORKBOOK, tier)
    exact = budget.reset_time(tier, WORKBOOK.objective)
    assert reset is not None and exact <= reset < exact + STEP
    assert reset <= tier.short_window


def test_slower_burns_take_longer_and_below_the_threshold_never_fire() -> None:
    at_15_percent = simulate_incident(WORKBOOK, FAST, error_ratio=0.15)
    # Workbook: "at 15 % errors 14.4x/1 h fires after 5.76 min".
    assert at_15_percent.detection is not None and 5.76 * 60 <= at_15_percent.detection < 5.76 * 60 + STEP
    assert simulate_incident(WORKBOOK, FAST, error_ratio=0.0143).detection is None


def test_unreachable_tier_has_no_simulated_times() -> None:
    low = SLO("checkout", "availability", 90.0, SLI("availability", cloudwatch=CloudWatchSLI.alb()),
              window=30 * DAY, tiers=(FAST, TICKET))
    assert simulated_detection_and_reset(low, FAST) == (None, None)
    detection, reset = simulated_detection_and_reset(low, TICKET)
    assert detection is not None and reset is not None


@settings(max_examples=40, deadline=None)
@given(objective=st.sampled_from([99.0, 99.5, 99.9, 99.95, 99.99]),
       tier=st.sampled_from([FAST, MEDIUM, BurnRateTier("ticket", DAY, 2 * HOUR, 3.0)]),
       excess=st.floats(min_value=1.05, max_value=50.0))
def test_simulated_detection_matches_the_formula_within_one_evaluation(objective: float, tier: BurnRateTier,
                                                                       excess: float) -> None:
    slo = replace(WORKBOOK, objective=objective, tiers=(tier,))
    error_ratio = min(1.0, excess * slo.threshold(tier))
    assume(budget.is_reachable(tier, objective) and error_ratio > slo.threshold(tier) * 1.001)
    exact = budget.detection_time(tier, objective, error_ratio)
    simulated = simulate_incident(slo, tier, error_ratio=error_ratio).detection
    assert exact is not None and simulated is not None
    assert exact - 1e-6 <= simulated <= exact + STEP
