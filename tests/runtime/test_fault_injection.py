"""Throttling and 5xx faults injected through botocore's event hooks: retries are bounded and reported."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from reliability_stack.config import load_stack_config
from reliability_stack.errors import InputError, RuntimeToolError
from reliability_stack.runtime.aws_clients import AwsClients, ClientSettings
from reliability_stack.runtime.release_gate import decide
from reliability_stack.runtime.slo_measurement import measure_slo, metric_targets
from reliability_stack.service_slos import load_stack_slos

from .conftest import NOW, REGION, STACK, clients, healthy, load_balancer, network, seed_alb_traffic

pytestmark = pytest.mark.usefixtures("aws", "no_backoff")


class _Body:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Any:
        yield self._data


def throttling(request: Any) -> AWSResponse:
    # CloudWatch speaks rpc-v2-cbor; the query-compatible error header carries the code.
    return AWSResponse(request.url, 400, {"x-amzn-query-error": "Throttling;Sender", "smithy-protocol": "rpc-v2-cbor",
                                          "Content-Type": "application/cbor"}, _Body(b""))


def unavailable(request: Any) -> AWSResponse:
    return AWSResponse(request.url, 503, {"Content-Type": "text/plain"}, _Body(b"Service Unavailable"))


class FaultyCloudWatch:
    """Answers GetMetricData with `fault` for the first `failures` sends (all of them by default)."""

    def __init__(self, fault: Callable[[Any], AWSResponse], failures: int | None = None) -> None:
        self.fault = fault
        self.failures = failures
        self.sends = 0

    def __call__(self, client: Any) -> None:
        client.meta.events.register_first("before-send.cloudwatch.GetMetricData", self._before_send)

    def _before_send(self, request: Any, **_: Any) -> AWSResponse | None:
        self.sends += 1
        if self.failures is None or self.sends <= self.failures:
            return self.fault(request)
        return None  # let moto answer


def faulty_clients(injector: FaultyCloudWatch, **settings: Any) -> AwsClients:
    return AwsClients(ClientSettings(region=REGION, **settings), on_client=[injector])


@pytest.mark.parametrize(("fault", "mode", "attempts", "code"), [
    (throttling, "standard", 3, "Throttling (HTTP 400)"),
    (unavailable, "standard", 5, "HTTP 503"),
    (unavailable, "adaptive", 2, "HTTP 503"),
])
def test_persistent_faults_stop_after_max_attempts(stack, fault, mode, attempts, code) -> None:  # type: ignore[no-untyped-def]
    seed_alb_traffic(load_balancer(network()), healthy)
    config, slos = stack
    injector = FaultyCloudWatch(fault)
    with pytest.raises(RuntimeToolError) as raised:
        measure_slo(faulty_clients(injector, max_attempts=attempts, retry_mode=mode), config, slos[0], now=NOW)
    assert injector.sends == attempts, "exactly max_attempts sends, then give up"
    message = str(raised.value)
    assert f"cloudwatch get_metric_data in {REGION} failed after {attempts} attempts" in message
    assert code in message
    assert raised.value.exit_code == 3
    assert "Traceback" not in message


def test_transient_faults_are_retried_and_the_answer_is_right(stack) -> None:  # type: ignore[no-untyped-def]
    seed_alb_traffic(load_balancer(network()), healthy)
    config, slos = stack
    injector = FaultyCloudWatch(throttling, failures=2)
    status = measure_slo(faulty_clients(injector, max_attempts=4), config, slos[0], now=NOW).status
    assert injector.sends == 4  # 2 throttled + 1 success for the first query, 1 for the second
    assert status.budget_remaining == pytest.approx(0.8, abs=1e-6)
    assert decide(STACK, [status]).allowed


def test_client_settings_carry_timeouts_and_retry_bound() -> None:
    config = ClientSettings(region=REGION, connect_timeout=1.5, read_timeout=4, max_attempts=3,
                            retry_mode="adaptive").botocore_config()
    assert (config.connect_timeout, config.read_timeout) == (1.5, 4)
    assert config.retries == {"mode": "adaptive", "total_max_attempts": 3}
    client = AwsClients(ClientSettings(region=REGION, read_timeout=4)).client("cloudwatch")
    assert client.meta.config.read_timeout == 4
    assert client.meta.config.retries["total_max_attempts"] == 4


@pytest.mark.parametrize("settings", [{"max_attempts": 0}, {"max_attempts": 11}, {"connect_timeout": 0},
                                      {"retry_mode": "legacy"}])
def test_unbounded_or_invalid_settings_are_bad_input(settings: dict[str, Any]) -> None:
    with pytest.raises(InputError):
        ClientSettings(region=REGION, **settings)


def test_unreachable_endpoint_is_a_clear_tool_failure() -> None:
    # Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    clients = AwsClients(ClientSettings(region=REGION, endpoint_url="http://127.0.0.1:9", max_attempts=2,
                                        connect_timeout=0.5, read_timeout=0.5))
    with pytest.raises(RuntimeToolError, match=r"cloudwatch describe_alarms in us-east-1: .*gave up after 2 attempts"):
        clients.call("cloudwatch", "describe_alarms")


def test_pagination_follows_each_services_token(project: Path) -> None:
    """ELBv2 answers NextMarker (asked back as Marker), RDS Marker, Auto Scaling NextToken."""
    net = network()
    for index in range(3):
        load_balancer(net, name=f"shop-alb-{index}")
    names = [lb["LoadBalancerName"] for lb in
             clients().paginate("elbv2", "describe_load_balancers", "LoadBalancers", PageSize=1)]
    assert sorted(names) == ["shop-alb-0", "shop-alb-1", "shop-alb-2"]
    config = load_stack_config(project, STACK)
    assert len(metric_targets(clients(), config, load_stack_slos(project, config).slos[0])) == 3
