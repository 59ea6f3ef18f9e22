"""AlertRouting: one SNS topic per alert severity (page, ticket), wired for CloudWatch alarms.

- Topics are encrypted with a customer-managed KMS key whose policy lets CloudWatch use it:
  with the AWS-managed `alias/aws/sns` key, alarms silently fail to publish (CloudWatch
  cannot call GenerateDataKey on a key it is not granted).
- A topic policy lets CloudWatch alarms of this account publish, and denies non-TLS access.
- Subscriptions come from the stack config's `alerting` section (`reliability_stack.config.AlertRouting`);
  each gets a redrive policy to a dead-letter queue, so a delivery that exhausts its retries
  is kept instead of lost, and an alarm on that queue opens a ticket (a page that could not
  be delivered is itself an incident).

    routing = AlertRouting("alerts", AlertRoutingArgs(routing=stack_config.alerting, region="us-east-1"))
    routing.page_topic_arn, routing.ticket_topic_arn
"""

# No `from __future__ import annotations`: the component provider reads these annotations
# at runtime to build the package schema.
import json
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from reliability_stack.config import AlertRouting as AlertRoutingConfig
from reliability_stack.errors import ComponentArgsError
from reliability_stack.resource_tags import standard_tags

COMPONENT = "AlertRouting"
SEVERITIES = ("page", "ticket")
#: SQS keeps messages at most 14 days: the longest a failed alert can wait for someone.
DLQ_RETENTION_SECONDS = 1_209_600


@dataclass
class AlertRoutingArgs:
    """Inputs of `AlertRouting`. Defaults are the resilient choice; the knobs turn it down."""

    routing: AlertRoutingConfig
    """Subscribers per severity (stack config `alerting`)."""
    service: str = "alerting"
    """Service tag of the resources."""
    region: str | None = None
    """AWS region (default: the provider's). Alarms can only publish to topics in their own region."""
    kms_key_arn: pulumi.Input[str] | None = None
    """Bring your own key (its policy must grant cloudwatch.amazonaws.com); default: a new rotating key."""
    dead_letter_queue: bool = True
    """Knob: False drops the redrive of failed deliveries (they are then lost after SNS retries)."""
    alarm_on_failed_delivery: bool = True
    """Alarm (to the ticket topic) when a delivery lands in the dead-letter queue."""
    protect: bool = True
    """Knob: False drops Pulumi `protect` from the KMS key (deleting it makes the topics unreadable)."""
    tags: Mapping[str, str] = field(default_factory=dict)

    def validate(self) -> None:
        if not self.routing.page:
            raise ComponentArgsError(COMPONENT, "routing.page", "pages must reach a human: give a subscriber")
        if not self.routing.ticket:
            raise ComponentArgsError(COMPONENT, "routing.ticket", "give at least one ticket subscriber")
        for severity in SEVERITIES:
            for index, target in enumerate(getattr(self.routing, severity)):
                if target.protocol == "https" and not target.endpoint.startswith("https://"):
                    raise ComponentArgsError(COMPONENT, f"routing.{severity}[{index}].endpoint",
                                             "an https subscriber needs an https:// URL")
                if target.protocol in ("sqs", "lambda") and not target.endpoint.startswith("arn:"):
                    raise ComponentArgsError(COMPONENT, f"routing.{severity}[{index}].endpoint",
                                             f"a {target.protocol} subscriber needs an ARN")
        if self.alarm_on_failed_delivery and not self.dead_letter_queue:
            raise ComponentArgsError(COMPONENT, "alarm_on_failed_delivery",
                                     "needs dead_letter_queue=True (the alarm watches that queue)")


def key_policy(account_id: str, partition: str = "aws") -> str:
    """KMS key policy: the account administers the key; CloudWatch may encrypt for alarms of this account."""
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "AccountAdministers", "Effect": "Allow",
             "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
             "Action": "kms:*", "Resource": "*"},
            {"Sid": "CloudWatchAlarmsPublish", "Effect": "Allow",
             "Principal": {"Service": "cloudwatch.amazonaws.com"},
             "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*",
             "Condition": {"StringEquals": {"aws:SourceAccount": account_id}}},
        ],
    }, sort_keys=True)


def topic_policy(topic_arn: str, account_id: str, partition: str = "aws") -> str:
    """SNS topic policy: the account manages it, CloudWatch alarms of this account publish, TLS only."""
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "AccountManages", "Effect": "Allow",
             "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
             "Action": ["sns:Publish", "sns:Subscribe", "sns:GetTopicAttributes", "sns:SetTopicAttributes",
                        "sns:ListSubscriptionsByTopic"],
             "Resource": topic_arn},
            {"Sid": "CloudWatchAlarmsPublish", "Effect": "Allow",
             "Principal": {"Service": "cloudwatch.amazonaws.com"},
             "Action": "sns:Publish", "Resource": topic_arn,
             "Condition": {"StringEquals": {"aws:SourceAccount": account_id}}},
            {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "sns:Publish",
             "Resource": topic_arn, "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        ],
    }, sort_keys=True)


