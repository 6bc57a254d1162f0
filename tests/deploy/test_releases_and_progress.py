"""What a deployment runs per instance, release history, and the record filled as it runs."""

from __future__ import annotations

from typing import Any

import pytest

from stackops.deploy.progress import ProgressLog, failure_message
from stackops.deploy.releases import boot_release, plan_run, release_of
from stackops.errors import InvalidInput, NotFound
from stackops.model.commands import Command, CommandStatus, CommandType
from stackops.model.deployments import BatchProgress, Deployment

WHEN = "2026-11-28T17:00:00+00:00"


def deployment(**fields: Any) -> Deployment:
    base: dict[str, Any] = {
        "deployment_id": "d-2",
        "stack_id": "st-1",
        "app_id": "app-1",
        "created_at": WHEN,
        "command": {"Name": "deploy"},
        "release": "r-d2",
        "app_source": {"type": "archive", "url": "/v2.tgz", "revision": None},
        "instance_ids": ["i-1", "i-2", "i-3"],
    }
    return Deployment.model_validate({**base, **fields})


def command(n: int, releases: dict[str, str], *, deployment_id: str | None = None, **kw: Any):
    return Command(
        command_id=f"c-{n}",
        instance_id="i-1",
        stack_id="st-1",
        type=kw.pop("type", CommandType.deploy),
        status=kw.pop("status", CommandStatus.successful),
        deployment_id=deployment_id,
        created_at=f"2026-11-28T17:00:0{n}+00:00",
        releases=releases,
        **kw,
    )


BOOTED = [command(1, {"web": "r-boot", "api": "a-boot"})]
HISTORY = [
    *BOOTED,
    command(2, {"web": "r-d1"}, deployment_id="d-1"),
    command(3, {"web": "r-d2"}, deployment_id="d-2"),
    command(4, {}, deployment_id="d-3", status=CommandStatus.failed),  # failed before the switch
]


def test_release_history_counts_the_boot_deploy_as_the_first_release() -> None:
    assert release_of(HISTORY, "web") == "r-d2"  # the failed d-3 switched nothing
    # A health check that failed after the switch: the instance is on that release.
    unhealthy = command(5, {"web": "r-d4"}, deployment_id="d-4", status=CommandStatus.failed)
    assert release_of([*HISTORY, unhealthy], "web") == "r-d4"
    assert release_of([*HISTORY, unhealthy], "web", before="d-4") == "r-d2"
    assert release_of(HISTORY, "web", before="d-2") == "r-d1"
    assert release_of(HISTORY, "api") == "a-boot"
    assert boot_release(HISTORY, "web") == "r-boot"
    assert boot_release(HISTORY[1:], "web") is None
    assert release_of([], "web") is None


def unread() -> list[Command]:
    raise AssertionError("this run needs no history")


def test_a_deploy_gives_a_release_to_its_own_app_only() -> None:
    plan = plan_run(deployment(), "web", unread)  # its own release: no history read
    assert plan.kind is CommandType.deploy and plan.activity == "deploy"
    assert plan.releases == {"web": "r-d2"}  # the other apps of the node get none
    assert plan.custom_json == {
        "deploy": {"web": {"scm": {"repository": "/v2.tgz", "revision": None}}}
    }


def test_a_rollback_past_the_first_deployment_goes_to_the_boot_release() -> None:
    rollback = deployment(command={"Name": "rollback"}, release=None, app_source=None)
    plan = plan_run(rollback, "web", lambda: HISTORY)
    assert plan.kind is CommandType.rollback
    assert plan.releases == {"web": "r-boot"}
    assert plan.custom_json == {"deploy": {"web": {"switch_back": True}}}
    with pytest.raises(InvalidInput, match="no release of web from its boot"):
        plan_run(rollback, "web", lambda: HISTORY[1:])


def test_switching_back_start_and_undeploy() -> None:
    back = plan_run(deployment(), "web", lambda: HISTORY, switch_back_to="r-d1")
    assert back.kind is CommandType.rollback and back.releases == {"web": "r-d1"}
    assert back.custom_json == {"deploy": {"web": {"switch_back": True}}}
    start = plan_run(deployment(command={"Name": "restart"}, release=None), "web", lambda: HISTORY)
    assert start.releases == {"web": "r-d2"}  # the release it is on
    gone = plan_run(deployment(command={"Name": "undeploy"}, release=None), "web", lambda: HISTORY)
    assert gone.activity == "undeploy" and gone.releases == {}
    assert gone.custom_json == {"deploy": {"web": {"undeploy": True}}}
    recipes = deployment(
        command={"Name": "execute_recipes", "Args": {"recipes": ["web::configure"]}},
        app_id=None,
        release=None,
        app_source=None,
    )
    plan = plan_run(recipes, None, unread)
    assert plan.recipes == ["web::configure"] and plan.releases == {}


class MemoryDeployments:
    """The deployment log in a dict (what ProgressLog needs of it)."""

    def __init__(self, *records: Deployment) -> None:
        self.records = {d.deployment_id: d for d in records}
        self.writes = 0

    def get(self, deployment_id: str) -> Deployment:
        if deployment_id not in self.records:
            raise NotFound(deployment_id)
        return self.records[deployment_id]

    def put(self, deployment: Deployment) -> None:
        self.writes += 1
        self.records[deployment.deployment_id] = deployment


def test_progress_is_written_instance_by_instance() -> None:
    batches = [BatchProgress(index=0, instance_ids=["i-1", "i-2"]),
               BatchProgress(index=1, instance_ids=["i-3"])]  # fmt: skip
    log = MemoryDeployments(deployment(batches=batches))
    progress = ProgressLog(log)  # type: ignore[arg-type]
    running = progress.start_batch("d-2", 0)
    assert running.batches[0].status == "running"
    progress.note("d-2", 0, "i-1", switched=True, command_ids=["c-1"])
    # Visible at once, before the batch ends: the switch and the command.
    now = log.get("d-2")
    assert now.batches[0].switched_instance_ids == ["i-1"] and now.command_ids == ["c-1"]
    progress.note("d-2", 0, "i-1", failed=True)
    progress.note("d-2", 0, "i-2", command_ids=["c-2"])
    ended = progress.end_batch("d-2", 0)
    assert ended.batches[0].status == "failed"
    assert ended.batches[0].failed_instance_ids == ["i-1"]
    assert ended.command_ids == ["c-1", "c-2"]
    # Resumed after a crash: what switched is kept (it may need rolling back).
    resumed = progress.start_batch("d-2", 0)
    assert resumed.batches[0].switched_instance_ids == ["i-1"]
    assert resumed.batches[0].failed_instance_ids == []
    progress.note_commands("d-2", ["c-9", "c-1"])
    assert log.get("d-2").command_ids == ["c-1", "c-2", "c-9"]


def test_the_failure_message_names_each_failed_instance_and_why() -> None:
    batches = [
        BatchProgress(
            index=0,
            instance_ids=["i-1", "i-2", "i-3"],
            status="failed",
            failed_instance_ids=["i-1", "i-3"],
        )
    ]
    record = deployment(batches=batches)
    message = failure_message(
        record,
        {"i-1": "health check failed: HTTP 404 from http://127.0.0.1:8010/health"},
        {"i-1": "app1", "i-3": "app3"},
    )
    assert message == (
        "2 of 3 instance(s) failed: app1: health check failed: HTTP 404 from "
        "http://127.0.0.1:8010/health"
    )
    assert failure_message(record, {}, {}) == "2 of 3 instance(s) failed"
