"""Durations as the SLO specs write them (`5m`, `1h`, `28d`) and as seconds.

Windows are whole seconds everywhere in the model; these two functions are the only place
that converts between the spelled form and seconds, so rule names, labels and plan JSON
all spell a window the same way.
"""

from __future__ import annotations

import re

UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"^(\d+)([smhdw])$")
_COMPOUND = re.compile(r"^(?:\d+[smhdw])+$")


def parse_duration(text: str | int) -> int:
    """Seconds in a duration such as `5m`, `1h`, `28d`, `4w` or `1h30m`.

    Raises ValueError with a human message; callers turn it into a SpecError naming the
    field.
    """
    if isinstance(text, bool):
        raise ValueError(f"expected a duration like 5m, 1h or 28d, got {text!r}")
    if isinstance(text, int):
        if text <= 0:
            raise ValueError(f"a duration must be positive, got {text}")
        return text
    value = str(text).strip()
    if not _COMPOUND.match(value):
        raise ValueError(f"expected a duration like 5m, 1h or 28d, got {text!r}")
    total = sum(int(n) * UNIT_SECONDS[u] for n, u in re.findall(r"(\d+)([smhdw])", value))
    if total <= 0:
        raise ValueError(f"a duration must be positive, got {text!r}")
    return total


def format_duration(seconds: int | float) -> str:
    """The usual spelling of a whole number of seconds: 300 -> `5m`, 259200 -> `3d`, 168000 -> `1d22h40m`.

    Largest unit first; weeks are spelled in days, as Prometheus users expect `28d`.
    Prometheus accepts the compound form in range selectors.
    """
    rest = int(round(seconds))
    if rest <= 0:
        return "0s"
    parts = []
    for unit in ("d", "h", "m", "s"):
        count, rest = divmod(rest, UNIT_SECONDS[unit])
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def humanize_seconds(seconds: float | None) -> str:
    """A short reading form for tables: `51.8s`, `2.2m`, `7.2h`, `1.9d`, or `never`."""
    if seconds is None:
        return "never"
    if seconds < 120:
        return f"{seconds:.1f}s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.1f}m"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86400:.1f}d"
