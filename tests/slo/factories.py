"""Small builders of model objects for tests."""

from __future__ import annotations

from typing import Any

from reliability_stack.slo.model import DEFAULT_WINDOW, SLI, SLO, CloudWatchSLI, PrometheusSLI


def make_slo(*, objective: float = 99.9, window: int = DEFAULT_WINDOW, service: str = "checkout",
             name: str = "availability", **changes: Any) -> SLO:
    """An availability SLO with both backend parts; keyword arguments override fields."""
    sli = SLI("availability",
              prometheus=PrometheusSLI(error_query='sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))',
                                       total_query="sum(rate(http_requests_total[{{.window}}]))"),
              cloudwatch=CloudWatchSLI.alb())
    return SLO(**{"service": service, "name": name, "objective": objective, "sli": sli, "window": window,
                  **changes})
