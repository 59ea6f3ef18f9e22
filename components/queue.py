"""Load-levelling SQS queue with a dead-letter queue, bounded retries and backlog alarms.

A queue absorbs bursts that the consumers cannot serve right now; a poison message must
not circulate forever, so after `max_receive_count` failed receives it moves to a DLQ that
keeps it for 14 days. The visibility timeout is at least six times the consumer's timeout
(a message is not redelivered while a slow consumer still works on it) and consumers long
poll for 20 s. Alarms fire on anything in the DLQ and on a growing backlog.

Usage::

    from reliability_stack.components.queue import Queue, QueueArgs

    orders = Queue("orders", QueueArgs(
        service="checkout",
        consumer_timeout_seconds=30,          # visibility timeout becomes 180 s
        alarm_topic_arn=ticket_topic.arn,
    ))
    pulumi.export("ordersQueueUrl", orders.queue_url)
"""

# No `from __future__ import annotations`: the component provider reads these annotations
# at runtime to build the package schema.
import json
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from reliability_stack.errors import ComponentArgsError
from reliability_stack.resource_tags import standard_tags

TYPE_TOKEN = "reliability-stack:queue:Queue"
COMPONENT = "Queue"

DLQ_RETENTION_SECONDS = 14 * 24 * 3600  # the SQS maximum: time to inspect and redrive
MAX_RETENTION_SECONDS = 14 * 24 * 3600
MAX_VISIBILITY_TIMEOUT_SECONDS = 12 * 3600
VISIBILITY_TO_CONSUMER_RATIO = 6
# Read by the policy pack's timeout-ordering rule, which cannot see the consumer itself.
CONSUMER_TIMEOUT_TAG = "reliability-stack:consumer-timeout-seconds"


@dataclass
class QueueArgs:
    """Arguments of `Queue`. Defaults are the resilient choice; each knob says what it turns down."""

    service: str
    """Service that owns the queue (tag `reliability-stack:service`)."""

    consumer_timeout_seconds: int
    """Timeout of one consumer invocation (e.g. the Lambda timeout). The visibility timeout is derived from it."""

    alarm_topic_arn: pulumi.Input[str]
    """SNS topic that receives the DLQ-depth and oldest-message-age alarms (and their recovery)."""

    visibility_timeout_seconds: int | None = None
    """Defaults to 6 x `consumer_timeout_seconds`; a smaller value is rejected (duplicate processing)."""

    max_receive_count: int = 5
    """Receives before a message moves to the DLQ; bounded to 3-5 (retries without a poison-message loop)."""

    message_retention_seconds: int = 4 * 24 * 3600
    """Retention of the source queue; must not exceed the DLQ's 14 days, or expired retries vanish silently."""

    receive_wait_time_seconds: int = 20
    """Long polling. Lower values (down to 0 = short polling) cost more empty receives."""

    max_message_age_seconds: int = 900
    """Alarm threshold on `ApproximateAgeOfOldestMessage` of the source queue (consumers falling behind)."""

    kms_key_arn: pulumi.Input[str] | None = None
    """Customer-managed KMS key for SSE; by default SQS-managed SSE is used (still encrypted)."""

    fifo: bool = False
    """FIFO queues (ordering, exactly-once) with content-based deduplication; standard by default."""

    protect: bool = True
    """Pulumi `protect` on both queues: they hold messages. Turn off only for throwaway stacks."""

    region: str | None = None
    """Region of the queues and alarms (pulumi-aws 7 `region`); None means the provider's region."""

    tags: dict[str, str] = field(default_factory=dict)
    """Extra tags; `reliability-stack:stack` and `reliability-stack:service` are always added."""

    def visibility_timeout(self) -> int:
        if self.visibility_timeout_seconds is not None:
            return self.visibility_timeout_seconds
        return VISIBILITY_TO_CONSUMER_RATIO * self.consumer_timeout_seconds

    def validate(self) -> None:
        """Raise ComponentArgsError, naming the argument, on an impossible or unsafe combination."""
        if not self.service:
            raise ComponentArgsError(COMPONENT, "service", "must name the owning service")
        if self.consumer_timeout_seconds < 1:
            raise ComponentArgsError(COMPONENT, "consumer_timeout_seconds", "must be at least 1 second")
        visibility = self.visibility_timeout()
        minimum = VISIBILITY_TO_CONSUMER_RATIO * self.consumer_timeout_seconds
        if visibility < minimum:
            raise ComponentArgsError(
                COMPONENT, "visibility_timeout_seconds",
                f"{visibility} s is below {VISIBILITY_TO_CONSUMER_RATIO} x consumer_timeout_seconds "
                f"({minimum} s): messages would be redelivered while a consumer still works on them")
        if visibility > MAX_VISIBILITY_TIMEOUT_SECONDS:
            raise ComponentArgsError(
                COMPONENT, "visibility_timeout_seconds",
                f"{visibility} s exceeds the SQS maximum of {MAX_VISIBILITY_TIMEOUT_SECONDS} s "
                "(lower consumer_timeout_seconds)")
        if not 3 <= self.max_receive_count <= 5:
            raise ComponentArgsError(
                COMPONENT, "max_receive_count",
                f"{self.max_receive_count} is outside 3-5: fewer dead-letters transient failures, "
                "more keeps poison messages circulating")
        if not 60 <= self.message_retention_seconds <= MAX_RETENTION_SECONDS:
            raise ComponentArgsError(COMPONENT, "message_retention_seconds", "must be between 60 s and 14 days")
        if not 0 <= self.receive_wait_time_seconds <= 20:
            raise ComponentArgsError(COMPONENT, "receive_wait_time_seconds", "must be between 0 and 20 seconds")
        if not 60 <= self.max_message_age_seconds < self.message_retention_seconds:
            raise ComponentArgsError(
                COMPONENT, "max_message_age_seconds",
                "must be at least 60 s and below message_retention_seconds, or the alarm fires after messages expire")


