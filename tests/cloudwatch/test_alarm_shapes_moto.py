"""The declared metric alarms are valid PutMetricAlarm inputs, as far as botocore and moto check.

Each captured `MetricAlarm`'s engine inputs are translated to boto3's PutMetricAlarm shape;
botocore validates them against the CloudWatch API model (required members, types, enum-free
minimums) and moto stores them; describing them back returns the same metrics. moto neither
evaluates alarms nor implements PutCompositeAlarm, so composites are checked for what the
API requires (rule references, suppressor) on the captured inputs instead.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from moto import mock_aws

from reliability_stack.alarm_eval import alarm_name, is_composite, rule_children
from reliability_stack.slo.cloudwatch_alarms import MAX_DESCRIPTION
from tests.cloudwatch.stack_under_test import DeclaredAlarms

REGION = "us-east-1"


def _dimensions(dimensions: dict[str, str] | None) -> list[dict[str, str]]:
    return [{"Name": key, "Value": value} for key, value in sorted((dimensions or {}).items())]


def put_metric_alarm_args(alarm: dict[str, Any]) -> dict[str, Any]:
    """Engine camelCase MetricAlarm inputs -> boto3 `put_metric_alarm` keyword arguments."""
    metrics = []
    for query in alarm["metricQueries"]:
        entry: dict[str, Any] = {"Id": query["id"], "ReturnData": bool(query.get("returnData"))}
        if query.get("label"):
            entry["Label"] = query["label"]
        if query.get("expression"):
            entry["Expression"] = query["expression"]
        else:
            metric = query["metric"]
            entry["MetricStat"] = {
                "Metric": {"Namespace": metric["namespace"], "MetricName": metric["metricName"],
                           "Dimensions": _dimensions(metric.get("dimensions"))},
                "Period": metric["period"], "Stat": metric["stat"]}
        metrics.append(entry)
    args = {
        "AlarmName": alarm["name"], "AlarmDescription": alarm["alarmDescription"],
        "ComparisonOperator": alarm["comparisonOperator"], "Threshold": float(alarm["threshold"]),
        "EvaluationPeriods": alarm["evaluationPeriods"], "DatapointsToAlarm": alarm["datapointsToAlarm"],
        "TreatMissingData": alarm["treatMissingData"], "Metrics": metrics,
        "Tags": [{"Key": k, "Value": v} for k, v in sorted(alarm.get("tags", {}).items())],
    }
    for source, target in (("alarmActions", "AlarmActions"), ("okActions", "OKActions")):
        if alarm.get(source):
            args[target] = alarm[source]
    return args


def test_every_declared_metric_alarm_is_accepted_and_described_back(declared: DeclaredAlarms) -> None:
    metric_alarms = [a for a in declared.alarms if not is_composite(a)]
    assert len(metric_alarms) == 12
    with mock_aws():
        client = boto3.client("cloudwatch", region_name=REGION)
        for alarm in metric_alarms:
            client.put_metric_alarm(**put_metric_alarm_args(alarm))
        described = {a["AlarmName"]: a for a in client.describe_alarms(AlarmTypes=["MetricAlarm"])["MetricAlarms"]}
    assert set(described) == {a["name"] for a in metric_alarms}
    for alarm in metric_alarms:
        sent = put_metric_alarm_args(alarm)
        back = described[alarm["name"]]
        assert back["Threshold"] == pytest.approx(sent["Threshold"])
        assert back["EvaluationPeriods"] == 1 and back["DatapointsToAlarm"] == 1
        assert back["TreatMissingData"] == "notBreaching"
        assert [m["Id"] for m in back["Metrics"]] == [m["Id"] for m in sent["Metrics"]]
        for got, want in zip(back["Metrics"], sent["Metrics"], strict=True):
            assert got.get("Expression") == want.get("Expression")
            assert got["ReturnData"] == want["ReturnData"]
            if "MetricStat" in want:
                assert got["MetricStat"]["Stat"] == want["MetricStat"]["Stat"]
                assert got["MetricStat"]["Period"] == want["MetricStat"]["Period"]
                assert got["MetricStat"]["Metric"]["MetricName"] == want["MetricStat"]["Metric"]["MetricName"]
                assert sorted(got["MetricStat"]["Metric"]["Dimensions"], key=lambda d: d["Name"]) == \
                    want["MetricStat"]["Metric"]["Dimensions"]


def test_botocore_rejects_what_the_api_model_forbids(declared: DeclaredAlarms) -> None:
    # The translation is strict enough to matter: a query without an Id fails client-side.
    from botocore.exceptions import ParamValidationError

    args = put_metric_alarm_args(next(a for a in declared.alarms if not is_composite(a)))
    del args["Metrics"][0]["Id"]
    with mock_aws():
        client = boto3.client("cloudwatch", region_name=REGION)
        with pytest.raises(ParamValidationError):
            client.put_metric_alarm(**args)


def test_alarm_inputs_respect_cloudwatch_limits(declared: DeclaredAlarms) -> None:
    names = {alarm_name(a) for a in declared.alarms}
    for alarm in declared.alarms:
        assert len(alarm["alarmDescription"]) <= MAX_DESCRIPTION
        assert len(alarm_name(alarm)) <= 255
        if is_composite(alarm):
            assert rule_children(alarm["alarmRule"]) <= names
            assert len(alarm["alarmRule"]) <= 10240 and alarm["alarmRule"] == alarm["alarmRule"].strip()
            suppressor = alarm.get("actionsSuppressor")
            if suppressor:
                assert suppressor["alarm"] in names and suppressor["alarm"] != alarm["alarmName"]
            assert len(alarm["alarmActions"]) <= 5
        else:
            queries = alarm["metricQueries"]
            assert sum(1 for q in queries if q.get("returnData")) == 1
            for query in queries:
                if query.get("metric"):
                    period = query["metric"]["period"]
                    span = period * alarm["evaluationPeriods"]
                    assert period % 60 == 0 and span <= (86400 if period < 3600 else 7 * 86400)
