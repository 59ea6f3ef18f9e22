"""Budget arithmetic over event series, without AWS: windows, burn rates, tiers, burn-down, no data."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from reliability_stack.errors import InputError
from reliability_stack.runtime.budget_status import evaluate, period_for, series_spans
from reliability_stack.runtime.cloudwatch_events import EventSeries, floor_time
from reliability_stack.slo.model import SLI, SLO, CloudWatchSLI

START = datetime(2026, 11, 1, tzinfo=UTC)
SLO_7D = SLO(service="shop", name="availability", objective=99.9, window=7 * 86400,
             sli=SLI("availability", cloudwatch=CloudWatchSLI.alb()))


def series(period: int, buckets: int, bad: float | list[float], total: float = 1000.0,
           observed: bool = True) -> EventSeries:
    bads = bad if isinstance(bad, list) else [bad] * buckets
    return EventSeries(start=START, period=period, bad=tuple(bads), total=(total,) * buckets,
                       observed=(observed,) * buckets)


@pytest.mark.parametrize(("window", "period"), [(300, 60), (3600, 60), (21600, 60), (86400, 3600),
                                                (7 * 86400, 3600), (27000, 300), (34200, 300), (5400, 60)])
def test_period_for_windows(window: int, period: int) -> None:
    assert period_for(window) == period


def test_windows_must_be_whole_minutes() -> None:
    with pytest.raises(InputError, match="whole number of minutes"):
        period_for(90)


def test_series_spans_cover_every_window_of_the_default_tiers() -> None:
    assert series_spans(SLO_7D) == {60: 21600, 3600: 7 * 86400}


def test_window_counts_are_trailing_sums() -> None:
    s = series(60, 10, [0, 0, 0, 0, 0, 0, 0, 0, 5, 5], total=100)
    last = s.last(120)
    assert (last.bad, last.total, last.observed_buckets) == (10, 200, 2)
    assert last.error_ratio == pytest.approx(0.05)
    with pytest.raises(ValueError):
        s.last(90)


def statuses(fine_bad: float, coarse_bad: float, *, fine_total: float = 1000.0, coarse_total: float = 60000.0,
             observed: bool = True, min_events: float | None = None):  # type: ignore[no-untyped-def]
    fine = series(60, 360, fine_bad, fine_total, observed)
    coarse = series(3600, 168, coarse_bad, coarse_total, observed)
    return evaluate(SLO_7D, {60: fine, 3600: coarse}, min_events=min_events)


def test_healthy_budget_and_burn() -> None:
    status = statuses(fine_bad=0.2, coarse_bad=12)  # 0.02 % errors: 0.2x burn
    assert status.budget_remaining == pytest.approx(0.8)
    assert status.sli == pytest.approx(0.9998)
    assert not status.page_burns and not status.budget_exhausted and status.missing_data is None
    burns = {w.window: w.burn_rate for w in status.windows}
    assert burns[300] == pytest.approx(0.2) and burns[7 * 86400] == pytest.approx(0.2)


def test_exhausted_budget() -> None:
    status = statuses(fine_bad=0, coarse_bad=120)  # 0.2 % over the week: twice the budget
    assert status.budget_remaining == pytest.approx(-1.0)
    assert status.budget_exhausted


def test_page_burn_needs_both_windows() -> None:
    both = statuses(fine_bad=20, coarse_bad=12)  # 2 % errors in every fine window: 20x
    assert [s.tier.window_pair for s in both.page_burns] == ["1h-5m", "6h-30m"]
    # A short spike only: the 5 m window burns, the 1 h window does not.
    spike = evaluate(SLO_7D, {60: series(60, 360, [0.0] * 355 + [50.0] * 5), 3600: series(3600, 168, 12)})
    assert not spike.page_burns


def test_min_events_guard_suppresses_low_traffic_burn() -> None:
    # 2 requests a minute, half failing: 500x, but at most 720 events in any page window.
    status = statuses(fine_bad=1, coarse_bad=12, fine_total=2, min_events=1000)
    assert not status.page_burns
    assert all(w.guarded for w in status.windows if w.window <= 21600)
    unguarded = statuses(fine_bad=1, coarse_bad=12, fine_total=2)
    assert len(unguarded.page_burns) == 2


def test_missing_data_reasons() -> None:
    nothing = statuses(fine_bad=0, coarse_bad=0, fine_total=0, coarse_total=0, observed=False)
    assert nothing.missing_data and "no events in the 7d SLO window" in nothing.missing_data
    assert nothing.budget_remaining is None
    stale = evaluate(SLO_7D, {60: series(60, 360, 0, 0, observed=False), 3600: series(3600, 168, 12)})
    assert stale.missing_data and "no datapoints in the last 6h" in stale.missing_data


def test_burn_down_is_monotone_and_ends_at_budget_remaining() -> None:
    bad = [0.0] * 84 + [60.0] * 84  # all errors in the second half of the week
    status = evaluate(SLO_7D, {60: series(60, 360, 0.5), 3600: series(3600, 168, bad)})
    values = [v for _, v in status.burn_down]
    assert len(values) == 168
    assert values[0] == pytest.approx(1.0) and values[83] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(values, values[1:], strict=False))
    assert values[-1] == pytest.approx(status.budget_remaining)


def test_floor_time() -> None:
    assert floor_time(datetime(2026, 1, 1, 12, 7, 31, tzinfo=UTC), 300) == datetime(2026, 1, 1, 12, 5, tzinfo=UTC)
