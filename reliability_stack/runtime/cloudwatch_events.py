"""Bad and total event counts of an SLI, read from CloudWatch with GetMetricData.

Only `MetricStat` queries are sent: the ratios are computed here, client-side, from summed
counts (a ratio of sums, never an average of ratios). That is also what moto can serve; it
returns empty values for metric math.

The counts come back as an `EventSeries`: one bucket per period between `start` and `end`,
where a bucket without any datapoint is recorded as absent (no data), not as zero.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from reliability_stack.errors import InputError
from reliability_stack.runtime.aws_clients import AwsClients
from reliability_stack.slo.model import CloudWatchSLI, MetricRef

#: GetMetricData accepts at most 500 queries per request.
MAX_QUERIES_PER_CALL = 500


@dataclass(frozen=True)
class EventSeries:
    """Event counts per period, oldest bucket first; bucket i covers
    [start + i*period, start + (i+1)*period)."""

    start: datetime
    period: int
    bad: tuple[float, ...]
    total: tuple[float, ...]
    observed: tuple[bool, ...]
    """Whether any total-events datapoint fell in the bucket."""

    @property
    def end(self) -> datetime:
        return self.start + timedelta(seconds=self.period * len(self.bad))

    def last(self, seconds: int) -> WindowCounts:
        """The counts of the trailing `seconds` of the series (a whole number of periods)."""
        if seconds % self.period or seconds > self.period * len(self.bad):
            raise ValueError(f"window {seconds}s does not fit a series of {len(self.bad)} x {self.period}s")
        count = seconds // self.period
        first = len(self.bad) - count
        return WindowCounts(
            seconds=seconds,
            bad=sum(self.bad[first:]),
            total=sum(self.total[first:]),
            observed_buckets=sum(self.observed[first:]),
        )


@dataclass(frozen=True)
class WindowCounts:
    """Summed events over one trailing window."""

    seconds: int
    bad: float
    total: float
    observed_buckets: int

    @property
    def error_ratio(self) -> float | None:
        """bad / total, or None when the window saw no events at all."""
        if self.total <= 0:
            return None
        return min(1.0, max(0.0, self.bad / self.total))


@dataclass(frozen=True)
class MetricTarget:
    """Where one SLI is measured: a region and the values of its dimension placeholders."""

    region: str
    placeholders: Mapping[str, str]
    label: str = ""
    """What was found there, for messages (e.g. the load balancer's name)."""


def resolve_dimensions(ref: MetricRef, placeholders: Mapping[str, str]) -> list[dict[str, str]]:
    """The GetMetricData dimensions of `ref`, with `{placeholder}` values filled in."""
    dimensions = []
    for name, value in ref.dimensions.items():
        if value.startswith("{") and value.endswith("}"):
            key = value[1:-1]
            if key not in placeholders:
                raise InputError(f"no value for dimension placeholder {value} of {ref.metric_name}",
                                 field=f"sli.cloudwatch.{name}")
            value = placeholders[key]
        dimensions.append({"Name": name, "Value": value})
    return dimensions


def _sli_queries(sli: CloudWatchSLI) -> list[tuple[str, MetricRef, str]]:
    """(role, metric, statistic) for each metric read: role is bad, good or total."""
    queries: list[tuple[str, MetricRef, str]] = []
    if sli.latency is not None:
        # Counts, so they sum across periods and regions: slow requests over all requests.
        queries.append(("bad", sli.latency.metric, sli.latency.slow_count_statistic))
        queries.append(("total", sli.latency.metric, "SampleCount"))
        return queries
    queries += [("bad", ref, ref.statistic) for ref in sli.bad]
    queries += [("good", ref, ref.statistic) for ref in sli.good]
    queries += [("total", ref, ref.statistic) for ref in sli.total]
    if not any(role == "total" for role, _, _ in queries) or len(queries) < 2:
        raise InputError("a CloudWatch availability SLI needs total metrics and bad or good metrics",
                         field="sli.cloudwatch")
    return queries


def fetch_event_series(clients: AwsClients, sli: CloudWatchSLI, targets: Sequence[MetricTarget], *,
                       end: datetime, span: int, period: int) -> EventSeries:
    """Sum the SLI's bad and total events per `period` over [end - span, end) across `targets`."""
    if span % period:
        raise ValueError("span must be a whole number of periods")
    start = end - timedelta(seconds=span)
    buckets = span // period
    sums = {role: [0.0] * buckets for role in ("bad", "good", "total")}
    observed = [False] * buckets
    roles = _sli_queries(sli)
    for target in targets:
        queries: list[dict[str, Any]] = []
        query_roles: dict[str, str] = {}
        for index, (role, ref, statistic) in enumerate(roles):
            query_id = f"q{index}"
            query_roles[query_id] = role
            queries.append({
                "Id": query_id,
                "MetricStat": {
                    "Metric": {"Namespace": ref.namespace, "MetricName": ref.metric_name,
                               "Dimensions": resolve_dimensions(ref, target.placeholders)},
                    "Period": period,
                    "Stat": statistic,
                },
                "ReturnData": True,
            })
        for result in _metric_data(clients, target.region, queries, start, end):
            result_role = query_roles.get(result["Id"])
            if result_role is None:
                continue
            for timestamp, value in zip(result.get("Timestamps", []), result.get("Values", []), strict=False):
                index = int((_utc(timestamp) - start).total_seconds() // period)
                if 0 <= index < buckets and value is not None:
                    sums[result_role][index] += float(value)
                    if result_role == "total":
                        observed[index] = True
    if sli.latency is None and not sli.bad:
        bad = [max(0.0, total - good) for total, good in zip(sums["total"], sums["good"], strict=True)]
    else:
        bad = sums["bad"]
    return EventSeries(start=start, period=period, bad=tuple(bad), total=tuple(sums["total"]),
                       observed=tuple(observed))


def _metric_data(clients: AwsClients, region: str, queries: list[dict[str, Any]], start: datetime,
                 end: datetime) -> Iterable[dict[str, Any]]:
    """GetMetricData results per query id, pages merged."""
    merged: dict[str, dict[str, list[Any]]] = {}
    for first in range(0, len(queries), MAX_QUERIES_PER_CALL):
        params: dict[str, Any] = {"MetricDataQueries": queries[first:first + MAX_QUERIES_PER_CALL],
                                  "StartTime": start, "EndTime": end, "ScanBy": "TimestampAscending"}
        while True:
            page = clients.call("cloudwatch", "get_metric_data", region=region, **params)
            for result in page.get("MetricDataResults", []):
                entry = merged.setdefault(result["Id"], {"Timestamps": [], "Values": []})
                entry["Timestamps"].extend(result.get("Timestamps", []))
                entry["Values"].extend(result.get("Values", []))
            token = page.get("NextToken")
            if not token:
                break
            params["NextToken"] = token
    return [{"Id": query_id, **data} for query_id, data in merged.items()]


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def floor_time(moment: datetime, seconds: int) -> datetime:
    """`moment` rounded down to a multiple of `seconds` since the epoch (UTC)."""
    moment = _utc(moment)
    epoch = int(moment.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=UTC)
