"""Stack configuration: the one model and the one loader for `stacks/Pulumi.<stack>.yaml`.

The same `parse_stack_config` serves the real stack program (values read through
`pulumi.Config`) and the offline preview (values read from the YAML file), so a bad value
is reported the same way on both paths: file and field, never a traceback.
"""

from __future__ import annotations

import ipaddress
import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from reliability_stack.errors import ConfigError
from reliability_stack.validation_errors import error_message, field_path
from reliability_stack.yaml_input import parse_yaml

PROJECT = "reliability-stack"
STACKS_DIR = "stacks"

DnsLabel = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$")]
AwsRegion = Annotated[str, Field(pattern=r"^[a-z]{2}(-gov)?-[a-z]+-\d$")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class AlertTarget(_Model):
    """One subscriber of an alert-routing SNS topic."""

    protocol: Literal["email", "https", "sqs", "lambda"]
    endpoint: str = Field(min_length=3)


class AlertRouting(_Model):
    """Where page- and ticket-severity alerts go. Pages must reach a human."""

    page: list[AlertTarget] = Field(min_length=1)
    ticket: list[AlertTarget] = Field(min_length=1)


class ScalingConfig(_Model):
    """Compute capacity. Defaults keep two instances after losing one AZ of three."""

    instance_type: str = "t4g.small"
    min_size: int = Field(default=3, ge=1)
    max_size: int = Field(default=9, ge=1)
    target_cpu_percent: float = Field(default=50.0, gt=0, le=90)

    @field_validator("max_size")
    @classmethod
    def _max_above_min(cls, max_size: int, info: ValidationInfo) -> int:
        min_size = info.data.get("min_size")
        if min_size is not None and max_size <= min_size:
            raise ValueError("max_size must be greater than min_size, or the group can never scale out")
        return max_size


class CacheConfig(_Model):
    """ElastiCache replication group of the service (Valkey by default)."""

    enabled: bool = True
    node_type: str = "cache.t4g.small"
    shards: int = Field(default=1, ge=1)
    replicas_per_shard: int = Field(default=1, ge=0)
    global_datastore: bool = False


class DatabaseConfig(_Model):
    """The service's state: an Aurora (global) cluster or a DynamoDB (global) table."""

    engine: Literal["aurora-postgresql", "dynamodb", "none"] = "aurora-postgresql"
    instance_class: str = "db.r6g.large"
    instances_per_region: int = Field(default=2, ge=1)
    backup_retention_days: int = Field(default=14, ge=1, le=35)
    master_password_secret: str | None = Field(
        default=None, min_length=1,
        description="Secrets Manager secret (primary region) holding the master password of a multi-region "
                    "Aurora database; single-region clusters keep theirs in Secrets Manager themselves")


class TrafficConfig(_Model):
    """Listener weights between the blue and green target groups (blue/green and canary releases)."""

    blue: int = Field(default=100, ge=0, le=999)
    green: int = Field(default=0, ge=0, le=999)
    green_image: str | None = Field(
        default=None, min_length=1, validate_default=True,
        description="logical image (images lock) of the green fleet during a blue/green release (platform ec2)")

    @field_validator("green")
    @classmethod
    def _some_traffic(cls, green: int, info: ValidationInfo) -> int:
        if green == 0 and info.data.get("blue") == 0:
            raise ValueError("at least one of blue and green needs a positive weight")
        return green

    @field_validator("green_image")
    @classmethod
    def _green_fleet_for_green_traffic(cls, green_image: str | None, info: ValidationInfo) -> str | None:
        if green_image is None and info.data.get("green"):
            raise ValueError("green traffic needs a green fleet: set green_image (a weight on an empty "
                             "target group answers 503s)")
        return green_image


class KubernetesConfig(_Model):
    """Settings of a service that runs on Kubernetes (platform: kubernetes)."""

    namespace: DnsLabel = "default"
    min_replicas: int = Field(default=3, ge=1)
    max_replicas: int = Field(default=10, ge=1)
    cpu_request: str = "250m"
    memory_request: str = "256Mi"
    priority_class: str = "service-critical"
    ingress_host: str | None = None
    contexts: dict[AwsRegion, str] = Field(
        default_factory=dict,
        description="region -> kubeconfig context of that region's cluster (required per region when multi-region)")


class ServiceConfig(_Model):
    """One service of the stack and the reliability it gets."""

    name: DnsLabel
    platform: Literal["ec2", "kubernetes"] = "ec2"
    image: str = Field(min_length=1, description="logical image name from images/images.lock.json")
    domain: str = Field(pattern=r"^([a-z0-9-]+\.)+[a-z]{2,}$")
    hosted_zone: str = Field(pattern=r"^([a-z0-9-]+\.)+[a-z]{2,}$")
    hosted_zone_id: str | None = Field(
        default=None, pattern=r"^Z[A-Z0-9]{1,31}$",
        description="id of `hosted_zone`; when absent the program looks the zone up by name")
    port: int = Field(default=8080, ge=1, le=65535)
    health_check_path: str = Field(default="/healthz", pattern=r"^/")
    runbook_url: str = Field(pattern=r"^https://")
    slos: list[str] = Field(default_factory=list, description="SLO spec files, relative to the project")
    scaling: ScalingConfig = ScalingConfig()
    cache: CacheConfig = CacheConfig()
    database: DatabaseConfig = DatabaseConfig()
    kubernetes: KubernetesConfig = KubernetesConfig()
    traffic: TrafficConfig = TrafficConfig()
    vpc_cidrs: dict[AwsRegion, str] = Field(
        default_factory=dict,
        description="region -> VPC CIDR of the service; default 10.<8 x service index + region index>.0.0/16, "
                    "which moves when services are reordered: pin it for long-lived stacks")
    cdn: bool = True
    waf: bool = True
    queue: bool = True
    feature_flags: bool = True
    dns_failover: bool = Field(default=True, description="multi-region: failover records, health checks, ARC")


DEFAULT_CIDR_SERVICES = 32


def default_vpc_cidr(service_index: int, region_index: int) -> str | None:
    """10.<8 x service + region>.0.0/16: disjoint for up to 8 regions and 32 services (else None).

    The default moves when services are reordered: long-lived stacks pin `vpc_cidrs`.
    """
    second_octet = 8 * service_index + region_index
    return f"10.{second_octet}.0.0/16" if service_index < DEFAULT_CIDR_SERVICES and region_index < 8 else None


class StackConfig(_Model):
    """Everything `__main__.py` needs to declare one stack."""

    stack: str
    environment: Literal["dev", "prod", "review"]
    regions: list[AwsRegion] = Field(min_length=1)
    control_plane_region: AwsRegion = "us-west-2"
    availability_zones: int = Field(default=3, ge=2, le=6)
    availability_zone_names: dict[AwsRegion, list[str]] = Field(
        default_factory=dict,
        description="region -> the AZs to use (as many as availability_zones); absent regions use the first "
                    "available AZs, looked up at deployment")
    alerting: AlertRouting
    services: list[ServiceConfig] = Field(min_length=1)

    @field_validator("regions")
    @classmethod
    def _distinct_regions(cls, regions: list[str], info: ValidationInfo) -> list[str]:
        if len(set(regions)) != len(regions):
            raise ValueError("regions must be distinct")
        if info.data.get("environment") == "prod" and len(regions) < 2:
            raise ValueError("a prod stack needs two or more regions (regional failover)")
        return regions

    @field_validator("availability_zone_names")
    @classmethod
    def _zone_names_match(cls, names: dict[str, list[str]], info: ValidationInfo) -> dict[str, list[str]]:
        regions = info.data.get("regions") or []
        count = info.data.get("availability_zones")
        for region, zones in names.items():
            if region not in regions:
                raise ValueError(f"{region} is not one of the stack's regions")
            if count is not None and len(zones) != count:
                raise ValueError(f"{region}: {len(zones)} AZs listed, availability_zones is {count}")
            if len(set(zones)) != len(zones):
                raise ValueError(f"{region}: AZ names must be distinct")
            wrong = [z for z in zones if not re.fullmatch(re.escape(region) + r"[a-z]", z)]
            if wrong:
                raise ValueError(f"{region}: {', '.join(wrong)} is not an AZ of {region}")
        return names

    @field_validator("services")
    @classmethod
    def _vpcs_do_not_overlap(cls, services: list[ServiceConfig], info: ValidationInfo) -> list[ServiceConfig]:
        # Checked on the CIDRs the stack will use: pinned ones and the defaults beside them.
        regions = info.data.get("regions") or []
        networks: list[tuple[str, ipaddress.IPv4Network | ipaddress.IPv6Network]] = []
        for i, service in enumerate(services):
            for r, region in enumerate(regions):
                cidr = service.vpc_cidrs.get(region) or default_vpc_cidr(i, r)
                if cidr is None:
                    raise ValueError(f"services[{i}].vpc_cidrs.{region}: the default plan covers "
                                     f"{DEFAULT_CIDR_SERVICES} services; pin vpc_cidrs for this one")
                try:
                    network = ipaddress.ip_network(cidr)
                except ValueError:
                    raise ValueError(f"services[{i}].vpc_cidrs.{region}: {cidr!r} is not a network CIDR") from None
                clash = next((where for where, other in networks if other.overlaps(network)), None)
                if clash:
                    raise ValueError(f"services[{i}].vpc_cidrs.{region}: {cidr} overlaps {clash}")
                networks.append((f"services[{i}].vpc_cidrs.{region}", network))
        return services

    @field_validator("services")
    @classmethod
    def _distinct_services(cls, services: list[ServiceConfig]) -> list[ServiceConfig]:
        names = [s.name for s in services]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"duplicate service names: {', '.join(duplicates)}")
        return services

    @field_validator("services")
    @classmethod
    def _multi_region_needs(cls, services: list[ServiceConfig], info: ValidationInfo) -> list[ServiceConfig]:
        regions = info.data.get("regions") or []
        if len(regions) < 2:
            return services
        for i, service in enumerate(services):
            if service.database.engine == "aurora-postgresql" and not service.database.master_password_secret:
                raise ValueError(f"services[{i}].database.master_password_secret is required: a multi-region "
                                 "Aurora database cannot keep its master password in Secrets Manager itself")
            missing = [r for r in regions if r not in service.kubernetes.contexts]
            if service.platform == "kubernetes" and missing:
                raise ValueError(f"services[{i}].kubernetes.contexts needs a kubeconfig context (cluster) for "
                                 f"every region; missing {', '.join(missing)}")
        return services

    def vpc_cidr(self, service_index: int, region: str) -> str:
        """The VPC CIDR of a service in a region: pinned, or the default plan's."""
        service = self.services[service_index]
        cidr = service.vpc_cidrs.get(region) or default_vpc_cidr(service_index, self.regions.index(region))
        assert cidr is not None, "validated with the model"
        return cidr

    @property
    def primary_region(self) -> str:
        return self.regions[0]

    @property
    def multi_region(self) -> bool:
        return len(self.regions) > 1


