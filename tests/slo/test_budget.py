"""Error-budget and burn-rate math against the SRE Workbook's figures, plus properties."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from reliability_stack.slo import budget
from reliability_stack.slo.model import DAY, DEFAULT_TIERS, HOUR, MINUTE, BurnRateTier
from reliability_stack.slo.plan import alert_plan
from tests.slo.factories import make_slo

FAST, SLOW_PAGE, TICKET = DEFAULT_TIERS
THIRTY_DAYS = 30 * DAY


def test_workbook_budget_of_99_9_over_30_days_is_43_2_minutes() -> None:
    assert budget.error_budget_minutes(99.9, THIRTY_DAYS) == pytest.approx(43.2)
    assert budget.allowed_downtime_seconds(99.9, THIRTY_DAYS) == pytest.approx(43.2 * 60)


def test_workbook_fast_page_spends_2_percent_and_detects_a_full_outage_in_52_seconds() -> None:
    assert budget.threshold(FAST, 99.9) == pytest.approx(0.0144)
    assert budget.budget_consumed(FAST, THIRTY_DAYS) == pytest.approx(0.02)
    assert budget.detection_time_full_outage(FAST, 99.9) == pytest.approx(51.84)


def test_workbook_slow_page_spends_5_percent_and_detects_in_2_16_minutes() -> None:
    assert budget.threshold(SLOW_PAGE, 99.9) == pytest.approx(0.006)
    assert budget.budget_consumed(SLOW_PAGE, THIRTY_DAYS) == pytest.approx(0.05)
    assert budget.detection_time_full_outage(SLOW_PAGE, 99.9) == pytest.approx(2.16 * MINUTE)


def test_workbook_ticket_spends_10_percent_and_detects_in_4_32_minutes() -> None:
    assert budget.budget_consumed(TICKET, THIRTY_DAYS) == pytest.approx(0.10)
    assert budget.detection_time_full_outage(TICKET, 99.9) == pytest.approx(4.32 * MINUTE)


def test_workbook_15_percent_errors_fire_the_fast_page_after_5_76_minutes() -> None:
    assert budget.detection_time(FAST, 99.9, 0.15) == pytest.approx(5.76 * MINUTE)


def test_burn_table_5_4_exhaustion_times() -> None:
    def tier(burn: float) -> BurnRateTier:
        return BurnRateTier("page", HOUR, 5 * MINUTE, burn)

    assert budget.time_to_exhaustion(tier(1), THIRTY_DAYS) == 30 * DAY
    assert budget.time_to_exhaustion(tier(2), THIRTY_DAYS) == 15 * DAY
    assert budget.time_to_exhaustion(tier(10), THIRTY_DAYS) == 3 * DAY
    assert budget.time_to_exhaustion(tier(1000), THIRTY_DAYS) == pytest.approx(43.2 * MINUTE)


def test_28_day_window_spends_more_budget_per_tier() -> None:
    assert budget.budget_consumed(FAST, 28 * DAY) == pytest.approx(14.4 / 672)
    assert budget.error_budget_minutes(99.9, 28 * DAY) == pytest.approx(40.32)


def test_reachability_boundary_at_93_percent() -> None:
    assert not budget.is_reachable(FAST, 93.0)
    assert budget.is_reachable(FAST, 93.1)
    assert budget.detection_time_full_outage(FAST, 93.0) is None


def test_a_burn_below_the_tier_never_fires_and_a_burn_above_fires() -> None:
    assert budget.detection_time_at_burn(FAST, 99.9, 10) is None
    assert budget.detection_time_at_burn(SLOW_PAGE, 99.9, 10) == pytest.approx(0.6 * 6 * HOUR)
    assert budget.detection_time_at_burn(TICKET, 99.9, 2.5) == pytest.approx(28.8 * HOUR)


def test_reset_is_about_one_short_window() -> None:
    assert budget.reset_time(FAST, 99.9) == pytest.approx(300 * (1 - 0.0144))
    assert budget.reset_time(SLOW_PAGE, 99.9) == pytest.approx(1800 * (1 - 0.006))
    # A blip too short to carry the short window over the threshold resets at once.
    assert budget.reset_time(FAST, 99.9, 1.0, incident_seconds=3) == 0.0


def test_sla_and_slo_downtime_differ() -> None:
    assert budget.allowed_downtime_seconds(99.5, 28 * DAY) == pytest.approx(0.005 * 28 * DAY)
    assert budget.allowed_downtime_seconds(99.9, 28 * DAY) < budget.allowed_downtime_seconds(99.5, 28 * DAY)


def test_plan_has_the_design_shape_and_workbook_numbers() -> None:
    plan = alert_plan(make_slo(objective=99.9, window=THIRTY_DAYS))
    assert plan["window"] == "30d"
    assert plan["errorBudget"] == {"ratio": 0.001, "minutes": 43.2}
    assert plan["alerts"][0] == {"severity": "page", "longWindow": "1h", "shortWindow": "5m", "burnRate": 14.4,
                                 "threshold": 0.0144, "budgetConsumed": 0.02, "detectionTimeFullOutage": 51.84}
    assert [a["budgetConsumed"] for a in plan["alerts"]] == [0.02, 0.05, 0.1]
    assert plan["alerts"][1]["detectionTimeFullOutage"] == 129.6


objectives = st.floats(min_value=90.0, max_value=99.999)
windows = st.sampled_from([7 * DAY, 28 * DAY, 30 * DAY])
tiers = st.builds(
    lambda long, factor, burn: BurnRateTier("page", long, max(60, long // factor), burn),
    st.sampled_from([HOUR, 6 * HOUR, DAY, 3 * DAY]), st.integers(min_value=2, max_value=24),
    st.floats(min_value=0.5, max_value=20.0),
)


@given(tier=tiers, objective=objectives, window=windows, error_ratio=st.floats(min_value=1e-4, max_value=1.0))
def test_budget_spent_at_firing_equals_budget_consumed_whatever_the_error_ratio(
        tier: BurnRateTier, objective: float, window: int, error_ratio: float) -> None:
    """The Workbook's identity: a tier fires after spending burn x long / window of the budget."""
    fired = budget.detection_time(tier, objective, error_ratio)
    assume(fired is not None)
    spent = budget.budget_spent(objective, window, error_ratio, fired)
    assert spent == pytest.approx(budget.budget_consumed(tier, window), rel=1e-9)


