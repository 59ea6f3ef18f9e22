"""Fixtures of the runtime-tool tests: a small project on disk, moto accounts, seeded metrics.

The project (one `shop` service behind an ALB, SLO 99.9 % over 7 d so the seeded history
stays small) is written to a temporary folder, so these tests never depend on the real
stacks/ and slos/ of the repository.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import botocore.retries.standard
import pytest
import yaml
from moto import mock_aws

from reliability_stack.config import load_stack_config
from reliability_stack.runtime.aws_clients import AwsClients, ClientSettings
from reliability_stack.runtime.tagged_resources import TAG_SERVICE, TAG_STACK
from reliability_stack.service_slos import load_stack_slos

REGION = "us-east-1"
STACK = "review-shop"
SERVICE = "shop"
#: A fixed "now" on a five-minute boundary, so window arithmetic is exact.
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)

SLO_SPEC = {
    "version": "reliability-stack/v1",
    "service": SERVICE,
    "window": "7d",
    "slos": [{
        "name": "availability",
        "objective": 99.9,
        "sli": {"availability": {"cloudwatch": {"source": "alb"}}},
    }],
}


def stack_document(stack: str = STACK, *, slo_files: list[str] | None = None, database: str = "aurora-postgresql",
                   regions: list[str] | None = None) -> dict[str, Any]:
    """The `config:` document of a one-service stack."""
    ns = "reliability-stack"
    return {"config": {
        f"{ns}:environment": "review",
        f"{ns}:regions": regions or [REGION],
        f"{ns}:availability_zones": 2,
        f"{ns}:alerting": {"page": [{"protocol": "email", "endpoint": "oncall@example.com"}],
                           "ticket": [{"protocol": "email", "endpoint": "team@example.com"}]},
        f"{ns}:services": [{
            "name": SERVICE,
            "image": "shop",
            "domain": "shop.example.com",
            "hosted_zone": "example.com",
            "runbook_url": "https://runbooks.example.com/shop",
            "health_check_path": "/healthz",
            "slos": slo_files if slo_files is not None else ["slos/shop.yaml"],
            "scaling": {"min_size": 2, "max_size": 6},
            "database": {"engine": database, "backup_retention_days": 7},
            "cache": {"enabled": True, "replicas_per_shard": 1},
        }],
    }}


def write_project(root: Path, stack: str = STACK, **stack_options: Any) -> Path:
    """A minimal project: Pulumi.yaml, stacks/Pulumi.<stack>.yaml and slos/shop.yaml."""
    (root / "stacks").mkdir(parents=True, exist_ok=True)
    (root / "slos").mkdir(exist_ok=True)
    (root / "Pulumi.yaml").write_text("name: reliability-stack\nruntime: python\nstackConfigDir: stacks\n")
    (root / "slos" / "shop.yaml").write_text(yaml.safe_dump(SLO_SPEC, sort_keys=False))
    (root / "stacks" / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(stack_document(stack, **stack_options)))
    return root


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(tmp_path / "project")


@pytest.fixture(autouse=True)
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials, so nothing can ever reach a real account."""
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    # moto's EC2 backend otherwise parses megabytes of AMI JSON per region and per reset;
    # no test here launches an instance.
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    monkeypatch.delenv("RELSTACK_AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries without sleeping: the attempt count is what the tests check, not the waiting."""
    monkeypatch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount", lambda self, context: 0)


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


@functools.cache
def _shared_clients() -> AwsClients:
    return AwsClients(ClientSettings(region=REGION))


def clients(**settings: Any) -> AwsClients:
    """The tools' client cache. With default settings one instance serves every test: building
    botocore clients costs far more than the calls, and moto intercepts them all the same."""
    return AwsClients(ClientSettings(region=REGION, **settings)) if settings else _shared_clients()


@pytest.fixture
def stack(project: Path) -> tuple[Any, list[Any]]:
    """The test stack's config and SLOs, loaded the way the CLI loads them."""
    config = load_stack_config(project, STACK)
    return config, load_stack_slos(project, config).slos


# --- live resources -----------------------------------------------------------------------------------------------

@functools.cache
def seeding_client(service: str, region: str = REGION, endpoint_url: str | None = None) -> Any:
    """boto3 clients for seeding moto (in-process, or a moto server at `endpoint_url`), built once:
    building an EC2 client alone takes half a second, and moto intercepts calls of clients built
    before `mock_aws` started just the same."""
    return boto3.client(service, region_name=region, endpoint_url=endpoint_url)


def tags(service: str = SERVICE, stack: str = STACK, **extra: str) -> list[dict[str, str]]:
    return [{"Key": TAG_STACK, "Value": stack}, {"Key": TAG_SERVICE, "Value": service},
            *({"Key": k, "Value": v} for k, v in extra.items())]


@dataclass
class Network:
    vpc_id: str
    subnet_ids: list[str]
    zones: list[str]


def network(region: str = REGION, endpoint_url: str | None = None) -> Network:
    ec2 = seeding_client("ec2", region, endpoint_url)
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    zones = [f"{region}a", f"{region}b"]
    subnets = [ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=zone)["Subnet"]["SubnetId"]
               for i, zone in enumerate(zones)]
    return Network(vpc_id, subnets, zones)


