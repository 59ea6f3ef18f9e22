"""What SloAlarms, AlertRouting and ServiceDashboard declare, asserted on the captured resources."""

from __future__ import annotations

import json
from dataclasses import replace

import boto3
import pulumi_aws as aws
import pytest
from moto import mock_aws

from reliability_stack.errors import ComponentArgsError
from reliability_stack.preview.capture import CapturedStack
from reliability_stack.slo.cloudwatch_cost import monitoring_cost, monthly_cost_usd
from reliability_stack.slo.model import DAY, HOUR, MINUTE, SLI, SLO, BurnRateTier, CloudWatchSLI, MetricRef
from tests.assertions import find, one
from tests.cloudwatch.stack_under_test import (
    AVAILABILITY,
    DASHBOARD,
    LATENCY,
    ROUTING,
    RUNBOOK,
    DeclaredAlarms,
    capture,
)

COMPOSITE = "aws:cloudwatch/compositeAlarm:CompositeAlarm"
METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


# ---------------------------------------------------------------- SloAlarms

def test_each_tier_is_two_window_alarms_and_a_composite(captured: CapturedStack, declared: DeclaredAlarms) -> None:
    composite = one(captured.resources, COMPOSITE, alarmName="test-checkout-availability-page-1h-5m")
    long = one(captured.resources, METRIC_ALARM, name="test-checkout-availability-page-1h-5m-long")
    short = one(captured.resources, METRIC_ALARM, name="test-checkout-availability-page-1h-5m-short")
    assert composite.props["alarmRule"] == (f'ALARM("{long.props["name"]}") AND ALARM("{short.props["name"]}")')
    assert set(composite.options["dependsOn"]) >= {long.urn, short.urn}
    assert composite.options["deleteBeforeReplace"] and long.options["deleteBeforeReplace"]
    for alarm, period in ((long, 3600), (short, 300)):
        queries = {q["id"]: q for q in alarm.props["metricQueries"]}
        assert queries["error_ratio"]["expression"] == "IF(requests > 10, errors / requests, 0)"
        assert queries["errors"]["expression"] == "FILL(bad0, 0) + FILL(bad1, 0)"
        assert {q["metric"]["metricName"] for q in queries.values() if "metric" in q} == {
            "HTTPCode_Target_5XX_Count", "HTTPCode_ELB_5XX_Count", "RequestCount"}
        assert all(q["metric"]["period"] == period and q["metric"]["stat"] == "Sum"
                   for q in queries.values() if "metric" in q)
        # The placeholder is filled from the load balancer's arnSuffix output.
        lb = one(captured.resources, "aws:lb/loadBalancer:LoadBalancer")
        assert all(q["metric"]["dimensions"] == {"LoadBalancer": lb.outputs["arnSuffix"]}
                   for q in queries.values() if "metric" in q)
        assert alarm.props["threshold"] == pytest.approx(0.0144)
        assert not alarm.props.get("alarmActions")  # only the composite notifies


def test_latency_sli_uses_the_percentile_rank_statistic(captured: CapturedStack) -> None:
    alarm = one(captured.resources, METRIC_ALARM, name="test-checkout-latency-page-1h-5m-short")
    queries = {q["id"]: q for q in alarm.props["metricQueries"]}
    assert queries["within"]["metric"]["stat"] == "PR(:0.3)"
    assert queries["total0"]["metric"]["stat"] == "SampleCount"
    assert queries["error_ratio"]["expression"] == "IF(requests > 10, 1 - FILL(within, 100) / 100, 0)"
    assert alarm.props["threshold"] == pytest.approx(0.144)


