"""Behaviour of the generated Prometheus rules under the real Prometheus rule engine (promtool).

For every SLO of the reference specs (native, OpenSLO and Sloth forms), synthetic series
from the burn math drive four scenarios: a 100 % outage pages fast (within 2 minutes at
99.9 %), 0.9x budget burn for days never alerts, the page resets within 35 minutes of
recovery, and a 2.5x slow burn opens a ticket within 30 hours.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from reliability_stack.slo import budget
from reliability_stack.slo.durations import format_duration
from reliability_stack.slo.loaders import load_slo_file
from reliability_stack.slo.model import SLO, BurnRateTier
from reliability_stack.slo.prometheus import rule_file, windows_of
from reliability_stack.slo.yaml_output import dump_yaml
from tests.slo.scenarios import Phase, SeriesNames, Timeline, promtool_test, ratio_present_check

ROOT = Path(__file__).resolve().parents[2]
PROMTOOL = shutil.which("promtool")
pytestmark = pytest.mark.skipif(PROMTOOL is None, reason="promtool is not installed (make installs it in CI)")

MINUTE, HOUR = 60, 3600
# The OpenSLO example compiles to exactly the rules of slos/checkout.yaml (test_formats.py),
# so running it here again would prove nothing new.
SPEC_FILES = ["slos/checkout.yaml", "slos/catalog.yaml", "slos/examples/checkout-sloth.yaml"]
SELECTORS = {"checkout": 'job="checkout"', "catalog": 'namespace="catalog"'}


def series_names(slo: SLO) -> SeriesNames:
    """The counters the reference specs query: request counters by code, or the latency histogram."""
    selector = SELECTORS[slo.service]
    if slo.name == "latency":
        return SeriesNames(f'http_request_duration_seconds_bucket{{{selector},le="0.3"}}',
                           f"http_request_duration_seconds_count{{{selector}}}", ("good", "total"))
    return SeriesNames(f'http_requests_total{{{selector},code="500"}}',
                       f'http_requests_total{{{selector},code="200"}}', ("bad", "good"))


def pages(tiers: list[BurnRateTier]) -> bool:
    return any(t.severity == "page" for t in tiers)


def tickets(tiers: list[BurnRateTier]) -> bool:
    return any(t.severity == "ticket" for t in tiers)


def full_outage(slo: SLO) -> tuple[dict, dict[str, int]]:
    """65 min healthy, 30 min of 100 % errors, 40 min healthy; 1-minute samples."""
    start, recovery = 65 * MINUTE, 95 * MINUTE
    timeline = Timeline([Phase(start, 0.0), Phase(30 * MINUTE, 1.0), Phase(40 * MINUTE, 0.0)], MINUTE)
    paged = timeline.first_time(slo, start, pages)
    assert paged is not None
    quiet_before = timeline.last_time_before(slo, paged, lambda tiers: not tiers)
    reset = timeline.first_time(slo, recovery, lambda tiers: not pages(tiers))
    assert reset is not None
    still_paging = timeline.last_time_before(slo, reset, pages)
    checks = [start - MINUTE, quiet_before, paged, start + 2 * MINUTE, still_paging, reset, recovery + 35 * MINUTE]
    test = promtool_test(slo, timeline, series_names(slo), [c for c in checks if c is not None],
                         f"{slo.id}: 100% outage pages, then resets")
    return test, {"detect": paged - start, "reset": reset - recovery}


def below_budget(slo: SLO) -> tuple[dict, dict[str, int]]:
    """3.5 days of errors at 0.9x the budget rate; 5-minute samples (every window evaluable)."""
    length = 84 * HOUR
    ratio = 0.9 * slo.error_budget_ratio
    timeline = Timeline([Phase(length, ratio)], 5 * MINUTE)
    checks = list(range(6 * HOUR, length + 1, 6 * HOUR))
    assert all(not timeline.firing(slo, at) for at in range(0, length + 1, timeline.interval))
    present = [ratio_present_check(slo, w, length, ratio) for w in windows_of(slo)]
    return promtool_test(slo, timeline, series_names(slo), checks, f"{slo.id}: 0.9x burn never alerts",
                         present), {}


def slow_burn(slo: SLO) -> tuple[dict, dict[str, int]]:
    """3 healthy days, then 30 h at 2.5x the budget rate; 30-minute samples (the ticket pair's windows)."""
    start = 72 * HOUR
    timeline = Timeline([Phase(start, 0.0), Phase(30 * HOUR, 2.5 * slo.error_budget_ratio)], 30 * MINUTE)
    ticketed = timeline.first_time(slo, start, tickets)
    assert ticketed is not None
    before = timeline.last_time_before(slo, ticketed, lambda tiers: not tiers)
    checks = [start + 24 * HOUR, before, ticketed, start + 30 * HOUR]
    return promtool_test(slo, timeline, series_names(slo), [c for c in checks if c is not None],
                         f"{slo.id}: 2.5x slow burn opens a ticket"), {"detect": ticketed - start}


def run_promtool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PROMTOOL, *map(str, args)], capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, tuple[SLO, ...]]]:
    folder = tmp_path_factory.mktemp("rules")
    result = {}
    for index, spec in enumerate(SPEC_FILES):
        slos = load_slo_file(ROOT / spec).slos
        path = folder / f"rules-{index}.yml"
        path.write_text(dump_yaml(rule_file(slos)), encoding="utf-8")
        result[spec] = (path, slos)
    return result