# The keys under the project namespace that make up StackConfig (all but `stack`).
CONFIG_KEYS = ("environment", "regions", "control_plane_region", "availability_zones", "availability_zone_names",
               "alerting", "services")


def _namespaced_field_path(loc: tuple[Any, ...], namespace: str) -> str:
    path = field_path(loc)
    top, _, rest = path.partition(".")
    top_key = re.split(r"\[", top, maxsplit=1)[0]
    if top_key in CONFIG_KEYS:
        return f"{namespace}:{path}"
    return path or namespace


def parse_stack_config(stack: str, values: dict[str, Any], *, source: str) -> StackConfig:
    """Validate the project-namespace config values of one stack.

    `values` maps bare keys (`regions`, `services`, ...) to decoded values. Errors name
    `source` and the offending field, e.g. `reliability-stack:services[0].scaling.min_size`.
    """
    unknown = sorted(set(values) - set(CONFIG_KEYS))
    if unknown:
        raise ConfigError(f"unknown config key (expected one of {', '.join(CONFIG_KEYS)})",
                          file=source, field=f"{PROJECT}:{unknown[0]}")
    try:
        return StackConfig.model_validate({"stack": stack, **values})
    except ValidationError as exc:
        first = exc.errors()[0]
        field = _namespaced_field_path(tuple(first["loc"]), PROJECT)
        message = error_message(first)
        raise ConfigError(message, file=source, field=field) from None


