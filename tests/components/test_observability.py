"""Observability: retained log groups, saved Insights queries by dimension, X-Ray; knobs and errors."""

import pytest

from reliability_stack.components.observability import (
    Observability,
    ObservabilityArgs,
    RequestLogFields,
    insights_queries,
)
from reliability_stack.errors import ComponentArgsError
from reliability_stack.preview.capture import capture_program
from reliability_stack.resource_tags import SERVICE_TAG, STACK_TAG
from tests.assertions import find, one

LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
QUERY = "aws:cloudwatch/queryDefinition:QueryDefinition"


def obs_args(**overrides) -> ObservabilityArgs:
    values = dict(service="shop", region="eu-west-1")
    values.update(overrides)
    return ObservabilityArgs(**values)


def capture(args: ObservabilityArgs):
    return capture_program(lambda: Observability("shop-obs", args), stack="prod").resources


@pytest.fixture(scope="module")
def resources():
    return capture(obs_args())


def test_log_groups_are_retained_protected_and_tagged(resources):
    groups = find(resources, LOG_GROUP)
    assert sorted(g.props["name"] for g in groups) == [
        "/reliability-stack/prod/shop/application", "/reliability-stack/prod/shop/requests"]
    for group in groups:
        assert group.props["retentionInDays"] == 365
        assert group.props["deletionProtectionEnabled"] is True
        assert group.options["protect"] is True
        assert group.props["region"] == "eu-west-1"
        assert group.props["tags"][STACK_TAG] == "prod" and group.props["tags"][SERVICE_TAG] == "shop"


def test_saved_queries_read_the_request_log_group(resources):
    queries = find(resources, QUERY)
    assert len(queries) == len(insights_queries(RequestLogFields()))
    for query in queries:
        assert query.props["logGroupNames"] == ["/reliability-stack/prod/shop/requests"]
        assert query.props["name"].startswith("reliability-stack/prod/shop/")
        assert query.props["region"] == "eu-west-1"
    fivexx = one(resources, QUERY, name="reliability-stack/prod/shop/502s by endpoint")
    assert "filter status = 502" in fivexx.props["queryString"]
    assert "by endpoint" in fivexx.props["queryString"]


def test_queries_slice_by_endpoint_status_host_and_region():
    queries = insights_queries(RequestLogFields())
    assert "pct(latency_ms, 99)" in queries["latency p99 by endpoint"]
    assert queries["errors by host"].splitlines()[0] == "filter status >= 500"
    assert "by host" in queries["errors by host"]
    assert "by region" in queries["errors by region"]
    assert "by endpoint, status" in queries["5xx by endpoint and status"]
    assert "sum(status >= 500) * 100 / count(*) as error_percent by endpoint" in queries["error rate by endpoint"]


def test_queries_follow_custom_field_names():
    fields = RequestLogFields(endpoint="route", status="http.status", host="pod", region="aws_region",
                              latency_ms="duration_ms")
    queries = insights_queries(fields)
    assert "filter http.status = 502" in queries["502s by endpoint"]
    assert "by route" in queries["502s by endpoint"]
    assert "by pod" in queries["errors by host"]
    assert "by aws_region" in queries["errors by region"]
    assert "pct(duration_ms, 99)" in queries["latency p99 by endpoint"]
    assert not any("latency_ms" in q or " endpoint" in q for q in queries.values())


def test_xray_sampling_rule_and_fault_group(resources):
    rule = one(resources, "aws:xray/samplingRule:SamplingRule", serviceName="shop")
    assert rule.props["reservoirSize"] >= 1 and 0 < rule.props["fixedRate"] <= 1
    assert len(rule.props["ruleName"]) <= 32
    group = one(resources, "aws:xray/group:Group")
    assert group.props["filterExpression"] == 'service("shop") { fault = true }'
    assert group.props["insightsConfiguration"] == {"insightsEnabled": True, "notificationsEnabled": True}


def test_knobs_kms_short_retention_no_tracing_unprotected():
    key = "arn:aws:kms:eu-west-1:123456789012:key/abcd"
    resources = capture(obs_args(kms_key_arn=key, retention_days=30, tracing=False, protect=False,
                                 log_streams=["requests"]))
    group = one(resources, LOG_GROUP)
    assert group.props["kmsKeyId"] == key and group.props["retentionInDays"] == 30
    assert group.options["protect"] is False and group.props["deletionProtectionEnabled"] is False
    assert not [r for r in resources if r.type.startswith("aws:xray")]


@pytest.mark.parametrize(("overrides", "argument"), [
    (dict(retention_days=0), "retention_days"),
    (dict(retention_days=100), "retention_days"),
    (dict(log_streams=["application"]), "log_streams"),
    (dict(log_streams=["requests", "requests"]), "log_streams"),
    (dict(log_streams=["requests", "App Logs"]), "log_streams"),
    (dict(service="Shop Service"), "service"),
    (dict(request_fields=RequestLogFields(status="status code")), "request_fields.status"),
    (dict(sampling_fixed_rate=1.5), "sampling_fixed_rate"),
    (dict(sampling_fixed_rate=0, sampling_reservoir_per_second=0), "sampling_fixed_rate"),
])
def test_invalid_combinations_name_the_argument(overrides, argument):
    with pytest.raises(ComponentArgsError) as error:
        capture(obs_args(**overrides))
    assert error.value.field == f"Observability.{argument}"
