"""Queue: SQS + DLQ, bounded redrive, redrive-allow, alarms; knobs and invalid combinations."""

import json

import pytest

from reliability_stack.components.queue import Queue, QueueArgs
from reliability_stack.errors import ComponentArgsError
from reliability_stack.preview.capture import capture_program
from reliability_stack.resource_tags import SERVICE_TAG, STACK_TAG
from tests.assertions import children_of, find, one

QUEUE = "aws:sqs/queue:Queue"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC = "arn:aws:sns:eu-west-1:123456789012:orders-ticket"


def queue_args(**overrides) -> QueueArgs:
    values = dict(service="orders", consumer_timeout_seconds=30, alarm_topic_arn=TOPIC)
    values.update(overrides)
    return QueueArgs(**values)


def capture(args: QueueArgs):
    return capture_program(lambda: Queue("orders", args), stack="prod").resources


@pytest.fixture(scope="module")
def resources():
    return capture(queue_args())


def source_and_dlq(resources):
    source = next(r for r in resources if r.type == QUEUE and r.name == "orders")
    dlq = next(r for r in resources if r.type == QUEUE and r.name == "orders-dlq")
    return source, dlq


def test_declares_component_with_two_queues_policies_and_two_alarms(resources):
    component = one(resources, "reliability-stack:queue:Queue")
    children = children_of(resources, component)
    assert sorted(r.type for r in children) == sorted([
        QUEUE, QUEUE, "aws:sqs/redrivePolicy:RedrivePolicy", "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy",
        ALARM, ALARM])


def test_queues_are_encrypted_long_polling_and_protected(resources):
    source, dlq = source_and_dlq(resources)
    for queue in (source, dlq):
        assert queue.props["sqsManagedSseEnabled"] is True
        assert queue.props["receiveWaitTimeSeconds"] == 20
        assert queue.props["fifoQueue"] is False
        assert queue.options["protect"] is True
        assert queue.props["tags"][STACK_TAG] == "prod"
        assert queue.props["tags"][SERVICE_TAG] == "orders"
    assert source.props["visibilityTimeoutSeconds"] == 6 * 30
    assert source.props["tags"]["reliability-stack:consumer-timeout-seconds"] == "30"
    assert dlq.props["messageRetentionSeconds"] == 14 * 24 * 3600
    assert source.props["messageRetentionSeconds"] <= dlq.props["messageRetentionSeconds"]


def test_redrive_is_bounded_and_points_at_the_dlq(resources):
    source, dlq = source_and_dlq(resources)
    redrive = one(resources, "aws:sqs/redrivePolicy:RedrivePolicy")
    policy = json.loads(redrive.props["redrivePolicy"])
    assert policy == {"deadLetterTargetArn": dlq.outputs["arn"], "maxReceiveCount": 5}
    assert redrive.props["queueUrl"] == source.outputs["url"]


def test_redrive_allow_admits_only_the_source_queue(resources):
    source, dlq = source_and_dlq(resources)
    allow = one(resources, "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy")
    assert allow.props["queueUrl"] == dlq.outputs["url"]
    assert json.loads(allow.props["redriveAllowPolicy"]) == {
        "redrivePermission": "byQueue", "sourceQueueArns": [source.outputs["arn"]]}


def test_alarms_on_dlq_depth_and_oldest_message_notify_the_topic(resources):
    source, dlq = source_and_dlq(resources)
    depth = one(resources, ALARM, metricName="ApproximateNumberOfMessagesVisible")
    assert depth.props["dimensions"] == {"QueueName": dlq.outputs["name"]}
    assert depth.props["comparisonOperator"] == "GreaterThanThreshold"
    assert depth.props["threshold"] == 0
    age = one(resources, ALARM, metricName="ApproximateAgeOfOldestMessage")
    assert age.props["dimensions"] == {"QueueName": source.outputs["name"]}
    assert age.props["threshold"] == 900
    for alarm in (depth, age):
        assert alarm.props["alarmActions"] == [TOPIC]
        assert alarm.props["okActions"] == [TOPIC]
        assert alarm.props["namespace"] == "AWS/SQS"


def test_knobs_kms_key_region_explicit_visibility_and_unprotected():
    key = "arn:aws:kms:eu-west-1:123456789012:key/1234"
    resources = capture(queue_args(kms_key_arn=key, region="eu-west-1", visibility_timeout_seconds=600,
                                   max_receive_count=3, receive_wait_time_seconds=0, protect=False))
    queues = find(resources, QUEUE)
    assert len(queues) == 2
    for queue in queues:
        assert queue.props["kmsMasterKeyId"] == key
        assert "sqsManagedSseEnabled" not in queue.props
        assert queue.props["visibilityTimeoutSeconds"] == 600
        assert queue.props["receiveWaitTimeSeconds"] == 0
        assert queue.options["protect"] is False
    assert json.loads(one(resources, "aws:sqs/redrivePolicy:RedrivePolicy").props["redrivePolicy"])[
        "maxReceiveCount"] == 3
    regional = [r for r in resources if r.custom]
    assert regional and all(r.props.get("region") == "eu-west-1" for r in regional)


def test_fifo_knob_makes_both_queues_fifo():
    resources = capture(queue_args(fifo=True))
    assert all(q.props["fifoQueue"] is True and q.props["contentBasedDeduplication"] is True
               for q in find(resources, QUEUE))


@pytest.mark.parametrize(("overrides", "argument"), [
    (dict(visibility_timeout_seconds=179), "visibility_timeout_seconds"),
    (dict(consumer_timeout_seconds=9000), "visibility_timeout_seconds"),
    (dict(consumer_timeout_seconds=0), "consumer_timeout_seconds"),
    (dict(max_receive_count=2), "max_receive_count"),
    (dict(max_receive_count=6), "max_receive_count"),
    (dict(message_retention_seconds=15 * 24 * 3600), "message_retention_seconds"),
    (dict(receive_wait_time_seconds=21), "receive_wait_time_seconds"),
    (dict(max_message_age_seconds=4 * 24 * 3600), "max_message_age_seconds"),
    (dict(service=""), "service"),
])
def test_invalid_combinations_name_the_argument(overrides, argument):
    with pytest.raises(ComponentArgsError) as error:
        capture(queue_args(**overrides))
    assert error.value.field == f"Queue.{argument}"
