"""The parts one command works with, built once at the edge and passed in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property

from stackops.aws.cloudwatch import CloudWatch
from stackops.aws.dynamodb import StateTable
from stackops.aws.ec2 import Ec2
from stackops.aws.eip import Addresses
from stackops.aws.elb import ClassicLoadBalancers
from stackops.aws.elbv2 import TargetGroups
from stackops.aws.events import EventBus
from stackops.aws.s3 import Bucket
from stackops.aws.session import AwsSession
from stackops.aws.sqs import Queue
from stackops.aws.ssm import ParameterStore
from stackops.naming import ResourceNames
from stackops.store import (
    ActionLog,
    CommandLog,
    DeploymentLog,
    EventClaims,
    InFlightIndex,
    Leases,
    Store,
)


def utc_now() -> datetime:
    """The real clock (tests pass their own)."""
    return datetime.now(UTC)


@dataclass
class Services:
    """An AWS session and the adapters over it; clients are made on first use."""

    session: AwsSession
    names: ResourceNames
    clock: Callable[[], datetime] = field(default=utc_now)

    @cached_property
    def store(self) -> Store:
        return Store(StateTable(self.session, self.names.table))

    @cached_property
    def commands(self) -> CommandLog:
        return CommandLog(StateTable(self.session, self.names.table))

    @cached_property
    def deployments(self) -> DeploymentLog:
        return DeploymentLog(StateTable(self.session, self.names.table))

    @cached_property
    def target_groups(self) -> TargetGroups:
        return TargetGroups(self.session)

    @cached_property
    def leases(self) -> Leases:
        return Leases(StateTable(self.session, self.names.table), self.epoch)

    @cached_property
    def claims(self) -> EventClaims:
        return EventClaims(StateTable(self.session, self.names.table), self.epoch)

    @cached_property
    def inflight(self) -> InFlightIndex:
        return InFlightIndex(StateTable(self.session, self.names.table))

    @cached_property
    def actions(self) -> ActionLog:
        return ActionLog(StateTable(self.session, self.names.table), self.epoch)

    @cached_property
    def queue(self) -> Queue:
        return Queue(self.session, self.names.queue)

    @cached_property
    def bus(self) -> EventBus:
        return EventBus(self.session)

    @cached_property
    def artifacts(self) -> Bucket:
        return Bucket(self.session, self.names.bucket(self.session.account_id(), self.region))

    @cached_property
    def ec2(self) -> Ec2:
        return Ec2(self.session)

    @cached_property
    def parameters(self) -> ParameterStore:
        return ParameterStore(self.session)

    @cached_property
    def load_balancers(self) -> ClassicLoadBalancers:
        return ClassicLoadBalancers(self.session)

    @cached_property
    def addresses(self) -> Addresses:
        return Addresses(self.session)

    @cached_property
    def cloudwatch(self) -> CloudWatch:
        return CloudWatch(self.session)

    @property
    def region(self) -> str:
        return self.session.target.region

    def epoch(self) -> float:
        """The clock as seconds since the epoch (leases and expiries)."""
        return self.clock().timestamp()

    def now_precise(self) -> str:
        """The clock's time to the microsecond, for records that are ordered by it."""
        return self.clock().astimezone(UTC).isoformat(timespec="microseconds")

    def now_iso(self) -> str:
        """The clock's time as OpsWorks wrote it (ISO 8601, seconds, UTC)."""
        return self.clock().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")

    def arn(self, kind: str, resource_id: str) -> str:
        """An OpsWorks-style ARN for a stackops record."""
        return f"arn:aws:opsworks:{self.region}:{self.session.account_id()}:{kind}/{resource_id}/"
