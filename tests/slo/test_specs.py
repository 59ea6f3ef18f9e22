"""Spec loading and validation: one model behind native, OpenSLO and Sloth files; every bad
spec in specs/bad/ fails with the message written in its first line."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from reliability_stack.errors import SpecError
from reliability_stack.slo.loaders import load_slo_file, load_slo_files
from reliability_stack.slo.model import (
    DAY,
    DEFAULT_TIERS,
    HOUR,
    MINUTE,
    BurnRateTier,
    CloudWatchSLI,
    MetricRef,
    PrometheusHistogram,
)
from reliability_stack.slo.prometheus import rule_file
from reliability_stack.slo.validate import adapt_tier_for_cloudwatch, cloudwatch_window_valid

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
BAD = sorted((HERE / "specs" / "bad").glob("*.yaml"))
GOOD = sorted((HERE / "specs" / "good").glob("*.yaml"))


def expected_message(path: Path) -> str:
    match = re.match(r"#\s*expect:\s*(.+)", path.read_text(encoding="utf-8").splitlines()[0])
    assert match, f"{path.name} must start with '# expect: <field>: <message>'"
    return match.group(1).strip()


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_bad_spec_fails_naming_file_and_field(path: Path) -> None:
    with pytest.raises(SpecError) as caught:
        load_slo_file(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert expected_message(path) in message
    assert "\n" not in message


@pytest.mark.parametrize("path", GOOD + sorted((ROOT / "slos").rglob("*.yaml")), ids=lambda p: p.stem)
def test_good_specs_load(path: Path) -> None:
    loaded = load_slo_file(path)
    assert loaded.slos
    assert all(slo.source == str(path) for slo in loaded.slos)


def test_the_reference_slos_mean_the_same_in_all_three_formats() -> None:
    native = load_slo_file(ROOT / "slos" / "checkout.yaml").slos
    openslo = load_slo_file(ROOT / "slos" / "examples" / "checkout-openslo.yaml").slos
    sloth = load_slo_file(ROOT / "slos" / "examples" / "checkout-sloth.yaml").slos
    assert [replace(s, source="") for s in openslo] == [replace(s, source="") for s in native]
    assert rule_file(openslo) == rule_file(native)
    # Sloth carries Prometheus queries only and Sloth's 30-day window; the rest is the same.
    assert [(s.service, s.name, s.objective, s.tiers) for s in sloth] == \
           [(s.service, s.name, s.objective, s.tiers) for s in native]
    assert {s.window for s in sloth} == {30 * DAY}
    assert all(s.sli.cloudwatch is None for s in sloth)


def test_native_checkout_has_alb_backed_availability_and_latency() -> None:
    availability, latency = load_slo_file(ROOT / "slos" / "checkout.yaml").slos
    assert (availability.objective, availability.window, availability.sla) == (99.9, 28 * DAY, 99.5)
    assert availability.tiers == DEFAULT_TIERS
    assert availability.sli.cloudwatch == CloudWatchSLI.alb()
    assert [m.metric_name for m in availability.sli.cloudwatch.bad] == ["HTTPCode_Target_5XX_Count",
                                                                        "HTTPCode_ELB_5XX_Count"]
    assert latency.sli.kind == "latency" and latency.sli.latency_threshold_seconds == 0.3
    assert latency.sli.prometheus is not None
    assert latency.sli.prometheus.histogram == PrometheusHistogram("http_request_duration_seconds",
                                                                   'job="checkout"', "0.3")
    cloudwatch = latency.sli.cloudwatch
    assert cloudwatch is not None and cloudwatch.latency is not None
    assert cloudwatch.latency.metric.statistic == "PR(:0.3)"
    assert cloudwatch.latency.metric.placeholders == ("load_balancer",)


def test_budget_share_tiers_become_burn_rates() -> None:
    slos = load_slo_file(HERE / "specs" / "good" / "native-custom-tiers.yaml").slos
    assert [t.burn_rate for t in slos[0].tiers] == [14.4, 6.0, 3.0, 1.0]
    assert slos[1].window == 7 * DAY and [t.severity for t in slos[1].tiers] == ["page", "ticket"]


def test_openslo_objectives_and_cloudwatch_metric_sources() -> None:
    strict, relaxed, queue = load_slo_file(HERE / "specs" / "good" / "openslo-multi.yaml").slos
    assert (strict.name, strict.objective, relaxed.name, relaxed.objective) == \
           ("availability-strict", 99.9, "availability-relaxed", 99.5)
    assert [t.name for t in strict.tiers] == ["page-1h", "ticket-3d"]
    assert strict.sli.prometheus is not None and strict.sli.prometheus.good_query is not None
    assert queue.sli.prometheus is None and queue.sli.cloudwatch is not None
    assert queue.sli.cloudwatch.bad == (MetricRef("AWS/SQS", "NumberOfMessagesFailed", {"QueueName": "{queue}"}),)


def test_sloth_disabled_page_alert_keeps_only_ticket_tiers() -> None:
    (slo,) = load_slo_file(HERE / "specs" / "good" / "sloth-ticket-only.yaml").slos
    assert {t.severity for t in slo.tiers} == {"ticket"}
    assert slo.runbook_url == "https://runbooks.example.com/batch"
    assert slo.labels == {"owner": "data"}


def test_duplicate_slo_across_files_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="also defined in"):
        load_slo_files([ROOT / "slos" / "checkout.yaml", ROOT / "slos" / "examples" / "checkout-openslo.yaml"])


def test_a_short_window_far_from_a_twelfth_warns(tmp_path: Path) -> None:
    spec = tmp_path / "odd.yaml"
    spec.write_text("""service: checkout
