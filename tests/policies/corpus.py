"""A hand-built stack that satisfies every policy, and one mutation per way to break each policy.

The good stack is the passing case of every policy (each policy applies to some of its
resources); each mutation turns one setting down and names the policy that must catch it.
Resources are plain dicts with the keys of a captured resource (urn, type, name, parent,
props, options), so they travel through the analyzer client exactly like the preview's.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from typing import Any

ACCOUNT = "123456789012"
DIGEST = "@sha256:" + "a" * 64
PAGE_ARN = f"arn:aws:sns:us-east-1:{ACCOUNT}:alerts-page-1a2b3c"
TICKET_ARN = f"arn:aws:sns:us-east-1:{ACCOUNT}:alerts-ticket-1a2b3c"
DELETE = object()  # mutation value: remove the key


def urn(type_: str, name: str) -> str:
    return f"urn:pulumi:test::reliability-stack::{type_}::{name}"


def res(type_: str, name: str, props: dict[str, Any], *, parent: str | None = None, protect: bool = False,
        depends_on: list[str] | None = None, ignore_changes: list[str] | None = None) -> dict[str, Any]:
    return {"urn": urn(type_, name), "type": type_, "name": name, "parent": parent, "props": props,
            "options": {"protect": protect, "ignoreChanges": ignore_changes or [], "dependsOn": depends_on or []}}


def _container(name: str, *, serving: bool = True) -> dict[str, Any]:
    container: dict[str, Any] = {
        "name": name,
        "image": f"registry.example.com/{name}:1.4.2{DIGEST}",
        "resources": {"requests": {"cpu": "250m", "memory": "256Mi", "ephemeral-storage": "1Gi"},
                      "limits": {"memory": "256Mi", "ephemeral-storage": "1Gi"}},
        "securityContext": {"runAsNonRoot": True, "allowPrivilegeEscalation": False, "privileged": False,
                            "readOnlyRootFilesystem": True},
        "env": [{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
                {"name": "LOG_LEVEL", "value": "info"}],
        "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}, "periodSeconds": 5},
        "livenessProbe": {"httpGet": {"path": "/live", "port": 8080}, "periodSeconds": 10},
    }
    if serving:
        container["ports"] = [{"containerPort": 8080}]
        container["lifecycle"] = {"preStop": {"sleep": {"seconds": 10}}}
    return container


def _pod_spec(name: str) -> dict[str, Any]:
    selector = {"matchLabels": {"app": name}}
    return {
        "priorityClassName": "service-critical",
        "terminationGracePeriodSeconds": 45,
        "securityContext": {"runAsNonRoot": True},
        "topologySpreadConstraints": [
            {"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "DoNotSchedule",
             "labelSelector": selector},
            {"maxSkew": 1, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "ScheduleAnyway",
             "labelSelector": selector},
        ],
        "containers": [_container(name)],
    }


def _alarm_queries(window: str) -> list[dict[str, Any]]:
    return [
        {"id": "errors", "returnData": False, "metric": {"namespace": "AWS/ApplicationELB", "metricName":
         "HTTPCode_Target_5XX_Count", "dimensions": {"LoadBalancer": "app/web-alb/abc123"}, "period": 60,
                                                         "stat": "Sum"}},
        {"id": "ratio", "returnData": True, "expression": f"errors / requests  /* {window} */"},
    ]


def good_stack() -> list[dict[str, Any]]:
    """Every resource configured the resilient way; no policy may report anything."""
    k8s, ns = "kubernetes:", {"namespace": "shop"}
    slo_component = urn("reliability-stack:slo_alarms:SloAlarms", "web-slo")
    service_component = urn("reliability-stack:reliable_service:ReliableService", "web")
    subnets = [res("aws:ec2/subnet:Subnet", f"{kind}-{az}", {"availabilityZone": f"us-east-1{az}",
                                                             "cidrBlock": f"10.0.{i}.0/24"})
               for i, (kind, az) in enumerate((k, a) for k in ("private", "public") for a in "abc")]
    nats = [res("aws:ec2/natGateway:NatGateway", f"nat-{az}", {"subnetId": f"subnet-0{az}"},
                depends_on=[urn("aws:ec2/subnet:Subnet", f"public-{az}")]) for az in "abc"]
    resources = [
        # --- Kubernetes -------------------------------------------------------
        res(f"{k8s}apps/v1:Deployment", "web", {
            "metadata": {"name": "web", **ns},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, "minReadySeconds": 10,
                     "progressDeadlineSeconds": 600,
                     "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
                     "template": {"metadata": {"labels": {"app": "web"}}, "spec": _pod_spec("web")}}},
            parent=service_component),
        res(f"{k8s}autoscaling/v2:HorizontalPodAutoscaler", "web", {
            "metadata": {"name": "web", **ns},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                     "minReplicas": 3, "maxReplicas": 9,
                     "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {
                         "type": "Utilization", "averageUtilization": 60}}}]}}),
        res(f"{k8s}policy/v1:PodDisruptionBudget", "web", {
            "metadata": {"name": "web", **ns},
            "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "web"}},
                     "unhealthyPodEvictionPolicy": "AlwaysAllow"}}),
        res(f"{k8s}core/v1:Service", "web", {"metadata": {"name": "web", **ns},
                                              "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}),
        res(f"{k8s}networking.k8s.io/v1:Ingress", "web", {"metadata": {"name": "web", **ns, "annotations": {
            "alb.ingress.kubernetes.io/target-group-attributes": "deregistration_delay.timeout_seconds=30"}}, "spec": {
            "ingressClassName": "alb",
            "rules": [{"host": "shop.example.com", "http": {"paths": [
                {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]}}),
        res(f"{k8s}networking.k8s.io/v1:NetworkPolicy", "default-deny", {
            "metadata": {"name": "default-deny", **ns}, "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}}),
        res(f"{k8s}core/v1:ResourceQuota", "shop", {"metadata": {"name": "shop", **ns},
                                                    "spec": {"hard": {"requests.cpu": "20"}}}),
        res(f"{k8s}batch/v1:CronJob", "report", {
            "metadata": {"name": "report", **ns},
            "spec": {"schedule": "0 3 * * *", "startingDeadlineSeconds": 300, "concurrencyPolicy": "Forbid",
                     "jobTemplate": {"spec": {"backoffLimit": 3, "activeDeadlineSeconds": 1800, "template": {
                         "metadata": {"labels": {"app": "report"}},
                         "spec": {"restartPolicy": "Never", "securityContext": {"runAsNonRoot": True},
                                  "containers": [_container("report", serving=False)]}}}}}}),
        res(f"{k8s}monitoring.coreos.com/v1:PrometheusRule", "web-slo", {
            "metadata": {"name": "web-slo", **ns},
            "spec": {"groups": [{"name": "slo-web-checkout", "rules": [
                {"alert": "WebCheckoutBudgetBurn", "labels": {"severity": "page", "slo": "checkout"},
                 "expr": "(\n  slo:sli_error:ratio_rate1h > 0.0144\n)\nand\n(\n  slo:sli_error:ratio_rate5m > 0.0144\n)"},
            ]}]}}),
        # --- Network and compute ---------------------------------------------
        *subnets, *nats,
        res("aws:ec2/launchTemplate:LaunchTemplate", "web-lt", {
            "imageId": "ami-0123456789abcdef0", "instanceType": "t4g.small",
            "metadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": 1},
            "monitoring": {"enabled": True},
            "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"encrypted": True, "volumeSize": 20}}]},
            parent=service_component),
        res("aws:autoscaling/group:Group", "web-asg", {
            "vpcZoneIdentifiers": ["subnet-0a", "subnet-0b", "subnet-0c"], "minSize": 3, "maxSize": 9,
            "healthCheckType": "ELB", "healthCheckGracePeriod": 300, "defaultInstanceWarmup": 120,
            "targetGroupArns": [f"arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT}:targetgroup/web-tg/1"],
            "launchTemplate": {"id": "lt-0abc", "version": "1"},
            "instanceRefresh": {"strategy": "Rolling", "preferences": {"minHealthyPercentage": 100,
                                                                        "autoRollback": True}},
            "enabledMetrics": ["GroupInServiceInstances"]}, parent=service_component),
        res("aws:ec2/instance:Instance", "bastion", {
            "ami": "ami-0123456789abcdef0", "instanceType": "t4g.nano", "monitoring": True,
            "disableApiTermination": True, "metadataOptions": {"httpTokens": "required"}}),
        res("aws:ecs/cluster:Cluster", "jobs", {"settings": [{"name": "containerInsights", "value": "enabled"}]}),
        res("aws:ecs/service:Service", "api", {
            "desiredCount": 3, "deploymentMinimumHealthyPercent": 100, "deploymentMaximumPercent": 200,
            "deploymentCircuitBreaker": {"enable": True, "rollback": True}}),
        res("aws:ecs/taskDefinition:TaskDefinition", "api", {"family": "api", "containerDefinitions": json.dumps([
            {"name": "api", "image": f"registry.example.com/api{DIGEST}",
             "environment": [{"name": "LOG_LEVEL", "value": "info"}]}])}),
        res("aws:eks/cluster:Cluster", "platform", {"enabledClusterLogTypes": ["api", "audit", "authenticator"]}),
        res("aws:eks/nodeGroup:NodeGroup", "platform-nodes", {
            "subnetIds": ["subnet-0a", "subnet-0b", "subnet-0c"],
            "scalingConfig": {"minSize": 3, "maxSize": 6, "desiredSize": 3}}),
        res("aws:lambda/function:Function", "consumer", {
            "runtime": "python3.12", "timeout": 30, "reservedConcurrentExecutions": 10,
            "deadLetterConfig": {"targetArn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:orders-dlq-9f8e7d"},
            "tracingConfig": {"mode": "Active"}, "environment": {"variables": {"LOG_LEVEL": "info"}}}),
        res("aws:lambda/eventSourceMapping:EventSourceMapping", "consumer-orders", {
            "eventSourceArn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:orders-9f8e7d", "functionName": "consumer-5a6b",
            "functionResponseTypes": ["ReportBatchItemFailures"], "scalingConfig": {"maximumConcurrency": 5}}),
        res("aws:lambda/eventSourceMapping:EventSourceMapping", "consumer-stream", {
            "eventSourceArn": f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/clicks", "functionName": "consumer-5a6b",
            "maximumRetryAttempts": 3, "bisectBatchOnFunctionError": True,
            "destinationConfig": {"onFailure": {"destinationArn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:orders-dlq-9f8e7d"}}}),
        res("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig", "consumer-async", {
            "functionName": "consumer-5a6b", "maximumRetryAttempts": 1, "maximumEventAgeInSeconds": 3600,
            "destinationConfig": {"onFailure": {"destination": f"arn:aws:sqs:us-east-1:{ACCOUNT}:orders-dlq-9f8e7d"}}}),
        # --- Data ---------------------------------------------------------------
        res("aws:rds/globalCluster:GlobalCluster", "orders-global", {
            "globalClusterIdentifier": "orders", "engine": "aurora-postgresql", "deletionProtection": True,
            "storageEncrypted": True}, protect=True),
        res("aws:rds/cluster:Cluster", "orders", {
            "clusterIdentifier": "orders-primary", "engine": "aurora-postgresql", "deletionProtection": True,
            "backupRetentionPeriod": 14, "storageEncrypted": True, "skipFinalSnapshot": False,
            "finalSnapshotIdentifier": "orders-final", "globalClusterIdentifier": "orders",
            "manageMasterUserPassword": True, "copyTagsToSnapshot": True}, protect=True),
        *[res("aws:rds/clusterInstance:ClusterInstance", f"orders-{i}", {
            "clusterIdentifier": "orders-primary", "instanceClass": "db.r6g.large", "availabilityZone": f"us-east-1{az}",
            "monitoringInterval": 60, "performanceInsightsEnabled": True, "promotionTier": i}, protect=True)
          for i, az in ((1, "a"), (2, "b"))],
        res("aws:rds/instance:Instance", "legacy-db", {
            "multiAz": True, "deletionProtection": True, "backupRetentionPeriod": 7, "storageEncrypted": True,
            "manageMasterUserPassword": True, "monitoringInterval": 60, "performanceInsightsEnabled": True},
            protect=True),
        res("aws:elasticache/parameterGroup:ParameterGroup", "cache-params", {
            "family": "valkey8", "parameters": [{"name": "maxmemory-policy", "value": "allkeys-lru"}]}),
        res("aws:elasticache/replicationGroup:ReplicationGroup", "cache", {
            "automaticFailoverEnabled": True, "multiAzEnabled": True, "numCacheClusters": 2,
            "snapshotRetentionLimit": 7, "atRestEncryptionEnabled": True, "transitEncryptionEnabled": True,
            "transitEncryptionMode": "required", "parameterGroupName": "cache-params-77aa"}, protect=True),
        res("aws:dynamodb/table:Table", "sessions", {
            "billingMode": "PAY_PER_REQUEST", "pointInTimeRecovery": {"enabled": True},
            "deletionProtectionEnabled": True,
            "replicas": [{"regionName": "us-west-2", "pointInTimeRecovery": True, "deletionProtectionEnabled": True}]},
            protect=True),
        res("aws:efs/fileSystem:FileSystem", "shared", {"encrypted": True}, protect=True),
        res("aws:opensearch/domain:Domain", "search", {
            "clusterConfig": {"zoneAwarenessEnabled": True, "dedicatedMasterEnabled": True, "instanceCount": 3},
            "encryptAtRest": {"enabled": True}}, protect=True),
        res("aws:kms/key:Key", "data-key", {"enableKeyRotation": True}, protect=True),
        res("aws:s3/bucket:Bucket", "logs", {}, protect=True),
        res("aws:s3/bucketVersioning:BucketVersioning", "logs", {
            "bucket": "logs-4c5d6e", "versioningConfiguration": {"status": "Enabled"}}),
        res("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "logs", {
            "bucket": "logs-4c5d6e", "blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True,
            "restrictPublicBuckets": True}),
        res("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "logs", {
            "bucket": "logs-4c5d6e", "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}}]}),
        res("aws:s3/bucketReplicationConfig:BucketReplicationConfig", "logs", {
            "bucket": "logs-4c5d6e", "role": "arn:aws:iam::123456789012:role/replication",
            "rules": [{"status": "Enabled", "destination": {"bucket": "arn:aws:s3:::logs-west"}}]}),
        res("aws:sqs/queue:Queue", "orders", {
            "visibilityTimeoutSeconds": 180, "messageRetentionSeconds": 345600, "sqsManagedSseEnabled": True,
            "redrivePolicy": json.dumps({"deadLetterTargetArn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:orders-dlq-9f8e7d",
                                         "maxReceiveCount": 5}),
            "tags": {"reliability-stack:consumer-timeout-seconds": "30"}}),
        res("aws:sqs/queue:Queue", "orders-dlq", {
            "messageRetentionSeconds": 1209600, "sqsManagedSseEnabled": True,
            "redriveAllowPolicy": json.dumps({"redrivePermission": "byQueue"})}),
        # --- Edge ---------------------------------------------------------------
        res("aws:lb/loadBalancer:LoadBalancer", "web-alb", {
            "loadBalancerType": "application", "subnets": ["subnet-1a", "subnet-1b", "subnet-1c"],
            "enableDeletionProtection": True, "dropInvalidHeaderFields": True, "idleTimeout": 60,
            "accessLogs": {"bucket": "logs-4c5d6e", "enabled": True}}, parent=service_component),
        res("aws:lb/loadBalancer:LoadBalancer", "web-alb-west", {
            "loadBalancerType": "application", "subnets": ["subnet-2a", "subnet-2b"], "region": "us-west-2",
            "enableDeletionProtection": True, "dropInvalidHeaderFields": True, "idleTimeout": 60,
            "accessLogs": {"bucket": "logs-west", "enabled": True}}),
        res("aws:lb/targetGroup:TargetGroup", "web-tg", {
            "protocol": "HTTP", "port": 8080, "targetType": "instance", "deregistrationDelay": 30,
            "healthCheck": {"enabled": True, "path": "/healthz", "matcher": "200-399", "interval": 10,
                            "unhealthyThreshold": 3}}, parent=service_component),
        res("aws:lb/listener:Listener", "web-https", {
            "protocol": "HTTPS", "port": 443, "sslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
            "defaultActions": [{"type": "forward", "targetGroupArn": "arn:tg"}]}),
        res("aws:lb/listener:Listener", "web-http", {
            "protocol": "HTTP", "port": 80, "defaultActions": [
                {"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}}]}),
        res("aws:elb/loadBalancer:LoadBalancer", "legacy-elb", {
            "availabilityZones": ["us-east-1a", "us-east-1b"], "crossZoneLoadBalancing": True,
            "connectionDraining": True, "healthCheck": {"target": "HTTP:8080/healthz", "interval": 10}}),
        res("aws:cloudfront/distribution:Distribution", "cdn", {
            "enabled": True, "webAclId": "arn:aws:wafv2:us-east-1:123456789012:global/webacl/edge/1",
            "loggingConfig": {"bucket": "logs-4c5d6e.s3.amazonaws.com"},
            "origins": [
                {"originId": origin, "domainName": domain, "connectionAttempts": 3, "connectionTimeout": 5,
                 "customOriginConfig": {"originProtocolPolicy": "https-only", "originSslProtocols": ["TLSv1.2"],
                                        "originReadTimeout": 30, "originKeepaliveTimeout": 5, "httpPort": 80,
                                        "httpsPort": 443}}
                for origin, domain in (("primary", "web-alb-abc123.us-east-1.elb.amazonaws.com"),
                                       ("secondary", "web-alb-west-def456.us-west-2.elb.amazonaws.com"))],
            "originGroups": [{"originId": "failover", "failoverCriteria": {"statusCodes": [500, 502, 503, 504]},
                              "members": [{"originId": "primary"}, {"originId": "secondary"}]}],
            "defaultCacheBehavior": {"targetOriginId": "failover", "viewerProtocolPolicy": "redirect-to-https"},
            "customErrorResponses": [{"errorCode": 503, "errorCachingMinTtl": 5}],
            "viewerCertificate": {"acmCertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/1",
                                  "minimumProtocolVersion": "TLSv1.2_2021", "sslSupportMethod": "sni-only"}}),
        res("aws:wafv2/webAcl:WebAcl", "edge", {"scope": "CLOUDFRONT", "rules": [
            {"name": "rate", "priority": 1, "statement": {"rateBasedStatement": {"limit": 2000,
                                                                                "aggregateKeyType": "IP"}}}]}),
        res("aws:apigateway/methodSettings:MethodSettings", "api", {
            "methodPath": "*/*", "settings": {"throttlingBurstLimit": 500, "throttlingRateLimit": 1000}}),
        res("aws:apigateway/stage:Stage", "api", {"xrayTracingEnabled": True,
                                                  "accessLogSettings": {"destinationArn": "arn:logs"}}),
        res("aws:apigatewayv2/stage:Stage", "http-api", {"defaultRouteSettings": {
            "throttlingBurstLimit": 500, "throttlingRateLimit": 1000}}),
        res("aws:route53/healthCheck:HealthCheck", "api-primary", {
            "type": "HTTPS", "fqdn": "api-use1.example.com", "resourcePath": "/healthz", "failureThreshold": 3,
            "requestInterval": 10, "regions": ["us-east-1", "us-west-2", "eu-west-1"]}),
        res("aws:route53/record:Record", "api-primary", {
            "zoneId": "Z1", "name": "api.example.com", "type": "A", "setIdentifier": "primary",
            "healthCheckId": "api-primary-0f0f", "failoverRoutingPolicies": [{"type": "PRIMARY"}],
            "aliases": [{"name": "web-alb-abc123.us-east-1.elb.amazonaws.com", "zoneId": "Z35",
                         "evaluateTargetHealth": True}]}),
        res("aws:route53/record:Record", "api-secondary", {
            "zoneId": "Z1", "name": "api.example.com", "type": "A", "setIdentifier": "secondary",
            "failoverRoutingPolicies": [{"type": "SECONDARY"}],
            "aliases": [{"name": "web-alb-west-def456.us-west-2.elb.amazonaws.com", "zoneId": "Z36",
                         "evaluateTargetHealth": True}]}),
        # --- Observability ------------------------------------------------------
        res("aws:sns/topic:Topic", "alerts-page", {"kmsMasterKeyId": "alias/alerts", "tags": {"severity": "page"}}),
        res("aws:sns/topic:Topic", "alerts-ticket", {"kmsMasterKeyId": "alias/alerts",
                                                     "tags": {"severity": "ticket"}}),
        res("aws:sns/topicSubscription:TopicSubscription", "alerts-page-oncall", {
            "topic": PAGE_ARN, "protocol": "https", "endpoint": "https://pager.example.com/hook",
            "redrivePolicy": json.dumps({"deadLetterTargetArn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:orders-dlq-9f8e7d"})}),
        res("aws:sns/topicSubscription:TopicSubscription", "alerts-ticket-team", {
            "topic": TICKET_ARN, "protocol": "email", "endpoint": "team@example.com"}),
        res("reliability-stack:slo_alarms:SloAlarms", "web-slo", {}),
        *[res("aws:cloudwatch/metricAlarm:MetricAlarm", f"web-availability-page-1h-{w}", {
            "name": f"test-web-availability-page-1h-{w}", "comparisonOperator": "GreaterThanThreshold",
            "threshold": 0.0144, "evaluationPeriods": 1, "datapointsToAlarm": 1, "treatMissingData": "notBreaching",
            "metricQueries": _alarm_queries(w), "tags": {"slo": "web-availability", "severity": "page"}},
            parent=slo_component) for w in ("long", "short")],
        res("aws:cloudwatch/compositeAlarm:CompositeAlarm", "web-availability-page-1h", {
            "alarmName": "test-web-availability-page-1h", "actionsEnabled": True, "alarmActions": [PAGE_ARN],
            "alarmRule": 'ALARM("test-web-availability-page-1h-long") AND ALARM("test-web-availability-page-1h-short")',
            "tags": {"slo": "web-availability", "severity": "page"}}, parent=slo_component),
        *[res("aws:cloudwatch/metricAlarm:MetricAlarm", f"{lb}-5xx", {
            "name": f"{lb}-5xx", "namespace": "AWS/ApplicationELB", "metricName": "HTTPCode_Target_5XX_Count",
            "dimensions": {"LoadBalancer": f"app/{lb}/abc123"}, "statistic": "Sum", "period": 60,
            "evaluationPeriods": 3, "datapointsToAlarm": 2, "threshold": 5, "treatMissingData": "notBreaching",
            "comparisonOperator": "GreaterThanThreshold", "alarmActions": [TICKET_ARN]})
          for lb in ("web-alb", "web-alb-west")],
        res("aws:cloudwatch/metricAlarm:MetricAlarm", "orders-age", {
            "name": "orders-age", "namespace": "AWS/SQS", "metricName": "ApproximateAgeOfOldestMessage",
            "dimensions": {"QueueName": "orders-9f8e7d"}, "statistic": "Maximum", "period": 60,
            "evaluationPeriods": 5, "datapointsToAlarm": 5, "threshold": 600, "treatMissingData": "notBreaching",
            "comparisonOperator": "GreaterThanThreshold", "alarmActions": [TICKET_ARN]}),
        res("aws:cloudwatch/logGroup:LogGroup", "app", {"retentionInDays": 30}),
        res("aws:cloudwatch/eventTarget:EventTarget", "nightly", {
            "rule": "nightly", "arn": "arn:aws:lambda:us-east-1:123456789012:function:consumer-5a6b",
            "deadLetterConfig": {"arn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:orders-dlq-9f8e7d"},
            "retryPolicy": {"maximumRetryAttempts": 3, "maximumEventAgeInSeconds": 3600}}),
        # --- Gaps beyond the components -------------------------------------------
        res("aws:ecr/repository:Repository", "web", {"imageTagMutability": "IMMUTABLE"}),
        res("aws:mq/broker:Broker", "events", {"deploymentMode": "ACTIVE_STANDBY_MULTI_AZ"}),
        res("aws:msk/cluster:Cluster", "stream", {"numberOfBrokerNodes": 3, "brokerNodeGroupInfo": {
            "clientSubnets": ["subnet-0a", "subnet-0b", "subnet-0c"], "instanceType": "kafka.m7g.large"}}),
        res("aws:ec2/vpc:Vpc", "east", {"cidrBlock": "10.0.0.0/16"}),
        res("aws:ec2/vpc:Vpc", "west", {"cidrBlock": "10.1.0.0/16", "region": "us-west-2"}),
        res("kubernetes:networking.istio.io/v1:VirtualService", "web", {"metadata": {"name": "web", **ns}, "spec": {
            "hosts": ["web"], "http": [{"timeout": "3s", "retries": {"attempts": 2, "perTryTimeout": "1s"},
                                        "route": [{"destination": {"host": "web"}}]}]}}),
        res("kubernetes:networking.istio.io/v1:DestinationRule", "web", {"metadata": {"name": "web", **ns}, "spec": {
            "host": "web", "trafficPolicy": {"outlierDetection": {"consecutive5xxErrors": 5},
                                             "connectionPool": {"http": {"http1MaxPendingRequests": 100}}}}}),
    ]
    return resources


@dataclass(frozen=True)
class Mutation:
    """Turn one setting of one resource down; `policy` must report it."""

    policy: str
    resource: str  # "<type>::<name>" suffix of the URN
    path: str
    value: Any

    @property
    def label(self) -> str:
        return f"{self.policy}:{self.resource.rsplit('::', 1)[-1]}:{self.path}"


PATH_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def set_path(document: dict[str, Any], path: str, value: Any) -> None:
    """Set (or with DELETE remove) `a.b[0].c` inside `document`, creating mappings on the way."""
    steps = [int(index) if index else key for key, index in PATH_STEP.findall(path)]
    target: Any = document
    for step in steps[:-1]:
        target = target[step] if isinstance(step, int) else target.setdefault(step, {})
    last = steps[-1]
    if value is DELETE:
        if isinstance(target, dict):
            target.pop(last, None)
        else:
            del target[last]
    else:
        target[last] = value


def mutate(resources: list[dict[str, Any]], mutation: Mutation) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """`resources` with the mutation applied to a copy of its target; also returns the mutated resource."""
    positions = [i for i, r in enumerate(resources) if f"{r['type']}::{r['name']}" == mutation.resource]
    assert len(positions) == 1, f"mutation target {mutation.resource} matches {len(positions)} resources"
    changed = list(resources)
    target = changed[positions[0]] = copy.deepcopy(resources[positions[0]])
    if mutation.path.startswith("@"):  # options and identity: @protect, @parent, @ignoreChanges
        key = mutation.path[1:]
        if key == "parent":
            target["parent"] = mutation.value
        elif key == "type":
            target["type"], target["urn"] = mutation.value, urn(mutation.value, target["name"])
        else:
            target["options"][key] = mutation.value
    else:
        set_path(target["props"], mutation.path, mutation.value)
    return changed, target


DEP = "kubernetes:apps/v1:Deployment::web"
CONTAINER = "spec.template.spec.containers[0]"
CRON = "kubernetes:batch/v1:CronJob::report"
ASG = "aws:autoscaling/group:Group::web-asg"
LT = "aws:ec2/launchTemplate:LaunchTemplate::web-lt"
CDN = "aws:cloudfront/distribution:Distribution::cdn"
ORIGIN = "origins[0]"

MUTATIONS: list[Mutation] = [
    # Kubernetes, one resource
    Mutation("k8s-workload-probes", DEP, f"{CONTAINER}.readinessProbe", DELETE),
    Mutation("k8s-workload-probes", DEP, f"{CONTAINER}.livenessProbe", {"httpGet": {"path": "/ready", "port": 8080},
                                                                         "periodSeconds": 5}),
    Mutation("k8s-workload-probes", DEP, f"{CONTAINER}.livenessProbe", {"exec": {"command": ["sh", "-c", "curl x"]}}),
    Mutation("k8s-workload-spread", DEP, "spec.template.spec.topologySpreadConstraints", []),
    Mutation("k8s-container-resources", DEP, f"{CONTAINER}.resources.limits.memory", DELETE),
    Mutation("k8s-container-resources", CRON, "spec.jobTemplate.spec.template.spec.containers[0].resources", {}),
    Mutation("k8s-guaranteed-memory", DEP, f"{CONTAINER}.resources.limits.memory", "1Gi"),
    Mutation("k8s-ephemeral-storage", DEP, f"{CONTAINER}.resources.requests.ephemeral-storage", DELETE),
    Mutation("k8s-image-immutable", DEP, f"{CONTAINER}.image", "registry.example.com/web:latest"),
    Mutation("k8s-image-immutable", DEP, f"{CONTAINER}.image", "registry.example.com/web:1.4.2"),
    Mutation("k8s-priority-class", DEP, "spec.template.spec.priorityClassName", DELETE),
    Mutation("k8s-rolling-update", DEP, "spec.strategy", {"type": "Recreate"}),
    Mutation("k8s-rolling-update", DEP, "spec.strategy.rollingUpdate.maxUnavailable", "25%"),
    Mutation("k8s-rolling-update", DEP, "spec.minReadySeconds", 0),
    Mutation("k8s-job-bounded", CRON, "spec.startingDeadlineSeconds", DELETE),
    Mutation("k8s-job-bounded", CRON, "spec.jobTemplate.spec.backoffLimit", 50),
    Mutation("k8s-graceful-termination", DEP, f"{CONTAINER}.lifecycle", DELETE),
    Mutation("k8s-graceful-termination", DEP, "spec.template.spec.terminationGracePeriodSeconds", 600),
    Mutation("k8s-safe-to-evict", DEP, "spec.template.spec.volumes", [{"name": "tmp", "emptyDir": {}}]),
    Mutation("k8s-pod-security", DEP, f"{CONTAINER}.securityContext.privileged", True),
    Mutation("k8s-pod-security", CRON, "spec.jobTemplate.spec.template.spec.containers[0].securityContext"
                                       ".readOnlyRootFilesystem", False),
    Mutation("k8s-pdb-allows-disruption", "kubernetes:policy/v1:PodDisruptionBudget::web", "spec.maxUnavailable", 0),
    Mutation("k8s-hpa-bounds", "kubernetes:autoscaling/v2:HorizontalPodAutoscaler::web", "spec.minReplicas", 1),
    Mutation("k8s-hpa-bounds", "kubernetes:autoscaling/v2:HorizontalPodAutoscaler::web", "spec.maxReplicas", 3),
    Mutation("no-plaintext-secrets", DEP, f"{CONTAINER}.env[0]", {"name": "DB_PASSWORD", "value": "hunter2"}),
    # Kubernetes, across resources
    Mutation("k8s-workload-replicas", DEP, "spec.replicas", 3),
    Mutation("k8s-workload-replicas", "kubernetes:autoscaling/v2:HorizontalPodAutoscaler::web",
             "spec.scaleTargetRef.name", "other"),
    Mutation("k8s-pdb-coverage", "kubernetes:policy/v1:PodDisruptionBudget::web", "spec.selector.matchLabels.app",
             "api"),
    Mutation("k8s-pdb-coverage", "kubernetes:policy/v1:PodDisruptionBudget::web", "spec", {
        "minAvailable": 3, "selector": {"matchLabels": {"app": "web"}}}),
    Mutation("k8s-hpa-coverage", "kubernetes:autoscaling/v2:HorizontalPodAutoscaler::web", "spec.scaleTargetRef.name",
             "gone"),
    Mutation("k8s-network-policy", "kubernetes:networking.k8s.io/v1:NetworkPolicy::default-deny", "spec.podSelector",
             {"matchLabels": {"app": "db"}}),
    Mutation("k8s-namespace-quota", "kubernetes:core/v1:ResourceQuota::shop", "metadata.namespace", "other"),
    Mutation("k8s-service-wiring", "kubernetes:core/v1:Service::web", "spec.selector", {"app": "wbe"}),
    Mutation("k8s-stable-api-versions", "kubernetes:policy/v1:PodDisruptionBudget::web", "@type",
             "kubernetes:policy/v1beta1:PodDisruptionBudget"),
    Mutation("k8s-no-bare-pods", DEP, "@type", "kubernetes:core/v1:Pod"),
    # Compute
    Mutation("aws-asg-elb-health-check", ASG, "healthCheckType", "EC2"),
    Mutation("aws-asg-launch-template", ASG, "launchTemplate.version", "$Latest"),
    Mutation("aws-asg-instance-refresh", ASG, "instanceRefresh", DELETE),
    Mutation("aws-asg-instance-refresh", ASG, "instanceRefresh.preferences.minHealthyPercentage", 50),
    Mutation("aws-asg-zonal-redundancy", ASG, "vpcZoneIdentifiers", ["subnet-0a"]),
    Mutation("aws-asg-zonal-redundancy", ASG, "minSize", 1),
    Mutation("aws-asg-static-stability", ASG, "minSize", 2),
    Mutation("aws-asg-scaling-hygiene", ASG, "enabledMetrics", DELETE),
    Mutation("aws-instance-metadata-v2", LT, "metadataOptions.httpTokens", "optional"),
    Mutation("aws-image-immutable", LT, "imageId", "resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023"),
    Mutation("aws-image-immutable", "aws:ecs/taskDefinition:TaskDefinition::api", "containerDefinitions",
             json.dumps([{"name": "api", "image": "registry.example.com/api:latest"}])),
    Mutation("aws-detailed-monitoring", LT, "monitoring.enabled", False),
    Mutation("aws-instance-termination-protection", "aws:ec2/instance:Instance::bastion", "disableApiTermination",
             False),
    Mutation("aws-ecs-service-resilience", "aws:ecs/service:Service::api", "deploymentCircuitBreaker.rollback", False),
    Mutation("aws-ecs-service-resilience", "aws:ecs/service:Service::api", "desiredCount", 1),
    Mutation("aws-container-insights", "aws:eks/cluster:Cluster::platform", "enabledClusterLogTypes", ["api"]),
    Mutation("aws-eks-nodegroup-zonal", "aws:eks/nodeGroup:NodeGroup::platform-nodes", "subnetIds", ["subnet-0a"]),
    Mutation("aws-lambda-resilience", "aws:lambda/function:Function::consumer", "timeout", DELETE),
    Mutation("aws-lambda-bounded-retries", "aws:lambda/eventSourceMapping:EventSourceMapping::consumer-stream",
             "maximumRetryAttempts", -1),
    Mutation("aws-lambda-bounded-retries", "aws:lambda/eventSourceMapping:EventSourceMapping::consumer-orders",
             "functionResponseTypes", []),
    Mutation("no-plaintext-secrets", "aws:lambda/function:Function::consumer", "environment.variables.API_TOKEN",
             "tok-123"),
    # Data
    Mutation("aws-rds-multi-az", "aws:rds/instance:Instance::legacy-db", "multiAz", False),
    Mutation("aws-database-deletion-protection", "aws:rds/cluster:Cluster::orders", "deletionProtection", False),
    Mutation("aws-database-deletion-protection", "aws:dynamodb/table:Table::sessions",
             "replicas[0].deletionProtectionEnabled", False),
    Mutation("aws-database-backups", "aws:rds/cluster:Cluster::orders", "backupRetentionPeriod", 1),
    Mutation("aws-database-backups", "aws:rds/cluster:Cluster::orders", "skipFinalSnapshot", True),
    Mutation("aws-aurora-backtrack", "aws:rds/cluster:Cluster::orders", "engine", "aurora-mysql"),
    Mutation("aws-rds-monitoring", "aws:rds/clusterInstance:ClusterInstance::orders-1", "monitoringInterval", 0),
    Mutation("aws-auto-minor-upgrades", "aws:rds/clusterInstance:ClusterInstance::orders-1",
             "autoMinorVersionUpgrade", False),
    Mutation("aws-elasticache-failover", "aws:elasticache/replicationGroup:ReplicationGroup::cache",
             "automaticFailoverEnabled", False),
    Mutation("aws-elasticache-failover", "aws:elasticache/replicationGroup:ReplicationGroup::cache",
             "numCacheClusters", 1),
    Mutation("aws-elasticache-backups", "aws:elasticache/replicationGroup:ReplicationGroup::cache",
             "snapshotRetentionLimit", 0),
    Mutation("aws-cache-eviction-policy", "aws:elasticache/parameterGroup:ParameterGroup::cache-params",
             "parameters[0].value", "noeviction"),
    Mutation("aws-cache-eviction-policy", "aws:elasticache/replicationGroup:ReplicationGroup::cache",
             "parameterGroupName", "default.valkey8"),
    Mutation("aws-dynamodb-pitr", "aws:dynamodb/table:Table::sessions", "pointInTimeRecovery.enabled", False),
    Mutation("aws-efs-multi-az", "aws:efs/fileSystem:FileSystem::shared", "availabilityZoneName", "us-east-1a"),
    Mutation("aws-opensearch-fault-tolerance", "aws:opensearch/domain:Domain::search",
             "clusterConfig.zoneAwarenessEnabled", False),
    Mutation("stateful-resources-protected", "aws:rds/cluster:Cluster::orders", "@protect", False),
    Mutation("stateful-resources-protected", "aws:s3/bucket:Bucket::logs", "@protect", False),
    Mutation("aws-encryption-at-rest", "aws:rds/cluster:Cluster::orders", "storageEncrypted", False),
    Mutation("aws-encryption-at-rest", "aws:sns/topic:Topic::alerts-page", "kmsMasterKeyId", DELETE),
    Mutation("aws-encryption-at-rest", LT, "blockDeviceMappings[0].ebs.encrypted", False),
    Mutation("aws-encryption-in-transit", "aws:elasticache/replicationGroup:ReplicationGroup::cache",
             "transitEncryptionMode", "preferred"),
    Mutation("aws-encryption-in-transit", "aws:lb/listener:Listener::web-http", "defaultActions",
             [{"type": "forward", "targetGroupArn": "arn:tg"}]),
    Mutation("aws-encryption-in-transit", CDN, "defaultCacheBehavior.viewerProtocolPolicy", "allow-all"),
    Mutation("aws-tls-minimum-version", "aws:lb/listener:Listener::web-https", "sslPolicy",
             "ELBSecurityPolicy-2016-08"),
    Mutation("aws-tls-minimum-version", CDN, "viewerCertificate.minimumProtocolVersion", "TLSv1"),
    Mutation("no-plaintext-secrets", "aws:ecs/taskDefinition:TaskDefinition::api", "containerDefinitions",
             json.dumps([{"name": "api", "image": f"registry.example.com/api{DIGEST}",
                          "environment": [{"name": "DB_PASSWORD", "value": "hunter2"}]}])),
    Mutation("aws-sqs-dead-letter", "aws:sqs/queue:Queue::orders", "redrivePolicy", DELETE),
    Mutation("aws-sqs-dead-letter", "aws:sqs/queue:Queue::orders", "redrivePolicy",
             json.dumps({"deadLetterTargetArn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:orders-dlq-9f8e7d",
                         "maxReceiveCount": 1000})),
    Mutation("aws-sqs-dead-letter", "aws:sqs/queue:Queue::orders-dlq", "messageRetentionSeconds", 60),
    Mutation("aws-s3-versioning", "aws:s3/bucketVersioning:BucketVersioning::logs",
             "versioningConfiguration.status", "Suspended"),
    Mutation("aws-s3-no-public-access", "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock::logs",
             "restrictPublicBuckets", False),
    Mutation("aws-s3-encryption", "aws:s3/bucketServerSideEncryptionConfiguration:"
                                  "BucketServerSideEncryptionConfiguration::logs", "bucket", "other-bucket"),
    Mutation("aws-s3-replication", "aws:s3/bucketReplicationConfig:BucketReplicationConfig::logs", "bucket",
             "other-bucket"),
    Mutation("aws-data-multi-region", "aws:dynamodb/table:Table::sessions", "replicas", []),
    Mutation("aws-dynamodb-autoscaling", "aws:dynamodb/table:Table::sessions", "billingMode", "PROVISIONED"),
    Mutation("aws-aurora-cluster-instances", "aws:rds/clusterInstance:ClusterInstance::orders-2",
             "clusterIdentifier", "elsewhere"),
    Mutation("aws-aurora-cluster-instances", "aws:rds/clusterInstance:ClusterInstance::orders-2",
             "availabilityZone", "us-east-1a"),
    # Edge
    Mutation("aws-lb-deletion-protection", "aws:lb/loadBalancer:LoadBalancer::web-alb", "enableDeletionProtection",
             False),
    Mutation("aws-lb-zonal-redundancy", "aws:lb/loadBalancer:LoadBalancer::web-alb", "subnets", ["subnet-1a"]),
    Mutation("aws-lb-zonal-redundancy", "aws:elb/loadBalancer:LoadBalancer::legacy-elb", "connectionDraining", False),
    Mutation("aws-alb-hardening", "aws:lb/loadBalancer:LoadBalancer::web-alb", "dropInvalidHeaderFields", False),
    Mutation("aws-target-group-health-check", "aws:lb/targetGroup:TargetGroup::web-tg", "healthCheck.path", "/"),
    Mutation("aws-target-group-health-check", "aws:lb/targetGroup:TargetGroup::web-tg", "healthCheck.interval", 60),
    Mutation("aws-target-group-drain", "aws:lb/targetGroup:TargetGroup::web-tg", "deregistrationDelay", DELETE),
    Mutation("aws-cloudfront-origin-failover", CDN, "originGroups", []),
    Mutation("aws-cloudfront-origin-failover", CDN, "originGroups[0].members", [{"originId": "primary"}]),
    Mutation("aws-cloudfront-origin-timeouts", CDN, f"{ORIGIN}.connectionTimeout", 10),
    Mutation("aws-cloudfront-error-caching", CDN, "customErrorResponses[0].errorCachingMinTtl", 300),
    Mutation("aws-edge-protection", CDN, "webAclId", DELETE),
    Mutation("aws-edge-protection", "aws:wafv2/webAcl:WebAcl::edge", "rules", []),
    Mutation("aws-edge-protection", "aws:apigateway/methodSettings:MethodSettings::api",
             "settings.throttlingRateLimit", -1),
    Mutation("aws-apigateway-stage", "aws:apigateway/stage:Stage::api", "xrayTracingEnabled", False),
    Mutation("aws-route53-failover-health", "aws:route53/record:Record::api-primary", "healthCheckId", DELETE),
    Mutation("aws-route53-failover-health", "aws:route53/record:Record::api-primary",
             "aliases[0].evaluateTargetHealth", False),
    Mutation("aws-route53-health-check-quality", "aws:route53/healthCheck:HealthCheck::api-primary",
             "resourcePath", "/"),
    Mutation("aws-route53-health-check-quality", "aws:route53/healthCheck:HealthCheck::api-primary", "regions",
             ["us-east-1"]),
    Mutation("aws-dns-failover-pairs", "aws:route53/record:Record::api-secondary", "failoverRoutingPolicies",
             [{"type": "PRIMARY"}]),
    Mutation("aws-dns-failover-pairs", "aws:route53/record:Record::api-primary", "healthCheckId", "hc-unknown"),
    Mutation("aws-nat-per-az", "aws:ec2/natGateway:NatGateway::nat-b", "@type", "aws:ec2/eip:Eip"),
    Mutation("timeout-ordering", CDN, f"{ORIGIN}.customOriginConfig.originKeepaliveTimeout", 60),
    Mutation("timeout-ordering", CDN, f"{ORIGIN}.customOriginConfig.originReadTimeout", 90),
    Mutation("timeout-ordering", "aws:sqs/queue:Queue::orders", "visibilityTimeoutSeconds", 60),
    Mutation("timeout-ordering", "aws:lambda/function:Function::consumer", "timeout", 60),
    Mutation("timeout-ordering", "aws:lb/targetGroup:TargetGroup::web-tg", "deregistrationDelay", 60),
    Mutation("timeout-ordering", DEP, "spec.template.spec.terminationGracePeriodSeconds", 20),
    # Observability
    Mutation("aws-alarm-actions", "aws:cloudwatch/metricAlarm:MetricAlarm::orders-age", "alarmActions", []),
    Mutation("aws-alarm-actions", "aws:cloudwatch/compositeAlarm:CompositeAlarm::web-availability-page-1h",
             "actionsEnabled", False),
    Mutation("aws-alarm-hygiene", "aws:cloudwatch/metricAlarm:MetricAlarm::orders-age", "treatMissingData", DELETE),
    Mutation("aws-alarm-hygiene", "aws:cloudwatch/metricAlarm:MetricAlarm::orders-age", "datapointsToAlarm", 9),
    Mutation("aws-alarm-topic-subscribed", "aws:sns/topicSubscription:TopicSubscription::alerts-ticket-team",
             "topic", f"arn:aws:sns:us-east-1:{ACCOUNT}:elsewhere-1"),
    Mutation("slo-burn-rate-alarms", "aws:cloudwatch/compositeAlarm:CompositeAlarm::web-availability-page-1h",
             "alarmActions", [TICKET_ARN]),
    Mutation("slo-burn-rate-alarms", "aws:cloudwatch/compositeAlarm:CompositeAlarm::web-availability-page-1h",
             "alarmRule", 'ALARM("test-web-availability-page-1h-long")'),
    Mutation("slo-burn-rate-alarms", "kubernetes:monitoring.coreos.com/v1:PrometheusRule::web-slo",
             "spec.groups[0].rules[0].labels.severity", "ticket"),
    Mutation("aws-component-alarms", "aws:cloudwatch/metricAlarm:MetricAlarm::orders-age", "metricName",
             "NumberOfMessagesSent"),
    Mutation("aws-log-retention", "aws:cloudwatch/logGroup:LogGroup::app", "retentionInDays", DELETE),
    Mutation("delivery-dead-letter", "aws:sns/topicSubscription:TopicSubscription::alerts-page-oncall",
             "redrivePolicy", DELETE),
    Mutation("delivery-dead-letter", "aws:cloudwatch/eventTarget:EventTarget::nightly", "retryPolicy", DELETE),
    # Gaps beyond the components
    Mutation("aws-image-immutable", "aws:ecr/repository:Repository::web", "imageTagMutability", "MUTABLE"),
    Mutation("create-before-destroy", "aws:lb/loadBalancer:LoadBalancer::web-alb", "@deleteBeforeReplace", True),
    Mutation("aws-broker-multi-az", "aws:mq/broker:Broker::events", "deploymentMode", "SINGLE_INSTANCE"),
    Mutation("aws-broker-multi-az", "aws:msk/cluster:Cluster::stream", "numberOfBrokerNodes", 4),
    Mutation("aws-vpc-cidr-overlap", "aws:ec2/vpc:Vpc::west", "cidrBlock", "10.0.128.0/17"),
    Mutation("mesh-timeouts-and-retries", "kubernetes:networking.istio.io/v1:VirtualService::web",
             "spec.http[0].timeout", DELETE),
    Mutation("mesh-timeouts-and-retries", "kubernetes:networking.istio.io/v1:VirtualService::web",
             "spec.http[0].retries.attempts", 5),
    Mutation("mesh-timeouts-and-retries", "kubernetes:networking.istio.io/v1:DestinationRule::web",
             "spec.trafficPolicy.outlierDetection", DELETE),
]