def dead_letter_policy(queue_arn: str, topic_arns: list[str]) -> str:
    """SQS queue policy: only our topics may move failed deliveries into the dead-letter queue."""
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Sid": "SnsRedrive", "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
                       "Action": "sqs:SendMessage", "Resource": queue_arn,
                       "Condition": {"ArnEquals": {"aws:SourceArn": sorted(topic_arns)}}}],
    }, sort_keys=True)


class AlertRouting(pulumi.ComponentResource):
    """SNS topics per severity, KMS-encrypted, CloudWatch may publish, failed deliveries kept."""

    page_topic_arn: pulumi.Output[str]
    ticket_topic_arn: pulumi.Output[str]
    dead_letter_queue_arn: pulumi.Output[str] | None
    kms_key_arn: pulumi.Output[str]

    def __init__(self, name: str, args: AlertRoutingArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        args.validate()
        super().__init__("reliability-stack:alert_routing:AlertRouting", name, {}, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = standard_tags(pulumi.get_stack(), args.service, args.tags)
        identity = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self))
        account_id = identity.account_id

        if args.kms_key_arn is None:
            key = aws.kms.Key(
                f"{name}-key", description=f"{name}: encrypts alert topics (CloudWatch may use it)",
                enable_key_rotation=True, deletion_window_in_days=30, region=args.region,
                policy=account_id.apply(key_policy), tags=tags,
                opts=pulumi.ResourceOptions(parent=self, protect=args.protect))
            aws.kms.Alias(f"{name}-key", name=f"alias/{pulumi.get_stack()}-{name}", target_key_id=key.key_id,
                          region=args.region, opts=child)
            key_arn: pulumi.Output[str] = key.arn
        else:
            key_arn = pulumi.Output.from_input(args.kms_key_arn)

        topics: dict[str, aws.sns.Topic] = {}
        for severity in SEVERITIES:
            topic = aws.sns.Topic(f"{name}-{severity}", display_name=f"{pulumi.get_stack()} {severity} alerts",
                                  kms_master_key_id=key_arn, region=args.region,
                                  tags={**tags, "severity": severity}, opts=child)
            aws.sns.TopicPolicy(f"{name}-{severity}", arn=topic.arn,
                                policy=pulumi.Output.all(topic.arn, account_id).apply(
                                    lambda values: topic_policy(values[0], values[1])),
                                region=args.region, opts=child)
            topics[severity] = topic

        dlq = None
        if args.dead_letter_queue:
            dlq = aws.sqs.Queue(f"{name}-failed-deliveries", sqs_managed_sse_enabled=True,
                                message_retention_seconds=DLQ_RETENTION_SECONDS, region=args.region,
                                tags=tags, opts=child)
            aws.sqs.QueuePolicy(f"{name}-failed-deliveries", queue_url=dlq.url,
                                policy=pulumi.Output.all(dlq.arn, *(t.arn for t in topics.values())).apply(
                                    lambda values: dead_letter_policy(values[0], list(values[1:]))),
                                region=args.region, opts=child)
            if args.alarm_on_failed_delivery:
                aws.cloudwatch.MetricAlarm(
                    f"{name}-failed-deliveries", alarm_description=(
                        f"An alert of {pulumi.get_stack()} could not be delivered after SNS retries and sits in "
                        f"the dead-letter queue: someone may not have been paged. Check the subscriptions."),
                    namespace="AWS/SQS", metric_name="ApproximateNumberOfMessagesVisible",
                    dimensions={"QueueName": dlq.name}, statistic="Maximum", period=300, evaluation_periods=1,
                    datapoints_to_alarm=1, threshold=0, comparison_operator="GreaterThanThreshold",
                    treat_missing_data="notBreaching", alarm_actions=[topics["ticket"].arn],
                    region=args.region, tags=tags, opts=child)

        for severity in SEVERITIES:
            for index, target in enumerate(getattr(args.routing, severity)):
                redrive = dlq.arn.apply(lambda arn: json.dumps({"deadLetterTargetArn": arn})) if dlq else None
                aws.sns.TopicSubscription(
                    f"{name}-{severity}-{index}", topic=topics[severity].arn, protocol=target.protocol,
                    endpoint=target.endpoint, redrive_policy=redrive,
                    region=args.region, opts=child)

        self.page_topic_arn = topics["page"].arn
        self.ticket_topic_arn = topics["ticket"].arn
        self.kms_key_arn = key_arn
        self.dead_letter_queue_arn = dlq.arn if dlq else None
        self.register_outputs({
            "pageTopicArn": self.page_topic_arn,
            "ticketTopicArn": self.ticket_topic_arn,
            "kmsKeyArn": self.kms_key_arn,
            "deadLetterQueueArn": self.dead_letter_queue_arn,
        })
