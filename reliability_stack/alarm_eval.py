"""A small evaluator of CloudWatch alarm semantics, for proving alarms by behaviour offline.

moto stores alarms but never evaluates them and has no metric math, so the behaviour of
the alarms our components declare (detection and reset times, silence under a slow burn)
is checked here instead. Alarms are the engine's camelCase input dicts, exactly as a
Pulumi `aws:cloudwatch/metricAlarm:MetricAlarm` or `.../compositeAlarm:CompositeAlarm`
declares them (`metricQueries`, `evaluationPeriods`, `datapointsToAlarm`,
`treatMissingData`, `alarmRule`, `actionsSuppressor`, ...).

The model (each point is a documented CloudWatch behaviour, or a stated simplification):

- Raw observations live on a fixed grid of `step` seconds (60 by default). Each metric holds,
  per step, a few weighted values (a value and how many samples had it), so `Sum`,
  `SampleCount`, `Average`, percentile rank `PR(a:b)` and trimmed count `TC(a:b)` all derive
  from the same data. A step with no samples is a missing datapoint, as CloudWatch has no
  datapoint when nothing was published (the ALB publishes no 5XX count when there were none).
- An alarm is evaluated at the end of every step (CloudWatch evaluates every minute). The
  default `evaluationWindow` is sliding: the newest datapoint aggregates the `period`
  seconds that end at the evaluation time, the one before the `period` before that, etc.
  Publication and ingestion delays are not modelled.
- Metric math is parsed from the expression strings (`+ - * /`, comparisons, `AND`/`OR`/`NOT`,
  `IF`, `FILL`, `SUM`, `MIN`, `MAX`, `ABS`); a missing value propagates through arithmetic,
  `FILL(x, v)` replaces it, division by zero gives a missing value.
- `datapointsToAlarm` of `evaluationPeriods` (M of N) and `treatMissingData` follow the AWS
  documentation: if at least N real datapoints exist in the evaluation range, the newest N are
  used and the treatment is irrelevant; otherwise every real datapoint counts and the gap is
  filled per the treatment (`breaching`, `notBreaching`); `ignore` keeps the current state
  when the result is undecided; `missing` goes to INSUFFICIENT_DATA when the range holds no
  datapoint at all and otherwise keeps the state when undecided. The evaluation range is N
  datapoints plus `extra_range` (a knob; AWS retrieves "a higher number" than N, unspecified).
- Composite alarms evaluate `ALARM("x")`, `OK("x")`, `INSUFFICIENT_DATA("x")`, `TRUE`, `FALSE`,
  `AND`, `OR`, `NOT` and parentheses over their children's states at the same instant;
  children may be named by alarm name or ARN.
- `actionsSuppressor`: when a composite enters ALARM its actions wait up to `waitPeriod` for
  the suppressor to be in ALARM; while the suppressor is in ALARM they are suppressed, and
  for `extensionPeriod` after it leaves ALARM; if the composite is still in ALARM after
  that, the actions run. OK actions run only after an ALARM whose actions ran.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

ALARM = "ALARM"
OK = "OK"
INSUFFICIENT_DATA = "INSUFFICIENT_DATA"

TREATMENTS = ("missing", "notBreaching", "breaching", "ignore")

_COMPARATORS = {
    "GreaterThanThreshold": lambda v, t: v > t,
    "GreaterThanOrEqualToThreshold": lambda v, t: v >= t,
    "LessThanThreshold": lambda v, t: v < t,
    "LessThanOrEqualToThreshold": lambda v, t: v <= t,
}


class AlarmEvaluationError(ValueError):
    """An alarm uses something this evaluator does not model, or is not a valid alarm."""


# --------------------------------------------------------------------------------------
# Metric data
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class MetricKey:
    """Identity of one metric: namespace, name and dimensions (order-free)."""

    namespace: str
    metric_name: str
    dimensions: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, namespace: str, metric_name: str, dimensions: Mapping[str, Any] | None = None) -> MetricKey:
        return cls(namespace, metric_name, tuple(sorted((str(k), str(v)) for k, v in (dimensions or {}).items())))


@dataclass(frozen=True)
class Observations:
    """Per-step weighted samples of one metric: `values[i, j]` seen `weights[i, j]` times in step i.

    A step whose weights sum to 0 has no datapoint (missing).
    """

    values: np.ndarray
    weights: np.ndarray

    @classmethod
    def counts(cls, per_step: Sequence[float] | np.ndarray) -> Observations:
        """A count metric (RequestCount, HTTPCode_*): one datapoint per step holding the count.

        NaN marks a step where nothing was published (missing), as opposed to a published 0.
        """
        array = np.asarray(per_step, dtype=float)
        present = ~np.isnan(array)
        return cls(np.where(present, array, 0.0)[:, None], present.astype(float)[:, None])

    @classmethod
    def samples(cls, values: Sequence[float] | np.ndarray, weights: Sequence[Any] | np.ndarray) -> Observations:
        """A distribution metric (latency): `values` (k,) or (n, k) seen `weights` (n, k) times per step."""
        weight_array = np.asarray(weights, dtype=float)
        if weight_array.ndim == 1:
            weight_array = weight_array[:, None]
        value_array = np.broadcast_to(np.asarray(values, dtype=float), weight_array.shape)
        return cls(np.array(value_array), weight_array)

    def __len__(self) -> int:
        return int(self.weights.shape[0])


MetricData = Mapping[MetricKey, Observations]


# --------------------------------------------------------------------------------------
# Statistics over sliding periods
# --------------------------------------------------------------------------------------

_RANGE_STAT = re.compile(r"^(PR|TC)\(\s*([0-9.eE+-]*)\s*:\s*([0-9.eE+-]*)\s*\)$")


def _windowed(per_step: np.ndarray, steps: int) -> np.ndarray:
    """Sum of `per_step` over the `steps` steps ending at each index (missing history counts 0)."""
    cumulative = np.concatenate([[0.0], np.cumsum(per_step)])
    ends = np.arange(1, len(per_step) + 1)
    return cumulative[ends] - cumulative[np.maximum(ends - steps, 0)]


def period_statistic(obs: Observations, stat: str, period_steps: int) -> np.ndarray:
    """The statistic over the `period_steps` steps ending at each step; NaN where no datapoint.

    Supports `Sum`, `SampleCount`, `Average`, `PR(a:b)` (percent of samples with a < v <= b)
    and `TC(a:b)` (count of such samples); either bound may be omitted.
    """
    count = _windowed(obs.weights.sum(axis=1), period_steps)
    present = count > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        if stat == "Sum":
            result = _windowed((obs.values * obs.weights).sum(axis=1), period_steps)
        elif stat == "SampleCount":
            result = count
        elif stat == "Average":
            result = _windowed((obs.values * obs.weights).sum(axis=1), period_steps) / count
        else:
            match = _RANGE_STAT.match(stat.replace(" ", ""))
            if not match or "%" in stat:
                raise AlarmEvaluationError(f"statistic {stat!r} is not modelled (Sum, SampleCount, Average, "
                                           f"PR(a:b), TC(a:b) with absolute bounds)")
            kind, low, high = match.groups()
            lower = float(low) if low else -math.inf
            upper = float(high) if high else math.inf
            inside = (obs.values > lower) & (obs.values <= upper)
            in_range = _windowed((obs.weights * inside).sum(axis=1), period_steps)
            result = in_range if kind == "TC" else 100.0 * in_range / count
    return np.where(present, result, np.nan)


# --------------------------------------------------------------------------------------
# Metric math
# --------------------------------------------------------------------------------------

_TOKEN = re.compile(r"\s*(?:(?P<num>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)"
                    r"|(?P<op>==|!=|<=|>=|&&|\|\||[-+*/(),<>!^\[\]])|(?P<name>[A-Za-z_][A-Za-z0-9_]*))")
_KEYWORD_OPS = {"AND": "&&", "OR": "||", "NOT": "!"}


def _tokenize(expression: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    text = expression.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match:
            raise AlarmEvaluationError(f"cannot parse metric math {expression!r} at {text[position:]!r}")
        position = match.end()
        if match.group("num") is not None:
            tokens.append(("num", match.group("num")))
        elif match.group("op") is not None:
            tokens.append(("op", match.group("op")))
        else:
            name = match.group("name")
            if name.upper() in _KEYWORD_OPS:
                tokens.append(("op", _KEYWORD_OPS[name.upper()]))
            else:
                tokens.append(("name", name))
    return tokens


Node = tuple[Any, ...]

# Binding powers, lowest first: || , && , comparisons, + -, * /, ^.
_BINARY = {"||": 1, "&&": 2, "==": 3, "!=": 3, "<": 3, ">": 3, "<=": 3, ">=": 3,
           "+": 4, "-": 4, "*": 5, "/": 5, "^": 6}


class _Parser:
    def __init__(self, expression: str) -> None:
        self.expression = expression
        self.tokens = _tokenize(expression)
        self.position = 0

    def parse(self) -> Node:
        node = self._binary(0)
        if self.position != len(self.tokens):
            raise AlarmEvaluationError(f"unexpected {self.tokens[self.position][1]!r} in {self.expression!r}")
        return node

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _take(self, value: str | None = None) -> tuple[str, str]:
        token = self._peek()
        if token is None or (value is not None and token[1] != value):
            raise AlarmEvaluationError(f"expected {value or 'a term'} in {self.expression!r}")
        self.position += 1
        return token

    def _binary(self, min_power: int) -> Node:
        left = self._unary()
        while (token := self._peek()) and token[0] == "op" and _BINARY.get(token[1], 0) > min_power:
            self.position += 1
            right = self._binary(_BINARY[token[1]])
            left = ("bin", token[1], left, right)
        return left

    def _unary(self) -> Node:
        token = self._peek()
        if token == ("op", "-"):
            self.position += 1
            return ("neg", self._binary(5))
        if token == ("op", "!"):
            self.position += 1
            return ("not", self._binary(2))
        return self._primary()

    def _primary(self) -> Node:
        kind, value = self._take()
        if kind == "num":
            return ("num", float(value))
        if kind == "op" and value == "(":
            node = self._binary(0)
            self._take(")")
            return node
        if kind == "op" and value == "[":  # an array of series, as in SUM([m1, m2])
            items = [self._binary(0)]
            while self._peek() == ("op", ","):
                self.position += 1
                items.append(self._binary(0))
            self._take("]")
            return ("list", items)
        if kind == "name":
            if self._peek() == ("op", "("):
                self.position += 1
                args: list[Node] = []
                if self._peek() != ("op", ")"):
                    args.append(self._binary(0))
                    while self._peek() == ("op", ","):
                        self.position += 1
                        args.append(self._binary(0))
                self._take(")")
                return ("call", value.upper(), args)
            return ("ref", value)
        raise AlarmEvaluationError(f"unexpected {value!r} in {self.expression!r}")


def parse_expression(expression: str) -> Node:
    """Parse a metric math expression into a small syntax tree (raises AlarmEvaluationError)."""
    return _Parser(expression).parse()


def expression_references(expression: str) -> set[str]:
    """Query ids an expression reads, e.g. {'bad0', 'total0'} for `FILL(bad0,0)/total0`."""
    found: set[str] = set()

    def walk(node: Node) -> None:
        if node[0] == "ref":
            found.add(node[1])
        elif node[0] == "bin":
            walk(node[2])
            walk(node[3])
        elif node[0] in ("neg", "not"):
            walk(node[1])
        elif node[0] in ("call", "list"):
            for arg in (node[2] if node[0] == "call" else node[1]):
                walk(arg)

    walk(parse_expression(expression))
    return found


def _as_bool(array: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(array), np.nan, (array != 0).astype(float))


def evaluate_expression(node: Node, series: Mapping[str, np.ndarray], length: int) -> np.ndarray:
    """Evaluate a parsed expression elementwise over aligned series (NaN = missing)."""

    def ev(item: Node) -> np.ndarray:
        kind = item[0]
        if kind == "num":
            return np.full(length, item[1])
        if kind == "ref":
            if item[1] not in series:
                raise AlarmEvaluationError(f"metric math references unknown id {item[1]!r}")
            return series[item[1]]
        if kind == "neg":
            return -ev(item[1])
        if kind == "not":
            value = ev(item[1])
            return np.where(np.isnan(value), np.nan, (value == 0).astype(float))
        if kind == "bin":
            op, left, right = item[1], ev(item[2]), ev(item[3])
            missing = np.isnan(left) | np.isnan(right)
            with np.errstate(divide="ignore", invalid="ignore"):
                if op == "+":
                    out = left + right
                elif op == "-":
                    out = left - right
                elif op == "*":
                    out = left * right
                elif op == "/":
                    out = np.where(right == 0, np.nan, left / np.where(right == 0, 1.0, right))
                elif op == "^":
                    out = np.power(left, right)
                elif op in ("&&", "||"):
                    lb, rb = left != 0, right != 0
                    out = (lb & rb if op == "&&" else lb | rb).astype(float)
                else:
                    out = {"==": left == right, "!=": left != right, "<": left < right, ">": left > right,
                           "<=": left <= right, ">=": left >= right}[op].astype(float)
            return np.where(missing, np.nan, out)
        if kind == "list":
            return np.vstack([ev(element) for element in item[1]])
        if kind == "call":
            return _call(item[1], [ev(arg) for arg in item[2]])
        raise AlarmEvaluationError(f"unknown node {kind}")

    def _call(name: str, args: list[np.ndarray]) -> np.ndarray:
        if name == "IF":
            if len(args) not in (2, 3):
                raise AlarmEvaluationError("IF takes 2 or 3 arguments")
            condition = _as_bool(args[0])
            otherwise = args[2] if len(args) == 3 else np.full(length, np.nan)
            return np.where(np.isnan(condition), np.nan, np.where(condition == 1.0, args[1], otherwise))
        if name == "FILL":
            if len(args) != 2:
                raise AlarmEvaluationError("FILL takes 2 arguments")
            return np.where(np.isnan(args[0]), args[1], args[0])
        if name in ("SUM", "MIN", "MAX"):
            # SUM([a, b]) reduces across series at each time; SUM(a, b) is accepted the same way.
            stacked = np.vstack(args)
            reducers: dict[str, Callable[..., Any]] = {"SUM": np.nansum, "MIN": np.nanmin, "MAX": np.nanmax}
            reducer = reducers[name]
            all_missing = np.all(np.isnan(stacked), axis=0)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns are handled below
                reduced = reducer(np.where(all_missing, 0.0, stacked), axis=0)
            return np.where(all_missing, np.nan, reduced)
        if name == "ABS":
            return np.abs(args[0])
        raise AlarmEvaluationError(f"metric math function {name} is not modelled")

    return ev(node)


# --------------------------------------------------------------------------------------
# Metric alarms
# --------------------------------------------------------------------------------------

@dataclass
class AlarmHistory:
    """States of one alarm at each evaluation time (seconds since the series start)."""

    name: str
    times: np.ndarray
    states: list[str]
    values: np.ndarray = field(default_factory=lambda: np.array([]))
    """The newest datapoint at each evaluation (NaN when missing); empty for composites."""

    def state_at(self, seconds: float) -> str:
        """The state in force at `seconds` (the last evaluation at or before it)."""
        index = int(np.searchsorted(self.times, seconds, side="right")) - 1
        return self.states[index] if index >= 0 else INSUFFICIENT_DATA

    def first(self, state: str, after: float = -math.inf) -> float | None:
        """Time of the first evaluation at or after `after` in `state`, or None."""
        for time, current in zip(self.times, self.states, strict=True):
            if time >= after and current == state:
                return float(time)
        return None

    def transitions(self) -> list[tuple[float, str]]:
        """(time, new state) each time the state changes, starting with the first state."""
        changes: list[tuple[float, str]] = []
        for time, state in zip(self.times, self.states, strict=True):
            if not changes or changes[-1][1] != state:
                changes.append((float(time), state))
        return changes


def alarm_name(alarm: Mapping[str, Any]) -> str:
    """The name of a metric (`name`, Pulumi) or composite (`alarmName`) alarm."""
    name = alarm.get("alarmName") or alarm.get("name")
    if not name:
        raise AlarmEvaluationError("alarm has no name (`name` or `alarmName`)")
    return str(name)


def _queries_of(alarm: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    queries = alarm.get("metricQueries")
    if queries:
        if alarm.get("metricName"):
            raise AlarmEvaluationError(f"{alarm_name(alarm)}: metricName and metricQueries are exclusive")
        return list(queries)
    if not alarm.get("metricName"):
        raise AlarmEvaluationError(f"{alarm_name(alarm)}: neither metricName nor metricQueries")
    stat = alarm.get("statistic") or alarm.get("extendedStatistic")
    if not stat:
        raise AlarmEvaluationError(f"{alarm_name(alarm)}: a single-metric alarm needs statistic")
    return [{"id": "m", "returnData": True, "metric": {
        "namespace": alarm.get("namespace"), "metricName": alarm["metricName"],
        "dimensions": alarm.get("dimensions") or {}, "period": alarm.get("period"), "stat": stat}}]


def alarm_series(alarm: Mapping[str, Any], data: MetricData, step: int, length: int) -> tuple[np.ndarray, int]:
    """The alarm's datapoint value for the period ending at each step, and its period in steps."""
    queries = {str(q["id"]): q for q in _queries_of(alarm)}
    returned = [qid for qid, q in queries.items() if q.get("returnData")]
    if len(returned) != 1:
        raise AlarmEvaluationError(f"{alarm_name(alarm)}: exactly one query must have returnData "
                                   f"(found {len(returned)})")
    computed: dict[str, np.ndarray] = {}
    periods: dict[str, int] = {}

    def resolve(qid: str, stack: tuple[str, ...] = ()) -> np.ndarray:
        if qid in computed:
            return computed[qid]
        if qid in stack:
            raise AlarmEvaluationError(f"{alarm_name(alarm)}: circular metric math through {qid!r}")
        if qid not in queries:
            raise AlarmEvaluationError(f"{alarm_name(alarm)}: unknown query id {qid!r}")
        query = queries[qid]
        metric = query.get("metric")
        if metric:
            period = int(metric.get("period") or 0)
            if period <= 0 or period % step:
                raise AlarmEvaluationError(f"{alarm_name(alarm)}: period {period} is not a multiple of the "
                                           f"evaluation step {step} s")
            key = MetricKey.of(metric.get("namespace") or "", metric["metricName"], metric.get("dimensions"))
            obs = data.get(key)
            if obs is None:
                value = np.full(length, np.nan)  # never published: every datapoint missing
            else:
                if len(obs) != length:
                    raise AlarmEvaluationError(f"metric {key} has {len(obs)} steps, expected {length}")
                value = period_statistic(obs, str(metric["stat"]), period // step)
            periods[qid] = period // step
        elif query.get("expression"):
            node = parse_expression(str(query["expression"]))
            references = expression_references(str(query["expression"]))
            inputs = {ref: resolve(ref, (*stack, qid)) for ref in references}
            value = evaluate_expression(node, inputs, length)
            periods[qid] = max([periods[ref] for ref in references] or [int(query.get("period") or step) // step])
        else:
            raise AlarmEvaluationError(f"{alarm_name(alarm)}: query {qid!r} has neither metric nor expression")
        computed[qid] = value
        return value

    series = resolve(returned[0])
    return series, periods[returned[0]]


def _decide(real: list[bool], needed: int, datapoints_to_alarm: int, treatment: str,
            current: str) -> str:
    """One evaluation: `real` holds breaching flags of the real datapoints, newest first."""
    if len(real) >= needed:
        return ALARM if sum(real[:needed]) >= datapoints_to_alarm else OK
    gap = needed - len(real)
    breaching = sum(real)
    if treatment == "breaching":
        return ALARM if breaching + gap >= datapoints_to_alarm else OK
    if treatment == "notBreaching":
        return ALARM if breaching >= datapoints_to_alarm else OK
    # ignore / missing: decide only when the real datapoints already settle it.
    if breaching >= datapoints_to_alarm:
        return ALARM
    if breaching + gap < datapoints_to_alarm and real:
        return OK
    if not real and treatment == "missing":
        return INSUFFICIENT_DATA
    return current


def evaluate_metric_alarm(alarm: Mapping[str, Any], data: MetricData, *, step: int = 60,
                          length: int | None = None, extra_range: int = 0,
                          initial_state: str = INSUFFICIENT_DATA) -> AlarmHistory:
    """Evaluate a metric alarm (camelCase engine inputs) at the end of every step of `data`."""
    if length is None:
        length = len(next(iter(data.values()))) if data else 0
    name = alarm_name(alarm)
    comparator = _COMPARATORS.get(str(alarm.get("comparisonOperator")))
    if comparator is None:
        raise AlarmEvaluationError(f"{name}: comparisonOperator {alarm.get('comparisonOperator')!r} is not "
                                   f"modelled ({', '.join(_COMPARATORS)})")
    evaluation_periods = int(alarm.get("evaluationPeriods") or 0)
    datapoints_to_alarm = int(alarm.get("datapointsToAlarm") or evaluation_periods)
    if evaluation_periods < 1 or not 1 <= datapoints_to_alarm <= evaluation_periods:
        raise AlarmEvaluationError(f"{name}: need 1 <= datapointsToAlarm ({datapoints_to_alarm}) <= "
                                   f"evaluationPeriods ({evaluation_periods})")
    treatment = str(alarm.get("treatMissingData") or "missing")
    if treatment not in TREATMENTS:
        raise AlarmEvaluationError(f"{name}: treatMissingData {treatment!r} is not one of {TREATMENTS}")
    if "threshold" not in alarm or alarm["threshold"] is None:
        raise AlarmEvaluationError(f"{name}: no threshold (threshold metrics/anomaly bands are not modelled)")
    threshold = float(alarm["threshold"])

    series, period_steps = alarm_series(alarm, data, step, length)
    present = ~np.isnan(series)
    breaching = np.zeros(length, dtype=bool)
    breaching[present] = comparator(series[present], threshold)
    present_list = present.tolist()
    breaching_list = breaching.tolist()
    range_size = evaluation_periods + extra_range
    states: list[str] = []
    state = initial_state
    for end in range(length):
        real: list[bool] = []
        for i in range(range_size):
            index = end - i * period_steps
            if index < 0:
                break
            if present_list[index]:
                real.append(breaching_list[index])
        state = _decide(real, evaluation_periods, datapoints_to_alarm, treatment, state)
        states.append(state)
    times = (np.arange(length) + 1) * step
    return AlarmHistory(name, times, states, series)


# --------------------------------------------------------------------------------------
# Composite alarms
# --------------------------------------------------------------------------------------

_RULE_TOKEN = re.compile(r'\s*(?:(?P<fn>ALARM|OK|INSUFFICIENT_DATA)\s*\(\s*(?:"(?P<dq>[^"]*)"|\'(?P<sq>[^\']*)\'|'
                         r'(?P<bare>[^()\s]+))\s*\)|(?P<kw>AND|OR|NOT|TRUE|FALSE)\b|(?P<paren>[()]))')


def _alarm_key(reference: str) -> str:
    # ALARM() accepts a name or an ARN (arn:aws:cloudwatch:region:account:alarm:NAME).
    if reference.startswith("arn:") and ":alarm:" in reference:
        return reference.split(":alarm:", 1)[1]
    return reference


def parse_alarm_rule(rule: str) -> Node:
    """Parse a composite `alarmRule` into a tree of ("state", fn, name), ("and"|"or", a, b), ("not", a)."""
    if rule != rule.strip():
        raise AlarmEvaluationError("alarmRule must not have leading or trailing whitespace")
    tokens: list[tuple[str, str, str]] = []
    position = 0
    while position < len(rule):
        match = _RULE_TOKEN.match(rule, position)
        if not match:
            raise AlarmEvaluationError(f"cannot parse alarm rule {rule!r} at {rule[position:]!r}")
        position = match.end()
        if match.group("fn"):
            target = match.group("dq") or match.group("sq") or match.group("bare") or ""
            tokens.append(("state", match.group("fn"), _alarm_key(target)))
        elif match.group("kw"):
            tokens.append(("kw", match.group("kw"), ""))
        else:
            tokens.append(("paren", match.group("paren"), ""))
    index = 0

    def peek() -> tuple[str, str, str] | None:
        return tokens[index] if index < len(tokens) else None

    def expr_or() -> Node:
        nonlocal index
        left = expr_and()
        while peek() == ("kw", "OR", ""):
            index += 1
            left = ("or", left, expr_and())
        return left

    def expr_and() -> Node:
        nonlocal index
        left = expr_not()
        while peek() == ("kw", "AND", ""):
            index += 1
            left = ("and", left, expr_not())
        return left

    def expr_not() -> Node:
        nonlocal index
        if peek() == ("kw", "NOT", ""):
            index += 1
            return ("not", expr_not())
        token = peek()
        if token is None:
            raise AlarmEvaluationError(f"alarm rule {rule!r} ends early")
        index += 1
        if token[0] == "state":
            return token
        if token[:2] == ("kw", "TRUE"):
            return ("const", True)
        if token[:2] == ("kw", "FALSE"):
            return ("const", False)
        if token[:2] == ("paren", "("):
            node = expr_or()
            if peek() != ("paren", ")", ""):
                raise AlarmEvaluationError(f"alarm rule {rule!r}: missing ')'")
            index += 1
            return node
        raise AlarmEvaluationError(f"alarm rule {rule!r}: unexpected {token[1]!r}")

    tree = expr_or()
    if index != len(tokens):
        raise AlarmEvaluationError(f"alarm rule {rule!r}: unexpected {tokens[index][1]!r}")
    return tree


def rule_children(rule: str) -> set[str]:
    """Names of the alarms a composite rule reads."""
    found: set[str] = set()

    def walk(node: Node) -> None:
        if node[0] == "state":
            found.add(node[2])
        elif node[0] in ("and", "or"):
            walk(node[1])
            walk(node[2])
        elif node[0] == "not":
            walk(node[1])

    walk(parse_alarm_rule(rule))
    return found


def evaluate_composite(alarm: Mapping[str, Any], children: Mapping[str, AlarmHistory]) -> AlarmHistory:
    """Evaluate a composite alarm's rule over its children's histories (same evaluation times)."""
    name = alarm_name(alarm)
    tree = parse_alarm_rule(str(alarm["alarmRule"]))
    missing = rule_children(str(alarm["alarmRule"])) - set(children)
    if missing:
        raise AlarmEvaluationError(f"{name}: rule references unknown alarms {sorted(missing)}")
    times = next(iter(children.values())).times

    def holds(node: Node, index: int) -> bool:
        kind = node[0]
        if kind == "state":
            return children[node[2]].states[index] == node[1]
        if kind == "const":
            return bool(node[1])
        if kind == "not":
            return not holds(node[1], index)
        if kind == "and":
            return holds(node[1], index) and holds(node[2], index)
        return holds(node[1], index) or holds(node[2], index)

    states = [ALARM if holds(tree, i) else OK for i in range(len(times))]
    return AlarmHistory(name, times, states)


# --------------------------------------------------------------------------------------
# Actions and suppression
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Notification:
    """An alarm's actions ran: at `time` for a transition to `state` (ALARM or OK)."""

    alarm: str
    time: float
    state: str


def notifications(history: AlarmHistory, suppressor: AlarmHistory | None = None, *,
                  wait_period: float = 0.0, extension_period: float = 0.0) -> list[Notification]:
    """When the alarm's ALARM and OK actions run, honouring an `actionsSuppressor`."""
    events: list[Notification] = []
    phase: str | None = None  # None (not in ALARM), waiting, suppressed, extension, notified
    deadline = 0.0
    for index, (time, state) in enumerate(zip(history.times, history.states, strict=True)):
        time = float(time)
        suppressing = suppressor is not None and suppressor.states[index] == ALARM
        if state != ALARM:
            if phase == "notified" and state == OK:
                events.append(Notification(history.name, time, OK))
            phase = None
            continue
        if phase is None:
            if suppressor is None:
                phase = "ready"
            elif suppressing:
                phase = "suppressed"
            else:
                phase, deadline = "waiting", time + wait_period
        if phase == "waiting" and suppressing:
            phase = "suppressed"
        if phase == "suppressed" and not suppressing:
            phase, deadline = "extension", time + extension_period
        if phase == "extension" and suppressing:
            phase = "suppressed"
        if phase == "ready" or (phase in ("waiting", "extension") and time >= deadline):
            events.append(Notification(history.name, time, ALARM))
            phase = "notified"
    return events


# --------------------------------------------------------------------------------------
# A set of alarms (what one component declares)
# --------------------------------------------------------------------------------------

@dataclass
class AlarmSetResult:
    """Histories of every alarm in a set and the notifications of the alarms with actions."""

    histories: dict[str, AlarmHistory]
    notifications: dict[str, list[Notification]]

    def first_notification(self, names: Iterable[str], state: str = ALARM,
                           after: float = -math.inf) -> float | None:
        """The earliest notification of `state` from any of `names` at or after `after`."""
        times = [n.time for name in names for n in self.notifications.get(name, [])
                 if n.state == state and n.time >= after]
        return min(times) if times else None


def is_composite(alarm: Mapping[str, Any]) -> bool:
    """Whether the dict is a composite alarm (it has an `alarmRule`)."""
    return "alarmRule" in alarm


def evaluate_alarm_set(alarms: Sequence[Mapping[str, Any]], data: MetricData, *, step: int = 60,
                       length: int | None = None, extra_range: int = 0) -> AlarmSetResult:
    """Evaluate metric alarms, then composites in dependency order, then their actions.

    Notifications are computed for every alarm with `alarmActions` (composites honour their
    `actionsSuppressor`).
    """
    histories: dict[str, AlarmHistory] = {}
    composites = [a for a in alarms if is_composite(a)]
    for alarm in alarms:
        if not is_composite(alarm):
            histories[alarm_name(alarm)] = evaluate_metric_alarm(alarm, data, step=step, length=length,
                                                                 extra_range=extra_range)
    pending = list(composites)
    while pending:
        ready = [a for a in pending if rule_children(str(a["alarmRule"])) <= set(histories)]
        if not ready:
            names = [alarm_name(a) for a in pending]
            raise AlarmEvaluationError(f"composite alarms with unknown or circular children: {names}")
        for alarm in ready:
            histories[alarm_name(alarm)] = evaluate_composite(alarm, histories)
            pending.remove(alarm)
    fired: dict[str, list[Notification]] = {}
    for alarm in alarms:
        if not alarm.get("alarmActions"):
            continue
        name = alarm_name(alarm)
        suppressor_spec = alarm.get("actionsSuppressor") or None
        suppressor = None
        wait = extension = 0.0
        if suppressor_spec:
            key = _alarm_key(str(suppressor_spec["alarm"]))
            if key not in histories:
                raise AlarmEvaluationError(f"{name}: actionsSuppressor names unknown alarm {key!r}")
            suppressor = histories[key]
            wait = float(suppressor_spec.get("waitPeriod") or 0)
            extension = float(suppressor_spec.get("extensionPeriod") or 0)
        fired[name] = notifications(histories[name], suppressor, wait_period=wait, extension_period=extension)
    return AlarmSetResult(histories, fired)