def load_balancer(net: Network, name: str = "shop-alb", region: str = REGION, endpoint_url: str | None = None,
                  **tag_options: Any) -> str:
    """An ALB tagged for the stack; returns its CloudWatch `LoadBalancer` dimension value."""
    elbv2 = seeding_client("elbv2", region, endpoint_url)
    arn = elbv2.create_load_balancer(Name=name, Subnets=net.subnet_ids, Type="application",
                                     Tags=tags(**tag_options))["LoadBalancers"][0]["LoadBalancerArn"]
    return arn.split(":loadbalancer/", 1)[1]


# --- metrics ------------------------------------------------------------------------------------------------------

ErrorRatio = Callable[[timedelta], float]
"""Error ratio as a function of age (how long before NOW)."""


def seed_alb_traffic(lb_dimension: str, error_ratio: ErrorRatio, *, now: datetime = NOW,
                     days: int = 7, recent_hours: int = 6, per_minute: float = 100.0,
                     region: str = REGION, endpoint_url: str | None = None) -> None:
    """ALB metrics for the last `days`: hourly datapoints, then one per five minutes for the last
    `recent_hours` (each carrying its period's sum, as a pre-aggregated publisher would). Target 5XX
    carries the errors; ELB 5XX is present and zero. Few datapoints keep moto's GetMetricData fast."""
    points: list[tuple[datetime, float, float]] = []
    hour = timedelta(hours=1)
    step = timedelta(minutes=5)
    recent_start = now - timedelta(hours=recent_hours)
    at = now - timedelta(days=days)
    while at < recent_start:
        total = per_minute * 60
        points.append((at, total, total * error_ratio(now - at)))
        at += hour
    while at < now:
        points.append((at, per_minute * 5, per_minute * 5 * error_ratio(now - at)))
        at += step
    dims = [{"Name": "LoadBalancer", "Value": lb_dimension}]
    data = []
    for timestamp, total, bad in points:
        data.append({"MetricName": "RequestCount", "Dimensions": dims, "Timestamp": timestamp, "Value": total,
                     "Unit": "Count"})
        data.append({"MetricName": "HTTPCode_Target_5XX_Count", "Dimensions": dims, "Timestamp": timestamp,
                     "Value": bad, "Unit": "Count"})
        data.append({"MetricName": "HTTPCode_ELB_5XX_Count", "Dimensions": dims, "Timestamp": timestamp,
                     "Value": 0.0, "Unit": "Count"})
    cloudwatch = seeding_client("cloudwatch", region, endpoint_url)
    for first in range(0, len(data), 500):
        cloudwatch.put_metric_data(Namespace="AWS/ApplicationELB", MetricData=data[first:first + 500])


def healthy(age: timedelta) -> float:
    """0.02 % errors throughout: a fifth of the 99.9 % budget."""
    return 0.0002


def exhausted(age: timedelta) -> float:
    """Twice the budget rate for most of the week, quiet for the last six hours."""
    return 0.002 if age > timedelta(hours=6) else 0.0


def paging(age: timedelta) -> float:
    """Healthy all week, then 5 % errors (50x burn) in the last 45 minutes."""
    return 0.05 if age <= timedelta(minutes=45) else 0.0002
