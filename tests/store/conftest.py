"""Store tests run on moto in-process, on a bootstrapped table, with a clock they move."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from tests.helpers import ok_json


@dataclass
class Clock:
    """A clock a test moves by hand (leases and claims read it)."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 28, 17, 0, tzinfo=UTC))


@pytest.fixture
def services(aws, invoke, clock, monkeypatch) -> Iterator[object]:
    """Services on bootstrapped moto whose clock is the test's; one attempt per call
    (what botocore's retries add is shown where a test asks for them)."""
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    from stackops.aws.session import AwsSession
    from stackops.config import Target
    from stackops.naming import ResourceNames
    from stackops.services import Services

    ok_json(invoke("bootstrap"))
    yield Services(AwsSession(Target("account", "us-east-1")), ResourceNames("stackops"), clock)
