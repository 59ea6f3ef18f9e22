"""Table-driven tests of the CloudWatch alarm evaluator's semantics.

Datapoint patterns use one character per minute: `X` breaching (10), `0` not breaching (0),
`-` missing (nothing published). States: `A` ALARM, `O` OK, `I` INSUFFICIENT_DATA.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from reliability_stack.alarm_eval import (
    ALARM,
    OK,
    AlarmEvaluationError,
    AlarmHistory,
    MetricKey,
    Observations,
    evaluate_alarm_set,
    evaluate_composite,
    evaluate_expression,
    evaluate_metric_alarm,
    notifications,
    parse_alarm_rule,
    parse_expression,
    period_statistic,
)

SHORT = {"ALARM": "A", "OK": "O", "INSUFFICIENT_DATA": "I"}
KEY = MetricKey.of("Test", "Errors", {"Service": "checkout"})


def _values(pattern: str) -> list[float]:
    return [{"X": 10.0, "0": 0.0, "-": math.nan}[c] for c in pattern]


def _alarm(**overrides: object) -> dict[str, object]:
    alarm: dict[str, object] = {
        "name": "errors", "namespace": "Test", "metricName": "Errors", "dimensions": {"Service": "checkout"},
        "statistic": "Sum", "period": 60, "evaluationPeriods": 1, "datapointsToAlarm": 1, "threshold": 5,
        "comparisonOperator": "GreaterThanThreshold", "treatMissingData": "missing",
    }
    alarm.update(overrides)
    return alarm


def _states(pattern: str, **overrides: object) -> str:
    extra_range = int(overrides.pop("extra_range", 0))  # type: ignore[call-overload]
    history = evaluate_metric_alarm(_alarm(**overrides), {KEY: Observations.counts(_values(pattern))},
                                    extra_range=extra_range)
    return "".join(SHORT[s] for s in history.states)


@pytest.mark.parametrize(("pattern", "treatment", "expected"), [
    # 2 of 3: the newest three datapoints decide once three exist.
    ("0X0X00XX", "missing", "IIOAOOOA"),
    ("0X0X00XX", "notBreaching", "OOOAOOOA"),
    ("0X0X00XX", "breaching", "AAOAOOOA"),
    ("0X0X00XX", "ignore", "IIOAOOOA"),
])
def test_m_of_n(pattern: str, treatment: str, expected: str) -> None:
    assert _states(pattern, evaluationPeriods=3, datapointsToAlarm=2, treatMissingData=treatment) == expected


@pytest.mark.parametrize(("treatment", "expected"), [
    # 3 of 3 over 00X---X: missing datapoints are filled only as often as needed.
    ("missing", "OOOOOII"),
    ("breaching", "OOOOAAA"),
    ("notBreaching", "OOOOOOO"),
    ("ignore", "OOOOOOO"),
])
def test_treat_missing_data(treatment: str, expected: str) -> None:
    assert _states("00X---X", evaluationPeriods=3, datapointsToAlarm=3, treatMissingData=treatment) == expected


def test_enough_real_datapoints_in_the_evaluation_range_make_the_treatment_irrelevant() -> None:
    # With two extra periods in range, minute 5 still sees three real datapoints (X,0,0): OK,
    # where the narrow range filled two breaching gaps and alarmed.
    assert _states("00X--", evaluationPeriods=3, datapointsToAlarm=3, treatMissingData="breaching") == "OOOOA"
    assert _states("00X--", evaluationPeriods=3, datapointsToAlarm=3, treatMissingData="breaching",
                   extra_range=2) == "OOOOO"


@pytest.mark.parametrize(("operator", "threshold", "expected"), [
    ("GreaterThanThreshold", 10, "OOO"),
    ("GreaterThanOrEqualToThreshold", 10, "AOA"),
    ("LessThanThreshold", 10, "OAO"),
    ("LessThanOrEqualToThreshold", 0, "OAO"),
])
def test_comparison_operators(operator: str, threshold: float, expected: str) -> None:
    assert _states("X0X", comparisonOperator=operator, threshold=threshold) == expected


def test_period_aggregates_a_sliding_sum_of_steps() -> None:
    # 3 per minute; a 5-minute Sum passes 10 once four minutes are in the period.
    history = evaluate_metric_alarm(_alarm(period=300, threshold=10),
                                    {KEY: Observations.counts([3.0] * 8)})
    assert history.values.tolist() == [3, 6, 9, 12, 15, 15, 15, 15]
    assert history.first(ALARM) == 240


def test_evaluation_periods_step_back_one_period_each() -> None:
    # Two 5-minute periods, both must breach: the older one is the period before the newest.
    values = [0.0] * 5 + [3.0] * 10
    history = evaluate_metric_alarm(_alarm(period=300, threshold=10, evaluationPeriods=2, datapointsToAlarm=2),
                                    {KEY: Observations.counts(values)})
    # Traffic starts in minute 6: the newest period holds 4 x 3 > 10 at the end of minute 9,
    # the period before it (ending 5 minutes earlier) only at the end of minute 14.
    assert history.values[8] == 12 and history.values[7] == 9
    assert history.first(ALARM) == 14 * 60


@pytest.mark.parametrize(("stat", "expected"), [
    ("Sum", 0.1 * 3 + 0.5 * 1),
    ("SampleCount", 4),
    ("Average", (0.1 * 3 + 0.5 * 1) / 4),
    ("PR(:0.3)", 75.0),
    ("PR(0.3:)", 25.0),
    ("TC(0.3:)", 1),
    ("TC(:0.1)", 3),
])
def test_statistics(stat: str, expected: float) -> None:
    obs = Observations.samples([0.1, 0.5], [[3, 1]])
    assert period_statistic(obs, stat, 1)[0] == pytest.approx(expected)


def test_statistics_are_missing_without_samples_and_reject_unmodelled_ones() -> None:
    obs = Observations.samples([0.1], [[0]])
    assert math.isnan(period_statistic(obs, "Sum", 1)[0])
    with pytest.raises(AlarmEvaluationError, match="not modelled"):
        period_statistic(obs, "TC(10%:90%)", 1)


@pytest.mark.parametrize(("expression", "env", "expected"), [
    ("a + b * 2", {"a": [1.0], "b": [3.0]}, [7.0]),
    ("(a + b) * 2", {"a": [1.0], "b": [3.0]}, [8.0]),
    ("a - b - 1", {"a": [5.0], "b": [1.0]}, [3.0]),
    ("a / b / 2", {"a": [8.0], "b": [2.0]}, [2.0]),
    ("m + 1", {"m": [math.nan]}, [math.nan]),
    ("FILL(m, 0) + 1", {"m": [math.nan, 2.0]}, [1.0, 3.0]),
    ("a / b", {"a": [1.0], "b": [0.0]}, [math.nan]),
    ("IF(a > 2, a, -1)", {"a": [1.0, 3.0]}, [-1.0, 3.0]),
    ("IF(a > 2, a)", {"a": [1.0, 3.0]}, [math.nan, 3.0]),
    ("IF(a >= 1 AND b < 3, 1, 0)", {"a": [1.0, 1.0, 0.0], "b": [2.0, 3.0, 2.0]}, [1.0, 0.0, 0.0]),
    ("IF(a == 1 || NOT b, 1, 0)", {"a": [0.0, 1.0, 0.0], "b": [0.0, 5.0, 5.0]}, [1.0, 1.0, 0.0]),
    ("1 - FILL(w, 100) / 100", {"w": [math.nan, 99.0]}, [0.0, 0.01]),
    ("SUM([a, b])", {"a": [1.0, math.nan], "b": [2.0, 4.0]}, [3.0, 4.0]),
    ("IF(requests > 10, errors / requests, 0)", {"requests": [5.0, 100.0], "errors": [5.0, 2.0]}, [0.0, 0.02]),
])
def test_metric_math(expression: str, env: dict[str, list[float]], expected: list[float]) -> None:
    series = {name: np.array(values) for name, values in env.items()}
    result = evaluate_expression(parse_expression(expression), series, len(expected))
    assert result.tolist() == pytest.approx(expected, nan_ok=True)


@pytest.mark.parametrize("expression", ["a +", "IF(a > 1, 2", "a b", "2 $ 3"])
def test_metric_math_rejects_bad_expressions(expression: str) -> None:
    with pytest.raises(AlarmEvaluationError):
        parse_expression(expression)


def test_metric_math_alarm_resolves_queries_by_id() -> None:
    alarm = {
        "name": "ratio", "evaluationPeriods": 1, "threshold": 0.1, "comparisonOperator": "GreaterThanThreshold",
        "metricQueries": [
            {"id": "bad", "metric": {"namespace": "T", "metricName": "Bad", "period": 120, "stat": "Sum"}},
            {"id": "total", "metric": {"namespace": "T", "metricName": "Total", "period": 120, "stat": "Sum"}},
            {"id": "errors", "expression": "FILL(bad, 0)"},
            {"id": "ratio", "expression": "errors / total", "returnData": True},
        ],
    }
    data = {MetricKey.of("T", "Bad"): Observations.counts([math.nan, 30.0, math.nan]),
            MetricKey.of("T", "Total"): Observations.counts([100.0, 100.0, 100.0])}
    history = evaluate_metric_alarm(alarm, data)
    assert history.values.tolist() == pytest.approx([0.0, 0.15, 0.15])
    assert [SHORT[s] for s in history.states] == ["O", "A", "A"]


@pytest.mark.parametrize(("change", "message"), [
    ({"datapointsToAlarm": 2}, "datapointsToAlarm"),
    ({"comparisonOperator": "LessThanLowerOrGreaterThanUpperThreshold"}, "comparisonOperator"),
    ({"treatMissingData": "sometimes"}, "treatMissingData"),
    ({"statistic": "p99.9x"}, "not modelled"),
])
def test_invalid_alarms_are_rejected(change: dict[str, object], message: str) -> None:
    with pytest.raises(AlarmEvaluationError, match=message):
        evaluate_metric_alarm(_alarm(**change), {KEY: Observations.counts([1.0])})


def test_exactly_one_query_returns_data() -> None:
    alarm = _alarm(metricName=None, metricQueries=[
        {"id": "a", "metric": {"namespace": "Test", "metricName": "Errors", "period": 60, "stat": "Sum"},
         "returnData": True},
        {"id": "b", "expression": "a * 2", "returnData": True}])
    with pytest.raises(AlarmEvaluationError, match="returnData"):
        evaluate_metric_alarm(alarm, {KEY: Observations.counts([1.0])})


def _history(name: str, pattern: str) -> AlarmHistory:
    states = [{"A": ALARM, "O": OK}[c] for c in pattern]
    return AlarmHistory(name, (np.arange(len(pattern)) + 1) * 60, states)


@pytest.mark.parametrize(("rule", "expected"), [
    ('ALARM("long") AND ALARM("short")', "OOOAO"),
    ('ALARM("long") OR ALARM("short")', "OAAAA"),
    ('ALARM("long") AND NOT ALARM("short")', "OOAOA"),
    ('OK("long") AND (ALARM("short") OR FALSE)', "OAOOO"),
    ("ALARM(arn:aws:cloudwatch:us-east-1:123456789012:alarm:long) AND TRUE", "OOAAA"),
    ('NOT (ALARM("long") OR ALARM("short"))', "AOOOO"),
])
def test_composite_rules(rule: str, expected: str) -> None:
    children = {"long": _history("long", "OOAAA"), "short": _history("short", "OAOAO")}
    composite = evaluate_composite({"alarmName": "tier", "alarmRule": rule}, children)
    assert "".join(SHORT[s] for s in composite.states) == expected


@pytest.mark.parametrize("rule", [' ALARM("a")', 'ALARM("a") AND', 'ALARM("a") XOR ALARM("b")', '(ALARM("a")'])
def test_composite_rules_reject_bad_syntax(rule: str) -> None:
    with pytest.raises(AlarmEvaluationError):
        parse_alarm_rule(rule)


@pytest.mark.parametrize(("alarm", "suppressor", "wait", "extension", "expected"), [
    # No suppressor activity: actions run when the wait period is over (ALARM at 3 min + 2 min).
    ("OOAAAAAOO", "OOOOOOOOO", 120, 0, [(300, ALARM), (480, OK)]),
    # The suppressor fires within the wait period: nothing is sent, not even OK.
    ("OOAAAAAOO", "OOOAAAAAA", 120, 600, []),
    # Suppressor in ALARM first and long enough: the extension outlasts the alarm.
    ("OOAAAOOOO", "OAAAOOOOO", 120, 180, []),
    # The alarm outlasts suppressor + extension: actions run at the end of the extension
    # (suppressor OK at 5 min + 3 min).
    ("OOAAAAAAAAO", "OAAAOOOOOOO", 120, 180, [(480, ALARM), (660, OK)]),
    # Re-entering ALARM during the extension suppresses again.
    ("OOAAAAAAAAA", "OAAOOAAAOOO", 60, 120, [(660, ALARM)]),
])
def test_actions_suppressor(alarm: str, suppressor: str, wait: int, extension: int,
                            expected: list[tuple[int, str]]) -> None:
    events = notifications(_history("slow", alarm), _history("fast", suppressor),
                           wait_period=wait, extension_period=extension)
    assert [(e.time, e.state) for e in events] == expected


def test_alarm_set_orders_composites_and_applies_suppressors() -> None:
    data = {KEY: Observations.counts(_values("00XXXX00"))}
    fast = _alarm(name="fast")
    slow = _alarm(name="slow", evaluationPeriods=2, datapointsToAlarm=2)
    alarms = [
        {"alarmName": "slow-tier", "alarmRule": 'ALARM("slow")', "alarmActions": ["topic"],
         "actionsSuppressor": {"alarm": "fast-tier", "waitPeriod": 60, "extensionPeriod": 60}},
        {"alarmName": "fast-tier", "alarmRule": 'ALARM("fast")', "alarmActions": ["topic"]},
        fast, slow,
    ]
    result = evaluate_alarm_set(alarms, data)
    assert [(n.time, n.state) for n in result.notifications["fast-tier"]] == [(180, ALARM), (420, OK)]
    # The slow tier is in ALARM from 4 to 6 min, all of it while the fast one is: never notifies.
    assert result.histories["slow-tier"].first(ALARM) == 240
    assert result.notifications["slow-tier"] == []
