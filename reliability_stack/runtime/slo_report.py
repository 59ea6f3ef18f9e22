"""The SLO report: SLI, budget remaining and burn rate per window, as rich tables or JSON."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from reliability_stack.runtime.budget_status import SloStatus, WindowBurn


def _percent(value: float | None, digits: int = 3) -> str:
    return "no data" if value is None else f"{value * 100:.{digits}f}%"


def _burn(window: WindowBurn) -> str:
    if window.burn_rate is None:
        return "no data"
    text = f"{window.burn_rate:.2f}x"
    return f"{text} (< min events)" if window.guarded else text


def status_table(status: SloStatus) -> Table:
    """One table per SLO: a row per window with events, error ratio and burn rate, and tier state."""
    slo = status.slo
    remaining = status.budget_remaining
    headline = (f"{slo.service}/{slo.name}  objective {slo.objective}% over {slo.window_label}  "
                f"SLI {_percent(status.sli)}  budget remaining {_percent(remaining, 1)}")
    table = Table(title=headline, title_justify="left", expand=False)
    for column, justify in (("window", "right"), ("events", "right"), ("bad", "right"),
                            ("error ratio", "right"), ("burn rate", "right"), ("tiers", "left")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for window in status.windows:
        tiers = []
        for state in status.tiers:
            if window.window in (state.tier.long_window, state.tier.short_window):
                mark = "BURNING" if state.burning else "ok"
                tiers.append(f"{state.tier.name} ({state.tier.window_pair} >= {state.tier.burn_rate:g}x): {mark}")
        if window.window == slo.window:
            tiers.insert(0, "SLO window")
        style = "bold red" if any(s.burning and s.tier.severity == "page" and window.window in
                                  (s.tier.long_window, s.tier.short_window) for s in status.tiers) else None
        table.add_row(window.label, f"{window.counts.total:,.0f}", f"{window.counts.bad:,.0f}",
                      _percent(window.counts.error_ratio, 4), _burn(window), "\n".join(tiers), style=style)
    if status.missing_data:
        table.caption = f"missing data: {status.missing_data}"
    return table


def render(statuses: Sequence[SloStatus]) -> Group:
    """Every SLO's table, in order."""
    if not statuses:
        return Group(Text("the stack declares no SLOs"))
    return Group(*(status_table(status) for status in statuses))


def as_json(stack: str, statuses: Sequence[SloStatus]) -> dict[str, Any]:
    """The report as plain data (for scripts and dashboards)."""
    return {
        "stack": stack,
        "slos": [{
            "service": s.slo.service,
            "name": s.slo.name,
            "objective": s.slo.objective,
            "window": s.slo.window_label,
            "sli": s.sli,
            "budgetRemaining": s.budget_remaining,
            "missingData": s.missing_data,
            "windows": [{"window": w.label, "events": w.counts.total, "bad": w.counts.bad,
                         "errorRatio": w.counts.error_ratio, "burnRate": w.burn_rate, "guarded": w.guarded}
                        for w in s.windows],
            "tiers": [{"tier": t.tier.name, "severity": t.tier.severity, "windowPair": t.tier.window_pair,
                       "burnRate": t.tier.burn_rate, "burning": t.burning} for t in s.tiers],
        } for s in statuses],
    }