@pytest.mark.parametrize("spec", SPEC_FILES)
def test_generated_rule_files_pass_promtool_check(compiled: dict, spec: str) -> None:
    path, slos = compiled[spec]
    outcome = run_promtool("check", "rules", path)
    assert outcome.returncode == 0, outcome.stdout + outcome.stderr
    expected_rules = sum(len(windows_of(s)) + 3 + len(s.tiers) for s in slos)
    assert f"SUCCESS: {expected_rules} rules found" in outcome.stdout


#: Rule evaluation step per scenario: fine for the outage, coarse for the multi-day ones (fast).
EVALUATION_INTERVAL = {"outage": "1m", "quiet": "1h", "slow": "30m"}


@pytest.mark.parametrize("spec", SPEC_FILES)
def test_burn_scenarios_hold_under_promtool(compiled: dict, spec: str, tmp_path: Path) -> None:
    rules, slos = compiled[spec]
    tests: dict[str, list[dict]] = {name: [] for name in EVALUATION_INTERVAL}
    for slo in slos:
        outage, outage_times = full_outage(slo)
        quiet, _ = below_budget(slo)
        slow, slow_times = slow_burn(slo)
        tests["outage"].append(outage)
        tests["quiet"].append(quiet)
        tests["slow"].append(slow)
        # The acceptance figures, on the same samples promtool checks below.
        fastest_page = min(budget.detection_time_full_outage(t, slo.objective) or 1e9
                           for t in slo.tiers if t.severity == "page")
        assert outage_times["detect"] <= fastest_page + 2 * MINUTE
        if slo.objective >= 99.9:
            assert outage_times["detect"] <= 2 * MINUTE, "a 100% outage must page within 2 minutes"
        assert outage_times["reset"] <= 35 * MINUTE, "the page must reset within 35 minutes of recovery"
        assert slow_times["detect"] <= 30 * HOUR, "a 2.5x slow burn must open a ticket within 30 hours"
        ticket = next(t for t in slo.tiers if t.severity == "ticket")
        assert slow_times["detect"] >= budget.detection_time_at_burn(ticket, slo.objective, 2.5) - HOUR
    files = []
    for name, interval in EVALUATION_INTERVAL.items():
        path = tmp_path / f"{name}_test.yml"
        path.write_text(dump_yaml({"rule_files": [str(rules)], "evaluation_interval": interval,
                                   "tests": tests[name]}), encoding="utf-8")
        files.append(path)
    outcome = run_promtool("test", "rules", *files)
    assert outcome.returncode == 0, (outcome.stdout + outcome.stderr)[-4000:]
    assert outcome.stdout.count("SUCCESS") == len(files)


def test_promtool_catches_a_wrong_expectation(compiled: dict, tmp_path: Path) -> None:
    """The harness is not vacuous: claiming the page already reset 1 minute early fails promtool."""
    rules, slos = compiled["slos/checkout.yaml"]
    slo = slos[0]
    test, times = full_outage(slo)
    early = 95 * MINUTE + times["reset"] - MINUTE
    test["alert_rule_test"] = [{"eval_time": format_duration(early), "alertname": test["alert_rule_test"][0]["alertname"],
                                "exp_alerts": []}]
    test_file = tmp_path / "wrong_test.yml"
    test_file.write_text(dump_yaml({"rule_files": [str(rules)], "tests": [test]}), encoding="utf-8")
    outcome = run_promtool("test", "rules", test_file)
    assert outcome.returncode != 0
    assert "page-6h" in outcome.stdout + outcome.stderr
