"""Release gate and SLO report against moto with seeded ALB metrics (in-process)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from reliability_stack.errors import InputError
from reliability_stack.runtime import slo_report
from reliability_stack.runtime.burn_down_chart import BUDGET_LINE_COLOUR, REMAINING_COLOUR, render_burn_down
from reliability_stack.runtime.release_gate import decide
from reliability_stack.runtime.slo_measurement import measure_slo

from .conftest import (
    NOW,
    STACK,
    clients,
    exhausted,
    healthy,
    load_balancer,
    network,
    paging,
    seed_alb_traffic,
)

pytestmark = pytest.mark.usefixtures("aws")


def measure(stack):  # type: ignore[no-untyped-def]
    config, slos = stack
    return [measure_slo(clients(), config, slo, now=NOW).status for slo in slos]


def test_healthy_service_is_allowed(stack) -> None:  # type: ignore[no-untyped-def]
    seed_alb_traffic(load_balancer(network()), healthy)
    [status] = measure(stack)
    assert status.budget_remaining == pytest.approx(0.8, abs=1e-6)
    decision = decide(STACK, [status])
    assert decision.allowed and decision.exit_code == 0
    assert decision.findings[0].verdict == "ok"
    assert "80.0% of the budget remaining" in decision.findings[0].reason


def test_exhausted_budget_blocks_with_reason(stack) -> None:  # type: ignore[no-untyped-def]
    seed_alb_traffic(load_balancer(network()), exhausted)
    [status] = measure(stack)
    assert status.budget_exhausted and not status.page_burns
    decision = decide(STACK, [status])
    assert not decision.allowed and decision.exit_code == 1
    assert "error budget exhausted" in decision.summary()
    assert "shop/availability" in decision.summary()


def test_page_level_burn_blocks_while_budget_remains(stack) -> None:  # type: ignore[no-untyped-def]
    seed_alb_traffic(load_balancer(network()), paging)
    [status] = measure(stack)
    assert status.budget_remaining is not None and status.budget_remaining > 0.5
    decision = decide(STACK, [status])
    assert not decision.allowed
    assert "page-level burn active: 1h-5m" in decision.findings[0].reason


def test_override_allows_and_records_reason(stack) -> None:  # type: ignore[no-untyped-def]
    seed_alb_traffic(load_balancer(network()), paging)
    decision = decide(STACK, measure(stack), override="rollback of release 2026-11-20.3")
    assert decision.allowed and decision.exit_code == 0
    record = json.loads(decision.record())
    assert record["override"] == "rollback of release 2026-11-20.3"
    assert record["findings"][0]["verdict"] == "blocked"  # the reason to override stays on record
    with pytest.raises(InputError, match="--override"):
        decide(STACK, measure(stack), override="  ")


def test_missing_metrics_block_by_default_and_allow_on_request(stack) -> None:  # type: ignore[no-untyped-def]
    load_balancer(network())  # the ALB exists, but it never published a datapoint
    statuses = measure(stack)
    blocked = decide(STACK, statuses)
    assert not blocked.allowed
    assert "missing data: no events in the 7d SLO window" in blocked.findings[0].reason
    assert "--on-missing-data allow" in blocked.findings[0].reason
    allowed = decide(STACK, statuses, on_missing_data="allow")
    assert allowed.allowed and allowed.findings[0].verdict == "unmeasured"


def test_stale_metrics_count_as_missing(stack) -> None:  # type: ignore[no-untyped-def]
    dimension = load_balancer(network())
    seed_alb_traffic(dimension, healthy, now=NOW - timedelta(hours=7))  # stopped 7 h ago
    [status] = measure(stack)
    assert status.budget_remaining is not None
    decision = decide(STACK, [status])
    assert not decision.allowed
    assert "no datapoints in the last 6h" in decision.findings[0].reason


def test_no_tagged_load_balancer_is_missing_data(stack) -> None:  # type: ignore[no-untyped-def]
    load_balancer(network(), stack="another-stack")
    decision = decide(STACK, measure(stack))
    assert not decision.allowed
    assert "no load balancer tagged reliability-stack:stack=review-shop" in decision.findings[0].reason


def test_report_shows_sli_budget_and_burn_per_window(stack) -> None:  # type: ignore[no-untyped-def]
    seed_alb_traffic(load_balancer(network()), paging)
    statuses = measure(stack)
    data = slo_report.as_json(STACK, statuses)
    [slo] = data["slos"]
    windows = {w["window"]: w for w in slo["windows"]}
    assert set(windows) == {"5m", "30m", "1h", "6h", "3d", "7d"}
    assert windows["5m"]["burnRate"] == pytest.approx(50.0)
    assert windows["7d"]["events"] == pytest.approx(7 * 24 * 6000)
    assert {t["tier"]: t["burning"] for t in slo["tiers"]} == {"page-1h": True, "page-6h": True, "ticket-3d": False}
    from rich.console import Console

    console = Console(width=160, record=True)
    console.print(slo_report.render(statuses))
    text = console.export_text()
    assert "budget remaining" in text and "BURNING" in text and "50.00x" in text


def colour_pixels(image: np.ndarray, colour: str, tolerance: int = 40) -> int:
    target = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(image[:, :, :3].astype(int) - target).sum(axis=2) < tolerance).sum())


def test_burn_down_chart_is_a_png_with_the_budget_line(stack, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    seed_alb_traffic(load_balancer(network()), exhausted)
    statuses = measure(stack)
    out = tmp_path / "charts"
    out.mkdir()
    chart = render_burn_down(statuses, out / "burn.png", stack=STACK)
    data = chart.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(chart) as image:
        image.verify()
    with Image.open(chart) as image:
        assert image.format == "PNG" and image.size == (900, 320)
        pixels = np.asarray(image.convert("RGB"))
    assert colour_pixels(pixels, BUDGET_LINE_COLOUR) > 200, "the budget line is drawn"
    assert colour_pixels(pixels, REMAINING_COLOUR) > 200, "the remaining-budget line is drawn"
    assert [p.name for p in out.iterdir()] == ["burn.png"], "no temporary files left"


def test_chart_rejects_bad_paths(stack, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    statuses = measure(stack)
    with pytest.raises(InputError, match="PNG"):
        render_burn_down(statuses, tmp_path / "chart.jpg", stack=STACK)
    with pytest.raises(InputError, match="does not exist"):
        render_burn_down(statuses, tmp_path / "missing" / "chart.png", stack=STACK)