def test_slower_tiers_are_suppressed_by_the_next_faster_one(captured: CapturedStack) -> None:
    fast = one(captured.resources, COMPOSITE, alarmName="test-checkout-availability-page-1h-5m")
    medium = one(captured.resources, COMPOSITE, alarmName="test-checkout-availability-page-6h-30m")
    slow = one(captured.resources, COMPOSITE, alarmName="test-checkout-availability-ticket-3d-6h")
    assert "actionsSuppressor" not in fast.props
    assert medium.props["actionsSuppressor"] == {"alarm": fast.props["alarmName"], "waitPeriod": 120,
                                                 "extensionPeriod": 30 * MINUTE + 60}
    assert slow.props["actionsSuppressor"]["alarm"] == medium.props["alarmName"]
    assert fast.urn in medium.options["dependsOn"]


def test_composites_route_page_and_ticket_topics(captured: CapturedStack, declared: DeclaredAlarms) -> None:
    pages = find(captured.resources, COMPOSITE, alarmActions=[declared.page_topic], okActions=[declared.page_topic])
    tickets = find(captured.resources, COMPOSITE, alarmActions=[declared.ticket_topic])
    assert sorted(r.props["tags"]["burn_tier"] for r in pages) == ["page-1h", "page-1h", "page-6h", "page-6h"]
    assert sorted(r.props["tags"]["burn_tier"] for r in tickets) == ["ticket-3d", "ticket-3d"]


def test_descriptions_carry_what_on_call_needs(captured: CapturedStack) -> None:
    text = one(captured.resources, COMPOSITE, alarmName="test-checkout-availability-page-1h-5m").props[
        "alarmDescription"]
    assert len(text) <= 1024
    for needle in ("[PAGE]", "checkout / availability", "99.9%", "30d", "page-1h", "14.4x", "1h and 5m",
                   "1.44%", "2% of the 30d budget", "~51.8s", "43.2 min", RUNBOOK, DASHBOARD,
                   "HTTPCode_Target_5XX_Count", "RequestCount", "AWS/ApplicationELB", "10 requests"):
        assert needle in text, needle


def test_descriptions_stay_within_1024_characters_with_long_texts() -> None:
    from reliability_stack.slo.cloudwatch_alarms import AlarmLinks, build_slo_alarms

    wordy = replace(AVAILABILITY, description="x" * 2000, runbook_url="https://runbooks.example.com/" + "r" * 300)
    alarm_set = build_slo_alarms(wordy, dimension_values={"load_balancer": "app/x/1"},
                                 links=AlarmLinks(dashboard_url="https://d.example.com/" + "d" * 300))
    for alarm in alarm_set.alarms:
        assert len(alarm["alarmDescription"]) <= 1024
        assert "Runbook: https://runbooks.example.com/" in alarm["alarmDescription"]


def test_unreachable_tiers_get_no_alarms_and_a_warning() -> None:
    from reliability_stack.slo.cloudwatch_alarms import build_slo_alarms

    low = replace(AVAILABILITY, objective=90.0)  # 14.4 x 10 % >= 100 %: can never fire
    alarm_set = build_slo_alarms(low, dimension_values={"load_balancer": "app/x/1"})
    assert [t.tier.name for t in alarm_set.tiers] == ["page-6h", "ticket-3d"]
    assert any("page-1h" in w and "never fire" in w for w in alarm_set.warnings)
    assert "actionsSuppressor" not in alarm_set.tiers[0].composite


def _program(slos, **overrides):
    def program() -> None:
        from reliability_stack.components.slo_alarms import SloAlarms, SloAlarmsArgs

        args = {"slos": slos, "page_topic_arn": "arn:aws:sns:us-east-1:123456789012:page",
                "ticket_topic_arn": "arn:aws:sns:us-east-1:123456789012:ticket",
                "load_balancer_arn_suffix": "app/checkout/0123456789abcdef", **overrides}
        SloAlarms("checkout", SloAlarmsArgs(**args))
    return program


