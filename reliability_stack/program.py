"""The stack program: stack config -> one ReliableService per service -> stack outputs.

`__main__.py` calls `main()`; `pulumi preview/up` and the offline `relstack preview` (the SDK
mock runtime) run the very same code. Everything read from files (stack config, SLO specs,
the image lock) is validated here, before any resource is declared, and every error names
its file and field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from reliability_stack.components.load_balancer import TrafficSplit
from reliability_stack.components.reliable_service import (
    KubernetesWorkload,
    ReliableService,
    ReliableServiceArgs,
)
from reliability_stack.config import StackConfig, from_pulumi_config
from reliability_stack.images import ImageLock, load_lock
from reliability_stack.service_slos import load_service_slos
from reliability_stack.slo.model import SLO


def service_slos(config: StackConfig, index: int, root: Path) -> tuple[SLO, ...]:
    """The SLOs of `config.services[index]`; loader warnings go to the engine log."""
    loaded = load_service_slos(root, config, index)
    for warning in loaded.warnings:
        pulumi.log.warn(warning)
    return loaded.slos


def service_args(config: StackConfig, index: int, lock: ImageLock,
                 slos: tuple[SLO, ...] = ()) -> ReliableServiceArgs:
    """ReliableService inputs for `config.services[index]` (images resolved from the lock)."""
    service = config.services[index]
    vpc_cidrs = {region: config.vpc_cidr(index, region) for region in config.regions}
    ami_ids: dict[str, str] = {}
    green_ami_ids: dict[str, str] = {}
    container_image = None
    if service.platform == "ec2":
        ami_ids = {region: lock.resolve_ami(service.image, region) for region in config.regions}
        if service.traffic.green_image:
            green_ami_ids = {region: lock.resolve_ami(service.traffic.green_image, region)
                             for region in config.regions}
    else:
        container_image = lock.resolve_container(service.image)
    password: Any = None
    if service.database.master_password_secret and service.database.engine == "aurora-postgresql":
        secret = aws.secretsmanager.get_secret_version_output(
            secret_id=service.database.master_password_secret, region=config.primary_region)
        password = pulumi.Output.secret(secret.secret_string)
    return ReliableServiceArgs(
        service=service.name,
        regions=list(config.regions),
        domain=service.domain,
        hosted_zone=service.hosted_zone,
        hosted_zone_id=service.hosted_zone_id,
        runbook_url=service.runbook_url,
        alerting=config.alerting,
        slos=list(slos),
        platform=service.platform,
        ami_ids=ami_ids,
        green_ami_ids=green_ami_ids,
        container_image=container_image,
        kubernetes=KubernetesWorkload(
            namespace=service.kubernetes.namespace, min_replicas=service.kubernetes.min_replicas,
            max_replicas=service.kubernetes.max_replicas, cpu_request=service.kubernetes.cpu_request,
            memory_request=service.kubernetes.memory_request, priority_class=service.kubernetes.priority_class,
            ingress_host=service.kubernetes.ingress_host, contexts=dict(service.kubernetes.contexts)),
        port=service.port,
        health_check_path=service.health_check_path,
        availability_zones=config.availability_zones,
        vpc_cidrs=vpc_cidrs,
        availability_zone_names={r: list(z) for r, z in config.availability_zone_names.items()},
        control_plane_region=config.control_plane_region,
        instance_type=service.scaling.instance_type,
        min_size=service.scaling.min_size,
        max_size=service.scaling.max_size,
        target_cpu_percent=service.scaling.target_cpu_percent,
        traffic_split=TrafficSplit(blue=service.traffic.blue, green=service.traffic.green),
        cache=service.cache.enabled,
        cache_node_type=service.cache.node_type,
        cache_shards=service.cache.shards,
        cache_replicas_per_shard=service.cache.replicas_per_shard,
        cache_global_datastore=service.cache.global_datastore,
        database_engine=service.database.engine,
        database_instance_class=service.database.instance_class,
        database_instances_per_region=service.database.instances_per_region,
        database_backup_retention_days=service.database.backup_retention_days,
        database_master_password=password,
        queue=service.queue,
        feature_flags=service.feature_flags,
        cdn=service.cdn,
        waf=service.waf,
        dns_failover=service.dns_failover,
    )


def declare_stack(config: StackConfig, *, root: Path | None = None,
                  lock: ImageLock | None = None) -> dict[str, ReliableService]:
    """Declare every service of `config` and export its outputs (one stack output per service)."""
    root = root or Path.cwd()
    lock = lock or load_lock(root / "images" / "images.lock.json")
    # Read and validate every input before declaring anything: a bad SLO file of the last
    # service must not leave a half-declared program behind.
    plans = [service_args(config, i, lock, service_slos(config, i, root))
             for i in range(len(config.services))]
    declared = {}
    for args in plans:
        component = ReliableService(args.service, args)
        # One output per service, for StackReference consumers: ref.get_output("checkout")["endpoint"].
        pulumi.export(args.service, component.stack_outputs)
        declared[args.service] = component
    pulumi.export("regions", list(config.regions))
    return declared


def main(root: Path | None = None) -> None:
    """Entry point of `__main__.py`: the running stack's config, the project's files under `root`."""
    declare_stack(from_pulumi_config(), root=root)