class Queue(pulumi.ComponentResource):
    """SQS queue + DLQ with separate redrive and redrive-allow policies and two backlog alarms."""

    queue_url: pulumi.Output[str]
    queue_arn: pulumi.Output[str]
    dead_letter_queue_url: pulumi.Output[str]
    dead_letter_queue_arn: pulumi.Output[str]

    def __init__(self, name: str, args: QueueArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        args.validate()
        super().__init__(TYPE_TOKEN, name, {}, opts)
        tags = standard_tags(pulumi.get_stack(), args.service, args.tags)
        child = pulumi.ResourceOptions(parent=self)
        stateful = pulumi.ResourceOptions(parent=self, protect=args.protect)
        encryption: dict[str, Any] = (
            {"kms_master_key_id": args.kms_key_arn, "kms_data_key_reuse_period_seconds": 300}
            if args.kms_key_arn is not None else {"sqs_managed_sse_enabled": True})
        fifo: dict[str, Any] = {"fifo_queue": args.fifo}
        if args.fifo:
            fifo["content_based_deduplication"] = True

        dlq = aws.sqs.Queue(
            f"{name}-dlq",
            message_retention_seconds=DLQ_RETENTION_SECONDS,
            receive_wait_time_seconds=args.receive_wait_time_seconds,
            visibility_timeout_seconds=args.visibility_timeout(),
            region=args.region, tags=tags, opts=stateful, **encryption, **fifo)
        queue = aws.sqs.Queue(
            name,
            message_retention_seconds=args.message_retention_seconds,
            receive_wait_time_seconds=args.receive_wait_time_seconds,
            visibility_timeout_seconds=args.visibility_timeout(),
            region=args.region, tags={**tags, CONSUMER_TIMEOUT_TAG: str(args.consumer_timeout_seconds)},
            opts=stateful, **encryption, **fifo)

        # Separate policy resources break the queue <-> DLQ reference cycle.
        aws.sqs.RedrivePolicy(
            f"{name}-redrive",
            queue_url=queue.url,
            redrive_policy=dlq.arn.apply(lambda arn: json.dumps(
                {"deadLetterTargetArn": arn, "maxReceiveCount": args.max_receive_count})),
            region=args.region, opts=child)
        aws.sqs.RedriveAllowPolicy(
            f"{name}-dlq-redrive-allow",
            queue_url=dlq.url,
            redrive_allow_policy=queue.arn.apply(lambda arn: json.dumps(
                {"redrivePermission": "byQueue", "sourceQueueArns": [arn]})),
            region=args.region, opts=child)

        alarm_common: dict[str, Any] = {
            "namespace": "AWS/SQS",
            "statistic": "Maximum",
            "period": 60,
            "alarm_actions": [args.alarm_topic_arn],
            "ok_actions": [args.alarm_topic_arn],
            "region": args.region,
            "tags": tags,
        }
        aws.cloudwatch.MetricAlarm(
            f"{name}-dlq-depth",
            alarm_description=f"{args.service}: messages in the dead-letter queue of {name} (failed "
                              f"{args.max_receive_count} times); inspect, fix, then redrive",
            metric_name="ApproximateNumberOfMessagesVisible",
            dimensions={"QueueName": dlq.name},
            comparison_operator="GreaterThanThreshold",
            threshold=0,
            evaluation_periods=1,
            datapoints_to_alarm=1,
            treat_missing_data="notBreaching",
            opts=child, **alarm_common)
        aws.cloudwatch.MetricAlarm(
            f"{name}-oldest-message-age",
            alarm_description=f"{args.service}: oldest message in {name} is older than "
                              f"{args.max_message_age_seconds} s; consumers are falling behind",
            metric_name="ApproximateAgeOfOldestMessage",
            dimensions={"QueueName": queue.name},
            comparison_operator="GreaterThanOrEqualToThreshold",
            threshold=args.max_message_age_seconds,
            evaluation_periods=5,
            datapoints_to_alarm=3,
            treat_missing_data="notBreaching",
            opts=child, **alarm_common)

        self.queue_url = queue.url
        self.queue_arn = queue.arn
        self.dead_letter_queue_url = dlq.url
        self.dead_letter_queue_arn = dlq.arn
        self.register_outputs({
            "queue_url": queue.url, "queue_arn": queue.arn,
            "dead_letter_queue_url": dlq.url, "dead_letter_queue_arn": dlq.arn,
        })
