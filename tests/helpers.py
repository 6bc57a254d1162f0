"""Small helpers shared by the tests."""

from __future__ import annotations

import json
import os
from typing import Any

from click.testing import Result


def ok_json(result: Result) -> Any:
    """The JSON a successful command printed (fails the test with its stderr otherwise)."""
    assert result.exit_code == 0, f"exit {result.exit_code}: {result.stderr}{result.exception!r}"
    return json.loads(result.stdout) if result.stdout.strip() else None


def sandbox_port() -> int:
    """A free port for a test's sandbox whose nodes' ports are this xdist worker's own:
    tests running side by side never serve on the same port (one block per worker)."""
    from stackops.sandbox import find_free_port

    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    return find_free_port(port_block=12 + int(worker or 0))


def put_5xx_alarm(cloudwatch: Any) -> None:
    """The CloudWatch alarm `web-5xx` (ALB 5xx count over 10 a minute) that scaling tests name."""
    cloudwatch.put_metric_alarm(
        AlarmName="web-5xx",
        MetricName="HTTPCode_Target_5XX_Count",
        Namespace="AWS/ApplicationELB",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=10,
        ComparisonOperator="GreaterThanThreshold",
    )
