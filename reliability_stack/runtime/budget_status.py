"""Where an SLO stands now: SLI, error budget remaining, burn rate per window, burn-down.

Pure arithmetic over `EventSeries` (no AWS calls), so the report, the release gate and
the tests share one definition of "budget exhausted", "page-level burn" and "no data":

- SLI over the SLO window = 1 - bad/total (a ratio of sums);
- budget remaining = 1 - error_ratio / (1 - objective), negative once overspent;
- burn rate of a window = error_ratio(window) / (1 - objective);
- a tier burns when both its windows burn at or above its rate (SRE Workbook ch. 5),
  with the SLI's `min_events` guard: a window with fewer events counts as not burning,
  as the CloudWatch alarms do.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from reliability_stack.errors import InputError
from reliability_stack.runtime.cloudwatch_events import EventSeries, WindowCounts
from reliability_stack.slo.durations import format_duration
from reliability_stack.slo.model import SLO, BurnRateTier

#: Windows up to 6 h are read at one-minute resolution, longer ones hourly (or at five
#: minutes when not a whole number of hours): at most a few hundred datapoints a query.
FINE_PERIOD = 60
FINE_LIMIT = 6 * 3600
COARSE_PERIOD = 3600
MEDIUM_PERIOD = 300


def period_for(window: int) -> int:
    """The GetMetricData period a trailing window of `window` seconds is read at."""
    if window % FINE_PERIOD:
        raise InputError(f"window {window}s is not a whole number of minutes, the finest CloudWatch "
                         "period of standard metrics", field="tiers")
    if window <= FINE_LIMIT:
        return FINE_PERIOD
    if window % COARSE_PERIOD == 0:
        return COARSE_PERIOD
    if window % MEDIUM_PERIOD == 0:
        return MEDIUM_PERIOD
    return FINE_PERIOD


def windows_of(slo: SLO) -> list[int]:
    """Every trailing window the status needs: the SLO window and each tier's two windows."""
    windows = {slo.window}
    for tier in slo.tiers:
        windows.update((tier.long_window, tier.short_window))
    return sorted(windows)


def series_spans(slo: SLO) -> dict[int, int]:
    """Period -> the longest window read at that period (the span of one query)."""
    spans: dict[int, int] = {}
    for window in windows_of(slo):
        period = period_for(window)
        spans[period] = max(spans.get(period, 0), window)
    return spans


@dataclass(frozen=True)
class WindowBurn:
    """The error ratio and burn rate of one trailing window."""

    counts: WindowCounts
    burn_rate: float | None
    """error ratio / error budget ratio; None without events."""
    guarded: bool = False
    """True when the window had fewer events than the SLI's `min_events` (not judged)."""

    @property
    def window(self) -> int:
        return self.counts.seconds

    @property
    def label(self) -> str:
        return format_duration(self.counts.seconds)


@dataclass(frozen=True)
class TierState:
    """One burn-rate tier evaluated now."""

    tier: BurnRateTier
    long: WindowBurn
    short: WindowBurn

    @property
    def burning(self) -> bool:
        """Both windows at or above the tier's burn rate (and past the low-traffic guard)."""
        return all(w.burn_rate is not None and not w.guarded and w.burn_rate >= self.tier.burn_rate
                   for w in (self.long, self.short))


@dataclass(frozen=True)
class SloStatus:
    """Everything the report, the chart and the gate need about one SLO."""

    slo: SLO
    window: WindowBurn | None
    windows: tuple[WindowBurn, ...]
    tiers: tuple[TierState, ...]
    burn_down: tuple[tuple[datetime, float], ...]
    """(time, budget remaining) at the end of each bucket of the SLO window."""
    missing_data: str | None = None
    """Why the data is not enough to judge the SLO, or None."""

    @property
    def sli(self) -> float | None:
        """Share of good events over the SLO window, or None without data."""
        ratio = self.window.counts.error_ratio if self.window else None
        return None if ratio is None else 1.0 - ratio

    @property
    def budget_remaining(self) -> float | None:
        """1 = untouched, 0 = exhausted, negative = overspent; None without data."""
        ratio = self.window.counts.error_ratio if self.window else None
        if ratio is None:
            return None
        return 1.0 - ratio / self.slo.error_budget_ratio

    @property
    def budget_exhausted(self) -> bool:
        remaining = self.budget_remaining
        return remaining is not None and remaining <= 0.0

    @property
    def page_burns(self) -> tuple[TierState, ...]:
        """Page-severity tiers burning now."""
        return tuple(state for state in self.tiers if state.tier.severity == "page" and state.burning)


def unmeasured(slo: SLO, reason: str) -> SloStatus:
    """The status of an SLO that could not be measured at all (no metrics found)."""
    return SloStatus(slo=slo, window=None, windows=(), tiers=(), burn_down=(), missing_data=reason)


def evaluate(slo: SLO, series: Mapping[int, EventSeries], *, min_events: float | None = None) -> SloStatus:
    """The status of `slo` from series keyed by period (as `series_spans` asked for)."""
    budget = slo.error_budget_ratio

    def burn(window: int) -> WindowBurn:
        counts = series[period_for(window)].last(window)
        ratio = counts.error_ratio
        guarded = min_events is not None and counts.total < min_events
        return WindowBurn(counts, None if ratio is None else ratio / budget, guarded)

    windows = {window: burn(window) for window in windows_of(slo)}
    tiers = tuple(TierState(tier, windows[tier.long_window], windows[tier.short_window]) for tier in slo.tiers)
    overall = windows[slo.window]
    status = SloStatus(slo=slo, window=overall, windows=tuple(windows.values()), tiers=tiers,
                       burn_down=_burn_down(series[period_for(slo.window)], budget, slo.window))
    reason = _missing_reason(status)
    if reason:
        status = SloStatus(slo=slo, window=overall, windows=status.windows, tiers=tiers,
                           burn_down=status.burn_down, missing_data=reason)
    return status


def _missing_reason(status: SloStatus) -> str | None:
    slo = status.slo
    if status.window is None or status.window.counts.total <= 0:
        return f"no events in the {slo.window_label} SLO window, so the error budget is unknown"
    page_windows = [state.long for state in status.tiers if state.tier.severity == "page"]
    if page_windows:
        longest = max(page_windows, key=lambda w: w.window)
        if longest.counts.observed_buckets == 0:
            return (f"no datapoints in the last {longest.label}, so a page-level burn cannot be ruled out "
                    "(metrics stopped arriving?)")
    return None


def _burn_down(series: EventSeries, budget: float, window: int) -> tuple[tuple[datetime, float], ...]:
    """Budget remaining after each bucket: 1 - cumulative bad / (budget x events of the whole window).

    Dividing by the window's final event count keeps the line monotone (a true burn-down)
    and makes its last point equal the window's budget remaining.
    """
    buckets = window // series.period
    first = len(series.bad) - buckets
    total = sum(series.total[first:])
    if total <= 0:
        return ()
    allowed = budget * total
    points = []
    spent = 0.0
    for offset in range(buckets):
        spent += series.bad[first + offset]
        at = series.start + timedelta(seconds=(first + offset + 1) * series.period)
        points.append((at, 1.0 - spent / allowed))
    return tuple(points)
