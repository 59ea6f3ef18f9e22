"""Resilient-by-default Pulumi components of reliability-stack.

    from reliability_stack.components import ReliableService, ReliableServiceArgs

Every public component and its args class is importable from here. The modules load on
first use (PEP 562), so importing one component does not pay for pulumi_kubernetes and
every other AWS service module.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# public name -> module under reliability_stack.components
_EXPORTS: dict[str, str] = {
    "AlertRouting": "alert_routing", "AlertRoutingArgs": "alert_routing",
    "Autoscaling": "autoscaling", "AutoscalingArgs": "autoscaling", "InstanceRefresh": "autoscaling",
    "CacheTier": "cache_tier", "CacheTierArgs": "cache_tier", "CacheSecondaryRegion": "cache_tier",
    "Cdn": "cdn", "CdnArgs": "cdn", "CdnOrigin": "cdn",
    "DnsFailover": "dns_failover", "DnsFailoverArgs": "dns_failover", "RegionalEndpoint": "dns_failover",
    "DynamoDbGlobalTable": "dynamodb_global", "DynamoDbGlobalTableArgs": "dynamodb_global",
    "DynamoDbAttribute": "dynamodb_global",
    "EdgeProtection": "edge_protection", "EdgeProtectionArgs": "edge_protection",
    "KubeService": "kube_service", "KubeServiceArgs": "kube_service", "KubeIngress": "kube_service",
    "HttpProbe": "kube_service",
    "LoadBalancer": "load_balancer", "LoadBalancerArgs": "load_balancer", "HealthCheck": "load_balancer",
    "TrafficSplit": "load_balancer",
    "Network": "network", "NetworkArgs": "network",
    "Observability": "observability", "ObservabilityArgs": "observability",
    "Queue": "queue", "QueueArgs": "queue",
    "RegionalDatabase": "regional_database", "RegionalDatabaseArgs": "regional_database",
    "DatabaseRegion": "regional_database",
    "ReleaseSafety": "release_safety", "ReleaseSafetyArgs": "release_safety",
    "ReliableService": "reliable_service", "ReliableServiceArgs": "reliable_service",
    "ServiceDashboard": "service_dashboard", "ServiceDashboardArgs": "service_dashboard",
    "SloAlarms": "slo_alarms", "SloAlarmsArgs": "slo_alarms",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


if TYPE_CHECKING:  # static analysers see the real names
    from reliability_stack.components.alert_routing import AlertRouting, AlertRoutingArgs  # noqa: F401
    from reliability_stack.components.autoscaling import Autoscaling, AutoscalingArgs, InstanceRefresh  # noqa: F401
    from reliability_stack.components.load_balancer import (  # noqa: F401
        HealthCheck,
        LoadBalancer,
        LoadBalancerArgs,
        TrafficSplit,
    )
    from reliability_stack.components.network import Network, NetworkArgs  # noqa: F401
    from reliability_stack.components.reliable_service import ReliableService, ReliableServiceArgs  # noqa: F401
