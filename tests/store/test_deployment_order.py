"""Deployments are listed in the order they were made, even within one second."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta, tzinfo

from tests.helpers import ok_json


def one_second() -> type[datetime]:
    """A `datetime` whose `now()` stays inside one second, a millisecond on per call."""
    ticks = itertools.count()
    start = datetime(2026, 11, 30, 18, 4, 33, tzinfo=UTC)

    class Fast(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
            return start + timedelta(milliseconds=next(ticks) % 1000)

    return Fast


def test_deployments_made_in_one_second_are_listed_newest_first(services, invoke, monkeypatch):
    from stackops.model.deployments import DeploymentStatus
    from stackops.model.enums import InstanceStatus
    from stackops.model.instances import Instance
    from stackops.store.leases import deployment_lease_name

    monkeypatch.setattr("stackops.services.datetime", one_second())
    stack = ok_json(invoke("create-stack", "--name", "fast"))
    stack_id = stack["StackId"]
    layer = ok_json(
        invoke(
            *("create-layer", "--stack-id", stack_id, "--type", "custom"),
            *("--name", "app", "--shortname", "app"),
        )
    )
    app = ok_json(
        invoke(
            *("create-app", "--stack-id", stack_id, "--name", "web", "--type", "other"),
            *("--app-source", '{"Type": "archive", "Url": "https://example.com/w.tgz"}'),
        )
    )
    made = ok_json(
        invoke(
            *("create-instance", "--stack-id", stack_id, "--layer-ids", layer["LayerId"]),
            *("--instance-type", "t3.micro"),
        )
    )
    instance = services.store.get(Instance, made["InstanceId"])
    services.store.put(instance.model_copy(update={"status": InstanceStatus.online}))

    ids = []
    for _ in range(6):
        made = ok_json(
            invoke(
                *("create-deployment", "--stack-id", stack_id, "--app-id", app["AppId"]),
                *("--command", '{"Name": "deploy"}'),
            )
        )
        ids.append(made["DeploymentId"])
        done = services.deployments.get(made["DeploymentId"])  # one at a time per app
        services.deployments.put(done.model_copy(update={"status": DeploymentStatus.successful}))
        lease = deployment_lease_name(stack_id, app["AppId"])
        services.leases.release(lease, made["DeploymentId"])
    listed = ok_json(invoke("describe-deployments", "--stack-id", stack_id))["Deployments"]
    assert [d["DeploymentId"] for d in listed] == ids[::-1]
    assert {d["CreatedAt"] for d in listed} == {"2026-11-30T18:04:33+00:00"}  # OpsWorks's form
