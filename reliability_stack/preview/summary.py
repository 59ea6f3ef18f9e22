"""Pure facts about a captured stack: counts, stateful resources that lack protection."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

# Stateful resource types and the input that proves deletion protection and backups.
# None means the service has no such setting (its protection is `protect` alone).
STATEFUL_TYPES: dict[str, tuple[str | None, str | None]] = {
    "aws:rds/cluster:Cluster": ("deletionProtection", "backupRetentionPeriod"),
    "aws:rds/instance:Instance": ("deletionProtection", "backupRetentionPeriod"),
    "aws:rds/globalCluster:GlobalCluster": ("deletionProtection", None),
    "aws:dynamodb/table:Table": ("deletionProtectionEnabled", "pointInTimeRecovery"),
    "aws:elasticache/replicationGroup:ReplicationGroup": (None, "snapshotRetentionLimit"),
    "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup": (None, None),
    "aws:s3/bucket:Bucket": (None, None),
    "aws:efs/fileSystem:FileSystem": (None, None),
    "aws:kms/key:Key": (None, None),
}


@dataclass(frozen=True)
class StatefulGap:
    urn: str
    type: str
    missing: tuple[str, ...]


def _enabled(value: Any) -> bool:
    if isinstance(value, dict):
        return bool(value.get("enabled"))
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value > 0
    return False


def stateful_gaps(resources: list[dict[str, Any]]) -> tuple[int, list[StatefulGap]]:
    """How many stateful resources there are, and which lack protect, deletion protection or backups."""
    count = 0
    gaps: list[StatefulGap] = []
    for resource in resources:
        settings = STATEFUL_TYPES.get(resource["type"])
        if settings is None:
            continue
        count += 1
        deletion_key, backup_key = settings
        props, options = resource["props"], resource["options"]
        missing = []
        if not options.get("protect"):
            missing.append("protect")
        if deletion_key and not _enabled(props.get(deletion_key)):
            missing.append(deletion_key)
        # A secondary Aurora cluster takes its backups from the global primary.
        if backup_key and not _enabled(props.get(backup_key)) and not props.get("globalClusterIdentifier"):
            missing.append(backup_key)
        if missing:
            gaps.append(StatefulGap(resource["urn"], resource["type"], tuple(missing)))
    return count, gaps


def counts_by_type(resources: list[dict[str, Any]]) -> list[tuple[str, int]]:
    counter = Counter(resource["type"] for resource in resources)
    return sorted(counter.items(), key=lambda item: (-item[1], item[0]))
