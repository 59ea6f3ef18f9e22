"""The SloAlarms component's alarms, read back from the captured resources, behave as promised.

Synthetic ALB traffic at 1,000 requests per minute goes through `alarm_eval` (one evaluation
per minute, as CloudWatch does) against the alarms exactly as the engine received them:
- a 100 % outage pages within 2 minutes, once;
- a 0.9x budget burn for a week never alerts;
- the page resets within 35 minutes of recovery and does not page again;
- a 2.5x slow burn opens a ticket within 30 hours, and never pages.
"""

from __future__ import annotations

import numpy as np
import pytest

from reliability_stack.alarm_eval import ALARM, OK, AlarmSetResult, evaluate_alarm_set, is_composite
from reliability_stack.slo import budget
from tests.cloudwatch.stack_under_test import (
    AVAILABILITY,
    LATENCY,
    DeclaredAlarms,
    alb_traffic,
)

MINUTE, HOUR, DAY = 60, 3600, 86400
HISTORY = 3 * DAY  # healthy traffic fills the longest (3 d) window before every scenario


def _minutes(seconds: int) -> int:
    return seconds // MINUTE


def _run(declared: DeclaredAlarms, slo_id: str, *phases: tuple[int, float]) -> AlarmSetResult:
    """Traffic made of (seconds, error ratio) phases through the SLO's declared alarms."""
    ratios = np.concatenate([np.full(_minutes(seconds), ratio) for seconds, ratio in phases])
    alarms = declared.for_slo(slo_id)
    assert len([a for a in alarms if is_composite(a)]) == 3 and len(alarms) == 9
    return evaluate_alarm_set(alarms, alb_traffic(declared.load_balancer_suffix, ratios), step=MINUTE)


@pytest.mark.parametrize(("slo", "limit"), [
    (AVAILABILITY, 2 * MINUTE),
    # At 99 % the fast tier's threshold is 14.4 %: a full outage needs 0.144 x 1 h = 8.6 min
    # (the Workbook formula), plus at most one evaluation minute.
    (LATENCY, budget.detection_time_full_outage(LATENCY.tiers[0], LATENCY.objective) + MINUTE),
], ids=["availability-99.9", "latency-99"])
def test_full_outage_pages_within_two_minutes_once(declared: DeclaredAlarms, slo, limit: float) -> None:
    result = _run(declared, slo.id, (HISTORY, 0.0), (HOUR, 1.0), (2 * HOUR, 0.0))
    alarms = declared.for_slo(slo.id)
    pages = declared.routed_to(declared.page_topic, alarms)
    tickets = declared.routed_to(declared.ticket_topic, alarms)
    assert len(pages) == 2 and len(tickets) == 1
    paged = result.first_notification(pages, ALARM, after=HISTORY)
    assert paged is not None and paged - HISTORY <= limit
    # One incident, one page: the 6 h tier fires too but is suppressed by the 1 h tier, and
    # the ticket tier by the 6 h tier.
    page_events = [n for name in pages for n in result.notifications[name] if n.state == ALARM]
    assert len(page_events) == 1
    assert all(result.histories[name].first(ALARM, after=HISTORY) is not None for name in pages + tickets)
    assert not [n for n in result.notifications[tickets[0]] if n.state == ALARM]


def test_budget_burn_below_one_never_alerts(declared: DeclaredAlarms) -> None:
    budget = AVAILABILITY.error_budget_ratio
    result = _run(declared, AVAILABILITY.id, (HISTORY, 0.0), (7 * DAY, 0.9 * budget))
    assert all(state != ALARM for history in result.histories.values() for state in history.states)
    assert all(events == [] for events in result.notifications.values())
    # The same traffic at 1.1x does open a ticket: the silence above is the threshold, not a dead alarm.
    louder = _run(declared, AVAILABILITY.id, (HISTORY, 0.0), (7 * DAY, 1.1 * budget))
    assert louder.first_notification(declared.routed_to(declared.ticket_topic), ALARM) is not None


def test_page_resets_within_35_minutes_of_recovery_without_paging_again(declared: DeclaredAlarms) -> None:
    outage_end = HISTORY + 10 * MINUTE
    result = _run(declared, AVAILABILITY.id, (HISTORY, 0.0), (10 * MINUTE, 1.0), (6 * HOUR, 0.0))
    pages = declared.routed_to(declared.page_topic, declared.for_slo(AVAILABILITY.id))
    cleared = [result.histories[name].first(OK, after=outage_end) for name in pages]
    assert all(t is not None for t in cleared)
    reset = max(t for t in cleared if t is not None) - outage_end
    assert reset <= 35 * MINUTE
    # Not earlier than the 6 h tier's 30 m short window allows (the naive "5 minutes" is wrong):
    assert reset >= 25 * MINUTE
    for name in pages:
        assert all(state == OK for time, state in zip(result.histories[name].times,
                                                       result.histories[name].states, strict=True)
                   if time >= outage_end + reset)
    assert result.first_notification(pages, ALARM, after=outage_end) is None
    assert result.first_notification(pages, OK, after=outage_end) is not None  # the resolve message


def test_slow_burn_opens_a_ticket_within_30_hours_and_never_pages(declared: DeclaredAlarms) -> None:
    budget = AVAILABILITY.error_budget_ratio
    result = _run(declared, AVAILABILITY.id, (HISTORY, 0.0), (30 * HOUR, 2.5 * budget))
    alarms = declared.for_slo(AVAILABILITY.id)
    ticketed = result.first_notification(declared.routed_to(declared.ticket_topic, alarms), ALARM, after=HISTORY)
    assert ticketed is not None
    # 3 d / 2.5 = 28.8 h for the 3 d window, plus the suppressor's 2 min wait and 1 min steps.
    assert 28.8 * HOUR <= ticketed - HISTORY <= 30 * HOUR
    assert result.first_notification(declared.routed_to(declared.page_topic, alarms), ALARM) is None
