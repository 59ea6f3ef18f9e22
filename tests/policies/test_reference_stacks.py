"""The reference stacks pass the pack, and the pack catches each resilience setting turned down in prod.

Resources come from the real offline preview (`reliability_stack.preview.engine.run_preview`):
the stack program and components under the mock runtime. The mutation table turns one
setting of one prod resource down at a time and names the policy that must catch it,
evaluated through the analyzer configured with `stacks/policy-config.prod.json`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reliability_stack.policies.registry import all_rules
from reliability_stack.preview.analyzer import PolicyAnalyzer, load_policy_config
from reliability_stack.preview.engine import run_preview
from tests.policies.corpus import DELETE, Mutation, mutate

ROOT = Path(__file__).resolve().parents[2]
RULES = {rule.id: rule for rule in all_rules()}

ASG = "aws:autoscaling/group:Group"
LT = "aws:ec2/launchTemplate:LaunchTemplate"
LB = "aws:lb/loadBalancer:LoadBalancer"
TG = "aws:lb/targetGroup:TargetGroup"
LISTENER = "aws:lb/listener:Listener"
CDN = "aws:cloudfront/distribution:Distribution"
WAF = "aws:wafv2/webAcl:WebAcl"
CLUSTER = "aws:rds/cluster:Cluster"
INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
GLOBAL = "aws:rds/globalCluster:GlobalCluster"
CACHE = "aws:elasticache/replicationGroup:ReplicationGroup"
PARAMS = "aws:elasticache/parameterGroup:ParameterGroup"
TABLE = "aws:dynamodb/table:Table"
RECORD = "aws:route53/record:Record"
CHECK = "aws:route53/healthCheck:HealthCheck"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
QUEUE = "aws:sqs/queue:Queue"
REDRIVE = "aws:sqs/redrivePolicy:RedrivePolicy"
TOPIC = "aws:sns/topic:Topic"
LOGS = "aws:cloudwatch/logGroup:LogGroup"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
COMPOSITE = "aws:cloudwatch/compositeAlarm:CompositeAlarm"
NAT = "aws:ec2/natGateway:NatGateway"
PUBLIC_ACCESS = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
POD = "spec.template.spec"
CONTAINER = f"{POD}.containers[0]"

# (resource type, text the resource name contains, prop path or @option, bad value, policy that must catch it)
PROD_MUTATIONS: list[tuple[str, str, str, Any, str]] = [
    (ASG, "", "healthCheckType", "EC2", "aws-asg-elb-health-check"),
    (ASG, "", "healthCheckGracePeriod", 0, "aws-asg-elb-health-check"),
    (ASG, "", "launchTemplate.version", "$Latest", "aws-asg-launch-template"),
    (ASG, "", "instanceRefresh", DELETE, "aws-asg-instance-refresh"),
    (ASG, "", "instanceRefresh.preferences.autoRollback", False, "aws-asg-instance-refresh"),
    (ASG, "", "vpcZoneIdentifiers", ["subnet-0000000000000000a"], "aws-asg-zonal-redundancy"),
    (ASG, "", "minSize", 1, "aws-asg-zonal-redundancy"),
    (ASG, "", "maxSize", 6, "aws-asg-static-stability"),
    (LT, "", "metadataOptions.httpTokens", "optional", "aws-instance-metadata-v2"),
    (LT, "", "imageId", "resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64",
     "aws-image-immutable"),
    (LT, "", "blockDeviceMappings[0].ebs.encrypted", False, "aws-encryption-at-rest"),
    (LB, "", "enableDeletionProtection", False, "aws-lb-deletion-protection"),
    (LB, "", "subnets", ["subnet-0000000000000000a"], "aws-lb-zonal-redundancy"),
    (LB, "", "dropInvalidHeaderFields", False, "aws-alb-hardening"),
    (LB, "", "accessLogs.enabled", False, "aws-alb-hardening"),
    (TG, "", "healthCheck.path", "/", "aws-target-group-health-check"),
    (TG, "", "healthCheck.interval", 60, "aws-target-group-health-check"),
    (TG, "", "deregistrationDelay", 300, "aws-target-group-drain"),
    (LISTENER, "-http", "defaultActions", [{"type": "forward", "targetGroupArn": "arn:tg"}],
     "aws-encryption-in-transit"),
    (LISTENER, "-https", "sslPolicy", "ELBSecurityPolicy-2016-08", "aws-tls-minimum-version"),
    (CDN, "", "originGroups", [], "aws-cloudfront-origin-failover"),
    (CDN, "", "origins[0].connectionTimeout", 10, "aws-cloudfront-origin-timeouts"),
    (CDN, "", "viewerCertificate.minimumProtocolVersion", "TLSv1", "aws-tls-minimum-version"),
    (CDN, "", "webAclId", DELETE, "aws-edge-protection"),
    (CDN, "", "defaultCacheBehavior.viewerProtocolPolicy", "allow-all", "aws-encryption-in-transit"),
    (CDN, "", "customErrorResponses[0].errorCachingMinTtl", 300, "aws-cloudfront-error-caching"),
    (WAF, "", "rules", [], "aws-edge-protection"),
    (CLUSTER, "", "deletionProtection", False, "aws-database-deletion-protection"),
    (CLUSTER, "", "backupRetentionPeriod", 3, "aws-database-backups"),
    (CLUSTER, "", "skipFinalSnapshot", True, "aws-database-backups"),
    (CLUSTER, "", "storageEncrypted", False, "aws-encryption-at-rest"),
    (GLOBAL, "", "deletionProtection", False, "aws-database-deletion-protection"),
    (INSTANCE, "", "@protect", False, "stateful-resources-protected"),
    (INSTANCE, "", "performanceInsightsEnabled", False, "aws-rds-monitoring"),
    (CACHE, "", "automaticFailoverEnabled", False, "aws-elasticache-failover"),
    (CACHE, "", "multiAzEnabled", False, "aws-elasticache-failover"),
    (CACHE, "", "snapshotRetentionLimit", 0, "aws-elasticache-backups"),
    (CACHE, "", "transitEncryptionEnabled", False, "aws-encryption-in-transit"),
    (CACHE, "", "atRestEncryptionEnabled", False, "aws-encryption-at-rest"),
    (CACHE, "", "parameterGroupName", "default.valkey8", "aws-cache-eviction-policy"),
    (PARAMS, "", "parameters[0].value", "noeviction", "aws-cache-eviction-policy"),
    (TABLE, "", "pointInTimeRecovery.enabled", False, "aws-dynamodb-pitr"),
    (TABLE, "", "deletionProtectionEnabled", False, "aws-database-deletion-protection"),
    (TABLE, "", "@protect", False, "stateful-resources-protected"),
    (RECORD, "us-east-1-a", "healthCheckId", DELETE, "aws-route53-failover-health"),
    (RECORD, "us-east-1-a", "aliases[0].evaluateTargetHealth", False, "aws-route53-failover-health"),
    (CHECK, "", "resourcePath", "/", "aws-route53-health-check-quality"),
    (CHECK, "", "failureThreshold", 10, "aws-route53-health-check-quality"),
    (DEPLOYMENT, "", f"{CONTAINER}.readinessProbe", DELETE, "k8s-workload-probes"),
    (DEPLOYMENT, "", f"{CONTAINER}.image", "registry.example.com/catalog:latest", "k8s-image-immutable"),
    (DEPLOYMENT, "", "spec.strategy.rollingUpdate.maxUnavailable", 1, "k8s-rolling-update"),
    (DEPLOYMENT, "", f"{POD}.topologySpreadConstraints", [], "k8s-workload-spread"),
    (DEPLOYMENT, "", f"{CONTAINER}.resources.requests", DELETE, "k8s-container-resources"),
    (DEPLOYMENT, "", f"{CONTAINER}.securityContext.privileged", True, "k8s-pod-security"),
    (DEPLOYMENT, "", f"{CONTAINER}.lifecycle", DELETE, "k8s-graceful-termination"),
    (HPA, "", "spec.minReplicas", 1, "k8s-hpa-bounds"),
    (PDB, "", "spec.maxUnavailable", 0, "k8s-pdb-allows-disruption"),
    (TOPIC, "", "kmsMasterKeyId", DELETE, "aws-encryption-at-rest"),
    (LOGS, "", "retentionInDays", 7, "aws-log-retention"),
    (ALARM, "", "treatMissingData", DELETE, "aws-alarm-hygiene"),
    # cross-resource (stack policies)
    (COMPOSITE, "page", "alarmActions", ["arn:aws:sns:us-east-1:123456789012:team-ticket-1"], "slo-burn-rate-alarms"),
    (PDB, "", "spec.selector.matchLabels", {"app": "nothing"}, "k8s-pdb-coverage"),
    (DEPLOYMENT, "", "spec.replicas", 3, "k8s-workload-replicas"),
    (REDRIVE, "", "redrivePolicy", '{"deadLetterTargetArn": "arn:aws:sqs:us-east-1:1:x", "maxReceiveCount": 100}',
     "aws-sqs-dead-letter"),
    (INSTANCE, "", "@type", "aws:rds/instance:Instance", "aws-aurora-cluster-instances"),
    (NAT, "", "@type", "aws:ec2/eip:Eip", "aws-nat-per-az"),
    (RECORD, "us-west-2-a", "failoverRoutingPolicies", [{"type": "PRIMARY"}], "aws-dns-failover-pairs"),
    (PUBLIC_ACCESS, "", "restrictPublicBuckets", False, "aws-s3-no-public-access"),
    (VERSIONING, "", "versioningConfiguration.status", "Suspended", "aws-s3-versioning"),
    (CDN, "", "origins[0].customOriginConfig.originKeepaliveTimeout", 60, "timeout-ordering"),
    (DEPLOYMENT, "", f"{POD}.terminationGracePeriodSeconds", 20, "timeout-ordering"),
    (TABLE, "", "replicas", [], "aws-data-multi-region"),
    (ALARM, "", "alarmActions", [], "aws-alarm-actions"),
]


@pytest.fixture(scope="session")
def previews():
    return {stack: run_preview(stack, root=ROOT) for stack in ("dev", "prod")}


@pytest.fixture(scope="session")
def prod_analyzer():
    path = ROOT / "stacks" / "policy-config.prod.json"
    with PolicyAnalyzer(load_policy_config(path), config_source=str(path)) as running:
        yield running


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_reference_stack_has_no_mandatory_violation(stack, previews):
    plan = previews[stack].plan
    mandatory = [(v["policy"], v["urn"].rsplit("::", 1)[-1], v["message"].splitlines()[-1])
                 for v in plan["policies"]["violations"] if v["enforcementLevel"] == "mandatory"]
    assert mandatory == []
    assert previews[stack].exit_code == 0
    assert plan["policies"]["policyCount"] == len(RULES)


def _pick(resources: list[dict[str, Any]], type_: str, contains: str) -> dict[str, Any]:
    matches = sorted((r for r in resources if r["type"] == type_ and contains in r["name"]), key=lambda r: r["urn"])
    assert matches, f"the prod stack declares no {type_} named like {contains!r}"
    if type_ == ALARM and "alarmActions" not in matches[0]["props"]:
        matches = [r for r in matches if r["props"].get("alarmActions")] or matches
    return matches[0]


def test_the_mutation_table_is_large_and_varied():
    assert len(PROD_MUTATIONS) >= 40
    assert len({m[4] for m in PROD_MUTATIONS}) >= 35


@pytest.fixture(scope="session")
def prod_caught(previews, prod_analyzer):
    resources = previews["prod"].plan["resources"]
    caught: dict[int, set[str]] = {}
    batch, owners = [], {}
    for index, (type_, contains, path, value, policy) in enumerate(PROD_MUTATIONS):
        target = _pick(resources, type_, contains)
        mutation = Mutation(policy, f"{type_}::{target['name']}", path, value)
        changed, mutated = mutate(resources, mutation)
        caught[index] = set()
        if RULES[policy].kind == "resource":
            single = dict(mutated, urn=f"{mutated['urn']}-m{index}")
            owners[single["urn"]] = index
            batch.append(single)
        else:
            caught[index] = {d["policy"] for d in prod_analyzer.analyze_stack(changed)
                             if d["enforcementLevel"] == "mandatory"}
    for diagnostic in prod_analyzer.analyze_many(batch):
        if diagnostic["enforcementLevel"] == "mandatory":
            caught[owners[diagnostic["urn"]]].add(diagnostic["policy"])
    return caught


@pytest.mark.parametrize("index", range(len(PROD_MUTATIONS)),
                         ids=[f"{m[4]}:{m[0].rsplit(':', 1)[-1]}:{m[2]}" for m in PROD_MUTATIONS])
def test_prod_mutation_is_caught_as_mandatory(index, prod_caught):
    policy = PROD_MUTATIONS[index][4]
    assert policy in prod_caught[index], f"caught instead: {sorted(prod_caught[index])}"
