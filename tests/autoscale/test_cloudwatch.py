"""The CloudWatch adapter: series read in batches of 500 queries, pages followed, alarms."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from botocore.stub import Stubber

from stackops.aws.cloudwatch import CloudWatch, Datum, MetricId

START = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def adapter():
    from tests.lifecycle.conftest import moto_services

    return CloudWatch(moto_services().session)


def metric(n: int) -> MetricId:
    return MetricId("stackops", "CPUUtilization", (("InstanceId", f"i{n}"),))


def test_more_series_than_one_call_takes_are_read_in_batches(aws):
    cloudwatch = adapter()
    wanted = [metric(n) for n in range(501)]
    cloudwatch.put(
        [Datum(m, float(n % 100), START + timedelta(seconds=30)) for n, m in enumerate(wanted)]
    )
    calls = []
    cloudwatch._client.meta.events.register(
        "before-call.monitoring.GetMetricData", lambda **kw: calls.append(kw)
    )
    found = cloudwatch.minute_series(wanted, START, START + timedelta(minutes=2))
    assert len(calls) == 2
    assert found[wanted[0]] == {START: 0.0}
    assert found[wanted[500]] == {START: 0.0} and found[wanted[499]] == {START: 99.0}


def test_pages_of_an_answer_are_followed(aws):
    cloudwatch = adapter()
    wanted = [metric(1)]
    with Stubber(cloudwatch._client) as stub:
        page = {"Id": "m0", "StatusCode": "PartialData", "Label": "x"}
        stub.add_response(
            "get_metric_data",
            {
                "MetricDataResults": [{**page, "Timestamps": [START], "Values": [5.0]}],
                "NextToken": "t",
            },
        )
        stub.add_response(
            "get_metric_data",
            {
                "MetricDataResults": [
                    {**page, "Timestamps": [START + timedelta(minutes=1)], "Values": [7.0]}
                ]
            },
        )
        found = cloudwatch.minute_series(wanted, START, START + timedelta(minutes=2))
        stub.assert_no_pending_responses()
    assert found[wanted[0]] == {START: 5.0, START + timedelta(minutes=1): 7.0}


def test_alarms_by_name_leave_out_those_that_do_not_exist(aws):
    cloudwatch = adapter()
    aws.client("cloudwatch").put_metric_alarm(
        AlarmName="busy",
        MetricName="CPUUtilization",
        Namespace="stackops",
        Statistic="Average",
        Period=60,
        EvaluationPeriods=1,
        Threshold=80,
        ComparisonOperator="GreaterThanThreshold",
    )
    found = cloudwatch.alarms(["busy", "gone"])
    assert list(found) == ["busy"]
    assert found["busy"].state in ("OK", "INSUFFICIENT_DATA")
    assert found["busy"].since is not None and found["busy"].since.tzinfo is not None