@given(tier=tiers, objective=objectives, low=st.floats(min_value=1e-4, max_value=1.0),
       high=st.floats(min_value=1e-4, max_value=1.0))
def test_more_errors_never_fire_later(tier: BurnRateTier, objective: float, low: float, high: float) -> None:
    low, high = sorted((low, high))
    slow, fast = budget.detection_time(tier, objective, low), budget.detection_time(tier, objective, high)
    if slow is not None:
        assert fast is not None and fast <= slow


@given(tier=tiers, objective=objectives, error_ratio=st.floats(min_value=1e-4, max_value=1.0))
def test_a_tier_fires_iff_the_error_ratio_exceeds_its_threshold(
        tier: BurnRateTier, objective: float, error_ratio: float) -> None:
    fired = budget.detection_time(tier, objective, error_ratio)
    assert (fired is not None) == (error_ratio > budget.threshold(tier, objective))
    if fired is not None:
        assert 0 < fired <= tier.long_window


@given(tier=tiers, objective=objectives, error_ratio=st.floats(min_value=1e-4, max_value=1.0),
       incident=st.floats(min_value=1.0, max_value=30 * DAY))
def test_reset_never_exceeds_the_short_window(
        tier: BurnRateTier, objective: float, error_ratio: float, incident: float) -> None:
    reset = budget.reset_time(tier, objective, error_ratio, incident)
    assert 0.0 <= reset < tier.short_window


@given(objective=objectives, window=windows)
def test_budget_minutes_scale_with_window_and_shrink_with_objective(objective: float, window: int) -> None:
    minutes = budget.error_budget_minutes(objective, window)
    assert minutes == pytest.approx((100 - objective) / 100 * window / 60, rel=1e-9)
    assert budget.error_budget_minutes(min(99.9999, objective + 0.0001), window) < minutes