def test_tiers_cloudwatch_cannot_express_are_adapted_with_a_warning() -> None:
    # 8 d is beyond CloudWatch's 7 d alarm span: the tier becomes 7 d with a warning.
    slo = replace(AVAILABILITY, tiers=(BurnRateTier("page", HOUR, 5 * MINUTE, 14.4),
                                       BurnRateTier("ticket", 8 * DAY, 6 * HOUR, 1.0)))
    stack = capture(_program([slo]))
    assert any("ticket-8d" in w and "7d-6h" in w for w in stack.warnings), stack.warnings
    long = one(stack.resources, METRIC_ALARM, name="test-checkout-availability-ticket-7d-6h-long")
    assert {q["metric"]["period"] for q in long.props["metricQueries"] if "metric" in q} == {7 * DAY}


def test_slos_without_a_cloudwatch_part_are_skipped_with_a_warning() -> None:
    prometheus_only = SLO("checkout", "prom", 99.9, SLI("availability"), window=30 * DAY)
    stack = capture(_program([prometheus_only, AVAILABILITY]))
    assert any("checkout-prom" in w for w in stack.warnings)
    assert len(find(stack.resources, COMPOSITE)) == 3


def test_the_spec_min_events_and_the_knobs_reach_the_alarms() -> None:
    guarded = replace(AVAILABILITY, sli=SLI("availability", cloudwatch=CloudWatchSLI.alb(min_events=250)))
    stack = capture(_program([guarded], suppress_slower_tiers=False, notify_on_recovery=False,
                             alarm_name_prefix="prod-"))
    alarm = one(stack.resources, METRIC_ALARM, name="prod-checkout-availability-page-1h-5m-long")
    ratio = next(q for q in alarm.props["metricQueries"] if q.get("returnData"))
    assert ratio["expression"] == "IF(requests > 250, errors / requests, 0)"
    assert all("actionsSuppressor" not in r.props and "okActions" not in r.props
               for r in find(stack.resources, COMPOSITE))


@pytest.mark.parametrize(("overrides", "argument"), [
    ({"load_balancer_arn_suffix": None}, "load_balancer_arn_suffix"),
    ({"slos": []}, "slos"),
    ({"slos": [AVAILABILITY, AVAILABILITY]}, "slos"),
    ({"page_topic_arn": None}, "page_topic_arn"),
    ({"latency_form": "median"}, "latency_form"),
    ({"runbook_url": "http://runbooks.example.com"}, "runbook_url"),
])
def test_invalid_arguments_name_the_argument(overrides: dict, argument: str) -> None:
    from reliability_stack.components.slo_alarms import SloAlarmsArgs

    args = {"slos": [AVAILABILITY], "page_topic_arn": "arn:page", "ticket_topic_arn": "arn:ticket",
            "load_balancer_arn_suffix": "app/x/1", **overrides}
    with pytest.raises(ComponentArgsError) as error:
        SloAlarmsArgs(**args).validate()
    assert error.value.field == f"SloAlarms.{argument}"


def test_custom_placeholders_come_from_dimensions() -> None:
    queue_slo = SLO("worker", "jobs", 99.0, SLI("availability", cloudwatch=CloudWatchSLI(
        bad=(MetricRef("Jobs", "Failed", {"Queue": "{queue}"}),),
        total=(MetricRef("Jobs", "Processed", {"Queue": "{queue}"}),))), window=28 * DAY)
    stack = capture(_program([queue_slo], load_balancer_arn_suffix=None, dimensions={"queue": "orders"}))
    alarm = find(stack.resources, METRIC_ALARM)[0]
    dims = [q["metric"]["dimensions"] for q in alarm.props["metricQueries"] if "metric" in q]
    assert dims and all(d == {"Queue": "orders"} for d in dims)


# ---------------------------------------------------------------- AlertRouting

