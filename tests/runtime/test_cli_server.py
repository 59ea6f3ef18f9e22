"""The CLI end to end against `moto.server.ThreadedMotoServer` on 127.0.0.1 via `--endpoint-url`,
with a fault-injecting proxy in front of it for the throttling and 5xx cases."""

from __future__ import annotations

import json
import socket
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer
from PIL import Image
from typer.testing import CliRunner

from reliability_stack.cli.main import app
from reliability_stack.runtime.cloudwatch_events import floor_time

from .conftest import STACK, exhausted, healthy, load_balancer, network, seed_alb_traffic
from .fault_proxy import FaultPlan, fault_proxy


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=_free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def endpoint(moto_server: str) -> str:
    """A clean moto server for each test."""
    request = urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST")
    urllib.request.urlopen(request, timeout=10).close()  # noqa: S310 - loopback only
    return moto_server


def seed(endpoint: str, shape) -> None:  # type: ignore[no-untyped-def]
    now = floor_time(datetime.now(UTC), 300)
    dimension = load_balancer(network(endpoint_url=endpoint), endpoint_url=endpoint)
    seed_alb_traffic(dimension, shape, now=now, endpoint_url=endpoint)


def relstack(project: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, [*args, "--project-dir", str(project)])
    return result.exit_code, result.output


def test_gate_allows_healthy_and_blocks_exhausted_budget(project: Path, endpoint: str, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    seed(endpoint, healthy)
    code, output = relstack(project, "gate", "--stack", STACK, "--endpoint-url", endpoint)
    assert code == 0 and "release allowed" in output, output

    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=10).close()
    seed(endpoint, exhausted)
    record = tmp_path / "gate.json"
    code, output = relstack(project, "gate", "--stack", STACK, "--endpoint-url", endpoint, "--record", str(record))
    assert code == 1, output
    assert "release BLOCKED" in output and "error budget exhausted" in output
    decision = json.loads(record.read_text())
    assert decision["allowed"] is False and decision["findings"][0]["verdict"] == "blocked"

    # A rollback goes through with an override; the reason lands on the run's summary page.
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    code, output = relstack(project, "gate", "--stack", STACK, "--endpoint-url", endpoint,
                            "--override", "rollback of the 14:02 release")
    assert code == 0, output
    assert "ALLOWED by override" in output
    assert "rollback of the 14:02 release" in summary.read_text()


def test_gate_missing_data_blocks_unless_allowed(project: Path, endpoint: str) -> None:
    load_balancer(network(endpoint_url=endpoint), endpoint_url=endpoint)  # no metrics at all
    code, output = relstack(project, "gate", "--stack", STACK, "--endpoint-url", endpoint)
    assert code == 1 and "missing data" in output, output
    code, output = relstack(project, "gate", "--stack", STACK, "--endpoint-url", endpoint,
                            "--on-missing-data", "allow")
    assert code == 0 and "unmeasured" in output, output


def test_report_table_json_and_burn_down_png(project: Path, endpoint: str, tmp_path: Path) -> None:
    seed(endpoint, healthy)
    chart = tmp_path / "burn-down.png"
    code, output = relstack(project, "report", "--stack", STACK, "--endpoint-url", endpoint, "--chart", str(chart))
    assert code == 0, output
    assert "budget remaining 80.0%" in output
    with Image.open(chart) as image:
        assert image.format == "PNG" and image.size[0] > 100
    code, output = relstack(project, "report", "--stack", STACK, "--endpoint-url", endpoint, "--format", "json")
    assert code == 0, output
    assert json.loads(output)["slos"][0]["budgetRemaining"] == pytest.approx(0.8, abs=1e-3)


@pytest.mark.usefixtures("no_backoff")
def test_persistent_5xx_fails_cleanly_and_leaves_the_old_chart(project: Path, endpoint: str, tmp_path: Path) -> None:
    seed(endpoint, healthy)
    chart = tmp_path / "burn-down.png"
    chart.write_bytes(b"previous chart")
    plan = FaultPlan(fault="unavailable")
    with fault_proxy(endpoint, plan) as proxy:
        code, output = relstack(project, "report", "--stack", STACK, "--endpoint-url", proxy, "--chart", str(chart),
                                "--max-attempts", "3")
    assert code == 3, output
    assert "get_metric_data" in output and "failed after 3 attempts" in output and "HTTP 503" in output
    assert "Traceback" not in output
    assert plan.faulted == 3 and plan.matched == 3, "three attempts, then the tool stops"
    assert chart.read_bytes() == b"previous chart"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["burn-down.png", "project"]


@pytest.mark.usefixtures("no_backoff")
def test_throttling_is_retried_then_the_gate_decides(project: Path, endpoint: str) -> None:
    seed(endpoint, healthy)
    plan = FaultPlan(fault="throttle", failures=2)
    with fault_proxy(endpoint, plan) as proxy:
        code, output = relstack(project, "gate", "--stack", STACK, "--endpoint-url", proxy, "--max-attempts", "3")
    assert code == 0, output
    assert plan.faulted == 2 and plan.matched == 4  # 2 throttled + 2 queries answered


@pytest.mark.usefixtures("no_backoff")
def test_throttling_beyond_the_bound_is_a_tool_failure(project: Path, endpoint: str) -> None:
    seed(endpoint, healthy)
    plan = FaultPlan(fault="throttle")
    with fault_proxy(endpoint, plan) as proxy:
        code, output = relstack(project, "gate", "--stack", STACK, "--endpoint-url", proxy, "--max-attempts", "2",
                                "--retry-mode", "standard")
    assert code == 3, output
    assert "Throttling" in output and "after 2 attempts" in output
    assert plan.faulted == 2


@pytest.mark.parametrize(("args", "message"), [
    (["gate", "--stack", STACK, "--override", "x"], "--override"),
    (["gate", "--stack", "nope"], "unknown stack 'nope'"),
    (["report", "--stack", STACK, "--chart", "out.jpg"], "PNG"),
    (["gate", "--stack", STACK, "--max-attempts", "0"], "--max-attempts"),
])
def test_bad_input_exits_2_before_any_aws_call(project: Path, args: list[str], message: str) -> None:
    # Nothing listens on port 9: a single AWS call would turn this into exit 3.
    code, output = relstack(project, *args, "--endpoint-url", "http://127.0.0.1:9")
    assert code == 2, output
    assert message in output
