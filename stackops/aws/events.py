"""EventBridge adapter: rules and targets on one bus, and putting events on it."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from stackops.aws.roles import BOOTSTRAP, DISPATCHER, calls
from stackops.aws.session import AwsSession, aws_errors, error_code
from stackops.errors import AwsFailure

DEFAULT_BUS = "default"


@dataclass(frozen=True)
class Rule:
    """A rule as it exists: its pattern is the JSON text EventBridge holds."""

    name: str
    arn: str
    pattern: str | None
    state: str
    schedule: str | None = None


@dataclass(frozen=True)
class Event:
    """One event to put on the bus; `detail` is serialised to JSON."""

    source: str
    detail_type: str
    detail: Mapping[str, Any]
    resources: tuple[str, ...] = ()


class EventBus:
    """One event bus (the default one unless named)."""

    def __init__(self, session: AwsSession, name: str = DEFAULT_BUS) -> None:
        self.name = name
        self._client = session.client("events")

    @calls("events:DescribeRule", roles=(BOOTSTRAP, DISPATCHER))
    def describe_rule(self, rule: str) -> Rule | None:
        """The rule named `rule`, or None."""
        try:
            with aws_errors("events:DescribeRule"):
                resp = self._client.describe_rule(Name=rule, EventBusName=self.name)
        except AwsFailure as exc:
            if error_code(exc) == "ResourceNotFoundException":
                return None
            raise
        return Rule(
            resp["Name"],
            resp["Arn"],
            resp.get("EventPattern"),
            resp.get("State", ""),
            resp.get("ScheduleExpression"),
        )

    @calls("events:PutRule", roles=(BOOTSTRAP,), implied=("events:TagResource",))
    def put_rule(
        self, rule: str, pattern: str, *, description: str = "", tags: Mapping[str, str]
    ) -> str:
        """Create or update an enabled rule with an event pattern; return its ARN.

        Tags apply when the rule is created (EventBridge ignores them on update).
        """
        with aws_errors("events:PutRule"):
            resp = self._client.put_rule(
                Name=rule,
                EventPattern=pattern,
                State="ENABLED",
                Description=description,
                EventBusName=self.name,
                Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
            )
        return resp["RuleArn"]

    @calls("events:PutRule", roles=(BOOTSTRAP,), implied=("events:TagResource",))
    def put_schedule_rule(
        self, rule: str, schedule: str, *, description: str = "", tags: Mapping[str, str]
    ) -> str:
        """Create or update an enabled rule that fires on `schedule` (rate(...) or cron(...))."""
        with aws_errors("events:PutRule"):
            resp = self._client.put_rule(
                Name=rule,
                ScheduleExpression=schedule,
                State="ENABLED",
                Description=description,
                EventBusName=self.name,
                Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
            )
        return resp["RuleArn"]

    @calls("events:ListTargetsByRule", roles=(BOOTSTRAP,))
    def target_arns(self, rule: str) -> dict[str, str]:
        """The rule's targets: id -> ARN."""
        targets: dict[str, str] = {}
        kwargs: dict[str, Any] = {"Rule": rule, "EventBusName": self.name}
        while True:
            with aws_errors("events:ListTargetsByRule"):
                resp = self._client.list_targets_by_rule(**kwargs)
            targets.update({t["Id"]: t["Arn"] for t in resp.get("Targets", [])})
            if not resp.get("NextToken"):
                return targets
            kwargs["NextToken"] = resp["NextToken"]

    @calls("events:PutTargets", roles=(BOOTSTRAP,))
    def put_target(self, rule: str, target_id: str, arn: str) -> None:
        """Add (or replace) one target of a rule."""
        with aws_errors("events:PutTargets"):
            resp = self._client.put_targets(
                Rule=rule, EventBusName=self.name, Targets=[{"Id": target_id, "Arn": arn}]
            )
        if resp.get("FailedEntryCount"):
            entry = resp["FailedEntries"][0]
            raise AwsFailure(
                f"events:PutTargets failed for rule {rule}: "
                f"{entry.get('ErrorCode')}: {entry.get('ErrorMessage')}"
            )

    @calls("events:PutEvents", roles=(DISPATCHER,))
    def put_events(self, events: Sequence[Event]) -> None:
        """Put events on the bus (10 per call); AwsFailure if any entry is refused."""
        for start in range(0, len(events), 10):
            entries = [
                {
                    "Source": e.source,
                    "DetailType": e.detail_type,
                    "Detail": json.dumps(e.detail),
                    "Resources": list(e.resources),
                    "EventBusName": self.name,
                }
                for e in events[start : start + 10]
            ]
            with aws_errors("events:PutEvents"):
                resp = self._client.put_events(Entries=entries)
            if resp.get("FailedEntryCount"):
                bad = next(r for r in resp["Entries"] if r.get("ErrorCode"))
                raise AwsFailure(
                    f"events:PutEvents refused {resp['FailedEntryCount']} event(s): "
                    f"{bad.get('ErrorCode')}: {bad.get('ErrorMessage')}"
                )
