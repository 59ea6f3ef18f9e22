"""Error-budget and burn-rate arithmetic (SRE Workbook ch. 5), pure and unit-free but for seconds.

The traffic model behind detection and reset times is the Workbook's: steady traffic, an
error ratio that steps from 0 to `error_ratio` (and back to 0 when the incident ends),
and windows that are exact sliding windows. Backends with coarser semantics (CloudWatch
periods, Prometheus scrape and evaluation intervals) add at most one evaluation step; the
behaviour tests check that margin.
"""

from __future__ import annotations

from reliability_stack.slo.model import SLO, BurnRateTier, clean_float

MINUTE = 60.0


def error_budget_ratio(objective_percent: float) -> float:
    """Allowed error ratio: 99.9 -> 0.001."""
    return clean_float(1.0 - objective_percent / 100.0)


def error_budget_minutes(objective_percent: float, window_seconds: int) -> float:
    """Minutes of full outage the budget allows per window: 99.9 % over 30 d -> 43.2."""
    return error_budget_ratio(objective_percent) * window_seconds / MINUTE


def allowed_downtime_seconds(target_percent: float, window_seconds: int) -> float:
    """Seconds of full outage a target (SLO or SLA) tolerates per window."""
    return error_budget_ratio(target_percent) * window_seconds


def threshold(tier: BurnRateTier, objective_percent: float) -> float:
    """The error ratio a window must exceed for `tier` to fire: burn x (1 - objective)."""
    return clean_float(tier.burn_rate * error_budget_ratio(objective_percent))


def is_reachable(tier: BurnRateTier, objective_percent: float) -> bool:
    """Whether the tier can ever fire: its threshold must be below an error ratio of 1."""
    return threshold(tier, objective_percent) < 1.0


def budget_consumed(tier: BurnRateTier, window_seconds: int) -> float:
    """Share of the window's budget spent when the tier fires: burn x long / window (0.02 = 2 %)."""
    return tier.burn_rate * tier.long_window / window_seconds


def time_to_exhaustion(tier: BurnRateTier, window_seconds: int) -> float:
    """Seconds until the whole budget is gone at exactly the tier's burn rate: window / burn."""
    return window_seconds / tier.burn_rate


def detection_time(tier: BurnRateTier, objective_percent: float, error_ratio: float = 1.0) -> float | None:
    """Seconds from the start of an incident of `error_ratio` until the tier fires, or None if never.

    Each window's ratio rises linearly as the incident fills it, so a window of length w
    crosses the threshold T after T / e x w (the Workbook's `(1 - SLO) / e x w x burn`).
    Both windows must be over the threshold, so the later of the two counts; the long one
    always binds for a step change, the short one is kept for clarity.
    """
    if not 0.0 < error_ratio <= 1.0:
        raise ValueError(f"error_ratio must be in (0, 1], got {error_ratio}")
    limit = threshold(tier, objective_percent)
    if error_ratio <= limit:
        return None
    return clean_float(max(limit / error_ratio * tier.long_window, limit / error_ratio * tier.short_window))


def detection_time_full_outage(tier: BurnRateTier, objective_percent: float) -> float | None:
    """Seconds a 100 % outage takes to fire the tier: 14.4x over 1 h at 99.9 % -> 51.84."""
    return detection_time(tier, objective_percent, 1.0)


def detection_time_at_burn(tier: BurnRateTier, objective_percent: float, burn_rate: float) -> float | None:
    """Seconds until the tier fires when errors arrive at `burn_rate` times the budget rate."""
    error_ratio = min(1.0, burn_rate * error_budget_ratio(objective_percent))
    return detection_time(tier, objective_percent, error_ratio)


def reset_time(tier: BurnRateTier, objective_percent: float, error_ratio: float = 1.0,
               incident_seconds: float | None = None) -> float:
    """Seconds after the errors stop until the tier stops firing.

    A window of length w still holds min(D, w - s) seconds of the incident s seconds after
    it ended (D = incident length, unbounded by default), so its ratio drops under T once
    w - s <= T x w / e. The alert is an AND, so it clears when the first window clears:
    about one short window (5 m x (1 - 0.0144) = 4.9 m for the fast page at 99.9 %).
    """
    if not 0.0 < error_ratio <= 1.0:
        raise ValueError(f"error_ratio must be in (0, 1], got {error_ratio}")
    limit = threshold(tier, objective_percent)
    duration = float("inf") if incident_seconds is None else incident_seconds

    def clears_after(window: int) -> float:
        still_inside = limit * window / error_ratio
        if duration <= still_inside:
            return 0.0
        return max(0.0, window - still_inside)

    return clean_float(min(clears_after(tier.short_window), clears_after(tier.long_window)))


def budget_spent(objective_percent: float, window_seconds: int, error_ratio: float, seconds: float) -> float:
    """Share of the window's budget that `seconds` at `error_ratio` spend (steady traffic)."""
    return error_ratio * seconds / (error_budget_ratio(objective_percent) * window_seconds)


def slo_budget_minutes(slo: SLO) -> float:
    """`error_budget_minutes` of an SLO."""
    return error_budget_minutes(slo.objective, slo.window)
