"""The error-budget burn-down chart (PNG): budget remaining over the SLO window, one panel per SLO.

Each panel draws the measured budget remaining, the steady-burn budget line (spending
exactly the budget by the end of the window, 1x) and the exhaustion line at 0 %. The file
is written atomically (temporary file in the same folder, then renamed), so a failed run
never leaves a half-written or truncated chart where the previous one was.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from reliability_stack.atomic_file import replace_atomically
from reliability_stack.errors import InputError, RuntimeToolError
from reliability_stack.runtime.budget_status import SloStatus

#: Colours are fixed so a reader (and a test) can tell the lines apart.
REMAINING_COLOUR = "#1f77b4"
BUDGET_LINE_COLOUR = "#d62728"
EXHAUSTED_COLOUR = "#444444"


def check_chart_path(path: Path) -> None:
    """Reject a chart path that cannot work, before any AWS call is made."""
    if path.suffix.lower() != ".png":
        raise InputError("the chart is a PNG file; give a path ending in .png", field="--chart")
    if not path.parent.is_dir():
        raise InputError(f"folder {path.parent} does not exist", field="--chart")


def render_burn_down(statuses: Sequence[SloStatus], path: Path, *, stack: str) -> Path:
    """Draw the burn-down of every SLO in `statuses` to `path` (PNG) and return the path."""
    check_chart_path(path)

    import matplotlib

    matplotlib.use("Agg", force=True)  # no display in CI; must precede pyplot
    from matplotlib import pyplot
    from matplotlib.figure import Figure

    rows = max(1, len(statuses))
    figure: Figure = pyplot.figure(figsize=(9, 3.2 * rows), dpi=100)
    try:
        axes = figure.subplots(rows, 1, squeeze=False)[:, 0]
        for ax, status in zip(axes, statuses, strict=False):
            slo = status.slo
            ax.set_title(f"{slo.service} / {slo.name}: {slo.objective}% over {slo.window_label}", fontsize=10)
            ax.set_ylabel("error budget remaining")
            ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
            ax.axhline(0.0, color=EXHAUSTED_COLOUR, linewidth=1, linestyle=":", label="budget exhausted")
            if status.burn_down:
                times = [t for t, _ in status.burn_down]
                remaining = [value for _, value in status.burn_down]
                start = times[0] - (times[1] - times[0] if len(times) > 1 else timedelta(hours=1))
                end = start + timedelta(seconds=slo.window)
                ax.plot([start, end], [1.0, 0.0], color=BUDGET_LINE_COLOUR, linewidth=1.5, linestyle="--",
                        label="budget line (steady 1x burn)")
                ax.plot([start, *times], [1.0, *remaining], color=REMAINING_COLOUR, linewidth=2,
                        label=f"remaining ({remaining[-1]:.1%})")
                ax.set_ylim(min(-0.05, min(remaining) - 0.05), 1.05)
            else:
                ax.text(0.5, 0.5, f"no data: {status.missing_data or 'no events'}", transform=ax.transAxes,
                        ha="center", va="center", fontsize=9, wrap=True)
            ax.grid(True, alpha=0.3)
            ax.legend(loc="lower left", fontsize=8)
        figure.suptitle(f"Error-budget burn-down, stack {stack}", fontsize=12)
        figure.autofmt_xdate()
        figure.tight_layout()
        _write_atomically(figure, path)
    finally:
        pyplot.close(figure)
    return path


def _write_atomically(figure: object, path: Path) -> None:
    try:
        replace_atomically(path, lambda temporary: figure.savefig(temporary, format="png"))  # type: ignore[attr-defined]
    except OSError as exc:
        raise RuntimeToolError(f"cannot write the chart to {path}: {exc.strerror or exc}") from None
