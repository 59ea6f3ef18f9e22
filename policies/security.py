"""Security settings reliability depends on: encryption at rest and in transit, TLS >= 1.2, no literal secrets (A50)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from reliability_stack.policies.compute import LAUNCH_TEMPLATE
from reliability_stack.policies.data import KMS_KEY, REPLICATION_GROUP
from reliability_stack.policies.edge import DISTRIBUTION
from reliability_stack.policies.registry import resource_rule
from reliability_stack.policies.view import (
    ResourceView,
    cache_behaviours,
    containers,
    dig,
    ecs_container_definitions,
    is_false,
    is_true,
    items,
)

SECRET_NAME = re.compile(r"(password|passwd|secret|token|api[_-]?key|private[_-]?key|credential)", re.IGNORECASE)

_AT_REST = {
    "aws:rds/instance:Instance": ("storageEncrypted",),
    "aws:rds/cluster:Cluster": ("storageEncrypted",),
    "aws:rds/globalCluster:GlobalCluster": ("storageEncrypted",),
    "aws:docdb/cluster:Cluster": ("storageEncrypted",),
    "aws:neptune/cluster:Cluster": ("storageEncrypted",),
    "aws:elasticache/replicationGroup:ReplicationGroup": ("atRestEncryptionEnabled",),
    "aws:efs/fileSystem:FileSystem": ("encrypted",),
    "aws:ebs/volume:Volume": ("encrypted",),
    "aws:opensearch/domain:Domain": ("encryptAtRest", "enabled"),
    "aws:kinesis/stream:Stream": ("encryptionType",),
}
LISTENERS = ("aws:lb/listener:Listener", "aws:alb/listener:Listener")
SQS = "aws:sqs/queue:Queue"
SNS = "aws:sns/topic:Topic"


@resource_rule(
    id="aws-encryption-at-rest",
    description="Data stores, queues, topics and volumes encrypt data at rest; KMS keys rotate.",
    remediation="Set storageEncrypted / atRestEncryptionEnabled / encrypted (with a KMS key where supported), "
                "sqsManagedSseEnabled or kmsMasterKeyId on queues, kmsMasterKeyId on topics, encrypted EBS in launch "
                "templates, and enableKeyRotation on KMS keys.",
    anchors=["A50", "CKV_AWS_16", "CKV_AWS_27", "CKV_AWS_29", "CKV_AWS_26", "CKV_AWS_7", "CKV_AWS_96"],
    techniques=["SEC"],
    types=(*_AT_REST, SQS, SNS, LAUNCH_TEMPLATE, KMS_KEY),
    config={"requireTopicKms": {"type": "boolean", "default": True}},
)
def encryption_at_rest(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    if r.type in _AT_REST:
        path = _AT_REST[r.type]
        value = r.get(*path)
        if not (is_true(value) or (r.type.startswith("aws:kinesis") and value == "KMS")):
            yield f"{'.'.join(path)} is not enabled: data at rest is unencrypted"
    elif r.type == SQS:
        if is_false(r.get("sqsManagedSseEnabled")) and not r.get("kmsMasterKeyId"):
            yield "server-side encryption is off"
    elif r.type == SNS:
        if config["requireTopicKms"] and not r.get("kmsMasterKeyId"):
            yield "no kmsMasterKeyId: messages are stored unencrypted"
    elif r.type == KMS_KEY:
        if not is_true(r.get("enableKeyRotation")) and r.get("customerMasterKeySpec", default="SYMMETRIC_DEFAULT") \
                == "SYMMETRIC_DEFAULT":
            yield "enableKeyRotation is off"
    else:
        for mapping in items(r.get("blockDeviceMappings")):
            ebs = dig(mapping, "ebs")
            if ebs is not None and not is_true(dig(ebs, "encrypted")):
                yield f"EBS volume {dig(mapping, 'deviceName')} is not encrypted"


# TLS policies that allow TLS 1.0/1.1 (ELB) and CloudFront viewer minimums below TLS 1.2.
_WEAK_ELB_POLICIES = re.compile(r"^ELBSecurityPolicy-(2015-05|2016-08|TLS-1-0|TLS-1-1|FS-2018-06|FS-1-1)")
_STRONG_CLOUDFRONT = ("TLSv1.2_2018", "TLSv1.2_2019", "TLSv1.2_2021", "TLSv1.2_2025", "TLSv1.3_2025")


@resource_rule(
    id="aws-tls-minimum-version",
    description="TLS endpoints refuse protocol versions below TLS 1.2.",
    remediation="Use an ELB policy such as ELBSecurityPolicy-TLS13-1-2-2021-06, CloudFront "
                "minimumProtocolVersion TLSv1.2_2021 (or newer), origin sslProtocols ['TLSv1.2'] and API domain "
                "securityPolicy TLS_1_2.",
    anchors=["A50", "CKV_AWS_103", "CKV_AWS_174", "CKV_AWS_206"],
    techniques=["SEC"],
    types=(*LISTENERS, DISTRIBUTION, "aws:apigateway/domainName:DomainName", "aws:apigatewayv2/domainName:DomainName"),
)
def tls_minimum_version(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    if r.type.endswith(":Listener"):
        policy = r.get("sslPolicy")
        if str(r.get("protocol", default="")).upper() in ("HTTPS", "TLS"):
            if policy is None:
                yield "no sslPolicy: the default ELBSecurityPolicy-2016-08 allows TLS 1.0"
            elif _WEAK_ELB_POLICIES.match(str(policy)):
                yield f"sslPolicy {policy} allows TLS below 1.2"
    elif r.type.endswith(":Distribution"):
        minimum = r.get("viewerCertificate", "minimumProtocolVersion")
        if not is_true(r.get("viewerCertificate", "cloudfrontDefaultCertificate")) and minimum not in _STRONG_CLOUDFRONT:
            yield f"viewer minimumProtocolVersion {minimum} allows TLS below 1.2"
        for origin in items(r.get("origins")):
            protocols = {str(p) for p in items(dig(origin, "customOriginConfig", "originSslProtocols"))}
            weak = protocols & {"SSLv3", "TLSv1", "TLSv1.1"}
            if weak:
                yield f"origin '{dig(origin, 'originId')}' allows {', '.join(sorted(weak))}"
    elif r.type == "aws:apigateway/domainName:DomainName":
        if r.get("securityPolicy") != "TLS_1_2":
            yield "securityPolicy is not TLS_1_2"
    elif r.get("domainNameConfiguration", "securityPolicy") != "TLS_1_2":
        yield "domainNameConfiguration.securityPolicy is not TLS_1_2"


@resource_rule(
    id="aws-encryption-in-transit",
    description="Traffic is encrypted in transit: HTTPS listeners (HTTP only redirects), https-only CDN, TLS caches.",
    remediation="Make HTTP listeners redirect to HTTPS; set viewerProtocolPolicy redirect-to-https/https-only and "
                "originProtocolPolicy https-only; set ElastiCache transitEncryptionEnabled with mode 'required'.",
    anchors=["A50", "CKV_AWS_2", "CKV_AWS_30", "CKV_AWS_34"],
    techniques=["SEC"],
    types=(*LISTENERS, DISTRIBUTION, REPLICATION_GROUP),
)
def encryption_in_transit(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    if r.type.endswith(":Listener"):
        if str(r.get("protocol", default="HTTP")).upper() != "HTTP":
            return
        actions = items(r.get("defaultActions"))
        redirects = all(dig(a, "type") == "redirect" and str(dig(a, "redirect", "protocol")).upper() == "HTTPS"
                        for a in actions)
        if not actions or not redirects:
            yield "an HTTP listener serves traffic instead of redirecting to HTTPS"
    elif r.type.endswith(":Distribution"):
        for b in cache_behaviours(r):
            if dig(b, "viewerProtocolPolicy") == "allow-all":
                yield f"cache behaviour for '{dig(b, 'pathPattern', default='*')}' allows plain HTTP viewers"
        for origin in items(r.get("origins")):
            policy = dig(origin, "customOriginConfig", "originProtocolPolicy")
            if policy is not None and policy != "https-only":
                yield f"origin '{dig(origin, 'originId')}' uses originProtocolPolicy {policy}"
    else:
        if not is_true(r.get("transitEncryptionEnabled")):
            yield "transitEncryptionEnabled is off"
        elif r.get("transitEncryptionMode") == "preferred":
            yield "transitEncryptionMode 'preferred' still accepts plaintext clients"


def _literal_secret_env(variables: Any) -> list[str]:
    found = []
    if isinstance(variables, Mapping):
        for key in variables:
            value = variables[key]
            if SECRET_NAME.search(str(key)) and isinstance(value, str) and value and not value.startswith(
                    ("arn:aws:secretsmanager:", "arn:aws:ssm:", "{{resolve:")):
                found.append(str(key))
    return found


@resource_rule(
    id="no-plaintext-secrets",
    description="Secrets reach workloads by reference to a secret store, never as literal environment values.",
    remediation="Use Kubernetes secretKeyRef, ECS `secrets` or Secrets Manager ARNs for environment variables "
                "(their values are readable by anyone who can read the workload), and `pulumi config set --secret` "
                "for stack config.",
    anchors=["CKV_AWS_45", "CKV_K8S_35", "CKV_AWS_149"],
    techniques=["SEC"],
    types=("aws:lambda/function:Function",
           "aws:ecs/taskDefinition:TaskDefinition", "kubernetes:apps/v1:Deployment",
           "kubernetes:apps/v1:StatefulSet", "kubernetes:apps/v1:DaemonSet", "kubernetes:batch/v1:Job",
           "kubernetes:batch/v1:CronJob", "kubernetes:core/v1:Pod"),
)
def no_plaintext_secrets(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    # Not checked: inputs such as RDS masterPassword. The analyzer receives Pulumi secrets
    # already decrypted (the SDK drops the secret marker), so an encrypted config secret and a
    # literal look the same; environment variables are plaintext to readers either way.
    if r.type == "aws:lambda/function:Function":
        for key in _literal_secret_env(r.get("environment", "variables")):
            yield f"environment variable {key} holds a literal secret"
    elif r.type == "aws:ecs/taskDefinition:TaskDefinition":
        for container in ecs_container_definitions(r):
            env = {e.get("name"): e.get("value") for e in container.get("environment", []) if isinstance(e, dict)}
            for key in _literal_secret_env(env):
                yield f"container '{container.get('name', '?')}' environment {key} holds a literal secret"
    else:
        for c in containers(r, init=True):
            env = {str(dig(e, "name")): dig(e, "value") for e in items(dig(c, "env")) if dig(e, "value") is not None}
            for key in _literal_secret_env(env):
                yield f"container '{dig(c, 'name')}' env {key} holds a literal value; use valueFrom.secretKeyRef"