def stack_file(root: Path, stack: str) -> Path:
    return root / STACKS_DIR / f"Pulumi.{stack}.yaml"


def read_stack_file(root: Path, stack: str) -> dict[str, Any]:
    """Read `stacks/Pulumi.<stack>.yaml` and return its whole `config:` map (all namespaces)."""
    path = stack_file(root, stack)
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,100}", stack):
        raise ConfigError(f"invalid stack name {stack!r}", field="--stack")
    if not path.is_file():
        known = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in path.parent.glob("Pulumi.*.yaml"))
        raise ConfigError(f"unknown stack {stack!r} (known: {', '.join(known) or 'none'})",
                          file=path.relative_to(root) if path.is_relative_to(root) else path, field="--stack")
    document = parse_yaml(path.read_text(encoding="utf-8"), file=path, error=ConfigError)
    if document is None:
        document = {}
    if not isinstance(document, dict) or not isinstance(document.get("config", {}), dict):
        raise ConfigError("expected a mapping with a 'config:' mapping", file=path, field="config")
    return dict(document.get("config") or {})


def project_values(config: dict[str, Any]) -> dict[str, Any]:
    """The bare-keyed values of the project namespace from a full `config:` map."""
    prefix = f"{PROJECT}:"
    return {key[len(prefix):]: value for key, value in config.items() if key.startswith(prefix)}


def load_stack_config(root: Path, stack: str, stack_values: dict[str, Any] | None = None) -> StackConfig:
    """Load and validate one stack's config from `stacks/` (the offline path).

    `stack_values`: the file's `config:` map, when the caller has read it already.
    """
    config = read_stack_file(root, stack) if stack_values is None else stack_values
    return parse_stack_config(stack, project_values(config), source=str(stack_file(root, stack).relative_to(root)))


def from_pulumi_config() -> StackConfig:
    """Load the running stack's config through `pulumi.Config` (the stack-program path)."""
    import pulumi  # the core stays importable without Pulumi; only this adapter needs it

    config = pulumi.Config(PROJECT)
    values: dict[str, Any] = {}
    for key in CONFIG_KEYS:
        raw = config.get(key)
        if raw is None:
            continue
        try:
            values[key] = json.loads(raw)
        except json.JSONDecodeError:
            values[key] = raw
    source = f"{STACKS_DIR}/Pulumi.{pulumi.get_stack()}.yaml"
    return parse_stack_config(pulumi.get_stack(), values, source=source)
