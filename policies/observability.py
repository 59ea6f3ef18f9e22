"""Alarm hygiene and log retention, decided by one resource's inputs (A39, G3)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from reliability_stack.policies.registry import resource_rule
from reliability_stack.policies.view import ResourceView, fmt, number

METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"


@resource_rule(
    id="aws-alarm-hygiene",
    description="Metric alarms state how missing data counts and how many datapoints must breach.",
    remediation="Set treatMissingData explicitly (notBreaching/breaching/ignore) and datapointsToAlarm <= "
                "evaluationPeriods.",
    anchors=["G3"],
    techniques=["MON"],
    types=(METRIC_ALARM,),
)
def alarm_hygiene(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    if r.get("treatMissingData") is None:
        yield "treatMissingData is implicit ('missing'): a silent metric leaves the alarm stuck"
    points, periods = number(r.get("datapointsToAlarm")), number(r.get("evaluationPeriods"))
    if points is None:
        yield "datapointsToAlarm is implicit"
    elif periods is not None and points > periods:
        yield f"datapointsToAlarm {fmt(points)} exceeds evaluationPeriods {fmt(periods)}: the alarm can never fire"


@resource_rule(
    id="aws-log-retention",
    description="Log groups keep logs for a bounded, sufficient time.",
    remediation="Set retentionInDays >= minRetentionDays (never 0/unset, which keeps logs forever at growing cost).",
    anchors=["A39", "CKV_AWS_66", "CKV_AWS_338"],
    techniques=["MON"],
    types=(LOG_GROUP,),
    config={"minRetentionDays": {"type": "number", "default": 14, "minimum": 1}},
)
def log_retention(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    days = number(r.get("retentionInDays"))
    if not days:
        yield "no retentionInDays: logs are kept forever"
    elif days < config["minRetentionDays"]:
        yield f"retentionInDays {fmt(days)} is below {fmt(config['minRetentionDays'])}"


@resource_rule(
    id="delivery-dead-letter",
    description="SNS subscriptions to machines and EventBridge targets keep undeliverable messages and retry boundedly.",
    remediation="Give sqs/lambda/https/firehose subscriptions a redrivePolicy with a deadLetterTargetArn; give "
                "EventBridge targets deadLetterConfig.arn and retryPolicy {maximumRetryAttempts, "
                "maximumEventAgeInSeconds}.",
    anchors=["A36", "G5", "SNSRedrivePolicy", "EventBusDLQ"],
    techniques=["LR", "RES"],
    types=("aws:sns/topicSubscription:TopicSubscription", "aws:cloudwatch/eventTarget:EventTarget"),
    enforcement="advisory",
    severity="medium",
)
def delivery_dead_letter(r: ResourceView, config: Mapping[str, Any]) -> Iterator[str]:
    if r.type == "aws:cloudwatch/eventTarget:EventTarget":
        if r.get("deadLetterConfig", "arn") is None:
            yield "no deadLetterConfig: events that fail delivery are dropped"
        if r.get("retryPolicy") is None:
            yield "no retryPolicy: retries follow the 24 h / 185 attempts default"
        return
    if str(r.get("protocol", default="")) in ("sqs", "lambda", "https", "http", "firehose") and not r.get(
            "redrivePolicy"):
        yield f"{r.get('protocol')} subscription without a redrivePolicy: undeliverable alerts vanish"