def test_alert_topics_are_encrypted_with_a_key_cloudwatch_may_use(captured: CapturedStack) -> None:
    key = one(captured.resources, "aws:kms/key:Key")
    assert key.props["enableKeyRotation"] is True and key.options["protect"] is True
    statements = json.loads(key.props["policy"])["Statement"]
    cloudwatch = next(s for s in statements if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"})
    assert set(cloudwatch["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    for severity in ("page", "ticket"):
        topic = one(captured.resources, "aws:sns/topic:Topic", tags={"severity": severity})
        assert topic.props["kmsMasterKeyId"] == key.outputs["arn"]
        policy = one(captured.resources, "aws:sns/topicPolicy:TopicPolicy", arn=topic.outputs["arn"])
        publish = [s for s in json.loads(policy.props["policy"])["Statement"]
                   if s["Effect"] == "Allow" and s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}]
        assert publish and publish[0]["Action"] == "sns:Publish" and publish[0]["Resource"] == topic.outputs["arn"]
        assert publish[0]["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}


def test_subscriptions_come_from_the_config_and_redrive_failures(captured: CapturedStack) -> None:
    queue = one(captured.resources, "aws:sqs/queue:Queue")
    assert queue.props["sqsManagedSseEnabled"] is True
    page_topic = one(captured.resources, "aws:sns/topic:Topic", tags={"severity": "page"}).outputs["arn"]
    email = one(captured.resources, "aws:sns/topicSubscription:TopicSubscription", protocol="email")
    assert email.props["topic"] == page_topic and email.props["endpoint"] == ROUTING.page[0].endpoint
    for subscription in find(captured.resources, "aws:sns/topicSubscription:TopicSubscription"):
        assert json.loads(subscription.props["redrivePolicy"]) == {"deadLetterTargetArn": queue.outputs["arn"]}
    queue_policy = json.loads(one(captured.resources, "aws:sqs/queuePolicy:QueuePolicy").props["policy"])
    assert page_topic in queue_policy["Statement"][0]["Condition"]["ArnEquals"]["aws:SourceArn"]
    dlq_alarm = one(captured.resources, METRIC_ALARM, namespace="AWS/SQS")
    assert dlq_alarm.props["dimensions"] == {"QueueName": queue.outputs["name"]}


def test_alert_routing_validation() -> None:
    from reliability_stack.components.alert_routing import AlertRoutingArgs

    with pytest.raises(ComponentArgsError) as error:
        AlertRoutingArgs(routing=ROUTING, dead_letter_queue=False).validate()
    assert error.value.field == "AlertRouting.alarm_on_failed_delivery"
    bad = ROUTING.model_copy(update={"ticket": [ROUTING.ticket[0].model_copy(update={"endpoint": "http://x.io"})]})
    with pytest.raises(ComponentArgsError, match="https"):
        AlertRoutingArgs(routing=bad).validate()


# ---------------------------------------------------------------- ServiceDashboard

def _dashboard_program() -> None:
    from reliability_stack.components.service_dashboard import ServiceDashboard, ServiceDashboardArgs
    from reliability_stack.components.slo_alarms import SloAlarms, SloAlarmsArgs

    lb = aws.lb.LoadBalancer("checkout", subnets=["subnet-a", "subnet-b"])
    alarms = SloAlarms("checkout", SloAlarmsArgs(slos=[AVAILABILITY, LATENCY], page_topic_arn="arn:page",
                                                 ticket_topic_arn="arn:ticket", load_balancer_arn_suffix=lb.arn_suffix))
    ServiceDashboard("checkout", ServiceDashboardArgs(
        service="checkout", region="us-east-1", slos=[AVAILABILITY, LATENCY], load_balancer_arn_suffix=lb.arn_suffix,
        autoscaling_group_name="checkout-asg", alarm_arns=alarms.composite_alarm_arns))


@pytest.fixture(scope="module")
def dashboard_stack() -> CapturedStack:
    return capture(_dashboard_program)


def test_dashboard_shows_golden_signals_slis_budget_burn_and_alarms(dashboard_stack: CapturedStack) -> None:
    dashboard = one(dashboard_stack.resources, "aws:cloudwatch/dashboard:Dashboard", dashboardName="test-checkout")
    body = json.loads(dashboard.props["dashboardBody"])
    titles = [w["properties"]["title"] for w in body["widgets"]]
    for expected in ("Latency", "Traffic", "Errors", "Saturation", "checkout-availability: SLI",
                     "checkout-availability: error budget remaining", "checkout-availability: burn rate",
                     "checkout-latency: SLI", "SLO alarms"):
        assert any(expected in title for title in titles), expected
    lb_suffix = one(dashboard_stack.resources, "aws:lb/loadBalancer:LoadBalancer").outputs["arnSuffix"]
    latency = next(w for w in body["widgets"] if "Latency" in w["properties"]["title"])
    assert [m[-1]["stat"] for m in latency["properties"]["metrics"]] == ["p50", "p99"]
    assert all(lb_suffix in m for m in latency["properties"]["metrics"])
    saturation = next(w for w in body["widgets"] if "Saturation" in w["properties"]["title"])
    assert any("CPUUtilization" in m and "checkout-asg" in m for m in saturation["properties"]["metrics"])
    composites = {r.outputs["arn"] for r in find(dashboard_stack.resources, COMPOSITE)}
    alarm_widget = next(w for w in body["widgets"] if w["type"] == "alarm")
    assert set(alarm_widget["properties"]["alarms"]) == composites and len(composites) == 6
    budget = next(w for w in body["widgets"] if "budget remaining" in w["properties"]["title"])
    assert budget["properties"]["setPeriodToTimeRange"] is True
    assert budget["properties"]["start"] == "-PT720H"
    final = budget["properties"]["metrics"][-1][0]
    assert final["expression"] == "100 * (1 - berror_ratio / 0.001)"
    ids = {m[-1]["id"] for m in budget["properties"]["metrics"] if isinstance(m[-1], dict)}
    assert "berror_ratio" in ids  # the ratio it reads is on the same widget
    burn = next(w for w in body["widgets"] if w["properties"]["title"].startswith("checkout-availability: burn"))
    labels = [m[0]["label"] for m in burn["properties"]["metrics"] if isinstance(m[0], dict) and "label" in m[0]
              and m[0]["label"].startswith("burn")]
    assert labels == ["burn 1h", "burn 5m", "burn 6h", "burn 30m", "burn 3d"]


def test_dashboard_body_is_accepted_by_put_dashboard(dashboard_stack: CapturedStack) -> None:
    dashboard = one(dashboard_stack.resources, "aws:cloudwatch/dashboard:Dashboard")
    with mock_aws():
        client = boto3.client("cloudwatch", region_name="us-east-1")
        client.put_dashboard(DashboardName=dashboard.props["dashboardName"],
                             DashboardBody=dashboard.props["dashboardBody"])
        stored = client.get_dashboard(DashboardName=dashboard.props["dashboardName"])["DashboardBody"]
    assert json.loads(stored) == json.loads(dashboard.props["dashboardBody"])


# ---------------------------------------------------------------- cost

def test_monthly_cost_counts_the_metrics_each_alarm_reads() -> None:
    # ALB availability: 6 alarms x 3 metrics x $0.10 + 3 composites x $0.50.
    assert monthly_cost_usd(AVAILABILITY) == pytest.approx(3.30)
    # Latency: 6 alarms x 2 metrics (SampleCount, PR) + 3 composites.
    assert monthly_cost_usd(LATENCY) == pytest.approx(2.70)
    two_tiers = monitoring_cost(AVAILABILITY, AVAILABILITY.tiers[:2], dashboard_slos=2)
    assert (two_tiers.metric_alarms, two_tiers.alarm_metrics, two_tiers.composite_alarms) == (4, 12, 2)
    assert two_tiers.total_usd == pytest.approx(12 * 0.10 + 2 * 0.50 + 3.00 / 2)
    assert monthly_cost_usd(SLO("x", "y", 99.0, SLI("availability"))) == 0.0
