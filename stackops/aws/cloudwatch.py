"""CloudWatch adapter: publish metric data, read per-minute series, read alarm states."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from stackops.aws.roles import DISPATCHER, INSTANCE, OPERATOR, calls
from stackops.aws.session import AwsSession, aws_errors

PUT_BATCH = 500  # PutMetricData takes up to 1000 values (1 MB) per call
QUERY_BATCH = 500  # GetMetricData takes up to 500 queries per call
ALARM_BATCH = 100  # DescribeAlarms takes up to 100 names per call


@dataclass(frozen=True)
class MetricId:
    """One metric series: namespace, name and dimensions (name -> value, any order)."""

    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]

    def to_api(self) -> dict[str, Any]:
        return {
            "Namespace": self.namespace,
            "MetricName": self.name,
            "Dimensions": [{"Name": k, "Value": v} for k, v in self.dimensions],
        }


@dataclass(frozen=True)
class Datum:
    """One value of a metric at a time."""

    metric: MetricId
    value: float
    at: datetime
    unit: str = "None"


@dataclass(frozen=True)
class Alarm:
    """An alarm's state and when it last changed."""

    name: str
    state: str
    since: datetime | None


class CloudWatch:
    """Metric data and alarms of one region."""

    def __init__(self, session: AwsSession) -> None:
        self._client = session.client("cloudwatch")

    @calls("cloudwatch:PutMetricData", roles=(INSTANCE,))  # `stackops agent metrics`
    def put(self, data: Sequence[Datum]) -> int:
        """Publish values (grouped by namespace, in batches); the number published."""
        by_namespace: dict[str, list[Datum]] = {}
        for datum in data:
            by_namespace.setdefault(datum.metric.namespace, []).append(datum)
        for namespace, items in by_namespace.items():
            for start in range(0, len(items), PUT_BATCH):
                batch = items[start : start + PUT_BATCH]
                with aws_errors("cloudwatch:PutMetricData"):
                    self._client.put_metric_data(
                        Namespace=namespace, MetricData=[_datum(d) for d in batch]
                    )
        return len(data)

    @calls("cloudwatch:GetMetricData", roles=(DISPATCHER,))  # the scaler's round
    def minute_series(
        self, metrics: Sequence[MetricId], start: datetime, end: datetime
    ) -> dict[MetricId, dict[datetime, float]]:
        """Per-minute averages of each metric in [start, end), minute -> value (UTC)."""
        found: dict[MetricId, dict[datetime, float]] = {m: {} for m in metrics}
        unique = list(found)
        for first in range(0, len(unique), QUERY_BATCH):
            batch = unique[first : first + QUERY_BATCH]
            queries = [
                {
                    "Id": f"m{n}",
                    "MetricStat": {"Metric": m.to_api(), "Period": 60, "Stat": "Average"},
                    "ReturnData": True,
                }
                for n, m in enumerate(batch)
            ]
            kwargs: dict[str, Any] = {
                "MetricDataQueries": queries,
                "StartTime": start,
                "EndTime": end,
                "ScanBy": "TimestampAscending",
            }
            while True:
                with aws_errors("cloudwatch:GetMetricData"):
                    resp = self._client.get_metric_data(**kwargs)
                for result in resp.get("MetricDataResults", []):
                    series = found[batch[int(result["Id"][1:])]]
                    for at, value in zip(result["Timestamps"], result["Values"], strict=True):
                        series[at.astimezone(UTC)] = float(value)
                if not resp.get("NextToken"):
                    break
                kwargs["NextToken"] = resp["NextToken"]
        return found

    @calls("cloudwatch:DescribeAlarms", roles=(OPERATOR, DISPATCHER))
    def alarms(self, names: Iterable[str]) -> dict[str, Alarm]:
        """The named metric and composite alarms that exist, by name."""
        wanted = list(dict.fromkeys(names))
        found: dict[str, Alarm] = {}
        for start in range(0, len(wanted), ALARM_BATCH):
            kwargs: dict[str, Any] = {
                "AlarmNames": wanted[start : start + ALARM_BATCH],
                "AlarmTypes": ["MetricAlarm", "CompositeAlarm"],
            }
            while True:
                with aws_errors("cloudwatch:DescribeAlarms"):
                    resp = self._client.describe_alarms(**kwargs)
                for alarm in resp.get("MetricAlarms", []) + resp.get("CompositeAlarms", []):
                    since = alarm.get("StateUpdatedTimestamp")
                    found[alarm["AlarmName"]] = Alarm(
                        alarm["AlarmName"],
                        alarm.get("StateValue", "INSUFFICIENT_DATA"),
                        since.astimezone(UTC) if since else None,
                    )
                if not resp.get("NextToken"):
                    break
                kwargs["NextToken"] = resp["NextToken"]
        return found


def _datum(datum: Datum) -> dict[str, Any]:
    metric = datum.metric.to_api()
    return {
        "MetricName": metric["MetricName"],
        "Dimensions": metric["Dimensions"],
        "Timestamp": datum.at,
        "Value": datum.value,
        "Unit": datum.unit,
    }