slos:
  - name: availability
    objective: 99.9
    tiers: [{severity: page, long: 6h, short: 2h, burn_rate: 6}]
    sli: {availability: {cloudwatch: {source: alb}}}
""", encoding="utf-8")
    (warning,) = load_slo_file(spec).warnings
    assert "short window 2h is 1/3 of the long window 6h" in warning


def test_a_tier_cloudwatch_cannot_express_loads_with_a_warning(tmp_path: Path) -> None:
    spec = tmp_path / "cw.yaml"
    spec.write_text("""service: checkout
window: 30d
slos:
  - name: availability
    objective: 99.9
    tiers: [{severity: ticket, long: 10d, short: 20h, burn_rate: 1}]
    sli: {availability: {cloudwatch: {source: alb}}}
""", encoding="utf-8")
    loaded = load_slo_file(spec)
    assert loaded.slos[0].tiers[0].long_window == 10 * DAY  # the model keeps what was declared
    assert any("cannot be expressed as CloudWatch alarms" in w and "using 7d-20h" in w for w in loaded.warnings)


@pytest.mark.parametrize(("tier", "expected"), [
    (BurnRateTier("page", HOUR, 5 * MINUTE, 14.4), (HOUR, 5 * MINUTE)),          # valid: unchanged
    (BurnRateTier("ticket", 3 * DAY, 6 * HOUR, 1), (3 * DAY, 6 * HOUR)),         # one 3-day period (>= 1 h)
    (BurnRateTier("ticket", 10 * DAY, DAY, 1), (7 * DAY, DAY)),                  # clamped to 7 days
    (BurnRateTier("page", HOUR, 90, 14.4), (HOUR, 60)),                          # snapped to whole minutes
    (BurnRateTier("page", 150, 45, 14.4), (120, 60)),
])
def test_adapt_tier_for_cloudwatch(tier: BurnRateTier, expected: tuple[int, int]) -> None:
    adapted, warning = adapt_tier_for_cloudwatch(tier)
    assert (adapted.long_window, adapted.short_window) == expected
    assert (warning is None) == ((tier.long_window, tier.short_window) == expected)
    assert adapted.burn_rate == tier.burn_rate
    assert cloudwatch_window_valid(adapted.long_window) and cloudwatch_window_valid(adapted.short_window)


def test_adapt_tier_with_several_evaluation_periods_respects_the_one_day_rule() -> None:
    # 3 d as 6 periods of 12 h is fine (period >= 1 h); 2 d as 48 periods of 1 h too;
    # 2 d as 96 periods of 30 min is not (span > 1 d below 1 h periods).
    assert cloudwatch_window_valid(3 * DAY, evaluation_periods=6)
    assert not cloudwatch_window_valid(2 * DAY, evaluation_periods=96)
    adapted, warning = adapt_tier_for_cloudwatch(BurnRateTier("ticket", 2 * DAY, 2 * HOUR, 1), evaluation_periods=96)
    assert warning is not None
    assert cloudwatch_window_valid(adapted.long_window, evaluation_periods=96)
    assert adapted.long_window <= DAY
    high_res, note = adapt_tier_for_cloudwatch(BurnRateTier("page", 300, 20, 14.4), high_resolution=True)
    assert note is None and high_res.short_window == 20


def test_a_tier_that_fires_too_late_for_a_short_window_warns(tmp_path: Path) -> None:
    spec = tmp_path / "week.yaml"
    spec.write_text("""service: checkout
slos:
  - name: availability
    objective: 99.9
    window: 7d
    sli: {availability: {cloudwatch: {source: alb}}}
""", encoding="utf-8")
    warnings = load_slo_file(spec).warnings
    assert any("tier ticket-3d spends 43% of the 7d budget before it fires" in w for w in warnings)
    assert not any("page-1h" in w for w in warnings)
